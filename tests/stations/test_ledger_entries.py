"""A station's assisted orders in the platform's ledger: the cash sale, the
station's commission, its reversal on cancellation, remittances."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop.payment import ledger
from shop.payment.models import JournalEntry
from stations import cash, ordering
from tests.stations.conftest import assisted_order, make_resident, make_staff, make_station

pytestmark = pytest.mark.django_db


def balance(code: str) -> int:
    return ledger.balance(ledger.LedgerAccount.objects.get(code=code))


@pytest.fixture
def station_setup(produce):
    station = make_station()
    make_staff(station)
    resident = make_resident(station, "王秀英", phone="13812345678")
    return station, resident, produce


def test_station_order_posts_cash_sale_and_the_station_commission(station_setup, settings):
    settings.WANGNONG_STATION_COMMISSION_FIXED = "1.00"
    settings.WANGNONG_STATION_COMMISSION_RATE = "2"
    station, resident, produce = station_setup
    so = assisted_order(station, resident, [(produce["radish"], 2), (produce["crab"], 1)])
    # Goods ¥128: commission ¥1 + 2% = ¥3.56.
    assert so.commission == Decimal("3.56")
    assert balance("cash:in-transit") == ledger.to_fen(so.total)
    assert balance(f"station-pending:{station.pk}") == -356
    assert balance("platform:station-commission") == 356
    assert ledger.trial_balance() == 0


def test_cancelled_station_order_reverses_its_commission(station_setup, settings):
    settings.WANGNONG_STATION_COMMISSION_FIXED = "1.00"
    station, resident, produce = station_setup
    so = assisted_order(station, resident, [(produce["radish"], 1)])
    ordering.cancel_assisted_order(so, so.placed_by, "居民不要了")
    assert balance(f"station-pending:{station.pk}") == 0
    assert JournalEntry.objects.filter(kind="station-commission-reversal").count() == 1
    assert ledger.trial_balance() == 0


def test_remittance_moves_cash_in_transit_to_the_bank(station_setup, django_user_model):
    station, resident, produce = station_setup
    so = assisted_order(station, resident, [(produce["radish"], 1)])
    clerk = django_user_model.objects.create_user("finance", "f@example.com", "x", is_staff=True)
    cash.record_remittance(station, clerk, Decimal("15.00"), note="11 月第 4 周")
    assert balance("bank:platform") == 1500
    assert balance("cash:in-transit") == ledger.to_fen(so.total) - 1500
    assert ledger.trial_balance() == 0


def test_a_full_refund_by_platform_staff_cancels_the_station_order(
    station_setup, django_user_model
):
    import uuid

    from shop.payment import refunds
    from stations.models import Parcel

    station, resident, produce = station_setup
    so = assisted_order(station, resident, [(produce["radish"], 1), (produce["crab"], 1)])
    clerk = django_user_model.objects.create_user("finance", "f@example.com", "x", is_staff=True)
    left = refunds.refundable(so.order)
    refunds.refund(
        so.order,
        lines=left.lines,
        shipping=left.shipping,
        reason="居民不要了",
        by=clerk,
        token=uuid.uuid4(),
    )
    so.refresh_from_db()
    assert so.is_cancelled and so.cancelled_by == clerk
    assert not so.parcels.exclude(status=Parcel.Status.CANCELLED).exists()
    assert balance(f"station-pending:{station.pk}") == 0
    assert balance("cash:in-transit") == 0
    assert cash.outstanding_balance(station) == 0
    assert ledger.trial_balance() == 0
