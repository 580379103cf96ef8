"""What a station earns for the orders it places for residents.

Each assisted order earns a fixed amount plus a percentage of its goods
(shipping excluded), fixed at placement and stored on the StationOrder; a
station may have its own rates, otherwise the programme's defaults apply
(``WANGNONG_STATION_COMMISSION_FIXED``, ``…_RATE`` in percent). A cancelled
order earns nothing. The monthly statement sums a calendar month in the
project's time zone.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from stations.models import Station, StationOrder

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def rates(station: Station) -> tuple[Decimal, Decimal]:
    """(fixed yuan per order, percent of goods) for ``station``."""
    fixed = station.commission_fixed
    if fixed is None:
        fixed = Decimal(str(settings.WANGNONG_STATION_COMMISSION_FIXED))
    rate = station.commission_rate
    if rate is None:
        rate = Decimal(str(settings.WANGNONG_STATION_COMMISSION_RATE))
    return fixed, rate


def commission_for(station: Station, goods_total: Decimal) -> Decimal:
    fixed, rate = rates(station)
    return (fixed + goods_total * rate / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar month in the project's time zone."""
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    days = calendar.monthrange(year, month)[1]
    return start, start + dt.timedelta(days=days)


@dataclass(frozen=True)
class Statement:
    station: Station
    year: int
    month: int
    orders: int
    cancelled: int
    goods_total: Decimal
    sales_total: Decimal
    commission: Decimal
    rows: object  # QuerySet of StationOrder, oldest first (cancelled ones included)


def monthly_statement(station: Station, year: int, month: int) -> Statement:
    start, end = month_bounds(year, month)
    qs = StationOrder.objects.filter(station=station, created_at__gte=start, created_at__lt=end)
    live = Q(cancelled_at__isnull=True)
    totals = qs.aggregate(
        orders=Count("pk", filter=live),
        cancelled=Count("pk", filter=~live),
        goods=Sum("goods_total", filter=live),
        sales=Sum("total", filter=live),
        commission=Sum("commission", filter=live),
    )
    # Lazy: a screen shows a page of it, the CSV streams it all.
    rows = qs.select_related("order", "resident", "placed_by").order_by("created_at", "pk")
    return Statement(
        station=station,
        year=year,
        month=month,
        orders=totals["orders"] or 0,
        cancelled=totals["cancelled"] or 0,
        goods_total=totals["goods"] or ZERO,
        sales_total=totals["sales"] or ZERO,
        commission=totals["commission"] or ZERO,
        rows=rows,
    )


def statements_for_month(year: int, month: int) -> list[dict]:
    """Every station's totals for a month (platform staff overview)."""
    start, end = month_bounds(year, month)
    live = Q(
        orders__cancelled_at__isnull=True, orders__created_at__gte=start, orders__created_at__lt=end
    )
    return list(
        Station.objects.annotate(
            n_orders=Count("orders", filter=live),
            goods=Sum("orders__goods_total", filter=live),
            commission_total=Sum("orders__commission", filter=live),
        )
        .order_by("village_id", "pk")
        .values("pk", "name", "village_id", "n_orders", "goods", "commission_total")
    )


# --- Months as the statements name them (?month=YYYY-MM) -------------------------

FIRST_YEAR = 2000
_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")


def current_month() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, today.month


def parse_month(value: str | None, *, allow_future: bool = False) -> tuple[int, int] | None:
    """``"2026-03"`` → ``(2026, 3)``; None if it is not a month with
    statements (before FIRST_YEAR, or after this month unless allowed)."""
    match = _MONTH_RE.fullmatch((value or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12) or not (FIRST_YEAR <= year <= 2100):
        return None
    if not allow_future and (year, month) > current_month():
        return None
    return year, month


def shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def month_value(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"
