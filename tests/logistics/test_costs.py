"""The shipping cost report (logistics/costs.py) on a small known dataset:
two direct orders (one of them split into an express and a cold-chain
shipment) and two station orders sharing one consolidated shipment, whose
cost is shared by weight. Rates (tests/factories.py carriers()): 测试快递
¥12 first kg + ¥2 per further kg; 测试冷链 ¥20 + ¥5 per kg + ¥8 surcharge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logistics import costs
from logistics import shipments as shipping
from logistics.models import Shipment
from stations.models import Resident
from tests.logistics import staff_helpers as h
from tests.stations.conftest import assisted_order, make_resident, make_staff, make_station

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def dataset(settings, carriers):
    """What the report should find, built through the real services."""
    settings.WANGNONG_STATION_DELIVERY_CHARGE = "2.00"
    coop_a = h.cooperative("天津市西青区辛口沙窝萝卜种植专业合作社")
    coop_b = h.cooperative("天津市宁河区七里海生态养殖专业合作社", "120117")
    radish = h.produce(coop_a, "沙窝萝卜", grams=1000)
    crab = h.produce(coop_b, "七里海河蟹", grams=1500, storage="chilled")

    # Direct: 2 kg radish (¥14) + 1.5 kg chilled crab (¥20 + ¥5 + ¥8 = ¥33).
    order1, split = h.place_order((radish, 2), (crab, 1))
    # Direct: 1 kg radish (¥12).
    order2, [single] = h.place_order((radish, 1))

    # Two residents' station orders in one consolidated shipment: 1 kg and
    # 3 kg of radish, 4 kg together: ¥12 + 3 × ¥2 = ¥18, shared 1 : 3.
    station = make_station()
    make_staff(station, "staff-a")
    first = make_resident(station, "王秀英", phone="13812345678")
    second = make_resident(station, "李桂兰", phone="13987654321")
    so3 = assisted_order(station, first, [(radish, 1)], delivery=Resident.Delivery.STATION)
    so4 = assisted_order(station, second, [(radish, 3)], delivery=Resident.Delivery.STATION)
    consolidated = Shipment.objects.get(station=station)
    return {
        "coop_a": coop_a,
        "coop_b": coop_b,
        "order1": order1,
        "order2": order2,
        "order3": so3.order,
        "order4": so4.order,
        "split": split,
        "single": single,
        "consolidated": consolidated,
        "station": station,
        "radish": radish,
    }


def this_range() -> tuple[dt.date, dt.date]:
    # Ship dates are today, or tomorrow after a carrier's pickup cut-off.
    today = timezone.localdate()
    return today, today + dt.timedelta(days=1)


def test_the_dataset_is_what_the_report_assumes(dataset):
    consolidated = dataset["consolidated"]
    assert consolidated.status == Shipment.Status.COLLECTING
    assert consolidated.items.count() == 2
    assert consolidated.weight_g == 4000 and consolidated.cost == D("18.00")
    assert consolidated.charge == D("4.00")
    assert sorted(s.cost for s in dataset["split"]) == [D("14.00"), D("33.00")]
    assert dataset["single"].cost == D("12.00")
    assert dataset["order1"].shipping_incl_tax == D("47.00")
    assert dataset["order3"].shipping_incl_tax == D("2.00")


def test_totals_and_consolidation_effect(dataset):
    report = costs.report(*this_range())
    total = report.total
    assert (total.shipments, total.parcels, total.weight_g) == (4, 5, 8500)
    assert total.cost == D("77.00") and total.charge == D("63.00")
    assert total.cost_per_parcel == D("15.40")
    assert total.cost_per_kg == D("9.06")  # 77 / 8.5
    assert total.margin == D("-14.00")

    direct, consolidated = report.direct, report.consolidated
    assert (direct.shipments, direct.parcels, direct.weight_g) == (3, 3, 4500)
    assert direct.cost == D("59.00") and direct.cost_per_parcel == D("19.67")
    assert (consolidated.shipments, consolidated.parcels, consolidated.weight_g) == (1, 2, 4000)
    assert consolidated.cost == D("18.00") and consolidated.cost_per_parcel == D("9.00")
    assert consolidated.charge == D("4.00")
    # Alone the same parcels would have cost ¥12 (1 kg) + ¥16 (3 kg).
    assert report.consolidated_alone == D("28.00")
    assert report.consolidated_alone_per_parcel == D("14.00")
    assert report.consolidation_saving == D("10.00")


def test_per_order_costs_share_the_consolidated_shipment_by_weight(dataset):
    rows = {row.number: row for row in costs.report(*this_range()).orders}
    assert set(rows) == {dataset[f"order{n}"].number for n in (1, 2, 3, 4)}
    one = rows[dataset["order1"].number]
    assert (one.shipments, one.weight_g, one.cost, one.charge) == (2, 3500, D("47.00"), D("47.00"))
    assert one.direct and not one.consolidated
    two = rows[dataset["order2"].number]
    assert (two.shipments, two.cost, two.charge) == (1, D("12.00"), D("12.00"))
    three = rows[dataset["order3"].number]
    four = rows[dataset["order4"].number]
    assert (three.weight_g, three.cost, three.charge) == (1000, D("4.50"), D("2.00"))
    assert (four.weight_g, four.cost, four.charge) == (3000, D("13.50"), D("2.00"))
    assert three.consolidated and not three.direct
    assert three.margin == D("-2.50")
    # Shares add up to the shipments' costs.
    assert sum(r.cost for r in rows.values()) == D("77.00")


def test_per_cooperative_and_per_carrier(dataset):
    report = costs.report(*this_range())
    coops = {row.key: row for row in report.cooperatives}
    a = coops[dataset["coop_a"].partner_id]
    assert (a.shipments, a.parcels, a.weight_g) == (3, 4, 7000)
    assert (a.cost, a.charge) == (D("44.00"), D("30.00"))
    assert a.cost_per_parcel == D("11.00") and a.cost_per_kg == D("6.29")
    assert a.name == dataset["coop_a"].display_name
    b = coops[dataset["coop_b"].partner_id]
    assert (b.shipments, b.parcels, b.weight_g, b.cost, b.charge) == (
        1,
        1,
        1500,
        D("33.00"),
        D("33.00"),
    )
    # Largest cost first.
    assert [row.key for row in report.cooperatives] == [a.key, b.key]

    carriers = {row.name: row for row in report.carriers}
    assert set(carriers) == {"测试快递", "测试冷链"}
    express, cold = carriers["测试快递"], carriers["测试冷链"]
    assert (express.shipments, express.parcels, express.weight_g, express.cost) == (
        3,
        4,
        7000,
        D("44.00"),
    )
    assert (cold.shipments, cold.parcels, cold.cost, cold.cost_per_kg) == (
        1,
        1,
        D("33.00"),
        D("22.00"),
    )


def test_range_and_cancelled_shipments(dataset, django_user_model):
    start, end = this_range()
    single = dataset["single"]
    Shipment.objects.filter(pk=single.pk).update(ship_date=start - dt.timedelta(days=10))
    report = costs.report(start, end)
    assert report.total.shipments == 3 and report.total.cost == D("65.00")
    assert dataset["order2"].number not in {row.number for row in report.orders}
    wider = costs.report(start - dt.timedelta(days=10), end)
    assert wider.total.shipments == 4

    staff = django_user_model.objects.create_user("ops", is_staff=True)
    shipping.cancel(dataset["split"][0], by=staff, reason="买家取消")
    after = costs.report(start - dt.timedelta(days=10), end)
    assert after.total.shipments == 3
    assert after.total.cost == D("77.00") - dataset["split"][0].cost

    empty = costs.report(start - dt.timedelta(days=100), start - dt.timedelta(days=90))
    assert empty.total.shipments == 0 and empty.orders == []
    assert empty.total.cost_per_parcel is None and empty.consolidated_alone is None


def test_query_count_does_not_grow_with_the_data(dataset):
    with CaptureQueriesContext(connection) as small:
        costs.report(*this_range())
    for _n in range(3):
        h.place_order((dataset["radish"], 1))
    with CaptureQueriesContext(connection) as larger:
        report = costs.report(*this_range())
    assert report.total.shipments > 4
    assert len(larger.captured_queries) == len(small.captured_queries) <= 8


def test_apportion_adds_up_to_the_cent():
    assert costs.apportion(D("10.00"), [1, 1, 1]) == [D("3.34"), D("3.33"), D("3.33")]
    assert costs.apportion(D("18.00"), [1000, 3000]) == [D("4.50"), D("13.50")]
    assert costs.apportion(D("5.00"), [0, 0]) == [D("2.50"), D("2.50")]
    assert costs.apportion(D("0.01"), [1, 2]) == [D("0.00"), D("0.01")]
    assert costs.apportion(D("7.00"), []) == []
