"""Station delivery (logistics/shipments.py add_to_consolidation, close_due,
remove_lines, through stations.ordering): one cooperative's parcels for one
station on one day travel as one shipment, handed to the carrier at its
pickup cut-off; home delivery from a station is an ordinary shipment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from logistics import shipments
from logistics.models import Carrier, OutboxMessage, Shipment, ShipmentItem, ShipmentLog
from stations import ordering
from stations.models import Resident
from tests import factories
from tests.cooperatives.conftest import make_cooperative
from tests.stations.conftest import (
    VILLAGE_A,
    VILLAGE_B,
    assisted_order,
    make_resident,
    make_staff,
    make_station,
    staff_of,
)

pytestmark = pytest.mark.django_db

Status = Shipment.Status
LATE = dt.time(23, 59, 59)


@pytest.fixture
def station_a(db):
    station = make_station()
    make_staff(station, "staff-a")
    return station


@pytest.fixture
def station_b(db):
    station = make_station("七里海镇益农信息社", VILLAGE_B, street_address="七里海镇村委会旁")
    make_staff(station, "staff-b")
    return station


@pytest.fixture
def resident_a(station_a):
    return make_resident(station_a, "王秀英", phone="13812345678")


@pytest.fixture
def weighed(china, carriers):
    """As tests/stations' ``produce``: 沙窝萝卜 (2.5 kg) and 七里海河蟹
    (1 kg) from two verified cooperatives. The express carrier collects
    until late tonight, so today's orders share today's run."""
    coop_radish = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    coop_crab = make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )
    Carrier.objects.filter(code="test-express").update(pickup_cutoff=LATE)
    return {
        "radish": factories.product(
            "沙窝萝卜", price="20.00", stock=50, partner_obj=coop_radish.partner, net_weight_g=2500
        ),
        "crab": factories.product(
            "七里海河蟹", price="88.00", stock=20, partner_obj=coop_crab.partner, net_weight_g=1000
        ),
        "coop_radish": coop_radish,
        "coop_crab": coop_crab,
    }


@pytest.fixture
def neighbour(station_a):
    return make_resident(station_a, "李建国", phone="13811112222")


def collecting():
    return Shipment.objects.filter(status=Status.COLLECTING)


def lines_of(shipment) -> list[tuple[str, str, int]]:
    return sorted(
        (item.line.order.number, item.line.product.title, item.line.quantity)
        for item in shipment.items.select_related("line__order", "line__product")
    )


def at_local(day: dt.date, clock: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, clock))


def test_two_residents_orders_for_one_cooperative_share_one_shipment(
    station_a, resident_a, neighbour, weighed
):
    radish = weighed["radish"]
    first = assisted_order(station_a, resident_a, [(radish, 2)])
    [shipment] = collecting()
    assert shipment.weight_g == 5000
    assert shipment.cost == Decimal("20.00")  # 12 + 4 × 2

    second = assisted_order(station_a, neighbour, [(radish, 1)])

    [shipment] = collecting()
    assert shipment.station == station_a
    assert shipment.order is None  # several orders travel in it
    assert shipment.partner == weighed["coop_radish"].partner
    assert (shipment.carrier.code, shipment.service) == ("test-express", "station_delivery")
    assert shipment.temperature == "ambient"
    assert shipment.destination_id == station_a.village_id == VILLAGE_A
    assert shipment.recipient_name == station_a.name
    assert shipment.recipient_phone == station_a.contact_phone
    assert shipment.ship_date == timezone.localdate()
    assert lines_of(shipment) == sorted(
        [(first.order.number, "沙窝萝卜", 2), (second.order.number, "沙窝萝卜", 1)]
    )
    # Repriced on the combined 7.5 kg: one parcel, not two.
    assert shipment.weight_g == 7500
    assert shipment.cost == Decimal("26.00")  # 12 + 7 × 2
    assert not shipment.outbox.exists()  # nothing handed off while collecting
    # Each order finds it.
    assert list(shipments.for_order(first.order)) == [shipment]
    assert list(shipments.for_order(second.order)) == [shipment]


def test_each_cooperative_gets_its_own_consolidated_shipment(
    station_a, resident_a, neighbour, weighed
):
    assisted_order(station_a, resident_a, [(weighed["radish"], 1), (weighed["crab"], 2)])
    assisted_order(station_a, neighbour, [(weighed["crab"], 1)])

    by_partner = {s.partner_id: s for s in collecting()}
    assert len(by_partner) == 2
    crab_run = by_partner[weighed["coop_crab"].partner_id]
    radish_run = by_partner[weighed["coop_radish"].partner_id]
    assert [title for _n, title, _q in lines_of(crab_run)] == ["七里海河蟹", "七里海河蟹"]
    assert crab_run.weight_g == 3000
    assert [title for _n, title, _q in lines_of(radish_run)] == ["沙窝萝卜"]
    assert radish_run.weight_g == 2500


def test_another_station_gets_its_own_shipment(station_a, station_b, resident_a, weighed):
    assisted_order(station_a, resident_a, [(weighed["radish"], 1)])
    assisted_order(station_b, make_resident(station_b, "赵大妈"), [(weighed["radish"], 1)])
    assert sorted(s.station_id for s in collecting()) == sorted([station_a.pk, station_b.pk])


def test_chilled_goods_collect_apart_by_cold_chain(station_a, resident_a, neighbour, weighed):
    crab = weighed["crab"]
    crab.storage_class = "chilled"
    crab.save()
    assisted_order(station_a, resident_a, [(crab, 1), (weighed["radish"], 1)])
    assisted_order(station_a, neighbour, [(crab, 2)])
    runs = {s.temperature: s for s in collecting()}
    assert set(runs) == {"ambient", "chilled"}
    assert (runs["chilled"].carrier.code, runs["chilled"].service) == ("test-cold", "cold_chain")
    assert runs["chilled"].weight_g == 3000
    assert runs["chilled"].cost == Decimal("38.00")  # 20 + 2 × 5 + 8


def test_after_the_cut_off_orders_go_in_tomorrows_shipment(
    station_a, resident_a, neighbour, weighed
):
    assisted_order(station_a, resident_a, [(weighed["radish"], 1)])
    Carrier.objects.filter(code="test-express").update(pickup_cutoff=dt.time(0, 0))
    late = assisted_order(station_a, neighbour, [(weighed["radish"], 1)])

    runs = sorted(collecting(), key=lambda s: s.ship_date)
    today = timezone.localdate()
    assert [s.ship_date for s in runs] == [today, today + dt.timedelta(days=1)]
    assert lines_of(runs[1]) == [(late.order.number, "沙窝萝卜", 1)]
    assert runs[0].weight_g == runs[1].weight_g == 2500


def test_a_new_day_starts_a_new_shipment(station_a, resident_a, neighbour, weighed):
    assisted_order(station_a, resident_a, [(weighed["radish"], 1)])
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    collecting().update(ship_date=yesterday)  # left open from yesterday

    assisted_order(station_a, neighbour, [(weighed["radish"], 1)])

    assert sorted(s.ship_date for s in collecting()) == [yesterday, timezone.localdate()]
    # Yesterday's is overdue whatever the time: the sweep closes it now.
    assert shipments.close_due() == 1
    assert Shipment.objects.get(ship_date=yesterday).status == Status.PENDING


def test_close_due_hands_the_shipment_over_at_the_cut_off(
    station_a, resident_a, neighbour, weighed, django_capture_on_commit_callbacks
):
    assisted_order(station_a, resident_a, [(weighed["radish"], 1)])
    assisted_order(station_a, neighbour, [(weighed["radish"], 2)])
    [shipment] = collecting()
    Carrier.objects.filter(code="test-express").update(pickup_cutoff=dt.time(16, 0))
    today = shipment.ship_date

    assert shipments.close_due(at_local(today, dt.time(15, 59))) == 0
    shipment.refresh_from_db()
    assert shipment.status == Status.COLLECTING
    assert not OutboxMessage.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert shipments.close_due(at_local(today, dt.time(16, 0))) == 1

    shipment.refresh_from_db()
    [message] = OutboxMessage.objects.filter(shipment=shipment)
    assert message.kind == "create" and message.done_at is not None
    # The manual carrier's waybill is printed and its number typed next.
    assert shipment.status == Status.AWAITING_TRACKING
    assert shipment.weight_g == 7500
    assert ShipmentLog.objects.filter(shipment=shipment, message="合并结束，交给承运商。").exists()
    # Closing again changes nothing; a later order opens a new shipment.
    assert shipments.close_due(at_local(today, dt.time(17, 0))) == 0
    assert OutboxMessage.objects.filter(shipment=shipment).count() == 1


def test_close_due_before_the_day_leaves_tomorrows_shipment_open(station_a, resident_a, weighed):
    Carrier.objects.filter(code="test-express").update(pickup_cutoff=dt.time(0, 0))
    assisted_order(station_a, resident_a, [(weighed["radish"], 1)])
    [shipment] = collecting()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert shipment.ship_date == tomorrow
    assert shipments.close_due(at_local(timezone.localdate(), dt.time(23, 0))) == 0
    assert shipments.close_due(at_local(tomorrow, dt.time(0, 0))) == 1


def test_cancelling_an_order_takes_its_items_out_and_reprices(
    station_a, resident_a, neighbour, weighed
):
    first = assisted_order(station_a, resident_a, [(weighed["radish"], 2)])
    second = assisted_order(station_a, neighbour, [(weighed["radish"], 1)])
    [shipment] = collecting()
    assert shipment.cost == Decimal("26.00")

    ordering.cancel_assisted_order(first, staff_of(station_a), "居民不要了")

    shipment.refresh_from_db()
    assert shipment.status == Status.COLLECTING
    assert lines_of(shipment) == [(second.order.number, "沙窝萝卜", 1)]
    assert shipment.weight_g == 2500
    assert shipment.cost == Decimal("16.00")  # 12 + 2 × 2
    assert not ShipmentItem.objects.filter(line__order=first.order).exists()
    assert ShipmentLog.objects.filter(shipment=shipment, message__contains=first.order.number)

    ordering.cancel_assisted_order(second, staff_of(station_a), "居民不要了")

    shipment.refresh_from_db()
    assert shipment.status == Status.CANCELLED
    assert shipment.cancelled_at is not None
    assert not shipment.items.exists()
    assert not OutboxMessage.objects.exists()  # the carrier never had it
    assert shipments.close_due(at_local(timezone.localdate(), dt.time(23, 59, 59))) == 0


def test_station_delivery_charge_is_split_to_the_cent(
    station_a, resident_a, neighbour, weighed, settings
):
    """The programme's station charge is shared between the shipments an
    order goes in; the shares add up to what the resident paid, and a
    cancelled order's share leaves the shipment with it."""
    settings.WANGNONG_STATION_DELIVERY_CHARGE = "1.00"
    rice_coop = make_cooperative(
        "天津市津南区小站稻种植专业合作社",
        credit_prefix="93120112MA07A1234",
        division_code="120112",
    )
    rice = factories.product("小站稻", price="30.00", stock=20, partner_obj=rice_coop.partner)
    items = [(weighed["radish"], 1), (weighed["crab"], 1), (rice, 1)]

    first = assisted_order(station_a, resident_a, items)
    assert first.order.shipping_incl_tax == Decimal("1.00")
    runs = list(collecting())
    assert len(runs) == 3
    assert sum(s.charge for s in runs) == Decimal("1.00")

    second = assisted_order(station_a, neighbour, items[:2])
    assert sum(s.charge for s in collecting()) == Decimal("2.00")

    ordering.cancel_assisted_order(first, staff_of(station_a), "居民不要了")
    assert second.order.shipping_incl_tax == Decimal("1.00")
    assert sum(s.charge for s in Shipment.objects.exclude(status=Status.CANCELLED)) == Decimal(
        "1.00"
    )


def test_home_delivery_from_a_station_is_an_ordinary_shipment(
    station_a, weighed, django_capture_on_commit_callbacks
):
    resident = make_resident(
        station_a,
        "张德福",
        village="120111102202",
        delivery=Resident.Delivery.HOME,
        address_detail="三排五号",
    )
    with django_capture_on_commit_callbacks(execute=True):
        so = assisted_order(
            station_a, resident, [(weighed["radish"], 2)], delivery=Resident.Delivery.HOME
        )

    assert not collecting().exists()
    [shipment] = Shipment.objects.all()
    assert shipment.order == so.order
    assert shipment.station is None
    assert shipment.destination_id == "120111102202"  # the resident's village
    assert (shipment.carrier.code, shipment.service) == ("test-express", "express")
    assert shipment.recipient_name == "张德福"
    assert "三排五号" in shipment.recipient_address
    assert shipment.weight_g == 5000
    assert shipment.cost == shipment.charge == so.order.shipping_incl_tax == Decimal("20.00")
    assert so.total == Decimal("60.00")  # ¥40 goods + ¥20 delivery
    assert shipment.status == Status.AWAITING_TRACKING
    assert shipment.outbox.get().done_at is not None
