"""The statistics page's charts, drawn on the server as inline SVG: no
JavaScript, no fonts, images or scripts to fetch, so they show offline and
in print, and cost nothing but the page's own bytes.

Every chart has role="img" and is labelled by its own <title> and <desc>
(which say what the chart shows in words); the page's table carries the
same numbers for anyone who cannot see the drawing. Drawing units are about
CSS pixels at a phone's width: each SVG scales to its container.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cooperatives.charts import nice_ceiling
from stations.coverage import Coverage

if TYPE_CHECKING:
    from cms.statistics import Row

WIDTH = 300
FONT_SIZE = 12
SMALL = 11
GREEN = "#1d5e36"
LIGHT_GREEN = "#7fbf96"
TRACK = "#e2e4de"
TARGET = "#b3261e"
TEXT = "#1b1b1b"
MUTED = "#555555"
GRID = "#c9cdc6"
# Coverage shades for the district grid, lightest first, with the text
# colour that stays readable on each: below a quarter of the target, …, the
# target and above.
SHADES = [
    ("#eef6f0", TEXT),
    ("#c6e3cf", TEXT),
    ("#8cc6a0", TEXT),
    ("#3f8f5f", "#ffffff"),
    ("#1d5e36", "#ffffff"),
]
NO_VILLAGES = "#eceae2"
# Districts on a rough map of Tianjin: (column, row) of a 5 × 5 grid,
# 蓟州 in the north, 滨海新区 on the coast, the six central districts in the
# middle (the city's layout, not to scale).
TILES = {
    "120119": (2, 0),  # 蓟州区
    "120114": (1, 1),  # 武清区
    "120115": (2, 1),  # 宝坻区
    "120117": (3, 1),  # 宁河区
    "120113": (1, 2),  # 北辰区
    "120106": (2, 2),  # 红桥区
    "120105": (3, 2),  # 河北区
    "120110": (4, 2),  # 东丽区
    "120111": (0, 3),  # 西青区
    "120104": (1, 3),  # 南开区
    "120101": (2, 3),  # 和平区
    "120102": (3, 3),  # 河东区
    "120116": (4, 3),  # 滨海新区
    "120118": (1, 4),  # 静海区
    "120103": (2, 4),  # 河西区
    "120112": (3, 4),  # 津南区
}


def target_label(target) -> str:
    """The target line's label, e.g. "目标 80%"."""
    return _("目标 %(target)s") % {"target": f"{target:.0f}%"}


def _c(value: float | Decimal) -> str:
    """A coordinate with at most two decimals."""
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _percent(value: Decimal) -> str:
    return f"{value:.1f}%"


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.0f}"


def _open(height: float, title: str, desc: str, name: str, css: str) -> list[str]:
    """The <svg> opening, labelled by its title and description (ids made
    from ``name``, which must be unique on the page)."""
    title_id, desc_id = f"{name}-title", f"{name}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_c(height)}" '
        f'class="stats-chart {css}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="sans-serif" font-size="{FONT_SIZE}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]


def _close(parts: list[str]) -> SafeString:
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in parts is escaped


def coverage_progress_svg(coverage: Coverage) -> SafeString:
    """One bar: the share of administrative villages covered, with a mark at
    the target share."""
    height, top, bar_h = 46, 18, 18
    percent = coverage.percent
    target = coverage.target_percent
    parts = _open(
        height,
        _("行政村服务站覆盖率"),
        _(
            "已覆盖 %(covered)s 个行政村，共 %(total)s 个，覆盖率 %(percent)s；"
            "目标 %(target)s（%(needed)s 个村）。"
        )
        % {
            "covered": f"{coverage.covered:,}",
            "total": f"{coverage.total:,}",
            "percent": _percent(percent),
            "target": f"{target:.0f}%",
            "needed": f"{coverage.target_villages:,}",
        },
        "stats-progress",
        "stats-progress",
    )
    scale = WIDTH / 100
    target_x = float(target) * scale
    parts.append(f'<rect x="0" y="{top}" width="{WIDTH}" height="{bar_h}" rx="4" fill="{TRACK}"/>')
    if percent > 0:
        parts.append(
            f'<rect x="0" y="{top}" width="{_c(float(percent) * scale)}" height="{bar_h}" '
            f'rx="4" fill="{GREEN}"/>'
        )
    parts.append(
        f'<line x1="{_c(target_x)}" y1="{top - 4}" x2="{_c(target_x)}" y2="{top + bar_h + 4}" '
        f'stroke="{TARGET}" stroke-width="2"/>'
    )
    parts.append(
        f'<text x="{_c(target_x)}" y="{top - 6}" text-anchor="middle" fill="{TARGET}" '
        f'font-size="{SMALL}">{escape(target_label(target))}</text>'
    )
    return _close(parts)


def coverage_bars_svg(rows: Sequence[Row], target: Decimal) -> SafeString:
    """A horizontal bar per district with administrative villages: the share
    covered by an active station, with the target as a dashed line."""
    shown = [r for r in rows if r.has_villages]
    label_w, value_w, row_h, bar_h, top = 58, 46, 22, 14, 20
    bar_x = label_w
    bar_w = WIDTH - label_w - value_w
    height = top + max(len(shown), 1) * row_h + 4
    left_out = len(rows) - len(shown)
    desc = _("各区有运营中服务站的行政村所占比例，虚线为 %(target)s 的目标。") % {
        "target": f"{target:.0f}%"
    }
    if shown:
        best = max(shown, key=lambda r: (r.coverage.percent, r.code))
        desc += " " + _("覆盖率最高的是%(name)s（%(percent)s）。") % {
            "name": best.name,
            "percent": _percent(best.coverage.percent),
        }
    if left_out:
        desc += " " + _("%(n)s 个区没有行政村，未列出。") % {"n": left_out}
    parts = _open(height, _("各区行政村覆盖率"), desc, "stats-coverage", "stats-bars")
    for i, row in enumerate(shown):
        y = top + i * row_h
        mid = y + row_h / 2
        percent = row.coverage.percent
        width = bar_w * float(percent) / 100
        colour = GREEN if row.coverage.meets_target else LIGHT_GREEN
        tip = _("%(name)s：%(covered)s / %(total)s 个行政村（%(percent)s）") % {
            "name": row.name,
            "covered": f"{row.villages_with_station:,}",
            "total": f"{row.villages:,}",
            "percent": _percent(percent),
        }
        parts.append(f"<g><title>{escape(tip)}</title>")
        parts.append(
            f'<text x="{label_w - 4}" y="{_c(mid + 4)}" text-anchor="end" fill="{TEXT}">'
            f"{escape(row.name)}</text>"
        )
        parts.append(
            f'<rect x="{bar_x}" y="{_c(mid - bar_h / 2)}" width="{bar_w}" height="{bar_h}" '
            f'fill="{TRACK}"/>'
        )
        if width > 0:
            parts.append(
                f'<rect x="{bar_x}" y="{_c(mid - bar_h / 2)}" width="{_c(width)}" '
                f'height="{bar_h}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{bar_x + bar_w + 4}" y="{_c(mid + 4)}" fill="{MUTED}" '
            f'font-size="{SMALL}">{escape(_percent(percent))}</text>'
        )
        parts.append("</g>")
    target_x = bar_x + bar_w * float(target) / 100
    parts.append(
        f'<line x1="{_c(target_x)}" y1="{top - 4}" x2="{_c(target_x)}" y2="{_c(height - 2)}" '
        f'stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<text x="{_c(target_x)}" y="{top - 7}" text-anchor="middle" fill="{TARGET}" '
        f'font-size="{SMALL}">{escape(target_label(target))}</text>'
    )
    return _close(parts)


def sales_bars_svg(rows: Sequence[Row]) -> SafeString:
    """A horizontal bar per district: this year's sales in yuan."""
    label_w, value_w, row_h, bar_h, top = 58, 78, 22, 14, 6
    bar_w = WIDTH - label_w - value_w
    height = top + max(len(rows), 1) * row_h + 4
    total = sum((r.sales_year for r in rows), Decimal(0))
    axis_max, _step = nice_ceiling(float(max((r.sales_year for r in rows), default=0)))
    desc = _("各区合作社本年销售额（元），合计 %(total)s。") % {"total": _yuan(total)}
    leaders = sorted((r for r in rows if r.sales_year > 0), key=lambda r: -r.sales_year)[:3]
    if leaders:
        desc += " " + _("最多的是：%(list)s。") % {
            "list": "、".join(f"{r.name} {_yuan(r.sales_year)}" for r in leaders)
        }
    parts = _open(height, _("各区本年销售额"), desc, "stats-sales", "stats-bars")
    for i, row in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2
        width = bar_w * float(row.sales_year) / axis_max if axis_max else 0
        tip = _("%(name)s：本年 %(orders)s 单，%(sales)s") % {
            "name": row.name,
            "orders": f"{row.orders_year:,}",
            "sales": _yuan(row.sales_year),
        }
        parts.append(f"<g><title>{escape(tip)}</title>")
        parts.append(
            f'<text x="{label_w - 4}" y="{_c(mid + 4)}" text-anchor="end" fill="{TEXT}">'
            f"{escape(row.name)}</text>"
        )
        if row.sales_year > 0:
            parts.append(
                f'<rect x="{label_w}" y="{_c(mid - bar_h / 2)}" width="{_c(max(width, 1))}" '
                f'height="{bar_h}" fill="{GREEN}"/>'
            )
        parts.append(
            f'<text x="{_c(label_w + max(width, 0) + 4)}" y="{_c(mid + 4)}" fill="{MUTED}" '
            f'font-size="{SMALL}">{escape(_yuan(row.sales_year))}</text>'
        )
        parts.append("</g>")
    parts.append(
        f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{_c(height - 4)}" '
        f'stroke="{GRID}" stroke-width="1"/>'
    )
    return _close(parts)


def shade_floors(target: Decimal) -> list[Decimal]:
    """The lowest coverage percent of each shade: 0, ¼, ½, ¾ of the target,
    the target."""
    steps = len(SHADES) - 1
    return [target * i / steps for i in range(steps + 1)]


def shade(row: Row, target: Decimal) -> tuple[str, str]:
    """The fill and text colour of a district's tile."""
    if not row.has_villages:
        return NO_VILLAGES, TEXT
    fill, ink = SHADES[0]
    for floor, (colour, text) in zip(shade_floors(target), SHADES, strict=True):
        if row.coverage.percent >= floor:
            fill, ink = colour, text
    return fill, ink


def district_tiles_svg(rows: Sequence[Row], target: Decimal) -> SafeString:
    """The districts as tiles on a rough map of Tianjin, shaded by coverage
    (a light stand-in for a choropleth map: no shapes to download)."""
    tile_w, tile_h, gap, legend_h = 56, 44, 4, 40
    by_code = {r.code: r for r in rows}
    grid_rows = 1 + max(y for _x, y in TILES.values())
    height = grid_rows * (tile_h + gap) + legend_h
    parts = _open(
        height,
        _("各区覆盖率示意图"),
        _(
            "按天津各区的大致位置排列的方块，颜色越深表示有服务站的行政村比例越高；"
            "灰色表示该区没有行政村。数字见下表。"
        ),
        "stats-tiles",
        "stats-tiles",
    )
    for code, (col, line) in TILES.items():
        row = by_code.get(code)
        if row is None:
            continue
        x, y = col * (tile_w + gap) + gap / 2, line * (tile_h + gap)
        fill, ink = shade(row, target)
        value = _percent(row.coverage.percent) if row.has_villages else "—"
        tip = (
            _("%(name)s：%(percent)s") % {"name": row.name, "percent": value}
            if row.has_villages
            else _("%(name)s：没有行政村") % {"name": row.name}
        )
        parts.append(f"<g><title>{escape(tip)}</title>")
        parts.append(
            f'<rect x="{_c(x)}" y="{y}" width="{tile_w}" height="{tile_h}" rx="4" '
            f'fill="{fill}" stroke="#ffffff"/>'
        )
        name_size = SMALL if len(row.name) <= 4 else 9
        parts.append(
            f'<text x="{_c(x + tile_w / 2)}" y="{y + 18}" text-anchor="middle" fill="{ink}" '
            f'font-size="{name_size}">{escape(row.name)}</text>'
        )
        parts.append(
            f'<text x="{_c(x + tile_w / 2)}" y="{y + 34}" text-anchor="middle" fill="{ink}" '
            f'font-size="{SMALL}" font-weight="700">{escape(value)}</text>'
        )
        parts.append("</g>")
    # Legend: one swatch per shade, then "no villages".
    y = grid_rows * (tile_h + gap) + 6
    floors = shade_floors(target)
    legend = [
        (colour, f"≥{floor:.0f}%" if floor else f"<{floors[1]:.0f}%")
        for floor, (colour, _ink) in zip(floors, SHADES, strict=True)
    ]
    legend.append((NO_VILLAGES, _("无行政村")))
    swatch_w = WIDTH / len(legend)
    for i, (colour, label) in enumerate(legend):
        x = i * swatch_w
        parts.append(
            f'<rect x="{_c(x + 2)}" y="{y}" width="{_c(swatch_w - 4)}" height="12" '
            f'fill="{colour}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{_c(x + swatch_w / 2)}" y="{y + 26}" text-anchor="middle" '
            f'fill="{MUTED}" font-size="10">{escape(label)}</text>'
        )
    return _close(parts)
