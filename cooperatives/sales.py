"""A cooperative's sales figures, each one aggregate query on its order lines.

Sales are the cooperative's order lines that are not cancelled; revenue is
the sum of their totals including tax (after discounts). Days and weeks are
Asia/Shanghai days (settings.TIME_ZONE); a week starts on Monday.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Max, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cooperatives.fulfilment import CANCELLED
from cooperatives.models import Cooperative
from cooperatives.portal.access import cooperative_lines

ZERO = Decimal("0.00")
SERIES_DAYS = 90
TOP_PRODUCTS = 5


@dataclass(frozen=True)
class TopProduct:
    product_id: int | None
    title: str
    quantity: int
    revenue: Decimal


@dataclass(frozen=True)
class Summary:
    start: date  # first day (inclusive)
    end: date  # last day (inclusive)
    orders: int
    items: int
    revenue: Decimal
    top_products: list[TopProduct]


@dataclass(frozen=True)
class DayRevenue:
    day: date
    revenue: Decimal
    orders: int


def sold_lines(cooperative: Cooperative) -> QuerySet:
    """The cooperative's order lines that count as sales (not cancelled)."""
    return cooperative_lines(cooperative).exclude(status=CANCELLED)


def local_today() -> date:
    return timezone.localdate()


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the project's time zone (aware)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def placed_between(qs: QuerySet, start: date | None, end: date | None) -> QuerySet:
    """Lines of orders placed from ``start`` to ``end`` (local days, inclusive)."""
    if start is not None:
        qs = qs.filter(order__date_placed__gte=day_start(start))
    if end is not None:
        qs = qs.filter(order__date_placed__lt=day_start(end + timedelta(days=1)))
    return qs


def week_bounds(today: date | None = None) -> tuple[date, date]:
    """Monday and Sunday of the week containing ``today`` (local)."""
    today = today or local_today()
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def summary(
    cooperative: Cooperative, start: date, end: date, *, top: int = TOP_PRODUCTS
) -> Summary:
    """Orders, items, revenue and best sellers (by revenue) from ``start``
    to ``end`` (local days, inclusive)."""
    lines = placed_between(sold_lines(cooperative), start, end)
    totals = lines.aggregate(
        orders=Count("order", distinct=True),
        items=Sum("quantity"),
        revenue=Sum("line_price_incl_tax"),
    )
    best = (
        lines.values("product_id")
        .annotate(
            title=Max("title"),
            quantity=Sum("quantity"),
            revenue=Sum("line_price_incl_tax"),
        )
        .order_by("-revenue", "-quantity", "title")[:top]
    )
    return Summary(
        start=start,
        end=end,
        orders=totals["orders"] or 0,
        items=totals["items"] or 0,
        revenue=totals["revenue"] or ZERO,
        top_products=[
            TopProduct(row["product_id"], row["title"], row["quantity"], row["revenue"])
            for row in best
        ],
    )


def this_week(cooperative: Cooperative, *, today: date | None = None) -> Summary:
    """The summary of the current week, Monday to today."""
    today = today or local_today()
    monday, _sunday = week_bounds(today)
    return summary(cooperative, monday, today)


def daily_revenue(
    cooperative: Cooperative, *, days: int = SERIES_DAYS, today: date | None = None
) -> list[DayRevenue]:
    """Revenue and orders for each of the last ``days`` local days, oldest
    first, ending today; days without sales are zero."""
    today = today or local_today()
    first = today - timedelta(days=days - 1)
    rows = (
        placed_between(sold_lines(cooperative), first, today)
        .annotate(day=TruncDate("order__date_placed", tzinfo=timezone.get_default_timezone()))
        .values("day")
        .annotate(revenue=Sum("line_price_incl_tax"), orders=Count("order", distinct=True))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day)
        series.append(
            DayRevenue(
                day=day,
                revenue=row["revenue"] if row else ZERO,
                orders=row["orders"] if row else 0,
            )
        )
    return series


EXPORT_FIELDS = (
    "order__date_placed",
    "order__number",
    "title",
    "partner_sku",
    "quantity",
    "unit_price_incl_tax",
    "line_price_incl_tax",
    "status",
)


def export_rows(
    cooperative: Cooperative, *, start: date | None = None, end: date | None = None
) -> Iterator[tuple]:
    """The cooperative's sold lines for the CSV export, oldest first, as
    tuples of EXPORT_FIELDS (streamed from the database, not loaded at once)."""
    qs = placed_between(sold_lines(cooperative), start, end).order_by("order__date_placed", "pk")
    return qs.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
