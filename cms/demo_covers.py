"""Cover and lead pictures for the demo's courses and articles, drawn with
Pillow (no network, no stock photos): a coloured panel with the title on
the left, a produce drawing from the catalogue's demo pictures on the
right. Without a CJK font the panel is drawn without text."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from shop.catalogue import demo_images

WIDTH, HEIGHT = 1280, 720
JPEG_QUALITY = 82


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, max_width: int) -> list[str]:
    """Break Chinese text into lines no wider than ``max_width``."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > max_width and line:
            lines.append(line)
            line = char
        else:
            line += char
    if line:
        lines.append(line)
    return lines


def render(title: str, *, kicker: str, art: str, panel: tuple[int, int, int]) -> bytes:
    """A 1280x720 JPEG: ``kicker`` and ``title`` on a ``panel``-coloured left
    half, the demo drawing ``art`` (shop/catalogue/demo_images.ART) right."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), panel)
    produce = Image.open(io.BytesIO(demo_images.render(art, seed=title)))
    produce = produce.resize((HEIGHT, HEIGHT), Image.Resampling.LANCZOS)
    canvas.paste(produce, (WIDTH - HEIGHT, 0))
    draw = ImageDraw.Draw(canvas)
    title_font = demo_images.cjk_font(64)
    kicker_font = demo_images.cjk_font(34)
    if title_font is not None and kicker_font is not None:
        left, width = 56, WIDTH - HEIGHT - 90
        draw.text((left, 150), kicker, font=kicker_font, fill=(232, 243, 236))
        y = 230
        for line in _wrap(draw, title, title_font, width)[:4]:
            draw.text((left, y), line, font=title_font, fill=(255, 255, 255))
            y += 88
        draw.text((left, HEIGHT - 90), "网农 · 天津", font=kicker_font, fill=(232, 243, 236))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
