"""The audit trail: every act on a resident's behalf is written with who and
when, in order — through the services and through the portal — and nobody
can change or remove what was written, neither through Django nor in SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from config import sms
from stations import audit, ordering, parcels, residents
from stations.models import AuditEvent, Resident, StationOrder
from tests.stations.conftest import VILLAGE_A, assisted_order, staff_of

pytestmark = pytest.mark.django_db

JOURNEY = [
    "resident_created",
    "contact_viewed",
    "order_placed",
    "cash_received",
    "receipt_printed",
    "parcel_arrived",
    "resident_notified",
    "handed_over",
]


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.SMS_BACKEND = "config.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def assert_trail(resident, staff, started, expected=JOURNEY, order=None):
    events = list(AuditEvent.objects.filter(resident=resident).order_by("pk"))
    assert [e.action for e in events] == expected
    times = [e.created_at for e in events]
    assert times == sorted(times), "the trail is in the order things happened"
    assert started <= times[0] and times[-1] <= timezone.now()
    for event in events:
        assert event.actor == staff, event.action
        assert event.station_id == resident.station_id
        assert event.created_at is not None
    if order is not None:
        assert all(
            e.order_id == order.pk
            for e in events
            if e.action not in ("resident_created", "contact_viewed")
        )
    # The trail as platform staff read it: newest first.
    assert [e.action for e in audit.events_for_resident(resident)] == list(reversed(expected))


def test_the_journey_through_the_services_leaves_the_whole_trail(
    station_a, produce, django_capture_on_commit_callbacks
):
    staff = staff_of(station_a)
    started = timezone.now()
    resident = residents.register_resident(
        station_a,
        staff,
        residents.ResidentData(name="王秀英", village_code=VILLAGE_A, phone="13812345678"),
        consent_given=True,
    )
    assert residents.reveal_contact(resident, staff) == "13812345678"
    so = assisted_order(
        station_a, resident, [(produce["radish"], 2), (produce["crab"], 1)], cash="200"
    )
    ordering.log_receipt_printed(so, staff)
    with django_capture_on_commit_callbacks(execute=True):
        parcels.confirm_arrival(station_a, staff, so.order.number)
    parcels.hand_over(station_a, staff, so.order.number, so.pickup_code)
    assert_trail(resident, staff, started, order=so.order)


def test_the_journey_through_the_portal_leaves_the_whole_trail(
    client, station_a, produce, sms_outbox, django_capture_on_commit_callbacks
):
    staff = staff_of(station_a)
    client.force_login(staff)
    started = timezone.now()

    response = client.post(
        reverse("station:resident-create"),
        {
            "name": "王秀英",
            "phone": "138 1234 5678",
            "village": VILLAGE_A,
            "address_detail": "",
            "delivery_preference": Resident.Delivery.STATION,
            "consent": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    resident = Resident.objects.get(station=station_a, phone="13812345678")
    response = client.post(reverse("station:resident-contact", kwargs={"pk": resident.pk}))
    assert response.status_code == 200 and "13812345678" in response.content.decode()

    for product, quantity in ((produce["radish"], 2), (produce["crab"], 1)):
        response = client.post(
            reverse("station:order-add", kwargs={"pk": resident.pk}),
            {"product_id": product.pk, "quantity": quantity, "q": ""},
        )
        assert response.status_code == 302
    response = client.post(
        reverse("station:order-place", kwargs={"pk": resident.pk}),
        {"delivery": Resident.Delivery.STATION, "cash_received": "200"},
    )
    so = StationOrder.objects.get(resident=resident)
    assert response.status_code == 302
    assert response["Location"] == reverse("station:order-receipt", kwargs={"pk": so.pk})
    assert so.total == Decimal("128.00") and so.change_given == Decimal("72.00")
    assert client.get(response["Location"]).status_code == 200

    # Two cooperatives' parcels in transit: the desk asks which arrived.
    response = client.post(reverse("station:parcel-arrival"), {"number": so.order.number})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(resident=resident, action="parcel_arrived").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("station:parcel-arrival"),
            {
                "number": so.order.number,
                "step": "choose",
                "parcel_ids": list(so.parcels.values_list("pk", flat=True)),
            },
        )
    assert response.status_code == 302
    assert [m.phone for m in sms_outbox] == ["13812345678"]
    response = client.post(
        reverse("station:parcel-handover"), {"number": so.order.number, "code": so.pickup_code}
    )
    assert response.status_code == 200
    assert set(so.parcels.values_list("status", flat=True)) == {"handed_over"}
    assert_trail(resident, staff, started, order=so.order)


def test_detail_values_are_stored_as_json(station_a, resident_a):
    event = audit.record(
        station=station_a,
        actor=staff_of(station_a),
        action=audit.Action.CASH_RECEIVED,
        resident=resident_a,
        due=Decimal("12.50"),
        count=3,
        flag=True,
        nothing=None,
        ids=[1, 2],
        when=dt.date(2026, 11, 30),
    )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.detail == {
        "due": "12.50",
        "count": 3,
        "flag": True,
        "nothing": None,
        "ids": [1, 2],
        "when": "2026-11-30",
    }


# --- Append-only ------------------------------------------------------------------------------


@pytest.fixture
def event(station_a, resident_a):
    return AuditEvent.objects.filter(resident=resident_a).get()


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_audit_events_refuse_save_and_delete(event):
    event.action = AuditEvent.Action.RESIDENT_UPDATED
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        AuditEvent.objects.filter(pk=event.pk).update(action="contact_viewed")
    with pytest.raises(ValidationError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(ValidationError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditEvent.Action.RESIDENT_CREATED


def test_audit_events_refuse_changes_in_sql(event):
    assert connection.vendor == "postgresql"
    for sql in (
        "UPDATE stations_auditevent SET action = 'contact_viewed' WHERE id = %s",
        "UPDATE stations_auditevent SET detail = '{}'::jsonb WHERE id = %s",
        "DELETE FROM stations_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(sql, event.pk)
    fresh = AuditEvent.objects.get(pk=event.pk)
    assert fresh.action == AuditEvent.Action.RESIDENT_CREATED
    assert fresh.detail == event.detail


def test_a_failed_act_leaves_no_audit_event(station_a, resident_a, produce):
    """The act and its record commit or roll back together."""
    basket = ordering.resident_basket(resident_a)
    ordering.add_product(basket, produce["radish"], 1)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        ordering.place_assisted_order(
            station=station_a,
            staff_user=staff_of(station_a),
            resident=resident_a,
            basket=basket,
            delivery=Resident.Delivery.STATION,
            cash_received="1",
        )
    assert AuditEvent.objects.count() == before
