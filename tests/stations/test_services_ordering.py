"""stations.ordering: placing an assisted order for cash, and cancelling it.

Every refusal is checked for what it leaves behind: no Order, no
StationOrder, no cash entry, no parcel, no audit event, the stock allocation
as it was, and the resident's basket still open with its lines."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from oscar.core.loading import get_model

from cooperatives import fulfilment, services
from shop.payment.methods import STATION_CASH
from stations import ordering
from stations.models import AuditEvent, CashEntry, Parcel, Resident, Station, StationOrder
from tests.stations.conftest import (
    assisted_order,
    make_resident,
    make_staff,
    make_station,
    staff_of,
)

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
Source = get_model("payment", "Source")
StockRecord = get_model("partner", "StockRecord")
Partner = get_model("partner", "Partner")


def snapshot() -> dict:
    """Everything an order placement writes, counted, plus the allocations."""
    return {
        "orders": Order.objects.count(),
        "station_orders": StationOrder.objects.count(),
        "cash": CashEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "parcels": Parcel.objects.count(),
        "addresses": ShippingAddress.objects.count(),
        "sources": Source.objects.count(),
        "allocated": dict(StockRecord.objects.values_list("pk", "num_allocated").order_by("pk")),
        "in_stock": dict(StockRecord.objects.values_list("pk", "num_in_stock").order_by("pk")),
    }


def filled_basket(resident, produce, radish=2, crab=1):
    basket = ordering.resident_basket(resident)
    if radish:
        ordering.add_product(basket, produce["radish"], radish)
    if crab:
        ordering.add_product(basket, produce["crab"], crab)
    return basket


def place(station, resident, basket, cash="500", delivery=Resident.Delivery.STATION, staff=None):
    return ordering.place_assisted_order(
        station=station,
        staff_user=staff or staff_of(station),
        resident=resident,
        basket=basket,
        delivery=delivery,
        cash_received=cash,
    )


def assert_basket_intact(basket, expected: dict) -> None:
    """The basket is still open in the database with ``{product: qty}``."""
    fresh = Basket.objects.get(pk=basket.pk)
    assert fresh.status == Basket.OPEN
    assert {line.product_id: line.quantity for line in fresh.lines.all()} == {
        p.pk: q for p, q in expected.items()
    }


def stockrecord(product):
    return StockRecord.objects.get(product=product)


# --- Placing ------------------------------------------------------------------------------


def test_placing_writes_the_order_and_everything_around_it(station_a, resident_a, produce):
    staff = staff_of(station_a)
    radish_alloc = stockrecord(produce["radish"]).num_allocated or 0
    basket = filled_basket(resident_a, produce)
    so = place(station_a, resident_a, basket, cash="200.5")

    order = so.order
    assert order.user == resident_a.user
    assert order.status == "pending"
    assert order.total_incl_tax == Decimal("128.00")
    assert {(line.product_id, line.quantity) for line in order.lines.all()} == {
        (produce["radish"].pk, 2),
        (produce["crab"].pk, 1),
    }
    assert so.station == station_a and so.resident == resident_a and so.placed_by == staff
    assert so.delivery == Resident.Delivery.STATION
    assert so.goods_total == so.total == Decimal("128.00")
    assert so.cash_received == Decimal("200.50")
    assert so.change_given == Decimal("72.50")
    assert len(so.pickup_code) == 6 and so.pickup_code.isdigit()
    assert so.pickup_failures == 0 and not so.is_locked and not so.is_cancelled
    # The order goes to the station.
    address = order.shipping_address
    assert station_a.name in address.line1
    assert address.phone_number == station_a.contact_phone
    # Basket submitted, stock allocated.
    assert Basket.objects.get(pk=basket.pk).status == Basket.SUBMITTED
    assert stockrecord(produce["radish"]).num_allocated == radish_alloc + 2
    # Paid by station cash.
    source = order.sources.get()
    assert source.source_type.code == STATION_CASH.source_code
    assert source.amount_debited == Decimal("128.00")
    # One parcel per cooperative, one cash entry for what stays in the drawer.
    assert sorted(so.parcels.values_list("partner_id", flat=True)) == sorted(
        [produce["coop_radish"].partner_id, produce["coop_crab"].partner_id]
    )
    assert set(so.parcels.values_list("status", flat=True)) == {Parcel.Status.IN_TRANSIT}
    entry = CashEntry.objects.get(station_order=so)
    assert (entry.kind, entry.amount, entry.recorded_by) == (
        CashEntry.Kind.SALE,
        Decimal("128.00"),
        staff,
    )
    events = list(AuditEvent.objects.filter(order=order).order_by("pk"))
    assert [e.action for e in events] == ["order_placed", "cash_received"]
    assert all(e.actor == staff and e.resident == resident_a for e in events)
    assert events[1].detail == {"due": "128.00", "received": "200.50", "change": "72.50"}


def test_home_delivery_has_no_parcels_and_pays_shipping(station_a, produce):
    resident = make_resident(
        station_a, "张德福", delivery=Resident.Delivery.HOME, address_detail="三排五号"
    )
    basket = filled_basket(resident, produce, radish=1, crab=0)
    so = place(station_a, resident, basket, cash="32", delivery=Resident.Delivery.HOME)
    assert so.total == Decimal("32.00")  # ¥20 + ¥12 flat rate
    assert so.goods_total == Decimal("20.00")
    assert so.change_given == Decimal("0.00")
    assert not so.parcels.exists()
    assert "三排五号" in so.order.shipping_address.line1


def test_home_delivery_needs_an_address(station_a, resident_a, produce):
    basket = filled_basket(resident_a, produce)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket, delivery=Resident.Delivery.HOME)
    assert "门牌地址" in exc.value.message_dict["delivery"][0]
    assert snapshot() == before


def test_no_resident_chosen(station_a, produce, resident_a):
    basket = filled_basket(resident_a, produce)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, None, basket)
    assert exc.value.messages == ["请先选择或登记要代下单的居民。"]
    assert snapshot() == before
    assert_basket_intact(basket, {produce["radish"]: 2, produce["crab"]: 1})


def test_resident_of_another_station_is_refused(station_a, station_b, resident_b, produce):
    basket = filled_basket(resident_b, produce)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_b, basket)
    assert "不是本站登记的居民" in exc.value.messages[0]
    assert snapshot() == before
    assert_basket_intact(basket, {produce["radish"]: 2, produce["crab"]: 1})


def test_suspended_station_cannot_order(station_a, resident_a, produce):
    basket = filled_basket(resident_a, produce)
    Station.objects.filter(pk=station_a.pk).update(status=Station.Status.SUSPENDED)
    station_a.refresh_from_db()
    before = snapshot()
    with pytest.raises(ValidationError):
        place(station_a, resident_a, basket)
    assert snapshot() == before


@pytest.mark.parametrize("cash", ["127.99", "0", "100"])
def test_cash_below_the_total_creates_nothing(station_a, resident_a, produce, cash):
    basket = filled_basket(resident_a, produce)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket, cash=cash)
    message = exc.value.message_dict["cash_received"][0]
    short = Decimal("128.00") - Decimal(cash)
    assert (
        f"¥{Decimal(cash):.2f}" in message and "¥128.00" in message and f"¥{short:.2f}" in message
    )
    assert snapshot() == before
    assert_basket_intact(basket, {produce["radish"]: 2, produce["crab"]: 1})
    assert not StationOrder.objects.filter(resident=resident_a).exists()


@pytest.mark.parametrize(
    "cash", ["", "   ", "abc", "-200", "1e9", "NaN", "Infinity", "200000", None, "12,8"]
)
def test_unparsable_cash_creates_nothing(station_a, resident_a, produce, cash):
    basket = filled_basket(resident_a, produce)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket, cash=cash)
    assert "请填写收到的现金金额" in exc.value.message_dict["cash_received"][0]
    assert snapshot() == before
    assert_basket_intact(basket, {produce["radish"]: 2, produce["crab"]: 1})


@pytest.mark.parametrize(
    "typed, amount",
    [
        ("128", "128.00"),
        ("128.5", "128.50"),
        ("１２８", "128.00"),
        ("128元", "128.00"),
        ("¥ 200", "200.00"),
    ],
)
def test_cash_as_typed_at_the_counter(typed, amount):
    assert ordering.parse_cash(typed) == Decimal(amount)


def test_empty_basket_is_refused(station_a, resident_a, produce):
    basket = ordering.resident_basket(resident_a)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket)
    assert "购物篮是空的" in exc.value.messages[0]
    assert snapshot() == before


def test_stock_running_out_after_adding_rolls_the_whole_placement_back(
    station_a, resident_a, produce, monkeypatch
):
    """The crab sells out after the service checked the basket (another
    buyer took it just then): the allocation fails inside the transaction,
    the radish already allocated in it is released, and nothing of the
    order is left."""
    basket = filled_basket(resident_a, produce)
    crab = stockrecord(produce["crab"])
    quote = ordering.quote

    def quote_then_sell_out(*args, **kwargs):  # runs after the stock check
        result = quote(*args, **kwargs)
        StockRecord.objects.filter(pk=crab.pk).update(num_allocated=crab.num_in_stock)
        return result

    monkeypatch.setattr(ordering, "quote", quote_then_sell_out)
    before = snapshot()
    before["allocated"][crab.pk] = crab.num_in_stock  # the other buyer's
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket)
    assert "七里海河蟹" in exc.value.messages[0] and "售罄" in exc.value.messages[0]
    assert snapshot() == before  # allocations included: the radish's is released
    assert_basket_intact(basket, {produce["radish"]: 2, produce["crab"]: 1})

    # A gap in the order numbers is fine; the next order goes through.
    monkeypatch.undo()
    StockRecord.objects.filter(pk=crab.pk).update(num_allocated=0)
    so = place(station_a, resident_a, ordering.resident_basket(resident_a))
    assert so.order.lines.count() == 2


def test_stock_gone_before_placing_is_refused_with_the_product_named(
    station_a, resident_a, produce
):
    filled_basket(resident_a, produce)
    StockRecord.objects.filter(product=produce["crab"]).update(num_in_stock=0)
    basket = ordering.resident_basket(resident_a)  # the next request
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket)
    assert "七里海河蟹" in exc.value.messages[0]
    assert snapshot() == before
    assert_basket_intact(basket, {produce["radish"]: 2, produce["crab"]: 1})


def test_seller_suspended_after_adding(station_a, resident_a, produce):
    filled_basket(resident_a, produce)
    services.suspend(produce["coop_crab"], reason="资质到期")
    basket = ordering.resident_basket(resident_a)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket)
    assert "七里海河蟹" in exc.value.messages[0] and "暂停销售" in exc.value.messages[0]
    assert snapshot() == before
    assert_basket_intact(basket, {produce["radish"]: 2, produce["crab"]: 1})


def test_partner_not_selling_after_adding(station_a, resident_a, produce):
    filled_basket(resident_a, produce)
    Partner.objects.filter(pk=produce["coop_radish"].partner_id).update(is_selling=False)
    basket = ordering.resident_basket(resident_a)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket)
    assert "沙窝萝卜" in exc.value.messages[0]
    assert snapshot() == before


def test_unknown_delivery_is_refused(station_a, resident_a, produce):
    basket = filled_basket(resident_a, produce)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        place(station_a, resident_a, basket, delivery="drone")
    assert "delivery" in exc.value.message_dict
    assert snapshot() == before


# --- The basket -----------------------------------------------------------------------------


def test_add_product_refusals(resident_a, produce):
    basket = ordering.resident_basket(resident_a)
    with pytest.raises(ValidationError, match="数量至少为 1"):
        ordering.add_product(basket, produce["radish"], 0)
    with pytest.raises(ValidationError, match="不能再加"):
        ordering.add_product(basket, produce["crab"], 21)  # 20 in stock
    ordering.add_product(basket, produce["crab"], 20)
    with pytest.raises(ValidationError, match="不能再加"):
        ordering.add_product(basket, produce["crab"], 1)
    assert basket.product_quantity(produce["crab"]) == 20


def test_add_product_refuses_a_parent_and_an_unbuyable_product(resident_a, produce):
    from tests import factories

    basket = ordering.resident_basket(resident_a)
    parent = factories.parent_product(
        "崔庄冬枣礼盒", [("5斤装", "60.00", 5)], partner_obj=produce["coop_radish"].partner
    )
    with pytest.raises(ValidationError, match="请先选择"):
        ordering.add_product(basket, parent, 1)
    no_price = factories.product("无价商品", stock=5, partner_obj=produce["coop_radish"].partner)
    StockRecord.objects.filter(product=no_price).update(price=None)
    with pytest.raises(ValidationError, match="暂不可购买"):
        ordering.add_product(ordering.resident_basket(resident_a), no_price, 1)


def test_set_line_quantity(resident_a, produce):
    basket = filled_basket(resident_a, produce)
    line = basket.lines.get(product=produce["radish"])
    ordering.set_line_quantity(basket, line.pk, 5)
    assert basket.lines.get(pk=line.pk).quantity == 5
    with pytest.raises(ValidationError, match="不能改为 51 件"):
        ordering.set_line_quantity(basket, line.pk, 51)
    assert basket.lines.get(pk=line.pk).quantity == 5
    ordering.set_line_quantity(basket, line.pk, 0)
    assert not basket.lines.filter(pk=line.pk).exists()
    with pytest.raises(ValidationError, match="购物篮里没有"):
        ordering.set_line_quantity(basket, line.pk, 1)


def test_a_basket_line_of_another_basket_cannot_be_changed(
    resident_a, station_b, resident_b, produce
):
    other = filled_basket(resident_b, produce)
    line = other.lines.get(product=produce["radish"])
    mine = ordering.resident_basket(resident_a)
    with pytest.raises(ValidationError, match="购物篮里没有"):
        ordering.set_line_quantity(mine, line.pk, 0)
    assert other.lines.filter(pk=line.pk).exists()


# --- Cancelling ------------------------------------------------------------------------------


def test_cancelling_releases_everything_and_refunds(station_a, resident_a, produce):
    staff = staff_of(station_a)
    allocated = {k: (stockrecord(produce[k]).num_allocated or 0) for k in ("radish", "crab")}
    so = assisted_order(station_a, resident_a, [(produce["radish"], 2), (produce["crab"], 1)])
    assert stockrecord(produce["radish"]).num_allocated == allocated["radish"] + 2

    ordering.cancel_assisted_order(so, staff, "  居民不要了 ")
    so.refresh_from_db()
    assert so.is_cancelled and so.cancelled_by == staff and so.cancel_reason == "居民不要了"
    order = Order.objects.get(pk=so.order_id)
    assert order.status == "cancelled"
    assert set(order.lines.values_list("status", flat=True)) == {"cancelled"}
    for key in ("radish", "crab"):
        assert (stockrecord(produce[key]).num_allocated or 0) == allocated[key]
    assert set(so.parcels.values_list("status", flat=True)) == {Parcel.Status.CANCELLED}
    refund = CashEntry.objects.get(station_order=so, kind=CashEntry.Kind.REFUND)
    assert refund.amount == -so.total == Decimal("-128.00")
    assert CashEntry.objects.filter(station_order=so).count() == 2
    assert order.sources.get().amount_refunded == Decimal("128.00")
    actions = list(
        AuditEvent.objects.filter(order=order).order_by("pk").values_list("action", flat=True)
    )
    assert actions[-2:] == ["order_cancelled", "cash_refunded"]
    assert (
        AuditEvent.objects.filter(order=order, action="cash_refunded").get().detail["amount"]
        == "128.00"
    )


def test_cancelling_an_accepted_order_is_allowed(station_a, resident_a, produce):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 2)])
    line = so.order.lines.get()
    fulfilment.advance(line, fulfilment.ACCEPT, cooperative=produce["coop_radish"])
    fulfilment.advance(line, fulfilment.PACK, cooperative=produce["coop_radish"])
    ordering.cancel_assisted_order(so, staff_of(station_a), "缺货")
    assert Order.objects.get(pk=so.order_id).status == "cancelled"


def test_cancelling_twice_is_refused(station_a, resident_a, produce):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 2)])
    ordering.cancel_assisted_order(so, staff_of(station_a), "居民不要了")
    before = snapshot()
    with pytest.raises(ValidationError, match="已经取消过了"):
        ordering.cancel_assisted_order(so, staff_of(station_a), "再取消一次")
    assert snapshot() == before
    assert CashEntry.objects.filter(station_order=so, kind=CashEntry.Kind.REFUND).count() == 1


def test_cancelling_after_a_line_is_shipped_is_refused(station_a, resident_a, produce):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 2), (produce["crab"], 1)])
    line = so.order.lines.get(product=produce["crab"])
    for action in (fulfilment.ACCEPT, fulfilment.PACK, fulfilment.HAND_OVER):
        fulfilment.advance(line, action, cooperative=produce["coop_crab"])
    statuses = dict(so.order.lines.values_list("pk", "status"))
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        ordering.cancel_assisted_order(so, staff_of(station_a), "居民不要了")
    assert "七里海河蟹" in exc.value.messages[0] and "已经发出" in exc.value.messages[0]
    assert snapshot() == before
    so.refresh_from_db()
    assert not so.is_cancelled
    assert dict(so.order.lines.values_list("pk", "status")) == statuses
    assert set(so.parcels.values_list("status", flat=True)) == {Parcel.Status.IN_TRANSIT}


def test_cancelling_needs_a_reason(station_a, resident_a, produce):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 2)])
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        ordering.cancel_assisted_order(so, staff_of(station_a), "   ")
    assert "reason" in exc.value.message_dict
    assert snapshot() == before


def test_receipt_printed_is_logged(station_a, resident_a, produce):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    ordering.log_receipt_printed(so, staff_of(station_a))
    ordering.log_receipt_printed(so, staff_of(station_a))
    assert AuditEvent.objects.filter(order=so.order, action="receipt_printed").count() == 2


# --- Two counters at once (PostgreSQL) --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_stations_racing_for_the_last_unit_sell_it_once(china, carriers):
    from tests import factories
    from tests.cooperatives.conftest import make_cooperative
    from tests.stations.conftest import VILLAGE_B

    coop = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    last = factories.product("最后一箱萝卜", price="20.00", stock=1, partner_obj=coop.partner)
    stations = [make_station(), make_station("七里海镇益农信息社", VILLAGE_B)]
    for s in stations:
        make_staff(s)
    baskets = []
    people = []
    for s in stations:
        r = make_resident(s, f"居民{s.pk}")
        b = ordering.resident_basket(r)
        ordering.add_product(b, last, 1)
        people.append(r)
        baskets.append(b)

    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def run(i):
        try:
            station, resident = stations[i], people[i]
            basket = ordering.resident_basket(resident)
            barrier.wait()
            outcomes[i] = place(station, resident, basket, cash="20")
        except ValidationError as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    placed = [o for o in outcomes if isinstance(o, StationOrder)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(placed) == 1 and len(refused) == 1, outcomes
    assert StationOrder.objects.count() == Order.objects.count() == 1
    assert CashEntry.objects.count() == 1
    record = StockRecord.objects.get(product=last)
    assert record.num_allocated == 1 and record.num_in_stock == 1
