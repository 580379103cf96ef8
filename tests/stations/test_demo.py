"""The demo stations (stations/demo.py, loaded by ``manage.py load_demo``):
four active stations in administrative villages of four districts, one
staff account each (station-<village code> / wangnong-station), residents
registered with consent, one assisted order; loading twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse

from stations import demo
from stations.coverage import coverage
from stations.models import AuditEvent, Resident, Station, StationOrder, StationStaff

pytestmark = pytest.mark.django_db

User = get_user_model()

LABELS = [
    "stations.Station",
    "stations.StationStaff",
    "stations.Resident",
    "stations.StationOrder",
    "stations.Parcel",
    "stations.CashEntry",
    "stations.AuditEvent",
    "auth.User",
    "order.Order",
    "basket.Basket",
]


def counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in LABELS}


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_stations_staff_and_residents(fast_passwords):
    created = demo.load()
    assert created["stations"] == 4 and created["station staff accounts"] == 4
    assert 8 <= created["station residents"] <= 12
    assert created["station orders"] == 0  # no demo produce loaded here

    stations = list(Station.objects.select_related("village"))
    assert len(stations) == 4
    assert len({s.village_id[:6] for s in stations}) == 4  # four districts
    assert all(s.is_active and s.village.is_administrative_village for s in stations)
    assert Station.objects.filter(village_id="120111102201", name__contains="上辛口村").exists()
    assert coverage().covered == 4
    for station in stations:
        station.full_clean()
        staff = StationStaff.objects.get(station=station)
        code = station.village_id
        assert staff.is_active and staff.user.username == f"station-{code}"
        assert staff.user.email == f"station-{code}@wangnong.local"
        assert staff.user.get_full_name() and not staff.user.is_staff
        assert staff.user.check_password("wangnong-station")
        people = list(Resident.objects.filter(station=station))
        assert 2 <= len(people) <= 3
        assert any(not p.phone for p in people)
        for person in people:
            assert person.consent_at and person.consent_recorded_by == staff.user
            assert person.consent_statement
            assert AuditEvent.objects.filter(resident=person, action="resident_created").exists()


def test_loading_twice_changes_nothing(fast_passwords):
    demo.load()
    before = counts()
    assert not any(demo.load().values())
    assert counts() == before


def test_load_demo_places_one_order_once(fast_passwords):
    out = io.StringIO()
    call_command("load_demo", "--no-images", stdout=out)
    order = StationOrder.objects.select_related("station", "resident").get()
    assert order.station.village_id == "120111102201" and order.resident.name == "王秀英"
    assert order.parcels.count() == 1 and order.total > 0
    before = counts()

    out = io.StringIO()
    call_command("load_demo", "--no-images", stdout=out)
    assert counts() == before
    assert "Nothing to do" in out.getvalue()


def test_staff_can_sign_in_to_the_station_portal(fast_passwords):
    demo.load()
    try:
        home = reverse("station:home")
    except NoReverseMatch:
        pytest.skip("the station portal's home page does not exist yet")
    client = Client()
    assert client.login(username="station-120111102201@wangnong.local", password="wangnong-station")
    assert client.get(home).status_code == 200
