"""Fixtures for station tests: two active stations in different districts,
each with a staff member and a resident, and products of a verified
cooperative to order, so every test can check one station cannot see the
other's data."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from stations import ordering, residents
from stations.models import Resident, Station, StationStaff
from tests import factories
from tests.cooperatives.conftest import make_cooperative

User = get_user_model()

VILLAGE_A = "120111102201"  # 西青区辛口镇上辛口村
VILLAGE_A2 = "120111102202"  # 西青区辛口镇当城村 (same town)
VILLAGE_B = "120117110201"  # 宁河区七里海镇

_phones = itertools.count(13900000001)


def make_station(name: str = "上辛口村益农信息社", village: str = VILLAGE_A, **fields) -> Station:
    values = {
        "street_address": "上辛口村村委会东侧 8 号",
        "opening_hours": "8:00–18:00",
        "contact_phone": "022-27391234",
        "operator": "上辛口村村民委员会",
    }
    values.update(fields)
    return Station.objects.create(name=name, village_id=village, **values)


def make_staff(station: Station, username: str | None = None) -> User:
    username = username or f"staff-{station.pk}-{StationStaff.objects.count()}"
    user = User.objects.create_user(username, f"{username}@example.com", "pw-station-123")
    StationStaff.objects.create(user=user, station=station)
    return user


def staff_of(station: Station) -> User:
    return station.staff.select_related("user").first().user


def make_resident(
    station: Station,
    name: str = "王秀英",
    *,
    phone: str | None = None,
    village: str | None = None,
    delivery: str = Resident.Delivery.STATION,
    address_detail: str = "",
) -> Resident:
    return residents.register_resident(
        station,
        staff_of(station),
        residents.ResidentData(
            name=name,
            village_code=village or station.village_id,
            phone=str(next(_phones)) if phone is None else phone,
            address_detail=address_detail,
            delivery_preference=delivery,
        ),
        consent_given=True,
    )


@pytest.fixture
def station_a(db):
    station = make_station()
    make_staff(station, "staff-a")
    return station


@pytest.fixture
def station_b(db):
    station = make_station(
        "七里海镇益农信息社",
        VILLAGE_B,
        street_address="七里海镇村委会旁",
        contact_phone="022-69591234",
        operator="七里海镇村民委员会",
    )
    make_staff(station, "staff-b")
    return station


@pytest.fixture
def resident_a(station_a):
    return make_resident(station_a, "王秀英", phone="13812345678")


@pytest.fixture
def resident_b(station_b):
    return make_resident(station_b, "李桂兰", phone="13987654321")


@pytest.fixture
def produce(china, carriers):
    """Two cooperatives' products: 沙窝萝卜 (¥20) and 七里海河蟹 (¥88)."""
    coop_radish = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    coop_crab = make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )
    radish = factories.product("沙窝萝卜", price="20.00", stock=50, partner_obj=coop_radish.partner)
    crab = factories.product("七里海河蟹", price="88.00", stock=20, partner_obj=coop_crab.partner)
    return {"radish": radish, "crab": crab, "coop_radish": coop_radish, "coop_crab": coop_crab}


def assisted_order(
    station: Station,
    resident: Resident,
    items,
    *,
    delivery: str = Resident.Delivery.STATION,
    cash: str | Decimal | None = None,
):
    """Place an assisted order for ``resident`` through the service; cash
    defaults to the exact amount due."""
    basket = ordering.resident_basket(resident)
    for product, quantity in items:
        ordering.add_product(basket, product, quantity)
    if cash is None:
        cash = ordering.quote(basket, delivery, resident).amount_due
    return ordering.place_assisted_order(
        station=station,
        staff_user=staff_of(station),
        resident=resident,
        basket=basket,
        delivery=delivery,
        cash_received=cash,
    )
