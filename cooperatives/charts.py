"""Charts drawn on the server as inline SVG: no JavaScript, no fonts or
images to fetch, so they render offline and in print.

The SVG has role="img" and is labelled by its own <title> and <desc>; pages
should also offer the numbers as a table for people who cannot see it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Drawing units. The SVG scales to its container's width, which is about
# 290 CSS px inside a panel on a 360 px phone, so a unit is about a pixel.
WIDTH = 300
HEIGHT = 180
RIGHT = 18  # half a date label: the last one is centred on the last bar
TOP = 10
BOTTOM = 22  # room for the date labels
FONT_SIZE = 12
BAR_COLOUR = "#1d5e36"
GRID_COLOUR = "#c9cdc6"
TEXT_COLOUR = "#555555"


def nice_ceiling(value: float, max_ticks: int = 5) -> tuple[float, float]:
    """An axis maximum ≥ ``value`` and its tick step: the smallest round step
    (1, 2, 2.5 or 5 times a power of ten) that needs at most ``max_ticks``
    steps. An empty chart gets 0–4."""
    if value <= 0:
        return 4.0, 1.0
    power = 10 ** math.floor(math.log10(value / max_ticks))
    while True:
        for factor in (1, 2, 2.5, 5):
            step = factor * power
            steps = max(math.ceil(value / step - 1e-9), 1)
            if steps <= max_ticks:
                return steps * step, step
        power *= 10


def _number(value: float) -> str:
    """A tick label: thousands separated, decimals only when needed."""
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _coord(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart_svg(
    points: Sequence[tuple[date, Decimal | int | float]],
    *,
    title: str,
    desc: str,
    id_prefix: str = "chart",
    value_label: Callable[[Decimal | int | float], str] = str,
    axis_prefix: str = "",
    label_every: int = 15,
) -> SafeString:
    """A bar per point (oldest first), a value axis with round ticks and a
    date label every ``label_every`` points counted back from the last one.

    Each bar carries a <title> ("2026-11-27: ¥120.00") for pointer users;
    ``value_label`` formats those values, ``axis_prefix`` goes before the
    tick numbers (e.g. "¥").
    """
    n = len(points)
    values = [float(v) for _d, v in points]
    top_value, step = nice_ceiling(max(values, default=0.0))
    ticks = round(top_value / step)
    tick_labels = [f"{axis_prefix}{_number(i * step)}" for i in range(ticks + 1)]
    # Room on the left for the longest value label.
    left = round(max(len(label) for label in tick_labels) * FONT_SIZE * 0.62) + 6
    plot_w = WIDTH - left - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(n, 1)
    bar_w = max(slot * 0.7, 0.5)
    base_y = TOP + plot_h

    def y_of(value: float) -> float:
        return base_y - (value / top_value) * plot_h

    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="sans-serif" font-size="{FONT_SIZE}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]
    # Grid lines and value labels.
    parts.append(f'<g class="chart-grid" stroke="{GRID_COLOUR}" stroke-width="0.5">')
    for i in range(ticks + 1):
        y = _coord(y_of(i * step))
        parts.append(f'<line x1="{left}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"/>')
    parts.append("</g>")
    parts.append(f'<g class="chart-axis" fill="{TEXT_COLOUR}" text-anchor="end">')
    for i, label in enumerate(tick_labels):
        y = _coord(y_of(i * step) + FONT_SIZE * 0.35)
        parts.append(f'<text x="{left - 4}" y="{y}">{escape(label)}</text>')
    parts.append("</g>")
    # Bars.
    parts.append(f'<g class="chart-bars" fill="{BAR_COLOUR}">')
    for i, (day, value) in enumerate(points):
        v = float(value)
        if v <= 0:
            continue
        x = left + i * slot + (slot - bar_w) / 2
        y = y_of(v)
        height = max(base_y - y, 0.5)
        tip = escape(f"{day.isoformat()}: {value_label(value)}")
        parts.append(
            f'<rect x="{_coord(x)}" y="{_coord(base_y - height)}" width="{_coord(bar_w)}" '
            f'height="{_coord(height)}"><title>{tip}</title></rect>'
        )
    parts.append("</g>")
    # Base line and date labels.
    parts.append(
        f'<line x1="{left}" y1="{base_y}" x2="{WIDTH - RIGHT}" y2="{base_y}" '
        f'stroke="{TEXT_COLOUR}" stroke-width="1"/>'
    )
    parts.append(f'<g class="chart-dates" fill="{TEXT_COLOUR}" text-anchor="middle">')
    for i in range(n - 1, -1, -label_every):
        day = points[i][0]
        x = left + i * slot + slot / 2
        parts.append(f'<text x="{_coord(x)}" y="{HEIGHT - 6}">{day.month}/{day.day}</text>')
    parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
