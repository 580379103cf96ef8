"""The carriers' tracking webhook, POST /logistics/webhooks/<carrier>/
(logistics/webhooks.py): signed requests only, each nonce once, the
protocol's JSON only; then the carrier simulator driving a real shipment to
delivered over loopback, with duplicated and reordered webhooks."""

from __future__ import annotations

import json
import time

import pytest
import requests
from django.urls import reverse

from logistics import shipments, signing, tracking
from logistics.models import Shipment, TrackingEvent, WebhookNonce
from tests import factories
from tests.logistics.builders import RADISH_COOP, goods, make_shipment, ship
from tests.logistics.conftest import SIM_CODE, SIM_KEY, SIM_SECRET, make_http_carrier

pytestmark = pytest.mark.django_db

NUMBER = "SE0000100001"


@pytest.fixture
def carrier(db):
    """The simulator's carrier (HTTP adapter); nothing listens at its URL:
    these tests only receive."""
    return make_http_carrier("http://127.0.0.1:9")


@pytest.fixture
def parcel(carrier):
    return make_shipment(carrier, status="handed_off", tracking_number=NUMBER)


def url(code: str = SIM_CODE) -> str:
    return reverse("logistics:webhook", kwargs={"code": code})


def body_of(*events) -> bytes:
    return json.dumps({"events": list(events)}, ensure_ascii=False).encode()


def protocol_event(event_id, status, at, number=NUMBER, **extra) -> dict:
    return {
        "id": event_id,
        "tracking_number": number,
        "status": status,
        "occurred_at": at,
        "location": "天津分拨中心",
        "description": "…",
        **extra,
    }


EVENTS = (
    protocol_event("e1", "picked_up", "2026-11-27T09:30:00+08:00"),
    protocol_event("e2", "in_transit", "2026-11-27T11:00:00+08:00"),
)


def post(client, body: bytes, *, code: str = SIM_CODE, secret: str = SIM_SECRET, **sign_kwargs):
    path = url(code)
    headers = signing.sign(SIM_KEY, secret, "POST", path, body, **sign_kwargs)
    return client.post(path, data=body, content_type="application/json", headers=headers), headers


def test_valid_webhook_is_accepted_and_counted(client, parcel):
    response, _headers = post(client, body_of(*EVENTS))

    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "unknown_tracking_numbers": []}
    events = TrackingEvent.objects.filter(shipment=parcel).order_by("occurred_at")
    assert [(e.event_id, e.status, e.source) for e in events] == [
        ("e1", "picked_up", "webhook"),
        ("e2", "in_transit", "webhook"),
    ]
    assert events[0].location == "天津分拨中心"
    parcel.refresh_from_db()
    assert parcel.tracking_status == "in_transit"

    # The carrier sends them again (a new request, a new nonce).
    response, _headers = post(client, body_of(*EVENTS))
    assert response.status_code == 200
    assert response.json() == {"accepted": 0, "duplicates": 2, "unknown_tracking_numbers": []}
    assert TrackingEvent.objects.count() == 2


def test_bad_signature_is_refused(client, parcel):
    response, _headers = post(client, body_of(*EVENTS), secret="someone-elses-secret")
    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()

    # A correctly signed request whose body was changed on the way.
    body = body_of(*EVENTS)
    headers = signing.sign(SIM_KEY, SIM_SECRET, "POST", url(), body)
    tampered = body.replace(b"in_transit", b"delivered")
    response = client.post(url(), data=tampered, content_type="application/json", headers=headers)
    assert response.status_code == 403
    # Signed for another carrier's URL.
    headers = signing.sign(SIM_KEY, SIM_SECRET, "POST", url("other"), body)
    response = client.post(url(), data=body, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()
    assert not WebhookNonce.objects.exists()
    parcel.refresh_from_db()
    assert parcel.tracking_status == ""


@pytest.mark.parametrize(
    "missing", [signing.SIGNATURE, signing.TIMESTAMP, signing.NONCE, "all"], ids=str.lower
)
def test_missing_signature_headers_are_refused(client, parcel, missing):
    body = body_of(*EVENTS)
    headers = signing.sign(SIM_KEY, SIM_SECRET, "POST", url(), body)
    headers = {} if missing == "all" else {k: v for k, v in headers.items() if k != missing}
    response = client.post(url(), data=body, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize("skew", [-400, 400])
def test_stale_or_future_timestamp_is_refused(client, parcel, settings, skew):
    settings.WANGNONG_WEBHOOK_TOLERANCE = 300
    response, _headers = post(client, body_of(*EVENTS), now=time.time() + skew)
    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()
    # Within the tolerance it is fine.
    response, _headers = post(client, body_of(*EVENTS), now=time.time() - 250)
    assert response.status_code == 200


def test_replayed_nonce_is_refused_and_not_processed_twice(client, parcel):
    body = body_of(*EVENTS)
    first, headers = post(client, body)
    assert first.status_code == 200
    assert first.json()["accepted"] == 2

    replay = client.post(url(), data=body, content_type="application/json", headers=headers)

    assert replay.status_code == 409
    assert TrackingEvent.objects.count() == 2
    assert WebhookNonce.objects.filter(nonce=headers[signing.NONCE]).count() == 1
    # The same nonce with a different, properly signed body is a replay too.
    other = body_of(protocol_event("e3", "delivered", "2026-11-27T15:00:00+08:00"))
    resigned = dict(headers)
    resigned[signing.SIGNATURE] = signing.signature(
        SIM_SECRET, headers[signing.TIMESTAMP], headers[signing.NONCE], "POST", url(), other
    )
    response = client.post(url(), data=other, content_type="application/json", headers=resigned)
    assert response.status_code == 409
    assert TrackingEvent.objects.count() == 2
    parcel.refresh_from_db()
    assert parcel.tracking_status == "in_transit"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b'["events"]',
        b'{"events": "picked_up"}',
        b'{"events": [{"id": "x"}]}',
        b"{}",
        json.dumps(
            {"events": [protocol_event("e9", "picked_up", "2026-11-27T09:30:00")]}
        ).encode(),  # no time zone
        json.dumps(
            {"events": [protocol_event("", "picked_up", "2026-11-27T09:30:00+08:00")]}
        ).encode(),  # no id
    ],
    ids=["syntax", "not-utf8", "list", "events-string", "incomplete", "empty", "naive", "no-id"],
)
def test_malformed_body_is_refused(client, parcel, body):
    response, _headers = post(client, body)
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()


def test_unknown_status_is_refused_and_nothing_from_the_batch_is_kept(client, parcel):
    body = body_of(EVENTS[0], protocol_event("e2", "teleported", "2026-11-27T11:00:00+08:00"))
    response, _headers = post(client, body)
    assert response.status_code == 400
    assert "teleported" in response.json()["error"]
    assert not TrackingEvent.objects.exists()


def test_unknown_carrier_is_not_found(client, carrier, carriers):
    response, _headers = post(client, body_of(*EVENTS), code="no-such-carrier")
    assert response.status_code == 404
    # A manual carrier has no API and sends no webhooks.
    response, _headers = post(client, body_of(*EVENTS), code="test-express")
    assert response.status_code == 404


def test_unknown_tracking_number_is_accepted_kept_and_listed(client, parcel):
    stranger = protocol_event("x1", "accepted", "2026-11-27T09:00:00+08:00", number="SE999")
    response, _headers = post(client, body_of(stranger, *EVENTS))

    assert response.status_code == 200
    assert response.json() == {
        "accepted": 3,
        "duplicates": 0,
        "unknown_tracking_numbers": ["SE999"],
    }
    kept = TrackingEvent.objects.get(event_id="x1")
    assert kept.shipment is None and kept.tracking_number == "SE999"
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 2


def test_get_is_not_allowed(client, carrier):
    assert client.get(url()).status_code == 405
    assert client.put(url(), data=b"{}", content_type="application/json").status_code == 405


# --- end to end with the simulator -----------------------------------------------------


def control(simulator, name: str, **payload) -> dict:
    session = requests.Session()
    session.trust_env = False
    response = session.post(f"{simulator.url}/_control/{name}", json=payload, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_simulator_webhooks_take_the_shipment_to_delivered(live_server, simulator, china, carriers):
    carrier = make_http_carrier(simulator.url)
    simulator.webhook_url = live_server.url + "/logistics/webhooks/{carrier}/"
    radish = goods("沙窝萝卜", factories.partner(RADISH_COOP), weight_g=2500)

    # Placed and committed: the hand-off runs after commit (eager Celery)
    # and books the parcel with the simulator.
    order, [shipment] = ship([(radish, 2)])
    shipment.refresh_from_db()
    assert shipment.carrier == carrier
    assert shipment.status == Shipment.Status.HANDED_OFF
    number = shipment.tracking_number
    assert number.startswith("SE")
    # The simulator confirms the booking by webhook a moment later.
    deadline = time.monotonic() + 5
    while not TrackingEvent.objects.filter(tracking_number=number).exists():
        assert time.monotonic() < deadline, "no accepted webhook from the simulator"
        time.sleep(0.05)

    control(simulator, "faults", duplicate_webhooks=True, reorder_webhooks=True)
    sent = control(simulator, "advance", tracking_number=number, to="delivered")

    assert sent["sent"] >= 8  # 4 events, one request each, every one twice
    shipment.refresh_from_db()
    assert shipment.tracking_status == "delivered"
    assert [e.status for e in tracking.timeline(shipment)] == [
        "delivered",
        "out_for_delivery",
        "in_transit",
        "picked_up",
        "accepted",
    ]
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 5
    assert set(order.lines.values_list("status", flat=True)) == {"delivered"}
    order.refresh_from_db()
    assert order.status == "delivered"
    stats = requests.Session()
    stats.trust_env = False
    counts = stats.get(f"{simulator.url}/_control/stats", timeout=5).json()
    assert counts["created"] == 1 and counts["webhook_errors"] == 0
    assert shipments.for_order(order).get() == shipment
