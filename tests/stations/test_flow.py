"""The whole station journey through the services: register, order with
cash, parcel arrival, a wrong then a right pickup code, the day close; and
the audit trail it leaves."""

from decimal import Decimal

import pytest

from config import sms
from stations import cash, parcels
from stations.models import AuditEvent, Parcel
from tests.stations.conftest import assisted_order, staff_of

pytestmark = pytest.mark.django_db


def test_whole_journey(
    settings, station_a, resident_a, produce, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "config.sms.LocmemBackend"
    sms.outbox.clear()
    staff = staff_of(station_a)
    so = assisted_order(
        station_a, resident_a, [(produce["radish"], 2), (produce["crab"], 1)], cash="200"
    )
    assert so.order.user == resident_a.user
    assert so.total == Decimal("128.00")  # station delivery is free by default
    assert so.change_given == Decimal("72.00")
    assert so.parcels.count() == 2
    assert so.commission == Decimal("1.00") + Decimal("128.00") * 3 / 100
    assert cash.drawer(station_a).expected == Decimal("128.00")

    with django_capture_on_commit_callbacks(execute=True):
        arrived = parcels.confirm_arrival(station_a, staff, so.order.number)
    assert len(arrived) == 2
    assert [m.phone for m in sms.outbox] == ["13812345678"]
    assert so.pickup_code in sms.outbox[0].text

    wrong = "000000" if so.pickup_code != "000000" else "111111"
    with pytest.raises(Exception) as exc:
        parcels.hand_over(station_a, staff, so.order.number, wrong)
    assert "取件码不对" in str(exc.value)
    so.refresh_from_db()
    assert so.pickup_failures == 1

    handed = parcels.hand_over(station_a, staff, so.order.number, so.pickup_code)
    assert {p.status for p in handed} == {Parcel.Status.HANDED_OVER}
    so.refresh_from_db()
    assert so.pickup_failures == 0

    close = cash.close_day(station_a, staff, Decimal("128.00"))
    assert close.difference == 0
    assert cash.drawer(station_a).expected == Decimal("128.00")  # carried as opening
    assert cash.outstanding_balance(station_a) == Decimal("128.00")

    actions = list(
        AuditEvent.objects.filter(resident=resident_a)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "resident_created",
        "order_placed",
        "cash_received",
        "parcel_arrived",
        "resident_notified",
        "pickup_code_failed",
        "handed_over",
    ]
