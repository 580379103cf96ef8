"""The station's parcel desk shows, for each incoming parcel, the shipment
it travels in: carrier, tracking number and where the carrier says it is —
for the whole list in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from logistics import shipments as logistics_shipments
from logistics import tracking
from logistics.adapters import TrackingUpdate
from logistics.models import Shipment, TrackingEvent
from tests import factories
from tests.cooperatives.conftest import make_cooperative
from tests.stations.conftest import (
    VILLAGE_B,
    assisted_order,
    make_resident,
    make_staff,
    make_station,
    staff_of,
)

pytestmark = pytest.mark.django_db

LIST = reverse("station:parcels")


@pytest.fixture
def produce(china, carriers):
    radish_coop = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    crab_coop = make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )
    return {
        "radish": factories.product(
            "沙窝萝卜", price="20.00", stock=500, partner_obj=radish_coop.partner, net_weight_g=1000
        ),
        "pickles": factories.product(
            "冷藏咸菜",
            price="12.00",
            stock=500,
            partner_obj=radish_coop.partner,
            net_weight_g=500,
            storage_class="chilled",
        ),
        "crab": factories.product(
            "七里海河蟹",
            price="88.00",
            stock=500,
            partner_obj=crab_coop.partner,
            net_weight_g=1500,
            storage_class="chilled",
        ),
        "radish_coop": radish_coop,
        "crab_coop": crab_coop,
    }


@pytest.fixture
def station(db):
    station = make_station()
    make_staff(station, "staff-incoming")
    return station


@pytest.fixture
def staff_client(client, station):
    client.force_login(staff_of(station))
    return client


def incoming_row(html: str, parcel_marker: str) -> str:
    """The <li class="row-item"> of the incoming section mentioning ``parcel_marker``."""
    section = html[html.index('id="incoming"') :]
    items = section.split('<li class="row-item">')[1:]
    found = [item for item in items if parcel_marker in item]
    assert found, f"no incoming row with {parcel_marker}"
    return found[0]


def test_incoming_parcels_show_carrier_tracking_number_and_status(staff_client, station, produce):
    resident = make_resident(station, "王秀英")
    so = assisted_order(station, resident, [(produce["radish"], 2), (produce["crab"], 1)])
    shipments = {
        s.partner_id: s for s in Shipment.objects.filter(station=station).select_related("carrier")
    }
    radish_shipment = shipments[produce["radish_coop"].partner_id]
    crab_shipment = shipments[produce["crab_coop"].partner_id]
    assert radish_shipment.status == crab_shipment.status == Shipment.Status.COLLECTING
    # The crab cooperative closes its consolidation and hands it over; the
    # cold-chain carrier reports it on the way.
    logistics_shipments.close(crab_shipment)
    logistics_shipments.enter_tracking_number(crab_shipment, "LL20261127", by=None)
    tracking.record(
        crab_shipment.carrier,
        [
            TrackingUpdate(
                "ll-1", "LL20261127", "in_transit", dt.datetime(2026, 11, 27, 4, 0, tzinfo=dt.UTC)
            )
        ],
        source=TrackingEvent.Source.WEBHOOK,
    )

    response = staff_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    radish_row = incoming_row(html, "沙窝萝卜种植专业合作社")
    crab_row = incoming_row(html, "七里海生态养殖专业合作社")
    assert so.order.number in radish_row and so.order.number in crab_row
    assert "测试快递" in radish_row
    assert "运单号：还没有" in radish_row
    assert "待发货" in radish_row
    assert "测试冷链" in crab_row
    assert "LL20261127" in crab_row
    assert "运输中" in crab_row
    assert "11-27 12:00" in crab_row  # the carrier's time, in Asia/Shanghai


def test_delivered_by_the_carrier_prompts_the_arrival_scan(staff_client, station, produce):
    resident = make_resident(station, "王秀英")
    assisted_order(station, resident, [(produce["radish"], 1)])
    shipment = Shipment.objects.get(station=station)
    logistics_shipments.close(shipment)
    logistics_shipments.enter_tracking_number(shipment, "KD1", by=None)
    tracking.record(
        shipment.carrier,
        [TrackingUpdate("kd-1", "KD1", "delivered", dt.datetime(2026, 11, 27, 6, tzinfo=dt.UTC))],
        source=TrackingEvent.Source.WEBHOOK,
    )
    html = staff_client.get(LIST).content.decode()
    row = incoming_row(html, "沙窝萝卜种植专业合作社")
    assert "已签收" in row
    assert "承运商显示已送达本站" in row


def test_a_parcel_in_two_temperature_classes_shows_both_shipments(station, produce):
    resident = make_resident(station, "王秀英")
    so = assisted_order(station, resident, [(produce["radish"], 1), (produce["pickles"], 1)])
    found = logistics_shipments.for_station_orders([so.pk])
    shipments = found[(so.pk, produce["radish_coop"].partner_id)]
    assert sorted(s.temperature for s in shipments) == ["ambient", "chilled"]
    assert {s.carrier.name for s in shipments} == {"测试快递", "测试冷链"}
    assert logistics_shipments.for_station_orders([]) == {}


def test_another_stations_shipments_are_not_shown(staff_client, station, produce):
    other = make_station("七里海村益农信息社", village=VILLAGE_B)
    make_staff(other, "staff-other")
    resident = make_resident(other, "李桂兰")
    assisted_order(other, resident, [(produce["radish"], 1)])
    shipment = Shipment.objects.get(station=other)
    logistics_shipments.close(shipment)
    logistics_shipments.enter_tracking_number(shipment, "OTHER999", by=None)
    html = staff_client.get(LIST).content.decode()
    assert "OTHER999" not in html
    assert "李桂兰" not in html


def test_incoming_list_queries_do_not_grow_with_parcels(
    staff_client, station, produce, django_assert_max_num_queries
):
    resident = make_resident(station, "王秀英")
    assisted_order(station, resident, [(produce["radish"], 1)])
    staff_client.get(LIST)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(LIST).status_code == 200
        return len(queries)

    one = count()
    for name in ("张大爷", "刘奶奶", "陈叔"):
        neighbour = make_resident(station, name)
        assisted_order(station, neighbour, [(produce["radish"], 1), (produce["crab"], 1)])
    assert len(staff_client.get(LIST).context["incoming"].rows) == 7
    assert count() == one
    # Two of them are the shipments of the whole page (logistics.shipments.
    # for_station_orders); the rest is the desk's own lists and the layout.
    with django_assert_max_num_queries(20):
        staff_client.get(LIST)
