"""Carrier tracking (logistics/tracking.py): events kept once, in the order
they happened whatever order they arrive in; final statuses not undone by
stragglers; events for unknown tracking numbers kept and adopted later; and
the order lines (and the order) follow the parcel."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from oscar.core.loading import get_model

from cooperatives import fulfilment
from cooperatives.models import FulfilmentEvent
from logistics import handoff, shipments, tracking
from logistics.adapters import get_adapter
from logistics.models import Shipment, TrackingEvent
from tests.cooperatives.conftest import make_cooperative, member_of
from tests.logistics.builders import CRAB_COOP, RADISH_COOP, T0, event, goods, ship

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

PROGRESS = [
    ("accepted", 0),
    ("picked_up", 30),
    ("in_transit", 120),
    ("out_for_delivery", 600),
    ("delivered", 660),
]


@pytest.fixture
def coop(china, carriers):
    return make_cooperative(RADISH_COOP, credit_prefix="93120111MA05L1234")


@pytest.fixture
def crab_coop(china, carriers):
    return make_cooperative(CRAB_COOP, credit_prefix="93120117MA06K5678", division_code="120117")


@pytest.fixture
def produce(coop):
    return (
        goods("沙窝萝卜", coop.partner, weight_g=2500, stock=20),
        goods("茶淀玫瑰香葡萄", coop.partner, weight_g=800, stock=20),
    )


def handed_off(items, number: str) -> Shipment:
    """An order's one shipment (manual carrier) with its waybill number typed."""
    _order, [shipment] = ship(items)
    return shipments.enter_tracking_number(shipment, number, by=None)


def progress(number: str) -> list:
    return [event(number, status, minutes) for status, minutes in PROGRESS]


def statuses(shipment) -> list[str]:
    return [e.status for e in tracking.timeline(shipment)]


def test_duplicates_are_ignored(produce, carriers):
    express, _cold = carriers
    shipment = handed_off([(produce[0], 1)], "YT1001")
    events = progress("YT1001")[:3]

    first = tracking.record(express, events, source="webhook")
    again = tracking.record(express, events, source="poll")
    mixed = tracking.record(express, [events[1], progress("YT1001")[3]], source="webhook")

    assert (first.accepted, first.duplicates, first.unmatched) == (3, 0, [])
    assert (again.accepted, again.duplicates) == (0, 3)
    assert (mixed.accepted, mixed.duplicates) == (1, 1)
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 4
    # The first copy is the one kept.
    assert set(TrackingEvent.objects.values_list("source", flat=True)) == {"webhook"}
    shipment.refresh_from_db()
    assert shipment.tracking_status == "out_for_delivery"


def test_out_of_order_arrival_gives_the_same_status_and_timeline(produce, carriers):
    express, _cold = carriers
    in_order = handed_off([(produce[0], 1)], "YT2001")
    shuffled = handed_off([(produce[0], 1)], "YT2002")
    reverse = handed_off([(produce[0], 1)], "YT2003")

    for update in progress("YT2001"):
        tracking.record(express, [update], source="webhook")
    scrambled = progress("YT2002")
    random.Random(5).shuffle(scrambled)
    assert [e.status for e in scrambled] != [s for s, _m in PROGRESS]
    for update in scrambled:
        tracking.record(express, [update], source="webhook")
    tracking.record(express, list(reversed(progress("YT2003"))), source="webhook")

    expected = ["delivered", "out_for_delivery", "in_transit", "picked_up", "accepted"]
    for shipment in (in_order, shuffled, reverse):
        shipment.refresh_from_db()
        assert shipment.tracking_status == "delivered"
        assert shipment.tracking_status_at == T0.replace(hour=20)  # +660 min
        assert shipment.status == Shipment.Status.HANDED_OFF
        assert statuses(shipment) == expected
        times = [e.occurred_at for e in tracking.timeline(shipment)]
        assert times == sorted(times, reverse=True)


def test_delivered_is_not_overwritten_by_older_or_newer_non_final_events(produce, carriers):
    express, _cold = carriers
    shipment = handed_off([(produce[0], 1)], "YT3001")
    tracking.record(express, [event("YT3001", "delivered", 660)], source="webhook")

    # An older in_transit arriving late.
    tracking.record(express, [event("YT3001", "in_transit", 120)], source="webhook")
    shipment.refresh_from_db()
    assert shipment.tracking_status == "delivered"

    # A newer non-final event (a confused scan after delivery).
    tracking.record(express, [event("YT3001", "exception", 700)], source="webhook")
    tracking.record(express, [event("YT3001", "out_for_delivery", 720)], source="poll")
    shipment.refresh_from_db()
    assert shipment.tracking_status == "delivered"
    assert shipment.tracking_status_at == event("YT3001", "delivered", 660).occurred_at
    # Still kept for the record.
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 4


def test_returned_after_delivered_wins_but_an_older_return_does_not(produce, carriers):
    express, _cold = carriers
    shipment = handed_off([(produce[0], 1)], "YT4001")
    tracking.record(express, [event("YT4001", "delivered", 660)], source="webhook")
    tracking.record(express, [event("YT4001", "returned", 2000)], source="webhook")
    shipment.refresh_from_db()
    assert shipment.tracking_status == "returned"

    other = handed_off([(produce[0], 1)], "YT4002")
    tracking.record(express, [event("YT4002", "delivered", 660)], source="webhook")
    tracking.record(express, [event("YT4002", "returned", 300)], source="webhook")
    other.refresh_from_db()
    assert other.tracking_status == "delivered"


def test_events_for_an_unknown_number_are_kept_and_adopted_when_the_number_is_typed(
    produce, carriers, django_capture_on_commit_callbacks
):
    express, _cold = carriers
    _order, [shipment] = ship([(produce[0], 1)])

    result = tracking.record(express, progress("YT5001")[:2], source="webhook")

    assert result.accepted == 2 and result.unmatched == ["YT5001", "YT5001"]
    orphans = TrackingEvent.objects.filter(tracking_number="YT5001")
    assert orphans.count() == 2 and not orphans.filter(shipment__isnull=False).exists()
    shipment.refresh_from_db()
    assert shipment.tracking_status == ""

    with django_capture_on_commit_callbacks(execute=True):
        shipments.enter_tracking_number(shipment, " yt5001 ", by=None)

    assert orphans.filter(shipment=shipment).count() == 2
    shipment.refresh_from_db()
    assert shipment.tracking_number == "YT5001"
    assert shipment.tracking_status == "picked_up"
    assert shipment.status == Shipment.Status.HANDED_OFF
    # Later events find the shipment directly.
    later = tracking.record(express, progress("YT5001")[2:3], source="webhook")
    assert later.unmatched == []


def test_events_that_beat_the_hand_off_are_adopted_when_it_commits(
    china, carriers, coop, http_carrier, simulator, django_capture_on_commit_callbacks
):
    """The carrier's first webhook can arrive before our hand-off, which
    learned the tracking number, has committed."""
    radish = goods("沙窝萝卜", coop.partner, weight_g=2500)
    _order, [shipment] = ship([(radish, 1)])
    assert shipment.carrier == http_carrier
    # The carrier books it (our answer is still on its way) and reports.
    number = get_adapter(http_carrier).create_shipment(shipment).tracking_number
    early = tracking.record(http_carrier, [event(number, "accepted", 0)], source="webhook")
    assert early.unmatched == [number]

    with django_capture_on_commit_callbacks(execute=True):
        assert handoff.process(shipment.outbox.get().pk) == "done"

    shipment.refresh_from_db()
    assert shipment.tracking_number == number
    assert TrackingEvent.objects.get(tracking_number=number).shipment == shipment
    assert shipment.tracking_status == "accepted"


def test_lines_follow_the_parcel_and_the_order_follows_its_lines(produce, coop, carriers):
    express, _cold = carriers
    radish, grapes = produce
    order, [shipment] = ship([(radish, 2), (grapes, 1)])
    member = member_of(coop)
    for line in order.lines.all():
        fulfilment.advance(line, fulfilment.ACCEPT, cooperative=coop, by=member)
        fulfilment.advance(line, fulfilment.PACK, cooperative=coop, by=member)
    order.refresh_from_db()
    assert order.status == "processing"
    shipment = shipments.enter_tracking_number(shipment, "YT6001", by=None)
    allocated = StockRecord.objects.get(product=radish).num_allocated
    assert allocated == 2

    tracking.record(express, [event("YT6001", "accepted", 0)], source="webhook")
    assert set(order.lines.values_list("status", flat=True)) == {"packed"}  # not yet collected

    tracking.record(express, [event("YT6001", "picked_up", 30)], source="webhook")
    assert set(order.lines.values_list("status", flat=True)) == {"shipped"}
    carrier_moves = FulfilmentEvent.objects.filter(line__order=order, changed_by__isnull=True)
    assert sorted(carrier_moves.values_list("from_status", "to_status")) == [
        ("packed", "shipped"),
        ("packed", "shipped"),
    ]
    order.refresh_from_db()
    assert order.status == "shipped"
    record = StockRecord.objects.get(product=radish)
    assert (record.num_allocated, record.num_in_stock) == (0, 18)  # the goods left

    tracking.record(express, [event("YT6001", "in_transit", 120)], source="webhook")
    assert carrier_moves.count() == 2  # nothing new to move

    tracking.record(express, [event("YT6001", "delivered", 660)], source="webhook")
    assert set(order.lines.values_list("status", flat=True)) == {"delivered"}
    assert sorted(carrier_moves.values_list("from_status", "to_status")) == [
        ("packed", "shipped"),
        ("packed", "shipped"),
        ("shipped", "delivered"),
        ("shipped", "delivered"),
    ]
    order.refresh_from_db()
    assert order.status == "delivered"


def test_picked_up_moves_lines_nobody_touched_step_by_step(produce, carriers):
    express, _cold = carriers
    order, [shipment] = ship([(produce[0], 1)])
    shipments.enter_tracking_number(shipment, "YT7001", by=None)
    # The first news is already the delivery (the carrier skipped the scans).
    tracking.record(express, [event("YT7001", "delivered", 660)], source="webhook")
    [line] = order.lines.all()
    assert line.status == "delivered"
    assert list(
        FulfilmentEvent.objects.filter(line=line).values_list(
            "from_status", "to_status", "changed_by"
        )
    ) == [
        ("pending", "accepted", None),
        ("accepted", "packed", None),
        ("packed", "shipped", None),
        ("shipped", "delivered", None),
    ]
    order.refresh_from_db()
    assert order.status == "delivered"


def test_order_is_delivered_only_when_every_shipment_is(produce, crab_coop, carriers):
    express, cold = carriers
    crab = goods("七里海河蟹", crab_coop.partner, weight_g=1500, storage="chilled")
    order, created = ship([(produce[0], 1), (crab, 1)])
    by_carrier = {s.carrier: s for s in created}
    shipments.enter_tracking_number(by_carrier[express], "YT8001", by=None)
    shipments.enter_tracking_number(by_carrier[cold], "LL8001", by=None)

    tracking.record(cold, [event("LL8001", "delivered", 300)], source="webhook")
    order.refresh_from_db()
    assert dict(order.lines.values_list("product__title", "status")) == {
        "七里海河蟹": "delivered",
        "沙窝萝卜": "pending",
    }
    assert order.status == "processing"

    tracking.record(express, [event("YT8001", "delivered", 900)], source="webhook")
    order.refresh_from_db()
    assert order.status == "delivered"


def test_record_by_staff(produce, carriers):
    express, _cold = carriers
    staff = get_user_model().objects.create_user("ops", "ops@example.com", "pw-ops-123")
    order, [shipment] = ship([(produce[0], 1)])
    shipment = shipments.enter_tracking_number(shipment, "YT9001", by=staff)

    updated = tracking.record_by_staff(
        shipment, "picked_up", location="辛口镇网点", note="电话确认已揽收", by=staff
    )

    assert updated.tracking_status == "picked_up"
    [staff_event] = TrackingEvent.objects.filter(shipment=shipment)
    assert (staff_event.source, staff_event.recorded_by, staff_event.location) == (
        "staff",
        staff,
        "辛口镇网点",
    )
    assert staff_event.description == "电话确认已揽收"
    assert staff_event.tracking_number == "YT9001"
    assert order.lines.get().status == "shipped"

    tracking.record_by_staff(shipment, "delivered", by=staff)
    shipment.refresh_from_db()
    assert shipment.tracking_status == "delivered"
    assert statuses(shipment) == ["delivered", "picked_up"]

    with pytest.raises(ValidationError):
        tracking.record_by_staff(shipment, "teleported", by=staff)
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 2


def test_record_by_staff_for_a_manual_shipment_without_a_number_yet(produce, carriers):
    staff = get_user_model().objects.create_user("ops", "ops@example.com", "pw-ops-123")
    _order, [shipment] = ship([(produce[0], 1)])
    updated = tracking.record_by_staff(shipment, "picked_up", by=staff)
    assert updated.status == Shipment.Status.HANDED_OFF
    assert updated.tracking_status == "picked_up"
    assert TrackingEvent.objects.get(shipment=shipment).tracking_number == f"WN{shipment.pk}"
