"""stations.commission: the rates (programme default or the station's own),
the amount fixed at placement, and the monthly statement by calendar month
in Asia/Shanghai (cancelled orders earn nothing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from stations import commission, ordering
from stations.models import Resident, Station
from tests.stations.conftest import assisted_order, make_resident, staff_of

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> mock._patch:
    """Run as if the clock read ``args`` (local time in Asia/Shanghai)."""
    return mock.patch("django.utils.timezone.now", return_value=dt.datetime(*args, tzinfo=SHANGHAI))


def test_default_rates(settings, station_a):
    settings.WANGNONG_STATION_COMMISSION_FIXED = "1.00"
    settings.WANGNONG_STATION_COMMISSION_RATE = "3"
    assert commission.rates(station_a) == (D("1.00"), D("3"))
    assert commission.commission_for(station_a, D("128.00")) == D("4.84")
    assert commission.commission_for(station_a, D("0")) == D("1.00")


@pytest.mark.parametrize(
    "fixed, rate, goods, expected",
    [
        (D("2.50"), D("5"), D("128.00"), D("8.90")),  # both overridden
        (D("0"), None, D("100.00"), D("3.00")),  # no fixed part, default rate
        (None, D("0"), D("100.00"), D("1.00")),  # a zero rate is a rate, not "unset"
        (D("0"), D("2.5"), D("0.20"), D("0.01")),  # 0.005 rounds half up
        (None, None, D("1.50"), D("1.05")),  # 1.045 rounds half up (not to even)
    ],
)
def test_station_overrides_and_rounding(settings, station_a, fixed, rate, goods, expected):
    settings.WANGNONG_STATION_COMMISSION_FIXED = "1.00"
    settings.WANGNONG_STATION_COMMISSION_RATE = "3"
    Station.objects.filter(pk=station_a.pk).update(commission_fixed=fixed, commission_rate=rate)
    station_a.refresh_from_db()
    assert commission.commission_for(station_a, goods) == expected


def test_commission_is_fixed_at_placement_on_goods_only(station_a, produce):
    Station.objects.filter(pk=station_a.pk).update(
        commission_fixed=D("2.00"), commission_rate=D("10")
    )
    station_a.refresh_from_db()
    resident = make_resident(
        station_a, "张德福", delivery=Resident.Delivery.HOME, address_detail="三排五号"
    )
    so = assisted_order(
        station_a, resident, [(produce["radish"], 1)], delivery=Resident.Delivery.HOME
    )
    assert so.total == D("32.00")  # ¥12 shipping
    assert so.commission == D("4.00")  # 2 + 10 % of ¥20, shipping excluded
    Station.objects.filter(pk=station_a.pk).update(commission_rate=D("50"))
    so.refresh_from_db()
    assert so.commission == D("4.00")  # later rate changes do not touch it


def test_month_bounds_are_local():
    start, end = commission.month_bounds(2026, 11)
    assert start == dt.datetime(2026, 11, 1, tzinfo=SHANGHAI)
    assert end == dt.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)
    start, end = commission.month_bounds(2026, 12)
    assert end == dt.datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert commission.month_bounds(2028, 2)[1] == dt.datetime(2028, 3, 1, tzinfo=SHANGHAI)


def test_an_order_late_on_the_last_day_belongs_to_that_month(station_a, resident_a, produce):
    with at(2026, 11, 30, 23, 30):  # 15:30 UTC: still November in Tianjin
        late_november = assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    with at(2026, 12, 1, 0, 10):  # 16:10 UTC on 30 November
        early_december = assisted_order(station_a, resident_a, [(produce["crab"], 1)])
    with at(2026, 10, 31, 23, 59, 59):
        october = assisted_order(station_a, resident_a, [(produce["radish"], 2)])
    assert late_november.created_at.astimezone(dt.UTC).day == 30
    assert early_december.created_at.astimezone(dt.UTC).date() == dt.date(2026, 11, 30)

    november = commission.monthly_statement(station_a, 2026, 11)
    assert [so.pk for so in november.rows] == [late_november.pk]
    assert november.orders == 1
    assert november.goods_total == D("20.00")
    assert november.commission == late_november.commission == D("1.60")
    december = commission.monthly_statement(station_a, 2026, 12)
    assert [so.pk for so in december.rows] == [early_december.pk]
    assert december.commission == D("3.64")  # 1 + 3 % of ¥88
    assert [so.pk for so in commission.monthly_statement(station_a, 2026, 10).rows] == [october.pk]


def test_cancelled_orders_earn_nothing(station_a, resident_a, produce):
    with at(2026, 11, 10, 9, 0):
        kept = assisted_order(station_a, resident_a, [(produce["crab"], 1)])  # ¥88 → 3.64
        cancelled = assisted_order(station_a, resident_a, [(produce["radish"], 5)])  # ¥100 → 4.00
        ordering.cancel_assisted_order(cancelled, staff_of(station_a), "居民不要了")
    s = commission.monthly_statement(station_a, 2026, 11)
    assert (s.orders, s.cancelled) == (1, 1)
    assert s.goods_total == s.sales_total == D("88.00")
    assert s.commission == kept.commission == D("3.64")
    assert [so.pk for so in s.rows] == [kept.pk, cancelled.pk]  # listed, marked
    assert s.rows[1].is_cancelled


def test_an_empty_month(station_a):
    s = commission.monthly_statement(station_a, 2026, 11)
    assert (s.orders, s.cancelled, s.goods_total, s.sales_total, s.commission, list(s.rows)) == (
        0,
        0,
        D("0"),
        D("0"),
        D("0"),
        [],
    )


def test_statements_are_per_station(station_a, station_b, resident_a, resident_b, produce):
    with at(2026, 11, 10, 9, 0):
        assisted_order(station_a, resident_a, [(produce["radish"], 1)])
        assisted_order(station_a, resident_a, [(produce["crab"], 1)])
        assisted_order(station_b, resident_b, [(produce["radish"], 2)])
        gone = assisted_order(station_b, resident_b, [(produce["crab"], 1)])
        ordering.cancel_assisted_order(gone, staff_of(station_b), "居民不要了")
    with at(2026, 12, 1, 0, 10):
        assisted_order(station_a, resident_a, [(produce["radish"], 3)])
    a = commission.monthly_statement(station_a, 2026, 11)
    b = commission.monthly_statement(station_b, 2026, 11)
    assert (a.orders, a.commission) == (2, D("5.24"))
    assert (b.orders, b.cancelled, b.commission) == (1, 1, D("2.20"))
    overview = {row["pk"]: row for row in commission.statements_for_month(2026, 11)}
    assert overview[station_a.pk]["n_orders"] == 2
    assert overview[station_a.pk]["commission_total"] == D("5.24")
    assert overview[station_a.pk]["goods"] == D("108.00")
    assert overview[station_b.pk]["n_orders"] == 1
    assert overview[station_b.pk]["commission_total"] == D("2.20")
