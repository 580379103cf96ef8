"""The refund service (shop/payment/refunds.py): what can be refunded, how
the money goes back for each way of paying, what the ledger, Oscar's
payment records and the statuses say afterwards, and every refusal —
over-refunds, fractions of a fen, a cooperative beyond its lines or its
limit, Stripe refusing or unreachable, two staff refunding one line at
once. After every refund the books balance to the fen."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from oscar.core.loading import get_model

from cooperatives import fulfilment
from cooperatives.models import FulfilmentEvent
from logistics.models import Shipment
from shop.payment import ledger, refunds
from shop.payment.models import JournalEntry, Refund, RefundLine
from stations import ordering
from stations.models import CashEntry
from tests.payment.refund_orders import (
    balance,
    cod_order,
    cooperatives,
    order_balance,
    owed_to,
    produce,
    stripe_order,
)
from tests.stations.conftest import assisted_order, make_resident, make_staff, make_station

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
Line = get_model("order", "Line")
PaymentEvent = get_model("order", "PaymentEvent")
User = get_model("auth", "User")


@pytest.fixture
def shop(china, carriers):
    radish_coop, crab_coop = cooperatives()
    goods = produce(radish_coop, crab_coop)
    return {**goods, "radish_coop": radish_coop, "crab_coop": crab_coop}


@pytest.fixture
def staff(db):
    return User.objects.create_user("finance", "finance@example.com", "x", is_staff=True)


def lines_of(order) -> dict[str, object]:
    """The order's lines by product title."""
    return {line.title: line for line in order.lines.order_by("pk")}


def do_refund(order, staff, lines=None, shipping=0, **kwargs):
    kwargs.setdefault("reason", "买家收到的萝卜有破损")
    kwargs.setdefault("token", uuid.uuid4())
    return refunds.refund(order, lines=lines or {}, shipping=shipping, by=staff, **kwargs)


def books_balance() -> None:
    assert ledger.trial_balance() == 0


def nothing_recorded(order) -> None:
    assert not Refund.objects.filter(order=order).exists()
    assert not JournalEntry.objects.filter(kind="refund", reference=order.number).exists()
    assert not PaymentEvent.objects.filter(order=order).exists()
    source = order.sources.get()
    source.refresh_from_db()
    assert source.amount_refunded == 0


def stock_allocated(product) -> int:
    return product.stockrecords.get().num_allocated or 0


# --- What is refundable ---------------------------------------------------------


def test_refundable_is_each_line_and_the_shipping_less_what_was_refunded(shop, staff):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish, crab = lines_of(order).values()
    left = refunds.refundable(order)
    assert left.lines == {radish.pk: 4000, crab.pk: 8800}
    assert left.shipping == ledger.to_fen(order.shipping_incl_tax) > 0
    assert left.total == ledger.to_fen(order.total_incl_tax)

    do_refund(order, staff, {radish.pk: 1500}, shipping=500)
    left = refunds.refundable(order)
    assert left.lines == {radish.pk: 2500, crab.pk: 8800}
    assert left.refunded[radish.pk] == 1500 and left.paid[radish.pk] == 4000
    assert left.shipping == left.shipping_paid - 500 and left.shipping_refunded == 500


# --- Cash on delivery --------------------------------------------------------------


def test_partial_line_refund_before_cod_is_collected(shop, staff):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish = lines_of(order)["沙窝萝卜"]
    total = ledger.to_fen(order.total_incl_tax)
    owed_before = owed_to(shop["radish_coop"].partner)
    assert owed_before == 4000 - 200  # the 5 % default commission

    done = do_refund(order, staff, {radish.pk: 1000})

    assert done.via == Refund.Via.UNCOLLECTED
    assert done.status == Refund.Status.SUCCEEDED and done.completed_at is not None
    assert done.amount == 1000 and done.shipping == 0
    assert list(done.lines.values_list("line_id", "amount")) == [(radish.pk, 1000)]
    # The buyer owes ¥10 less; the cooperative is owed ¥10 less its ¥0.50 commission back.
    assert order_balance("receivable:cod", order) == total - 1000
    assert owed_to(shop["radish_coop"].partner) == owed_before - (1000 - 50)
    assert balance("platform:commission") == -(200 + 440) + 50
    # Oscar: the source's refunded amount and a "refunded" payment event for the line.
    source = order.sources.get()
    assert source.amount_refunded == Decimal("10.00")
    event = PaymentEvent.objects.get(order=order)
    assert event.event_type.code == "refunded" and event.amount == Decimal("10.00")
    assert [(q.line_id, q.quantity) for q in event.line_quantities.all()] == [(radish.pk, 1)]
    # A partial refund leaves the line where it was.
    radish.refresh_from_db()
    assert radish.status == "pending"
    books_balance()


def test_cod_collected_later_is_only_what_is_still_owed(shop, staff):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish = lines_of(order)["沙窝萝卜"]
    total = ledger.to_fen(order.total_incl_tax)
    do_refund(order, staff, {radish.pk: 1000})
    lines = list(order.lines.all())
    fulfilment.carrier_picked_up(lines)
    fulfilment.carrier_delivered(lines)
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order_balance("receivable:cod", order) == 0
    assert order_balance("cash:in-transit", order) == total - 1000
    books_balance()


def test_refund_after_cod_is_collected_is_cash(shop, staff):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    total = ledger.to_fen(order.total_incl_tax)
    lines = list(order.lines.all())
    fulfilment.carrier_picked_up(lines)
    fulfilment.carrier_delivered(lines)
    assert order_balance("cash:in-transit", order) == total

    radish = lines_of(order)["沙窝萝卜"]
    done = do_refund(order, staff, {radish.pk: 4000})
    assert done.via == Refund.Via.CASH
    assert order_balance("cash:in-transit", order) == total - 4000
    assert order_balance("receivable:cod", order) == 0
    # Refunded in full after delivery: the line is marked refunded, the order stays delivered.
    radish.refresh_from_db()
    order.refresh_from_db()
    assert radish.status == "refunded"
    assert order.status == "delivered"
    assert FulfilmentEvent.objects.filter(
        line=radish, from_status="delivered", to_status="refunded", changed_by=staff
    ).exists()
    books_balance()


def test_full_refund_before_handover_cancels_the_line_and_releases_its_stock(shop, staff):
    before = stock_allocated(shop["radish"])
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    assert stock_allocated(shop["radish"]) == before + 2
    radish, crab = lines_of(order).values()
    fulfilment.advance(radish, fulfilment.ACCEPT, cooperative=shop["radish_coop"])

    do_refund(order, staff, {radish.pk: 4000})

    radish.refresh_from_db()
    order.refresh_from_db()
    assert radish.status == "cancelled"
    assert stock_allocated(shop["radish"]) == before
    assert FulfilmentEvent.objects.filter(
        line=radish, from_status="accepted", to_status="cancelled", changed_by=staff
    ).exists()
    assert order.status == "processing"  # the crab is still to come
    assert owed_to(shop["radish_coop"].partner) == 0  # line and commission both back

    # The rest, with the shipping: the whole order is cancelled and its shipments too.
    left = refunds.refundable(order)
    done = do_refund(order, staff, {crab.pk: 8800}, shipping=left.shipping)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert set(order.lines.values_list("status", flat=True)) == {"cancelled"}
    assert done.via == Refund.Via.UNCOLLECTED
    assert order_balance("receivable:cod", order) == 0
    assert owed_to(shop["crab_coop"].partner) == 0
    assert balance("platform:commission") == 0
    assert balance("platform:shipping") == 0
    assert set(Shipment.objects.values_list("status", flat=True)) == {Shipment.Status.CANCELLED}
    books_balance()


def test_full_refund_after_handover_marks_lines_and_order_refunded(shop, staff):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    fulfilment.carrier_picked_up(list(order.lines.all()))
    order.refresh_from_db()
    assert order.status == "shipped"
    left = refunds.refundable(order)
    done = do_refund(order, staff, left.lines, shipping=left.shipping)
    assert done.amount == ledger.to_fen(order.total_incl_tax)
    assert done.via == Refund.Via.UNCOLLECTED  # in transit: the buyer never pays
    order.refresh_from_db()
    assert set(order.lines.values_list("status", flat=True)) == {"refunded"}
    assert order.status == "refunded"
    assert refunds.refundable(order).total == 0
    books_balance()


def test_a_refunded_line_does_not_hold_up_delivery_and_cash_collection(shop, staff):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish, crab = lines_of(order).values()
    fulfilment.carrier_picked_up([radish, crab])
    fulfilment.carrier_delivered([radish])
    # The crab is lost on the way: refunded in full; the radish was delivered.
    do_refund(order, staff, {crab.pk: 8800}, reason="河蟹运输途中丢失")
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order_balance("receivable:cod", order) == 0
    assert order_balance("cash:in-transit", order) == ledger.to_fen(order.total_incl_tax) - 8800
    books_balance()


def test_shipping_is_refunded_from_the_platforms_shipping_revenue(shop, staff):
    order = cod_order([(shop["radish"], 2)])
    shipping = ledger.to_fen(order.shipping_incl_tax)
    do_refund(order, staff, shipping=500)
    assert balance("platform:shipping") == -(shipping - 500)
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, shipping=shipping)
    assert exc.value.message_dict["shipping"] == [
        f"退款金额不能超过可退金额 ¥{ledger.from_fen(shipping - 500)}。"
    ]
    books_balance()


# --- Refusals -------------------------------------------------------------------------


def test_more_than_is_refundable_is_refused_and_nothing_is_recorded(shop, staff):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish, crab = lines_of(order).values()
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, {radish.pk: 4001, crab.pk: 100})
    assert exc.value.message_dict == {f"line_{radish.pk}": ["退款金额不能超过可退金额 ¥40.00。"]}
    nothing_recorded(order)

    do_refund(order, staff, {radish.pk: 3000})
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, {radish.pk: 1001})
    assert exc.value.message_dict[f"line_{radish.pk}"] == ["退款金额不能超过可退金额 ¥10.00。"]
    assert Refund.objects.filter(order=order).count() == 1
    books_balance()


def test_empty_negative_foreign_and_unexplained_refunds_are_refused(shop, staff):
    order = cod_order([(shop["radish"], 2)])
    other = cod_order([(shop["crab"], 1)])
    radish = order.lines.get()
    with pytest.raises(ValidationError, match="退款金额必须大于 0"):
        do_refund(order, staff, {radish.pk: 0})
    with pytest.raises(ValidationError, match="不能为负数"):
        do_refund(order, staff, {radish.pk: -100})
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, {other.lines.get().pk: 100})
    assert "这件商品不在这笔订单里。" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, {radish.pk: 100}, reason="   ")
    assert exc.value.message_dict["reason"] == ["请填写退款原因。"]
    nothing_recorded(order)


def test_fractions_of_a_fen_are_refused(shop, staff):
    assert refunds.parse_yuan("12.3") == 1230
    assert refunds.parse_yuan(" ¥１２元 ") == 1200
    assert refunds.parse_yuan("") == 0
    for typed in ("12.345", "0.001", "1e-3", "abc", "NaN", "-1"):
        with pytest.raises(ValidationError):
            refunds.parse_yuan(typed)
    order = cod_order([(shop["radish"], 2)])
    radish = order.lines.get()
    # Amounts reach the service in int fen only (never yuan, never floats).
    for amount in (Decimal("10.5"), 10.5, True):
        with pytest.raises(ValidationError, match="整数"):
            do_refund(order, staff, {radish.pk: amount})
    nothing_recorded(order)


def test_the_same_token_is_one_refund(shop, staff):
    order = cod_order([(shop["radish"], 2)])
    radish = order.lines.get()
    token = uuid.uuid4()
    first = do_refund(order, staff, {radish.pk: 1000}, token=token)
    again = do_refund(order, staff, {radish.pk: 1000}, token=token)
    assert again.pk == first.pk
    assert Refund.objects.count() == 1
    assert JournalEntry.objects.filter(kind="refund").count() == 1
    assert order.sources.get().amount_refunded == Decimal("10.00")
    # A token already used cannot refund another order.
    other = cod_order([(shop["crab"], 1)])
    with pytest.raises(ValidationError, match="已经用过"):
        do_refund(other, staff, {other.lines.get().pk: 100}, token=token)
    books_balance()


# --- Cooperatives -------------------------------------------------------------------


def test_a_cooperative_refunds_only_its_own_lines_and_no_shipping(shop):
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish, crab = lines_of(order).values()
    coop = shop["radish_coop"]
    manager = coop.memberships.get(role="manager").user
    with pytest.raises(ValidationError) as exc:
        do_refund(order, manager, {crab.pk: 100}, partner=coop.partner)
    assert exc.value.message_dict[f"line_{crab.pk}"] == ["合作社只能给自己的商品退款。"]
    with pytest.raises(ValidationError) as exc:
        do_refund(order, manager, {radish.pk: 100}, shipping=100, partner=coop.partner)
    assert "shipping" in exc.value.message_dict
    nothing_recorded(order)

    done = do_refund(order, manager, {radish.pk: 1000}, partner=coop.partner)
    assert done.partner == coop.partner and done.requested_by == manager
    assert owed_to(shop["crab_coop"].partner) == 8800 - 440  # untouched
    books_balance()


def test_a_cooperative_refunds_up_to_its_limit_per_order(shop, settings, staff):
    settings.WANGNONG_COOP_REFUND_LIMIT = "50"
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish, crab = lines_of(order).values()
    crab_coop = shop["crab_coop"]
    manager = crab_coop.memberships.get(role="manager").user
    do_refund(order, manager, {crab.pk: 3000}, partner=crab_coop.partner)
    with pytest.raises(ValidationError) as exc:
        do_refund(order, manager, {crab.pk: 2001}, partner=crab_coop.partner)
    assert "超过合作社可自行退款的限额，请联系平台处理" in exc.value.messages[0]
    # Up to the limit exactly is fine; the platform's own refunds do not count.
    do_refund(order, staff, {crab.pk: 3000})
    do_refund(order, manager, {crab.pk: 2000}, partner=crab_coop.partner)
    assert refunds.cooperative_refunded(order, crab_coop.partner) == 5000
    # The platform refunds beyond any cooperative limit.
    do_refund(order, staff, {crab.pk: 800})
    assert refunds.refundable(order).lines[crab.pk] == 0
    books_balance()


# --- Stations -------------------------------------------------------------------------


@pytest.fixture
def station_setup(shop):
    station = make_station()
    make_staff(station)
    resident = make_resident(station, "王秀英", phone="13812345678")
    return station, resident


def test_station_cancellation_is_a_cash_refund_in_the_ledger(shop, station_setup):
    station, resident = station_setup
    so = assisted_order(station, resident, [(shop["radish"], 2), (shop["crab"], 1)])
    total = ledger.to_fen(so.total)
    assert balance("cash:in-transit") == total

    ordering.cancel_assisted_order(so, so.placed_by, "居民不要了")

    refund = Refund.objects.get(order=so.order)
    assert refund.via == Refund.Via.CASH and refund.amount == total
    assert refund.requested_by == so.placed_by and refund.reason == "居民不要了"
    assert balance("cash:in-transit") == 0
    assert owed_to(shop["radish_coop"].partner) == 0
    assert owed_to(shop["crab_coop"].partner) == 0
    assert balance("platform:commission") == 0
    # The drawer pays it out once, as before.
    [drawer] = CashEntry.objects.filter(station_order=so, kind=CashEntry.Kind.REFUND)
    assert drawer.amount == -so.total
    so.order.refresh_from_db()
    assert so.order.status == "cancelled"
    books_balance()


def test_a_station_orders_partial_refund_comes_out_of_its_drawer(shop, station_setup, staff):
    station, resident = station_setup
    so = assisted_order(station, resident, [(shop["radish"], 2), (shop["crab"], 1)])
    radish = so.order.lines.get(title="沙窝萝卜")
    done = do_refund(so.order, staff, {radish.pk: 1000})
    assert done.via == Refund.Via.CASH
    assert CashEntry.objects.get(station_order=so, kind=CashEntry.Kind.REFUND).amount == Decimal(
        "-10.00"
    )
    # Cancelling afterwards pays out only the rest.
    ordering.cancel_assisted_order(so, so.placed_by, "居民不要了")
    drawer = CashEntry.objects.filter(station_order=so, kind=CashEntry.Kind.REFUND)
    assert sum(e.amount for e in drawer) == -so.total
    assert balance("cash:in-transit") == 0
    assert sum(Refund.objects.filter(order=so.order).values_list("amount", flat=True)) == (
        ledger.to_fen(so.total)
    )
    books_balance()


# --- Stripe ---------------------------------------------------------------------------


def test_an_online_payment_is_refunded_at_stripe(shop, staff, stripe_sim):
    order = stripe_order([(shop["radish"], 2), (shop["crab"], 1)])
    radish = lines_of(order)["沙窝萝卜"]
    total = ledger.to_fen(order.total_incl_tax)
    payment = order.stripe_payment
    token = uuid.uuid4()

    done = do_refund(order, staff, {radish.pk: 1230}, shipping=100, token=token)

    assert done.via == Refund.Via.STRIPE and done.status == Refund.Status.SUCCEEDED
    at_stripe = stripe_sim.refund(done.stripe_refund_id)
    assert at_stripe["amount"] == 1330  # fen
    assert at_stripe["payment_intent"] == payment.intent_id
    assert at_stripe["metadata"]["order_number"] == order.number
    charge = stripe_sim.charge(stripe_sim.payment_intent(payment.intent_id)["latest_charge"])
    assert charge["amount_refunded"] == 1330
    assert balance("provider:stripe") == total - 1330
    source = order.sources.get()
    assert source.amount_refunded == Decimal("13.30")
    assert PaymentEvent.objects.get(order=order).reference == done.stripe_refund_id
    # The same form again: the same refund, nothing more at Stripe.
    assert do_refund(order, staff, {radish.pk: 1230}, shipping=100, token=token).pk == done.pk
    assert stripe_sim.counts.get("refunds_created") == 1
    books_balance()


def test_stripe_unreachable_records_nothing_and_says_so(shop, staff, stripe_sim):
    order = stripe_order([(shop["radish"], 2)])
    radish = order.lines.get()
    stripe_sim.set_mode(offline=True)
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, {radish.pk: 1000})
    assert exc.value.error_list[0].code == refunds.STRIPE_UNAVAILABLE
    assert "暂时无法连接 Stripe" in exc.value.messages[0]
    nothing_recorded(order)
    radish.refresh_from_db()
    assert radish.status == "pending"
    books_balance()


def test_a_lost_answer_then_the_same_form_again_is_one_refund_at_stripe(
    shop, staff, stripe_sim, settings
):
    settings.STRIPE_TIMEOUT = 0.4
    order = stripe_order([(shop["radish"], 2)])
    radish = order.lines.get()
    token = uuid.uuid4()
    # Stripe refunds but its answer comes too late, and then the network
    # goes down before stripe-python's retries.
    stripe_sim.set_mode(hang_next=1, hang_seconds=1.0)
    outage = threading.Timer(0.2, lambda: stripe_sim.set_mode(offline=True))
    outage.start()
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, {radish.pk: 1000}, token=token)
    outage.join()
    assert exc.value.error_list[0].code == refunds.STRIPE_UNAVAILABLE
    nothing_recorded(order)
    assert stripe_sim.counts.get("refunds_created") == 1
    stripe_sim.set_mode(offline=False)
    done = do_refund(order, staff, {radish.pk: 1000}, token=token)
    assert stripe_sim.counts.get("refunds_created") == 1
    assert stripe_sim.refund(done.stripe_refund_id)["amount"] == 1000
    books_balance()


def test_a_refusal_by_stripe_records_nothing(shop, staff, stripe_sim):
    order = stripe_order([(shop["radish"], 2)])
    radish = order.lines.get()
    payment = order.stripe_payment
    # A dispute we have not heard of yet: Stripe refuses to refund a disputed charge.
    stripe_sim.dispute(stripe_sim.payment_intent(payment.intent_id)["latest_charge"])
    with pytest.raises(ValidationError) as exc:
        do_refund(order, staff, {radish.pk: 1000})
    assert exc.value.error_list[0].code == refunds.STRIPE_REFUSED
    assert "Stripe 拒绝了这笔退款" in exc.value.messages[0]
    nothing_recorded(order)
    # Once we know of the dispute we refuse before asking Stripe.
    payment.disputed = True
    payment.save()
    with pytest.raises(ValidationError, match="争议"):
        do_refund(order, staff, {radish.pk: 1000})
    nothing_recorded(order)
    books_balance()


# --- Two staff at once (reliability) ------------------------------------------------


def _race(order_pk: int, line_pk: int, amount: int, users) -> list:
    """Two refunds of the same line, each in its own thread and database
    connection, released together. Returns each one's Refund or error."""
    barrier = threading.Barrier(len(users))
    results: list = [None] * len(users)

    def run(i: int, user) -> None:
        try:
            order = Order.objects.get(pk=order_pk)
            barrier.wait(timeout=10)
            results[i] = refunds.refund(
                order,
                lines={line_pk: amount},
                reason=f"并发退款 {i}",
                by=user,
                token=uuid.uuid4(),
            )
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("paid", ["cod", "stripe"])
def test_two_concurrent_refunds_of_one_line_one_succeeds_one_is_refused(
    paid, china, carriers, request
):
    radish_coop, crab_coop = cooperatives()
    goods = produce(radish_coop, crab_coop)
    if paid == "stripe":
        request.getfixturevalue("stripe_sim")
        order = stripe_order([(goods["radish"], 2)])
    else:
        order = cod_order([(goods["radish"], 2)])
    line = order.lines.get()
    users = [
        User.objects.create_user(f"finance-{i}", f"f{i}@example.com", "x", is_staff=True)
        for i in range(2)
    ]

    results = _race(order.pk, line.pk, 4000, users)

    done = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(done) == 1 and len(refused) == 1, results
    assert refused[0].message_dict[f"line_{line.pk}"] == ["退款金额不能超过可退金额 ¥0.00。"]
    assert Refund.objects.count() == 1
    assert RefundLine.objects.get().amount == 4000
    assert JournalEntry.objects.filter(kind="refund").count() == 1
    assert order.sources.get().amount_refunded == Decimal("40.00")
    if paid == "stripe":
        stripe_sim = request.getfixturevalue("stripe_sim")
        assert stripe_sim.counts.get("refunds_created") == 1
    line.refresh_from_db()
    assert line.status == "cancelled"
    assert owed_to(radish_coop.partner) == 0
    books_balance()
