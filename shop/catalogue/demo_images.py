"""Product photos for the demo catalogue, drawn with Pillow (no network).

Each picture is a flat illustration: a soft gradient background, a simple
drawing of the produce, and the product's name on a card at the bottom, with
a 地理标志 badge for geographical-indication products and a 冷链/冷冻 badge
for chilled and frozen ones. Text needs a CJK font; if none is installed the
picture is drawn without text, so loading the demo never fails for want of
fonts.

``render(art, ...)`` returns the JPEG bytes of an 800x800 picture.
"""

from __future__ import annotations

import glob
import io
import math
import random
import shutil
import subprocess
import zlib
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 800
SCALE = 2  # drawn at twice the size, then downscaled, for smooth edges
W = SIZE * SCALE
JPEG_QUALITY = 82

RGB = tuple[int, int, int]
Point = tuple[float, float]


# --- Fonts -------------------------------------------------------------------


def _font_candidates() -> list[str]:
    paths: list[str] = []
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(
                ["fc-list", ":lang=zh", "file"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        paths += [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
    for pattern in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK*.ttc",
        "/usr/share/fonts/**/*CJK*.tt[cf]",
        "/usr/share/fonts/**/wqy*.tt[cf]",
        "/System/Library/Fonts/PingFang.ttc",
        "C:/Windows/Fonts/msyh.ttc",
    ):
        paths += glob.glob(pattern, recursive=True)

    def preference(path: str) -> tuple[int, int]:
        name = path.lower()
        return (0 if "sans" in name else 1, 0 if "bold" in name else 1)

    unique = list(dict.fromkeys(paths))
    return sorted(unique, key=preference)


@lru_cache(maxsize=1)
def _font_face() -> tuple[str, int] | None:
    """(path, face index) of a font that draws Simplified Chinese, or None."""
    for path in _font_candidates():
        best = None
        for index in range(8):
            try:
                font = ImageFont.truetype(path, 20, index=index)
            except (OSError, ValueError, ImportError):
                break
            family = " ".join(font.getname()).upper()
            if best is None:
                best = index
            if " SC" in family or "GB" in family or "HANS" in family:
                best = index
                break
        if best is not None:
            return path, best
    return None


def cjk_font(size: int) -> ImageFont.FreeTypeFont | None:
    face = _font_face()
    if face is None:
        return None
    try:
        return ImageFont.truetype(face[0], size, index=face[1])
    except (OSError, ValueError, ImportError):
        return None


# --- Geometry and colour helpers --------------------------------------------


def shade(color: RGB, factor: float) -> RGB:
    """Darker below 1, lighter above 1 (towards white)."""
    if factor <= 1:
        return tuple(max(0, int(c * factor)) for c in color)  # type: ignore[return-value]
    t = factor - 1
    return tuple(min(255, int(c + (255 - c) * t)) for c in color)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def ellipse_pts(cx: float, cy: float, a: float, b: float, angle: float = 0, n: int = 72):
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = a * math.cos(t), b * math.sin(t)
        pts.append((cx + x * cos - y * sin, cy + x * sin + y * cos))
    return pts


def leaf_pts(x0: float, y0: float, length: float, width: float, angle: float, n: int = 24):
    """A pointed leaf from (x0, y0) pointing at ``angle`` degrees."""
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    upper, lower = [], []
    for i in range(n + 1):
        t = i / n
        x = length * t
        y = width / 2 * math.sin(math.pi * t) ** 0.9
        upper.append((x, -y))
        lower.append((x, y))
    pts = upper + lower[::-1]
    return [(x0 + x * cos - y * sin, y0 + x * sin + y * cos) for x, y in pts]


def taper_pts(x0: float, y0: float, length: float, width: float, angle: float, n: int = 30):
    """A body with a rounded base at (x0, y0) tapering to a point (chili, root)."""
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    upper, lower = [], []
    for i in range(n + 1):
        t = i / n
        w = width / 2 * (1 - t) ** 0.8 * min(1.0, (t + 0.02) / 0.18) ** 0.5
        upper.append((length * t, -w))
        lower.append((length * t, w))
    pts = upper + lower[::-1]
    return [(x0 + x * cos - y * sin, y0 + x * sin + y * cos) for x, y in pts]


def circle(d: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: RGB, **kw) -> None:
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, **kw)


def glossy_ball(d, cx, cy, r, color: RGB, highlight: float = 1.45) -> None:
    circle(d, cx, cy, r, shade(color, 0.82))
    circle(d, cx - r * 0.06, cy - r * 0.06, r * 0.92, color)
    d.ellipse(
        (cx - r * 0.55, cy - r * 0.62, cx - r * 0.12, cy - r * 0.3),
        fill=shade(color, highlight),
    )


def star_calyx(d, cx, cy, r, color: RGB, points: int = 5, rotation: float = -90) -> None:
    for k in range(points):
        ang = rotation + 360 * k / points
        d.polygon(leaf_pts(cx, cy, r, r * 0.42, ang), fill=color)
    circle(d, cx, cy, r * 0.18, shade(color, 0.7))


# --- The drawings (cx, cy is the centre of the produce) ---------------------


def draw_radish(d, cx, cy, rng, top=(96, 160, 72), bottom=(226, 236, 205), slice_=None):
    leaf = (64, 132, 58)
    for ang in (-125, -105, -90, -75, -55):
        d.polygon(leaf_pts(cx, cy - 250, 330, 95, ang), fill=leaf)
        end = (cx + 300 * math.cos(math.radians(ang)), cy - 250 + 300 * math.sin(math.radians(ang)))
        d.line([(cx, cy - 250), end], fill=shade(leaf, 1.35), width=7)
    y0, y1 = cy - 270, cy + 420
    for y in range(int(y0), int(y1)):
        t = (y - y0) / (y1 - y0)
        w = 175 * (1 - t) ** 0.75 * min(1.0, (t + 0.04) / 0.16) ** 0.5
        col = mix(top, bottom, min(1.0, max(0.0, (t - 0.25) / 0.45)))
        d.line([(cx - w, y), (cx + w, y)], fill=col)
    d.line([(cx, y1 - 5), (cx + 12, y1 + 90)], fill=shade(bottom, 0.8), width=6)
    d.polygon(ellipse_pts(cx - 85, cy - 60, 22, 150, 4), fill=shade(top, 1.35))
    for _ in range(7):
        y = rng.uniform(cy - 80, cy + 300)
        d.line([(cx - 120, y), (cx - 60, y + 6)], fill=shade(bottom, 0.85), width=4)
    if slice_:
        rim, flesh = slice_
        sx, sy = cx + 260, cy + 250
        circle(d, sx, sy, 150, rim)
        circle(d, sx, sy, 132, (245, 240, 235))
        circle(d, sx, sy, 118, flesh)
        for k in range(12):
            a = math.radians(30 * k)
            d.line(
                [(sx, sy), (sx + 110 * math.cos(a), sy + 110 * math.sin(a))],
                fill=shade(flesh, 1.25),
                width=4,
            )


def draw_radish_red(d, cx, cy, rng):
    draw_radish(
        d,
        cx - 90,
        cy,
        rng,
        top=(110, 160, 86),
        bottom=(232, 236, 214),
        slice_=((110, 160, 86), (200, 45, 110)),
    )


def draw_sweet_potato(d, cx, cy, rng):
    skin = (128, 58, 100)
    for dx, dy, ang, a in ((-150, -90, -20, 280), (140, 60, 15, 300), (-40, 170, -5, 250)):
        d.polygon(ellipse_pts(cx + dx, cy + dy, a, 118, ang), fill=shade(skin, 0.8))
        d.polygon(ellipse_pts(cx + dx - 6, cy + dy - 8, a - 10, 106, ang), fill=skin)
        d.polygon(ellipse_pts(cx + dx - 40, cy + dy - 55, a * 0.5, 18, ang), fill=shade(skin, 1.35))
        for _ in range(5):
            x = cx + dx + rng.uniform(-a * 0.6, a * 0.6)
            y = cy + dy + rng.uniform(-40, 50)
            d.line([(x, y), (x + 18, y + 4)], fill=shade(skin, 0.65), width=5)
    # a cut half showing the purple flesh
    circle(d, cx + 300, cy - 230, 110, skin)
    circle(d, cx + 300, cy - 230, 94, (150, 70, 170))
    circle(d, cx + 300, cy - 230, 60, (170, 95, 190))


def draw_giftbox(d, cx, cy, rng, box=(60, 140, 80), ribbon=(235, 70, 60)):
    d.rounded_rectangle((cx - 320, cy - 110, cx + 320, cy + 340), 24, fill=box)
    d.rectangle((cx - 320, cy - 110, cx + 320, cy - 70), fill=shade(box, 0.8))
    d.rounded_rectangle((cx - 355, cy - 215, cx + 355, cy - 95), 20, fill=shade(box, 1.15))
    d.rectangle((cx - 45, cy - 215, cx + 45, cy + 340), fill=ribbon)
    d.rectangle((cx - 320, cy + 90, cx + 320, cy + 160), fill=ribbon)
    d.rectangle((cx - 45, cy - 215, cx - 25, cy + 340), fill=shade(ribbon, 1.2))
    for ang in (-150, -30):
        d.polygon(
            ellipse_pts(
                cx + 120 * math.cos(math.radians(ang)),
                cy - 260,
                130,
                62,
                ang + 180 if ang < -90 else ang,
            ),
            fill=ribbon,
        )
        d.polygon(
            ellipse_pts(cx + 110 * math.cos(math.radians(ang)), cy - 262, 70, 24, ang),
            fill=shade(ribbon, 0.75),
        )
    for ang in (60, 120):
        d.polygon(leaf_pts(cx, cy - 225, 170, 60, ang), fill=shade(ribbon, 0.9))
    circle(d, cx, cy - 228, 48, shade(ribbon, 0.85))
    circle(d, cx - 12, cy - 240, 18, shade(ribbon, 1.3))
    # a seal on the box front
    circle(d, cx + 200, cy + 250, 58, (250, 240, 220))
    circle(d, cx + 200, cy + 250, 46, ribbon)


def draw_giftbox_green(d, cx, cy, rng):
    draw_giftbox(d, cx, cy, rng, box=(58, 130, 78), ribbon=(226, 64, 56))


def draw_giftbox_red(d, cx, cy, rng):
    draw_giftbox(d, cx, cy, rng, box=(190, 48, 44), ribbon=(240, 190, 60))


def _ear(d, x0, y0, x1, y1, color: RGB, grains: int = 9) -> None:
    d.line([(x0, y0), (x1, y1)], fill=shade(color, 0.75), width=8)
    for i in range(grains):
        t = 0.15 + 0.85 * i / grains
        x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
        ang = math.degrees(math.atan2(y1 - y0, x1 - x0))
        for side in (-40, 40):
            d.polygon(ellipse_pts(x + side * 0.5, y, 30, 14, ang + side), fill=color)


def draw_bowl(d, cx, cy, rng, grain=(247, 243, 230), bowl=(70, 110, 160), scatter=True):
    _ear(d, cx - 430, cy - 420, cx - 170, cy - 40, (222, 176, 70))
    _ear(d, cx - 330, cy - 470, cx - 110, cy - 60, (232, 190, 86), grains=8)
    d.chord((cx - 330, cy - 230, cx + 330, cy + 150), 180, 360, fill=shade(grain, 0.93))
    d.chord((cx - 300, cy - 210, cx + 300, cy + 130), 180, 360, fill=grain)
    if scatter:
        for _ in range(170):
            a = rng.uniform(math.pi, 2 * math.pi)
            r = rng.uniform(0, 1) ** 0.6
            x = cx + 300 * r * math.cos(a)
            y = cy - 40 + 170 * r * math.sin(a)
            d.polygon(
                ellipse_pts(x, y, 15, 8, rng.uniform(0, 180), n=16),
                fill=shade(grain, rng.choice((0.86, 0.92, 1.05))),
            )
    d.pieslice((cx - 400, cy - 330, cx + 400, cy + 330), 0, 180, fill=bowl)
    d.ellipse((cx - 400, cy - 45, cx + 400, cy + 45), fill=shade(bowl, 0.8))
    d.chord((cx - 400, cy - 45, cx + 400, cy + 45), 0, 180, fill=shade(bowl, 1.15))
    d.rectangle((cx - 400, cy - 2, cx + 400, cy + 8), fill=shade(bowl, 0.7))
    d.rounded_rectangle((cx - 130, cy + 300, cx + 130, cy + 360), 20, fill=shade(bowl, 0.8))
    for k in range(5):
        x = cx - 240 + k * 120
        d.arc((x - 50, cy + 90, x + 50, cy + 190), 180, 360, fill=shade(bowl, 1.35), width=10)


def draw_rice(d, cx, cy, rng):
    draw_bowl(d, cx, cy, rng)


def draw_millet(d, cx, cy, rng):
    draw_bowl(d, cx, cy, rng, grain=(238, 192, 70), bowl=(150, 80, 50))


def draw_flour(d, cx, cy, rng):
    draw_bowl(d, cx, cy, rng, grain=(232, 222, 204), bowl=(120, 90, 60), scatter=False)
    d.chord((cx - 280, cy - 190, cx + 280, cy + 110), 180, 360, fill=(252, 250, 246))
    for _ in range(60):
        a = rng.uniform(math.pi, 2 * math.pi)
        r = rng.uniform(0.2, 1) ** 0.6
        circle(d, cx + 270 * r * math.cos(a), cy - 40 + 140 * r * math.sin(a), 4, (214, 200, 176))
    d.pieslice((cx - 400, cy - 330, cx + 400, cy + 330), 0, 180, fill=(120, 90, 60))
    d.ellipse((cx - 400, cy - 45, cx + 400, cy + 45), fill=shade((120, 90, 60), 0.8))
    d.chord((cx - 400, cy - 45, cx + 400, cy + 45), 0, 180, fill=shade((120, 90, 60), 1.15))
    d.rectangle((cx - 400, cy - 2, cx + 400, cy + 8), fill=shade((120, 90, 60), 0.7))
    for k in range(5):
        x = cx - 240 + k * 120
        d.arc(
            (x - 50, cy + 90, x + 50, cy + 190), 180, 360, fill=shade((120, 90, 60), 1.35), width=10
        )


def draw_crab(d, cx, cy, rng, shell=(78, 98, 64), claw=(94, 112, 74)):
    leg = shade(shell, 0.85)
    for side in (-1, 1):
        for k in range(4):
            y = cy - 40 + k * 60
            knee = (cx + side * (330 + k * 10), cy - 90 + k * 70)
            foot = (cx + side * (430 - k * 10), cy + 80 + k * 80)
            d.line([(cx + side * 150, y), knee, foot], fill=leg, width=30, joint="curve")
        d.line(
            [(cx + side * 150, cy - 100), (cx + side * 250, cy - 230), (cx + side * 290, cy - 300)],
            fill=claw,
            width=44,
            joint="curve",
        )
        px, py = cx + side * 300, cy - 330
        d.polygon(ellipse_pts(px, py, 105, 66, -60 * side), fill=claw)
        d.polygon(leaf_pts(px, py - 20, 140, 50, -100 if side < 0 else -80), fill=claw)
        d.polygon(ellipse_pts(px - 20 * side, py + 5, 50, 20, -60 * side), fill=shade(claw, 1.3))
    d.polygon(ellipse_pts(cx, cy + 10, 245, 175), fill=shade(shell, 0.75))
    d.polygon(ellipse_pts(cx, cy, 235, 165), fill=shell)
    d.polygon(ellipse_pts(cx - 70, cy - 60, 90, 40, -10), fill=shade(shell, 1.25))
    d.arc((cx - 150, cy - 90, cx + 150, cy + 110), 200, 340, fill=shade(shell, 0.7), width=8)
    for side in (-1, 1):
        d.line([(cx + side * 40, cy - 150), (cx + side * 55, cy - 210)], fill=leg, width=14)
        circle(d, cx + side * 55, cy - 215, 20, (30, 30, 30))


def draw_fish(d, cx, cy, rng, body=(168, 178, 184), belly=(226, 230, 230), length=640, height=300):
    half = length / 2
    d.polygon(
        [
            (cx + half - 40, cy),
            (cx + half + 170, cy - height * 0.6),
            (cx + half + 130, cy),
            (cx + half + 170, cy + height * 0.6),
        ],
        fill=shade(body, 0.85),
    )
    d.polygon(
        [
            (cx - half * 0.3, cy - height * 0.42),
            (cx + half * 0.1, cy - height * 0.85),
            (cx + half * 0.45, cy - height * 0.35),
        ],
        fill=shade(body, 0.8),
    )
    d.polygon(ellipse_pts(cx, cy, half, height / 2), fill=body)
    d.polygon(ellipse_pts(cx, cy + height * 0.17, half * 0.85, height * 0.26), fill=belly)
    for i in range(6):
        for j in range(2):
            x = cx - half * 0.35 + i * half * 0.22
            y = cy - height * 0.18 + j * height * 0.2
            d.arc((x - 40, y - 40, x + 40, y + 40), 300, 60, fill=shade(body, 0.82), width=5)
    d.arc(
        (cx - half * 0.78, cy - height * 0.35, cx - half * 0.38, cy + height * 0.35),
        300,
        60,
        fill=shade(body, 0.7),
        width=8,
    )
    circle(d, cx - half * 0.72, cy - height * 0.1, 26, (250, 250, 250))
    circle(d, cx - half * 0.72, cy - height * 0.1, 13, (20, 20, 20))


def draw_loach(d, cx, cy, rng):
    body, belly = (150, 118, 58), (226, 186, 80)
    for dy, dx, ang in ((-170, 40, -6), (150, -30, 5)):
        x, y = cx + dx, cy + dy
        d.polygon(
            [(x + 360, y), (x + 470, y - 70), (x + 470, y + 70)], fill=shade(body, 0.85)
        )  # tail
        d.polygon(ellipse_pts(x, y, 380, 72, ang), fill=body)
        d.polygon(ellipse_pts(x, y + 26, 330, 30, ang), fill=belly)
        for _ in range(18):
            sx = x + rng.uniform(-300, 300)
            sy = y + rng.uniform(-40, 0) + (sx - x) * math.tan(math.radians(ang))
            circle(d, sx, sy, rng.uniform(5, 10), shade(body, 0.6))
        hx = x - 360
        hy = y - 360 * math.tan(math.radians(ang))
        circle(d, hx + 40, hy - 14, 11, (20, 20, 20))
        for k in range(3):
            d.line([(hx, hy + 10), (hx - 60, hy + 20 + k * 20)], fill=shade(body, 0.6), width=4)


def draw_shrimp(d, cx, cy, rng, color=(244, 140, 98)):
    r_path = 200
    segs = 9
    for i in range(segs):
        a = math.radians(200 - i * 28)
        x = cx + r_path * math.cos(a)
        y = cy - r_path * math.sin(a) * 0.9
        r = 112 - i * 8
        circle(d, x, y, r, shade(color, 0.88 if i % 2 else 1.0))
        d.arc((x - r, y - r, x + r, y + r), 60, 160, fill=shade(color, 1.3), width=10)
    a_end = math.radians(200 - segs * 28)
    tx, ty = cx + r_path * math.cos(a_end), cy - r_path * math.sin(a_end) * 0.9
    for ang in (60, 100, 140):
        d.polygon(leaf_pts(tx, ty, 130, 60, ang), fill=shade(color, 0.9))
    hx, hy = cx + r_path * math.cos(math.radians(200)), cy - r_path * math.sin(math.radians(200))
    d.polygon(leaf_pts(hx + 20, hy - 10, 150, 90, -150), fill=shade(color, 0.95))
    circle(d, hx - 55, hy - 55, 14, (30, 30, 30))
    for k in range(3):
        d.line(
            [(hx - 60, hy - 40), (hx - 360 + k * 60, hy - 330 - k * 40)],
            fill=shade(color, 0.8),
            width=5,
        )
    for i in range(5):
        a = math.radians(200 - (i + 1) * 28)
        x = cx + (r_path - 90) * math.cos(a)
        y = cy - (r_path - 90) * math.sin(a) * 0.9
        d.line([(x, y), (x + 30 * (cx - x) / r_path, y + 60)], fill=shade(color, 0.8), width=6)
    # ice cubes: it is sold frozen
    for x, y, s in ((cx + 280, cy + 250, 90), (cx + 150, cy + 320, 70), (cx - 300, cy + 280, 80)):
        d.rounded_rectangle((x - s, y - s, x + s, y + s), 20, fill=(214, 236, 248))
        d.rounded_rectangle((x - s + 16, y - s + 16, x - 10, y - 10), 12, fill=(240, 250, 255))


def draw_pork(d, cx, cy, rng):
    skin, fat, lean = (244, 210, 180), (252, 240, 228), (220, 120, 120)
    top = [(cx - 340, cy - 120), (cx + 250, cy - 200), (cx + 380, cy - 110), (cx - 210, cy - 30)]
    d.polygon(top, fill=mix(fat, lean, 0.25))
    layers = [skin, fat, lean, fat, lean, fat, lean]
    h = 50
    for i, col in enumerate(layers):
        y = cy - 30 + i * h
        d.polygon(
            [(cx - 210, y), (cx + 380, y - 80), (cx + 380, y - 80 + h), (cx - 210, y + h)],
            fill=col,
        )
        d.polygon(
            [(cx - 340, y - 90), (cx - 210, y), (cx - 210, y + h), (cx - 340, y - 90 + h)],
            fill=shade(col, 0.85),
        )
    for _ in range(12):
        x = cx + rng.uniform(-150, 300)
        y = cy - 120 + rng.uniform(-20, 30) - (x - cx) * 0.1
        d.line([(x, y), (x + 40, y - 6)], fill=shade(lean, 1.2), width=5)
    # frost specks: it is sold frozen
    for _ in range(40):
        circle(
            d,
            cx + rng.uniform(-330, 370),
            cy + rng.uniform(-190, 330),
            rng.uniform(3, 7),
            (255, 255, 255),
        )


def draw_persimmon(d, cx, cy, rng):
    orange = (238, 124, 34)
    d.polygon(ellipse_pts(cx, cy + 120, 290, 190), fill=shade(orange, 0.85))
    d.polygon(ellipse_pts(cx - 8, cy + 110, 280, 180), fill=orange)
    d.arc((cx - 230, cy - 40, cx + 230, cy + 90), 190, 350, fill=shade(orange, 0.7), width=14)
    d.polygon(ellipse_pts(cx, cy - 90, 220, 150), fill=shade(orange, 0.92))
    d.polygon(ellipse_pts(cx - 6, cy - 98, 212, 142), fill=shade(orange, 1.05))
    d.polygon(ellipse_pts(cx - 110, cy - 150, 60, 28, -20), fill=shade(orange, 1.4))
    d.polygon(ellipse_pts(cx - 160, cy + 60, 50, 22, -20), fill=shade(orange, 1.3))
    calyx = (96, 110, 50)
    for ang in (-160, -110, -70, -20):
        d.polygon(leaf_pts(cx, cy - 220, 120, 70, ang), fill=calyx)
    d.line([(cx, cy - 225), (cx + 10, cy - 300)], fill=(100, 70, 40), width=18)
    d.polygon(leaf_pts(cx + 10, cy - 290, 260, 110, -30), fill=(70, 140, 60))


def draw_pear(d, cx, cy, rng):
    base, blush = (226, 188, 92), (214, 110, 70)
    for dx, s in ((-170, 0.85), (160, 1.0)):
        x = cx + dx
        r1, r2 = 200 * s, 130 * s
        yb, yt = cy + 150 * s, cy - 130 * s
        circle(d, x, yb, r1, shade(base, 0.9))
        d.polygon([(x - r1 * 0.9, yb), (x - r2, yt), (x + r2, yt), (x + r1 * 0.9, yb)], fill=base)
        circle(d, x, yt, r2, base)
        circle(d, x - 8, yb - 8, r1 * 0.95, base)
        d.polygon(
            ellipse_pts(x + r1 * 0.3, yb - r1 * 0.2, r1 * 0.55, r1 * 0.7, 20),
            fill=mix(base, blush, 0.2),
        )
        d.polygon(
            ellipse_pts(x + r1 * 0.38, yb - r1 * 0.22, r1 * 0.38, r1 * 0.5, 20),
            fill=mix(base, blush, 0.4),
        )
        for _ in range(30):
            circle(
                d,
                x + rng.uniform(-r1 * 0.8, r1 * 0.8),
                yb + rng.uniform(-r1 * 1.2, r1 * 0.7),
                4,
                shade(base, 0.7),
            )
        d.polygon(ellipse_pts(x - r1 * 0.45, yb - r1 * 0.2, 22, 70, 15), fill=shade(base, 1.35))
        d.line([(x, yt - r2 + 10), (x + 20, yt - r2 - 80)], fill=(100, 70, 40), width=16)
    d.polygon(leaf_pts(cx + 185, cy - 290, 200, 90, -20), fill=(80, 150, 70))


def draw_round_fruits(d, cx, cy, rng, color, r, count, calyx=None, spread=1.0, highlight=1.45):
    placed: list[Point] = []
    rows = []
    per_row = max(1, int(round(math.sqrt(count) + 1)))
    left = count
    row = 0
    while left > 0:
        n = min(per_row - (row % 2), left)
        rows.append(n)
        left -= n
        row += 1
    total_h = (len(rows) - 1) * r * 1.6
    for i, n in enumerate(reversed(rows)):
        y = cy + total_h / 2 - i * r * 1.6 * spread
        for j in range(n):
            x = cx + (j - (n - 1) / 2) * r * 1.85 * spread + rng.uniform(-12, 12)
            placed.append((x, y + rng.uniform(-10, 10)))
    for x, y in sorted(placed, key=lambda p: p[1]):
        glossy_ball(d, x, y, r, color, highlight)
        if calyx:
            star_calyx(d, x + r * 0.05, y - r * 0.78, r * 0.42, calyx)


def draw_tomato(d, cx, cy, rng):
    red = (222, 52, 38)
    for x, y, r in ((cx - 190, cy + 90, 190), (cx + 200, cy + 110, 180), (cx, cy - 130, 200)):
        glossy_ball(d, x, y, r, red, 1.5)
        star_calyx(d, x, y - r * 0.82, r * 0.45, (60, 130, 50), points=6)


def draw_cherry_tomato(d, cx, cy, rng):
    stem = (60, 120, 50)
    d.line(
        [(cx - 380, cy - 360), (cx, cy - 300), (cx + 380, cy - 340)],
        fill=stem,
        width=18,
        joint="curve",
    )
    pts = []
    for i in range(9):
        x = cx - 320 + i * 80 + rng.uniform(-20, 20)
        y = cy - 120 + (abs(i - 4) * -25) + rng.uniform(-20, 40) + (i % 2) * 140
        pts.append((x, y))
    for x, y in pts:
        d.line([(x, y - 80), (x + (cx - x) * 0.2, cy - 305)], fill=stem, width=8)
    for x, y in sorted(pts, key=lambda p: p[1]):
        glossy_ball(d, x, y, 82, (226, 44, 40), 1.55)
        star_calyx(d, x, y - 66, 36, stem)
    for x in (cx - 260, cx + 40, cx + 260):
        glossy_ball(d, x, cy + 290, 80, (236, 72, 44), 1.55)
        star_calyx(d, x, cy + 226, 34, stem)


def draw_hawthorn(d, cx, cy, rng):
    red = (196, 34, 40)
    d.polygon(leaf_pts(cx - 60, cy - 300, 280, 140, -150), fill=(70, 140, 60))
    d.polygon(leaf_pts(cx + 40, cy - 300, 260, 130, -35), fill=(80, 150, 66))
    placed = []
    for ring, n, rad in ((0, 1, 0), (1, 6, 170), (2, 9, 330)):
        for k in range(n):
            a = 2 * math.pi * k / n + ring
            placed.append((cx + rad * math.cos(a), cy + 60 + rad * math.sin(a) * 0.75))
    for x, y in sorted(placed, key=lambda p: p[1]):
        glossy_ball(d, x, y, 92, red, 1.4)
        for _ in range(6):
            circle(d, x + rng.uniform(-60, 60), y + rng.uniform(-40, 60), 4, (240, 200, 150))
        circle(d, x + 4, y - 60, 14, (90, 40, 30))


def draw_jujube(d, cx, cy, rng):
    green, brown = (172, 200, 88), (150, 58, 40)
    d.polygon(leaf_pts(cx + 80, cy - 330, 220, 90, -40), fill=(70, 140, 60))
    d.polygon(leaf_pts(cx - 40, cy - 330, 200, 80, -140), fill=(84, 150, 66))
    spots = []
    for i in range(3):
        for j in range(4 - i % 2):
            spots.append(
                (cx - 300 + j * 200 + (i % 2) * 100 + rng.uniform(-20, 20), cy - 170 + i * 190)
            )
    for x, y in spots:
        ang = rng.uniform(-25, 25)
        d.polygon(ellipse_pts(x, y, 92, 112, ang), fill=shade(green, 0.85))
        d.polygon(ellipse_pts(x - 4, y - 4, 86, 106, ang), fill=green)
        d.chord((x - 86, y - 106, x + 86, y + 106), 190 + ang, 330 + ang, fill=brown)
        d.polygon(ellipse_pts(x - 40, y - 10, 16, 40, 10), fill=shade(green, 1.4))
        d.line([(x, y - 106), (x + 6, y - 130)], fill=(100, 70, 40), width=8)


def draw_grapes(d, cx, cy, rng, color=(120, 40, 96)):
    d.line([(cx + 10, cy - 280), (cx + 40, cy - 400)], fill=(110, 80, 40), width=22)
    leaf = (76, 146, 64)
    for ang, ln in ((-160, 280), (-130, 240), (-190, 220)):
        d.polygon(leaf_pts(cx + 30, cy - 360, ln, ln * 0.6, ang + 180), fill=leaf)
    d.line([(cx + 30, cy - 360), (cx + 280, cy - 380)], fill=shade(leaf, 1.3), width=6)
    rows = [6, 7, 6, 5, 4, 3, 2, 1]
    r = 58
    for i, n in enumerate(rows):
        y = cy - 250 + i * r * 1.55
        for j in range(n):
            x = cx + (j - (n - 1) / 2) * r * 1.7 + rng.uniform(-8, 8)
            col = shade(color, rng.uniform(0.85, 1.12))
            circle(d, x, y, r, shade(col, 0.8))
            circle(d, x - 4, y - 4, r - 5, col)
            circle(d, x - r * 0.35, y - r * 0.35, r * 0.2, shade(col, 1.5))


def draw_grapes_dark(d, cx, cy, rng):
    draw_grapes(d, cx, cy, rng, color=(66, 36, 84))


def draw_garlic(d, cx, cy, rng):
    white, streak = (246, 240, 232), (196, 150, 186)
    for x, y, s in ((cx, cy - 80, 0.9), (cx - 210, cy + 90, 1.0), (cx + 210, cy + 100, 0.95)):
        a, b = 180 * s, 160 * s
        d.polygon(
            [
                (x - 40 * s, y - b + 10),
                (x - 12 * s, y - b - 150 * s),
                (x + 12 * s, y - b - 150 * s),
                (x + 40 * s, y - b + 10),
            ],
            fill=shade(white, 0.92),
        )
        d.polygon(ellipse_pts(x, y, a, b), fill=shade(white, 0.9))
        d.polygon(ellipse_pts(x - 6, y - 6, a - 8, b - 8), fill=white)
        for k in (-2, -1, 0, 1, 2):
            d.arc(
                (x + k * 45 * s - 80 * s, y - b, x + k * 45 * s + 80 * s, y + b),
                240 if k < 0 else 270,
                90 if k <= 0 else 300,
                fill=streak,
                width=6,
            )
        for k in range(7):
            d.line(
                [(x - 50 * s + k * 16 * s, y + b - 10), (x - 60 * s + k * 20 * s, y + b + 30 * s)],
                fill=(200, 180, 150),
                width=5,
            )


def draw_scallion(d, cx, cy, rng):
    white, green = (242, 242, 226), (70, 150, 60)
    for i, dx in enumerate((-210, -70, 70, 210)):
        xb, xt = cx + dx * 0.7, cx + dx * 1.15
        d.polygon(
            [(xb - 40, cy + 100), (xt - 32, cy - 400), (xt + 32, cy - 400), (xb + 40, cy + 100)],
            fill=shade(green, 0.9 + 0.05 * (i % 2)),
        )
        d.polygon(leaf_pts(xt, cy - 260, 230, 52, -60 if dx > 0 else -120), fill=green)
        d.rounded_rectangle((xb - 46, cy - 40, xb + 46, cy + 400), 40, fill=white)
        d.rectangle((xb - 46, cy - 40, xb + 46, cy + 20), fill=mix(white, green, 0.45))
        d.line([(xb - 16, cy + 60), (xb - 16, cy + 360)], fill=shade(white, 1.3), width=8)
        for k in range(6):
            d.line(
                [(xb - 30 + k * 12, cy + 395), (xb - 40 + k * 16, cy + 450)],
                fill=(210, 200, 170),
                width=4,
            )


def draw_pepper(d, cx, cy, rng):
    red = (214, 32, 30)
    for i in range(9):
        ang = -150 + i * 15 + rng.uniform(-4, 4)
        x0 = cx + 60 * math.cos(math.radians(ang + 180))
        y0 = cy + 240
        d.polygon(
            taper_pts(x0, y0, 480 - abs(i - 4) * 25, 88, ang), fill=shade(red, 0.8 + 0.05 * (i % 3))
        )
        d.polygon(
            taper_pts(x0 + 8, y0 - 6, 300 - abs(i - 4) * 20, 20, ang - 1),
            fill=shade(red, 1.35),
        )
    d.rounded_rectangle((cx - 120, cy + 200, cx + 120, cy + 300), 40, fill=(110, 90, 40))
    for i in range(5):
        d.line(
            [(cx - 80 + i * 40, cy + 290), (cx - 90 + i * 45, cy + 380)],
            fill=(110, 90, 40),
            width=10,
        )


def draw_eggs(d, cx, cy, rng):
    colors = [(238, 214, 180), (246, 238, 226), (228, 196, 156)]
    eggs = [(-220, -20), (-70, -60), (80, -50), (230, -10), (-150, 60), (160, 60), (0, 30)]
    for i, (dx, dy) in enumerate(eggs):
        col = colors[i % len(colors)]
        x, y = cx + dx, cy + dy - 90
        d.polygon(ellipse_pts(x, y, 92, 122, rng.uniform(-15, 15)), fill=shade(col, 0.88))
        d.polygon(ellipse_pts(x - 5, y - 5, 86, 116, 0), fill=col)
        d.polygon(ellipse_pts(x - 35, y - 50, 16, 34, 20), fill=shade(col, 1.5))
    basket = (176, 120, 62)
    d.pieslice((cx - 400, cy - 280, cx + 400, cy + 360), 0, 180, fill=basket)
    d.rounded_rectangle((cx - 420, cy + 20, cx + 420, cy + 80), 30, fill=shade(basket, 0.8))
    for k in range(8):
        y = cy + 110 + k * 28
        half = math.sqrt(max(0.0, 1 - ((y - cy - 40) / 320) ** 2)) * 400
        d.line([(cx - half + 30, y), (cx + half - 30, y)], fill=shade(basket, 1.2), width=6)
    for k in range(-6, 7):
        d.line([(cx + k * 55, cy + 90), (cx + k * 45, cy + 330)], fill=shade(basket, 0.75), width=6)


def draw_honey(d, cx, cy, rng):
    amber = (232, 160, 32)
    d.rounded_rectangle((cx - 220, cy - 210, cx + 220, cy + 330), 70, fill=shade(amber, 0.85))
    d.rounded_rectangle((cx - 210, cy - 220, cx + 210, cy + 318), 66, fill=amber)
    d.rounded_rectangle((cx - 170, cy - 180, cx - 120, cy + 270), 25, fill=shade(amber, 1.4))
    d.rounded_rectangle((cx - 190, cy - 310, cx + 190, cy - 200), 26, fill=(170, 60, 40))
    d.rectangle((cx - 190, cy - 270, cx + 190, cy - 250), fill=(140, 45, 30))
    d.rounded_rectangle((cx - 210, cy - 10, cx + 210, cy + 190), 12, fill=(252, 242, 214))
    hex_r = 34
    for row in range(2):
        for col in range(4):
            hx = cx - 110 + col * 72 + (row % 2) * 36
            hy = cy + 55 + row * 62
            pts = [
                (
                    hx + hex_r * math.cos(math.radians(60 * k + 30)),
                    hy + hex_r * math.sin(math.radians(60 * k + 30)),
                )
                for k in range(6)
            ]
            d.polygon(pts, outline=amber, width=6)
    # a honey dipper
    d.line([(cx + 230, cy - 380), (cx + 420, cy + 20)], fill=(160, 110, 60), width=20)
    for k in range(4):
        x = cx + 360 + k * 22
        y = cy - 110 + k * 45
        d.polygon(ellipse_pts(x, y, 60, 26, 65), fill=(180, 128, 70))


def draw_walnut(d, cx, cy, rng):
    shell = (176, 134, 84)
    pos = [(-210, 90), (0, 140), (210, 100), (-100, -100), (120, -90)]
    for dx, dy in sorted(pos, key=lambda p: p[1]):
        x, y = cx + dx, cy + dy
        d.polygon(ellipse_pts(x, y, 140, 128, rng.uniform(-20, 20)), fill=shade(shell, 0.8))
        d.polygon(ellipse_pts(x - 5, y - 5, 132, 120, 0), fill=shell)
        d.line([(x - 6, y - 120), (x + 6, y + 118)], fill=shade(shell, 0.6), width=9)
        for _ in range(10):
            sx, sy = x + rng.uniform(-100, 100), y + rng.uniform(-90, 90)
            d.arc(
                (sx - 30, sy - 20, sx + 30, sy + 20),
                rng.uniform(0, 180),
                rng.uniform(200, 340),
                fill=shade(shell, 0.7),
                width=6,
            )
        d.polygon(ellipse_pts(x - 60, y - 60, 30, 14, -30), fill=shade(shell, 1.3))
    # a kernel
    k = (226, 196, 140)
    d.polygon(ellipse_pts(cx + 320, cy - 270, 80, 60, 20), fill=k)
    d.line([(cx + 250, cy - 290), (cx + 390, cy - 250)], fill=shade(k, 0.75), width=6)


def draw_chestnut(d, cx, cy, rng):
    brown, pale = (118, 58, 30), (214, 184, 130)
    pos = [(-220, 120), (0, 150), (220, 120), (-110, -60), (110, -60), (0, -230)]
    for dx, dy in sorted(pos, key=lambda p: p[1]):
        x, y = cx + dx, cy + dy
        d.polygon(taper_pts(x, y + 70, 240, 250, -90 + rng.uniform(-8, 8)), fill=brown)
        d.chord((x - 118, y + 10, x + 118, y + 130), 0, 180, fill=pale)
        d.polygon(ellipse_pts(x - 50, y - 40, 18, 60, 20), fill=shade(brown, 1.45))


def draw_cucumber(d, cx, cy, rng):
    green = (58, 128, 56)
    for dy, ang, ln in ((-170, -12, 360), (0, 6, 380), (180, -4, 350)):
        x, y = cx, cy + dy
        d.polygon(ellipse_pts(x, y, ln, 72, ang), fill=shade(green, 0.85))
        d.polygon(ellipse_pts(x - 4, y - 6, ln - 6, 64, ang), fill=green)
        d.polygon(ellipse_pts(x - 10, y - 30, ln * 0.8, 10, ang), fill=shade(green, 1.35))
        for _ in range(22):
            t = rng.uniform(-0.85, 0.85)
            px = x + ln * t * math.cos(math.radians(ang))
            py = y + ln * t * math.sin(math.radians(ang)) + rng.uniform(-40, 40)
            circle(d, px, py, 6, shade(green, 1.5))
        fx = x + ln * math.cos(math.radians(ang))
        fy = y + ln * math.sin(math.radians(ang))
        star_calyx(d, fx + 20, fy, 44, (246, 206, 40), rotation=ang)


def draw_cabbage(d, cx, cy, rng):
    dark, pale = (52, 118, 56), (228, 236, 200)
    for x, s in ((cx - 150, 0.9), (cx + 150, 1.0)):
        d.polygon(ellipse_pts(x, cy + 40, 180 * s, 410 * s), fill=shade(pale, 0.92))
        d.polygon(ellipse_pts(x, cy + 60, 160 * s, 380 * s), fill=pale)
        for k, ang in enumerate((-100, -80, -118, -62, -90)):
            lx = x + (k - 2) * 30 * s
            d.polygon(
                leaf_pts(lx, cy + 40, 440 * s, 170 * s, ang), fill=shade(dark, 0.9 + 0.06 * k)
            )
        for k in range(-2, 3):
            d.line(
                [(x + k * 50 * s, cy + 400 * s), (x + k * 30 * s, cy - 80 * s)],
                fill=(246, 250, 236),
                width=int(14 * s),
            )
        for _ in range(30):
            circle(
                d,
                x + rng.uniform(-120, 120) * s,
                cy + rng.uniform(-350, -60) * s,
                6 * s,
                shade(dark, 1.3),
            )


def draw_chives(d, cx, cy, rng):
    green = (62, 142, 60)
    for _ in range(40):
        xb = cx + rng.uniform(-90, 90)
        xt = cx + (xb - cx) * 3.2 + rng.uniform(-40, 40)
        d.line(
            [(xb, cy + 380), (xt, cy - 420 + rng.uniform(0, 80))],
            fill=shade(green, rng.uniform(0.8, 1.2)),
            width=16,
        )
    for _ in range(40):
        xb = cx + rng.uniform(-90, 90)
        d.line([(xb, cy + 420), (xb + (xb - cx) * 0.3, cy + 250)], fill=(240, 236, 220), width=16)
    d.rounded_rectangle((cx - 120, cy + 110, cx + 120, cy + 160), 20, fill=(214, 60, 50))


def draw_spinach(d, cx, cy, rng):
    dark = (42, 112, 52)
    base = (cx, cy + 330)
    for k, ang in enumerate((-160, -140, -120, -100, -80, -60, -40, -20, -110, -70)):
        ln = 480 if k < 8 else 380
        rad = math.radians(ang)
        sx, sy = base[0] + 150 * math.cos(rad), base[1] + 150 * math.sin(rad)
        d.line([base, (sx, sy)], fill=(140, 190, 110), width=16)
        d.polygon(leaf_pts(sx, sy, ln - 150, 190, ang), fill=shade(dark, 0.9 + 0.05 * (k % 4)))
        ex, ey = sx + (ln - 170) * math.cos(rad), sy + (ln - 170) * math.sin(rad)
        d.line([(sx, sy), (ex, ey)], fill=shade(dark, 1.4), width=6)
    d.polygon(taper_pts(cx, cy + 330, 140, 90, 90), fill=(200, 70, 90))


def draw_celery(d, cx, cy, rng):
    stalk = (150, 196, 96)
    leaf = (84, 160, 62)
    for i, dx in enumerate((-200, -110, -20, 70, 160, 240)):
        xb, xt = cx + dx * 0.45, cx + dx
        for ang in (-120, -90, -60):
            for k in range(3):
                d.polygon(
                    leaf_pts(xt, cy - 300, 110 + 20 * k, 60, ang + rng.uniform(-15, 15)), fill=leaf
                )
        d.polygon(
            [(xb - 44, cy + 400), (xt - 30, cy - 300), (xt + 30, cy - 300), (xb + 44, cy + 400)],
            fill=shade(stalk, 0.85 + 0.05 * (i % 3)),
        )
        d.line([(xb - 12, cy + 380), (xt - 8, cy - 280)], fill=shade(stalk, 1.3), width=8)
    d.rounded_rectangle((cx - 160, cy + 200, cx + 160, cy + 250), 20, fill=(214, 60, 50))


def draw_drumstick(d, cx, cy, rng):
    meat, bone = (240, 196, 160), (250, 246, 236)
    for x, y, ang in ((cx - 180, cy - 60, 35), (cx + 170, cy + 40, 145)):
        rad = math.radians(ang)
        tip = (x + 330 * math.cos(rad), y + 330 * math.sin(rad))
        end = (x + 470 * math.cos(rad), y + 470 * math.sin(rad))
        d.line([tip, end], fill=bone, width=50)
        for off in (-1, 1):
            ox = end[0] + 34 * math.cos(rad + math.pi / 2 * off)
            oy = end[1] + 34 * math.sin(rad + math.pi / 2 * off)
            circle(d, ox, oy, 40, bone)
        nx, ny = -math.sin(rad), math.cos(rad)
        for grow, col in ((12, shade(meat, 0.86)), (0, meat)):
            r = 165 + grow
            d.polygon(
                [
                    (x + nx * r, y + ny * r),
                    (tip[0] + nx * (34 + grow), tip[1] + ny * (34 + grow)),
                    (tip[0] - nx * (34 + grow), tip[1] - ny * (34 + grow)),
                    (x - nx * r, y - ny * r),
                ],
                fill=col,
            )
            d.polygon(ellipse_pts(x, y, r + 20, r, ang), fill=col)
        d.polygon(
            ellipse_pts(
                x - 40 * math.cos(rad) + 60 * nx, y - 40 * math.sin(rad) + 60 * ny, 80, 22, ang
            ),
            fill=shade(meat, 1.4),
        )
    for _ in range(40):
        circle(
            d,
            cx + rng.uniform(-380, 380),
            cy + rng.uniform(-280, 300),
            rng.uniform(3, 7),
            (255, 255, 255),
        )


def draw_leaf(d, cx, cy, rng):
    """Fallback for an unknown art key."""
    d.polygon(leaf_pts(cx - 300, cy + 200, 640, 360, -35), fill=(76, 150, 64))
    d.line([(cx - 300, cy + 200), (cx + 200, cy - 150)], fill=(150, 200, 120), width=10)


# art key -> (drawing, background top colour, background bottom colour)
ART: dict[str, tuple[Callable, RGB, RGB]] = {
    "radish": (draw_radish, (236, 246, 226), (188, 222, 170)),
    "radish_red": (draw_radish_red, (250, 236, 242), (220, 190, 210)),
    "sweet_potato": (draw_sweet_potato, (246, 238, 246), (214, 196, 222)),
    "giftbox_green": (draw_giftbox_green, (252, 244, 222), (238, 212, 170)),
    "giftbox_red": (draw_giftbox_red, (252, 242, 226), (240, 204, 172)),
    "rice": (draw_rice, (250, 244, 220), (226, 210, 160)),
    "millet": (draw_millet, (252, 244, 214), (236, 210, 150)),
    "flour": (draw_flour, (246, 240, 226), (218, 200, 168)),
    "crab": (draw_crab, (222, 238, 246), (168, 204, 222)),
    "fish": (draw_fish, (224, 240, 248), (170, 208, 226)),
    "loach": (draw_loach, (232, 242, 236), (180, 210, 196)),
    "shrimp": (draw_shrimp, (226, 240, 252), (176, 206, 236)),
    "pork": (draw_pork, (238, 244, 252), (196, 212, 236)),
    "persimmon": (draw_persimmon, (254, 242, 222), (246, 206, 160)),
    "pear": (draw_pear, (248, 246, 226), (222, 220, 170)),
    "hawthorn": (draw_hawthorn, (252, 238, 232), (236, 196, 184)),
    "jujube": (draw_jujube, (244, 248, 228), (214, 226, 176)),
    "grapes": (draw_grapes, (244, 236, 246), (210, 190, 220)),
    "grapes_dark": (draw_grapes_dark, (238, 236, 248), (196, 192, 224)),
    "garlic": (draw_garlic, (244, 236, 244), (214, 196, 216)),
    "scallion": (draw_scallion, (240, 248, 232), (196, 222, 180)),
    "pepper": (draw_pepper, (254, 240, 226), (246, 200, 172)),
    "eggs": (draw_eggs, (254, 246, 230), (236, 216, 180)),
    "honey": (draw_honey, (254, 246, 222), (244, 216, 150)),
    "walnut": (draw_walnut, (246, 240, 228), (220, 204, 176)),
    "chestnut": (draw_chestnut, (248, 238, 226), (222, 196, 170)),
    "tomato": (draw_tomato, (252, 240, 232), (240, 200, 184)),
    "cherry_tomato": (draw_cherry_tomato, (252, 242, 236), (236, 206, 196)),
    "cucumber": (draw_cucumber, (240, 248, 230), (196, 224, 180)),
    "cabbage": (draw_cabbage, (238, 248, 234), (192, 222, 186)),
    "chives": (draw_chives, (240, 248, 230), (200, 226, 184)),
    "spinach": (draw_spinach, (236, 246, 232), (190, 218, 182)),
    "celery": (draw_celery, (244, 250, 232), (206, 228, 180)),
    "drumstick": (draw_drumstick, (236, 244, 252), (196, 214, 236)),
}


# --- Composition -------------------------------------------------------------


def _background(top: RGB, bottom: RGB) -> Image.Image:
    mask = Image.linear_gradient("L").resize((W, W))
    img = Image.composite(Image.new("RGB", (W, W), bottom), Image.new("RGB", (W, W), top), mask)
    glow = Image.new("L", (W // 4, W // 4), 0)
    ImageDraw.Draw(glow).ellipse((60, 40, W // 4 - 60, W // 4 - 80), fill=120)
    glow = glow.filter(ImageFilter.GaussianBlur(22)).resize((W, W))
    img.paste(Image.new("RGB", (W, W), (255, 255, 255)), (0, 0), glow)
    shadow = Image.new("L", (W // 4, W // 4), 0)
    ImageDraw.Draw(shadow).ellipse((90, 260, W // 4 - 90, 300), fill=70)
    shadow = shadow.filter(ImageFilter.GaussianBlur(8)).resize((W, W))
    img.paste(Image.new("RGB", (W, W), shade(bottom, 0.55)), (0, 0), shadow)
    return img


def _text_center(d, cx, y, text, font, fill) -> None:
    box = d.textbbox((0, 0), text, font=font)
    d.text((cx - (box[2] - box[0]) / 2 - box[0], y - box[1]), text, font=font, fill=fill)


def _fit_font(d, text: str, size: int, max_width: int):
    while size > 40:
        font = cjk_font(size)
        if font is None:
            return None
        box = d.textbbox((0, 0), text, font=font)
        if box[2] - box[0] <= max_width:
            return font
        size -= 8
    return cjk_font(size)


def _overlay_text(img: Image.Image, label: str, subtitle: str, gi: bool, storage: str) -> None:
    if cjk_font(40) is None:
        return
    card = Image.new("RGBA", (W, W), (0, 0, 0, 0))
    cd = ImageDraw.Draw(card)
    cd.rounded_rectangle((130, 1236, W - 130, 1500), 48, fill=(255, 255, 255, 222))
    if gi:
        circle(cd, W - 190, 190, 118, (196, 148, 52, 240))
        circle(cd, W - 190, 190, 100, (214, 170, 70, 255))
    if storage in ("chilled", "frozen"):
        cd.rounded_rectangle((110, 236, 390, 336), 50, fill=(46, 120, 190, 235))
    img.paste(card, (0, 0), card)

    d = ImageDraw.Draw(img)
    font = _fit_font(d, label, 132, W - 340)
    _text_center(d, W / 2, 1282 if subtitle else 1316, label, font, (38, 58, 40))
    if subtitle:
        sub_font = _fit_font(d, subtitle, 58, W - 340)
        _text_center(d, W / 2, 1420, subtitle, sub_font, (98, 120, 98))
    mark = cjk_font(52)
    d.text((120, 110), "网农 · 天津农产品", font=mark, fill=(70, 96, 70))
    if gi:
        badge = cjk_font(52)
        _text_center(d, W - 190, 132, "地理", badge, (255, 252, 240))
        _text_center(d, W - 190, 194, "标志", badge, (255, 252, 240))
    if storage in ("chilled", "frozen"):
        badge = cjk_font(50)
        text = "冷链配送" if storage == "chilled" else "冷冻配送"
        _text_center(d, 250, 258, text, badge, (255, 255, 255))


def render(
    art: str,
    *,
    label: str = "",
    subtitle: str = "",
    gi: bool = False,
    storage: str = "",
    seed: str = "",
) -> bytes:
    """An 800x800 JPEG of the produce ``art`` with ``label`` printed on it."""
    draw, top, bottom = ART.get(art, (draw_leaf, (238, 246, 232), (196, 222, 186)))
    img = _background(top, bottom)
    rng = random.Random(zlib.crc32((seed or art).encode()))
    draw(ImageDraw.Draw(img), W / 2, 720, rng)
    if label:
        _overlay_text(img, label, subtitle, gi, storage)
    img = img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
