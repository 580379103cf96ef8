"""The generic HTTP adapter against the carrier simulator over loopback:
booking (once per idempotency key), the errors sorted into retryable or
not, label, tracking and cancel; then one hand-off attempt end to end
(logistics.handoff.process) with an HTTP carrier."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from logistics import handoff, shipments
from logistics.adapters import CarrierError, get_adapter
from logistics.adapters.http import GenericHttpAdapter
from logistics.models import OutboxMessage, Shipment, ShipmentLog
from logistics.vocabulary import TrackingStatus
from tests import factories
from tests.logistics.conftest import SIM_SECRET, make_http_carrier

pytestmark = pytest.mark.django_db

DESTINATION = "120111102203"  # 天津市西青区辛口镇水高庄村 (tests.factories.GUEST_ADDRESS)


def make_shipment(carrier, **fields) -> Shipment:
    """A pending shipment from a cooperative to a village in Tianjin."""
    values = {
        "partner": factories.partner("天津市宁河区七里海河蟹养殖专业合作社"),
        "carrier": carrier,
        "service": "express",
        "destination_id": DESTINATION,
        "recipient_name": "王小农",
        "recipient_phone": "+8613812345678",
        "recipient_address": "天津市 西青区 辛口镇 水高庄村 8 号",
        "ship_date": timezone.localdate(),
        "weight_g": 2500,
        "cost": Decimal("14.00"),
    }
    values.update(fields)
    return Shipment.objects.create(**values)


def stats(simulator) -> dict:
    """The simulator's counters, read over HTTP like any client would."""
    response = requests.get(f"{simulator.url}/_control/stats", timeout=5)
    assert response.status_code == 200
    return response.json()


def set_faults(simulator, **faults) -> dict:
    response = requests.post(f"{simulator.url}/_control/faults", json=faults, timeout=5)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def shipment(http_carrier):
    return make_shipment(http_carrier)


@pytest.fixture
def adapter(http_carrier) -> GenericHttpAdapter:
    adapter = get_adapter(http_carrier)
    assert isinstance(adapter, GenericHttpAdapter)
    return adapter


# --- create ------------------------------------------------------------------------------


def test_create_returns_the_carriers_tracking_number_and_price(simulator, adapter, shipment):
    created = adapter.create_shipment(shipment)

    counts = stats(simulator)
    key = str(shipment.idempotency_key)
    assert created.tracking_number.startswith("SE")
    assert counts["tracking_numbers"] == {key: created.tracking_number}
    assert counts["create_count_by_key"] == {key: 1}
    # 2.5 kg: ¥10 first kg + 2 × ¥2 (the simulator's own price list).
    assert created.cost == Decimal("14.00")
    # What the carrier received: the protocol's payload, signed.
    booked = simulator.state.by_key[key].payload
    assert booked["reference"] == f"WN{shipment.pk}"
    assert booked["weight_g"] == 2500
    assert booked["recipient"] == {
        "name": "王小农",
        "phone": "+8613812345678",
        "division": DESTINATION,
        "address": "天津市 西青区 辛口镇 水高庄村 8 号",
    }
    assert booked["sender"]["name"] == "天津市宁河区七里海河蟹养殖专业合作社"


def test_the_same_shipment_twice_is_booked_once(simulator, adapter, shipment):
    first = adapter.create_shipment(shipment)
    again = get_adapter(shipment.carrier).create_shipment(shipment)

    assert again.tracking_number == first.tracking_number
    counts = stats(simulator)
    assert counts["created"] == 1
    assert counts["repeats"] == 1
    assert counts["create_count_by_key"] == {str(shipment.idempotency_key): 1}
    assert counts["create_requests_by_key"] == {str(shipment.idempotency_key): 2}


def test_two_shipments_get_two_numbers(simulator, adapter, http_carrier):
    one = adapter.create_shipment(make_shipment(http_carrier))
    two = adapter.create_shipment(make_shipment(http_carrier))

    assert one.tracking_number != two.tracking_number
    assert stats(simulator)["created"] == 2


def test_a_500_is_retryable_and_books_nothing(simulator, adapter, shipment):
    set_faults(simulator, fail_rate=1.0)

    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(shipment)

    assert caught.value.retryable
    assert "HTTP 500" in str(caught.value)
    counts = stats(simulator)
    assert counts["failed"] == 1
    assert counts["created"] == 0
    assert counts["create_count_by_key"] == {}


def test_a_hang_past_the_timeout_is_retryable_and_the_retry_gets_the_same_number(simulator):
    carrier = make_http_carrier(simulator.url, timeout=0.3)
    shipment = make_shipment(carrier)
    set_faults(simulator, timeout_rate=1.0, hang_seconds=1.0)

    started = dt.datetime.now()
    with pytest.raises(CarrierError) as caught:
        get_adapter(carrier).create_shipment(shipment)
    waited = (dt.datetime.now() - started).total_seconds()

    assert caught.value.retryable
    assert "超时" in str(caught.value)
    assert waited < 0.9  # gave up at the carrier's timeout, not after the hang
    # The carrier booked it before hanging: the answer was lost, not the booking.
    key = str(shipment.idempotency_key)
    booked = stats(simulator)
    assert booked["hung"] == 1
    assert booked["create_count_by_key"] == {key: 1}

    set_faults(simulator, timeout_rate=0.0)
    created = get_adapter(carrier).create_shipment(shipment)

    counts = stats(simulator)
    assert created.tracking_number == booked["tracking_numbers"][key]
    assert counts["created"] == 1
    assert counts["create_count_by_key"] == {key: 1}
    assert counts["create_requests_by_key"] == {key: 2}


def test_malformed_json_is_retryable(simulator, adapter, shipment):
    set_faults(simulator, malformed_rate=1.0)

    with pytest.raises(CarrierError) as caught:
        adapter.create_shipment(shipment)

    assert caught.value.retryable
    assert "无法解析" in str(caught.value)
    assert stats(simulator)["malformed"] == 1

    set_faults(simulator, malformed_rate=0.0)
    created = adapter.create_shipment(shipment)
    counts = stats(simulator)
    assert counts["tracking_numbers"] == {str(shipment.idempotency_key): created.tracking_number}
    assert counts["created"] == 1


def test_a_wrong_secret_is_refused_and_not_retried(simulator, http_carrier, shipment):
    http_carrier.api_secret = "not-the-secret"
    http_carrier.save()

    with pytest.raises(CarrierError) as caught:
        get_adapter(http_carrier).create_shipment(shipment)

    assert not caught.value.retryable
    assert "HTTP 401" in str(caught.value)
    counts = stats(simulator)
    assert counts["refused"] == 1
    assert counts["create_requests"] == 0


def test_an_unknown_account_is_refused_and_not_retried(simulator, http_carrier, shipment):
    http_carrier.api_key = "someone-else"
    http_carrier.save()

    with pytest.raises(CarrierError) as caught:
        get_adapter(http_carrier).create_shipment(shipment)

    assert not caught.value.retryable
    assert stats(simulator)["refused"] == 1


def test_a_4xx_is_not_retried_and_carries_the_carriers_message(simulator, http_carrier):
    shipment = make_shipment(http_carrier, recipient_name="", recipient_address="")

    with pytest.raises(CarrierError) as caught:
        get_adapter(http_carrier).create_shipment(shipment)

    assert not caught.value.retryable
    assert "HTTP 400" in str(caught.value)
    assert "recipient name and address are required" in str(caught.value)
    assert stats(simulator)["created"] == 0


def test_nobody_listening_is_retryable(db, simulator):
    carrier = make_http_carrier(simulator.url)
    shipment = make_shipment(carrier)
    simulator.stop()

    with pytest.raises(CarrierError) as caught:
        get_adapter(carrier).create_shipment(shipment)

    assert caught.value.retryable
    assert "连不上" in str(caught.value)


def test_a_carrier_without_a_base_url_is_not_retried(db):
    carrier = make_http_carrier("")

    with pytest.raises(CarrierError) as caught:
        get_adapter(carrier).create_shipment(make_shipment(carrier))

    assert not caught.value.retryable


# --- label, tracking, cancel ------------------------------------------------------------


@pytest.fixture
def booked(adapter, shipment) -> Shipment:
    shipment.tracking_number = adapter.create_shipment(shipment).tracking_number
    shipment.status = Shipment.Status.HANDED_OFF
    shipment.save()
    return shipment


def test_label_is_the_carriers_pdf(adapter, booked):
    label = adapter.fetch_label(booked)

    assert label.startswith(b"%PDF-")
    assert label.rstrip().endswith(b"%%EOF")
    assert booked.tracking_number.encode() in label


def test_track_returns_the_carriers_events_parsed(simulator, adapter, booked):
    simulator.advance(booked.tracking_number, TrackingStatus.IN_TRANSIT)

    events = adapter.track(booked)

    assert [e.status for e in events] == ["accepted", "picked_up", "in_transit"]
    assert [e.event_id for e in events] == [f"{booked.tracking_number}-{n}" for n in (1, 2, 3)]
    assert {e.tracking_number for e in events} == {booked.tracking_number}
    assert all(e.occurred_at.tzinfo is not None for e in events)
    assert events[0].occurred_at < events[1].occurred_at < events[2].occurred_at
    assert events[2].location == "天津分拨中心"


def test_track_of_a_number_the_carrier_does_not_know_is_not_retried(adapter, shipment):
    shipment.tracking_number = "SE0000000000"

    with pytest.raises(CarrierError) as caught:
        adapter.track(shipment)

    assert not caught.value.retryable
    assert "HTTP 404" in str(caught.value)


def test_cancel(simulator, adapter, booked):
    adapter.cancel(booked)

    assert simulator.state.by_number[booked.tracking_number].cancelled is True


# --- one hand-off attempt end to end -----------------------------------------------------


def test_process_hands_the_shipment_off_with_the_carriers_number(simulator, shipment):
    message = handoff.queue(shipment, OutboxMessage.Kind.CREATE)

    assert handoff.process(message.pk) == "done"

    shipment.refresh_from_db()
    message.refresh_from_db()
    counts = stats(simulator)
    assert shipment.status == Shipment.Status.HANDED_OFF
    assert shipment.tracking_number == counts["tracking_numbers"][str(shipment.idempotency_key)]
    assert shipment.handed_off_at is not None
    assert not shipment.needs_attention
    assert message.done_at is not None and message.attempts == 1
    log = list(ShipmentLog.objects.filter(shipment=shipment).values_list("message", "is_error"))
    assert log == [(f"已交运，运单号 {shipment.tracking_number}。", False)]

    # The task again (the broker redelivered it): nothing more happens.
    assert handoff.process(message.pk) == "already done"
    assert stats(simulator)["create_requests"] == 1


def test_process_records_a_retryable_failure_and_the_retry_succeeds(simulator):
    carrier = make_http_carrier(simulator.url, timeout=0.3)
    shipment = make_shipment(carrier)
    message = handoff.queue(shipment, OutboxMessage.Kind.CREATE)
    set_faults(simulator, timeout_rate=1.0, hang_seconds=1.0)

    with pytest.raises(CarrierError) as caught:
        handoff.process(message.pk)

    assert caught.value.retryable
    shipment.refresh_from_db()
    message.refresh_from_db()
    assert shipment.status == Shipment.Status.PENDING
    assert not shipment.needs_attention
    assert "超时" in shipment.last_error
    assert message.attempts == 1 and message.done_at is None and message.failed_at is None
    errors = ShipmentLog.objects.filter(shipment=shipment, is_error=True)
    assert [e.message.startswith("第 1 次交运失败") for e in errors] == [True]

    set_faults(simulator, timeout_rate=0.0)
    assert handoff.process(message.pk) == "done"

    shipment.refresh_from_db()
    message.refresh_from_db()
    counts = stats(simulator)
    key = str(shipment.idempotency_key)
    assert shipment.status == Shipment.Status.HANDED_OFF
    assert shipment.tracking_number == counts["tracking_numbers"][key]
    assert shipment.last_error == ""
    assert counts["create_count_by_key"] == {key: 1}
    assert message.attempts == 2 and message.done_at is not None


def test_process_flags_a_refused_shipment_for_staff_at_once(simulator, http_carrier, shipment):
    http_carrier.api_secret = "rotated-by-the-carrier"
    http_carrier.save()
    message = handoff.queue(shipment, OutboxMessage.Kind.CREATE)

    with pytest.raises(CarrierError) as caught:
        handoff.process(message.pk)

    assert not caught.value.retryable
    shipment.refresh_from_db()
    message.refresh_from_db()
    assert shipment.status == Shipment.Status.PENDING
    assert shipment.needs_attention
    assert "HTTP 401" in shipment.last_error
    assert message.failed_at is not None and message.done_at is None
    errors = list(
        ShipmentLog.objects.filter(shipment=shipment, is_error=True).values_list(
            "message", flat=True
        )
    )
    assert len(errors) == 2
    assert errors[0].startswith("第 1 次交运失败")
    assert errors[1].startswith("已停止自动重试")
    # Given up on: the periodic sweep does not queue it again, and a copy of
    # the task already queued (swept or redelivered earlier) does not try
    # again behind staff's back, even once the secret is right.
    assert handoff.resend(timezone.now() + dt.timedelta(days=1)) == 0
    http_carrier.api_secret = SIM_SECRET
    http_carrier.save()
    assert handoff.process(message.pk) == "given up"
    counts = stats(simulator)
    assert counts["refused"] == 1 and counts["create_requests"] == 0
    assert ShipmentLog.objects.filter(shipment=shipment).count() == 2
    message.refresh_from_db()
    assert message.attempts == 1


def test_process_a_shipment_cancelled_at_the_carrier(simulator, shipment):
    handoff.process(handoff.queue(shipment, OutboxMessage.Kind.CREATE).pk)
    shipment.refresh_from_db()

    shipments.cancel(shipment, reason="买家取消")
    cancel = OutboxMessage.objects.get(shipment=shipment, kind=OutboxMessage.Kind.CANCEL)
    assert handoff.process(cancel.pk) == "done"

    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.CANCELLED
    assert simulator.state.by_number[shipment.tracking_number].cancelled is True


def test_process_sends_what_the_protocol_says(simulator, shipment):
    """The body the carrier got is the JSON the docs describe, and the
    idempotency key is the shipment's."""
    handoff.process(handoff.queue(shipment, OutboxMessage.Kind.CREATE).pk)

    payload = simulator.state.by_key[str(shipment.idempotency_key)].payload
    assert set(payload) == {
        "idempotency_key",
        "reference",
        "service",
        "temperature",
        "weight_g",
        "pieces",
        "sender",
        "recipient",
    }
    json.dumps(payload)  # plain JSON
