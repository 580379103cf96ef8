"""Completing online payments (shop/payment/complete_payment.py): the
order is placed once whatever the order in which the return, the poll and
the webhook arrive; money taken for an order that cannot be placed goes
back automatically (a card's hold is released, Alipay/WeChat Pay are
refunded) and the buyer is told; when Stripe is unreachable for the
capture or the refund, the periodic task finishes the job later."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from shop.payment import complete_payment, ledger
from shop.payment.completion_tasks import complete_pending
from shop.payment.models import JournalEntry, StripePayment
from tests import factories
from tests.payment.stripe_checkout import (
    assert_books_balance,
    balance,
    basket_lines,
    confirm_card,
    deliver,
    events_for,
    poll,
    return_page,
    sale_entries,
    start,
)

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

# 2 × ¥20 radish + ¥20 delivery (5 kg by 测试快递).
TOTAL_FEN = 6000


@pytest.fixture
def radish(china, vegetables, cooperative):
    return factories.product(
        "沙窝萝卜",
        price="20.00",
        stock=10,
        partner_obj=cooperative,
        product_class_obj=vegetables,
        net_weight_g=2500,
    )


@pytest.fixture
def client_class():
    from django.test import Client

    return Client


def sell_out(client_class, radish) -> None:
    """Someone else buys every radish (cash on delivery) meanwhile."""
    other = client_class()
    factories.guest_checkout_to_preview(other, [(radish, 10)], email="other@example.com")
    response = factories.place_order(other)
    assert response.status_code == 302 and response["Location"] == reverse("checkout:thank-you")


ARRIVALS = ("return", "poll", "webhook")


@pytest.mark.parametrize("arrivals", list(itertools.permutations(ARRIVALS)))
def test_the_order_is_placed_once_whatever_arrives_first(client, radish, stripe_sim, arrivals):
    payment = start(client, [(radish, 2)], "wechat_pay")
    stripe_sim.succeed(payment.intent_id)
    [succeeded] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")

    for arrival in arrivals:
        if arrival == "return":
            response = return_page(client, payment)
            assert response.status_code == 302
            assert response["Location"] == reverse("checkout:thank-you")
        elif arrival == "poll":
            assert poll(client, payment)["state"] == "placed"
        else:
            assert deliver(client, stripe_sim, succeeded).status_code == 200

    order = Order.objects.get()
    assert order.number == payment.order_number
    assert sale_entries(order) == 1
    assert order.sources.count() == 1
    assert order.payment_events.count() == 1
    assert balance("provider:stripe") == TOTAL_FEN
    assert_books_balance()
    # Retrieved no more than once per arrival, never captured or refunded.
    assert stripe_sim.counts.get("refunds_created") is None


def test_stock_sold_before_wechat_payment_is_refunded_and_the_buyer_told(
    client, client_class, radish, stripe_sim, mailoutbox, django_capture_on_commit_callbacks
):
    payment = start(client, [(radish, 2)], "wechat_pay")
    sell_out(client_class, radish)
    orders_before = Order.objects.count()
    stripe_sim.succeed(payment.intent_id)  # the buyer pays for goods now gone

    with django_capture_on_commit_callbacks(execute=True):
        state = poll(client, payment)

    assert state["state"] == "refused"
    assert Order.objects.count() == orders_before  # no order for this payment
    assert not Order.objects.filter(number=payment.order_number).exists()
    payment.refresh_from_db()
    assert payment.placement == "refused" and payment.status == "succeeded"
    assert payment.placement_error == "“沙窝萝卜”不能购买：无库存"
    # Refunded at Stripe, in full, once.
    assert payment.auto_refund_id.startswith("re_")
    refund = stripe_sim.refund(payment.auto_refund_id)
    assert (refund["amount"], refund["status"]) == (TOTAL_FEN, "succeeded")
    assert refund["payment_intent"] == payment.intent_id
    intent = stripe_sim.payment_intent(payment.intent_id)
    assert stripe_sim.charge(intent["latest_charge"])["amount_refunded"] == TOTAL_FEN
    assert payment.amount_refunded == TOTAL_FEN
    # The books: received into suspense and straight back out.
    kinds = list(
        JournalEntry.objects.filter(reference=payment.order_number).values_list("kind", flat=True)
    )
    assert kinds == ["unplaced-payment", "unplaced-refund"]
    assert balance("suspense:unplaced") == 0
    assert balance("provider:stripe") == 0
    assert_books_balance()
    # The buyer is told by e-mail…
    [mail] = [m for m in mailoutbox if payment.order_number in m.subject]
    assert mail.to == ["buyer@example.com"]
    assert payment.placement_error in mail.body
    assert "¥60.00" in mail.body and "原路退回" in mail.body
    # …and on the page, and the basket is theirs again.
    page = return_page(client, payment)
    assert page.status_code == 200
    text = page.content.decode()
    assert "订单未能生成" in text and "已自动退回微信支付" in text
    assert "“沙窝萝卜”不能购买：无库存" in text
    assert Basket.objects.get(pk=payment.basket_id).status == Basket.OPEN
    assert basket_lines(client) == [("沙窝萝卜", 2)]
    # Asking again changes nothing (one refund).
    assert poll(client, payment)["state"] == "refused"
    assert stripe_sim.counts["refunds_created"] == 1


def test_stock_sold_before_card_capture_releases_the_hold(client, client_class, radish, stripe_sim):
    payment = start(client, [(radish, 2)], "card")
    assert confirm_card(stripe_sim, payment)["status"] == "requires_capture"
    sell_out(client_class, radish)
    entries_before = JournalEntry.objects.count()

    page = return_page(client, payment)

    assert page.status_code == 200
    assert "已自动解除，不会扣款" in page.content.decode()
    payment.refresh_from_db()
    assert (payment.placement, payment.status) == ("refused", "canceled")
    assert payment.auto_refund_id == payment.intent_id
    intent = stripe_sim.payment_intent(payment.intent_id)
    assert intent["status"] == "canceled" and intent["amount_received"] == 0
    assert stripe_sim.counts.get("POST /v1/payment_intents/{id}/capture") is None
    assert stripe_sim.counts.get("refunds_created") is None
    # Nothing was taken, so nothing is booked.
    assert JournalEntry.objects.count() == entries_before
    assert_books_balance()
    assert basket_lines(client) == [("沙窝萝卜", 2)]


def test_refund_postponed_while_stripe_is_down_is_made_by_the_periodic_task(
    client, client_class, radish, stripe_sim
):
    payment = start(client, [(radish, 2)], "wechat_pay")
    sell_out(client_class, radish)
    stripe_sim.succeed(payment.intent_id)
    [succeeded] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")
    stripe_sim.set_mode(offline=True)

    assert deliver(client, stripe_sim, succeeded).status_code == 200

    payment.refresh_from_db()
    assert payment.placement == "refused" and payment.auto_refund_id == ""
    assert "稍后自动重试" in payment.last_error
    # The money is held in suspense, owed back to the buyer.
    assert balance("suspense:unplaced") == -TOTAL_FEN
    assert balance("provider:stripe") == TOTAL_FEN
    assert_books_balance()
    assert complete_pending() == 0  # still down: nothing lost, nothing done
    assert complete_payment.pending() == [payment]

    stripe_sim.set_mode(offline=False)
    assert complete_pending() == 1

    payment.refresh_from_db()
    assert payment.auto_refund_id.startswith("re_") and payment.last_error == ""
    assert stripe_sim.refund(payment.auto_refund_id)["amount"] == TOTAL_FEN
    assert balance("suspense:unplaced") == 0 and balance("provider:stripe") == 0
    assert_books_balance()
    assert complete_payment.pending() == []
    assert complete_pending() == 0
    assert stripe_sim.counts["refunds_created"] == 1


def test_capture_postponed_while_stripe_is_down_is_made_by_the_periodic_task(
    client, radish, stripe_sim
):
    payment = start(client, [(radish, 2)], "card")
    confirm_card(stripe_sim, payment)
    [held] = events_for(stripe_sim, payment.intent_id, "payment_intent.amount_capturable_updated")
    stripe_sim.set_mode(offline=True)

    assert deliver(client, stripe_sim, held).status_code == 200

    # Nothing of the order was kept: no order, no stock held, no entries.
    payment.refresh_from_db()
    assert (payment.status, payment.placement) == ("authorised", "waiting")
    assert "稍后自动重试" in payment.last_error
    assert not Order.objects.exists()
    assert radish.stockrecords.get().num_allocated in (0, None)
    assert ledger.trial_balance() == 0 and not JournalEntry.objects.exists()

    stripe_sim.set_mode(offline=False)
    assert complete_pending() == 1

    order = Order.objects.get()
    payment.refresh_from_db()
    assert (payment.status, payment.placement, payment.order) == ("succeeded", "placed", order)
    assert stripe_sim.payment_intent(payment.intent_id)["status"] == "succeeded"
    assert radish.stockrecords.get().num_allocated == 2
    assert balance("provider:stripe") == TOTAL_FEN
    assert_books_balance()


def test_a_paid_payment_nobody_told_us_about_is_found_by_the_periodic_task(
    client, radish, stripe_sim
):
    payment = start(client, [(radish, 2)], "alipay")
    stripe_sim.succeed(payment.intent_id)  # webhook lost, buyer closed the page
    # Checked only once it has been quiet for a while.
    assert complete_payment.pending() == []
    StripePayment.objects.filter(pk=payment.pk).update(
        updated_at=payment.updated_at - complete_payment.UNHEARD_QUIET
    )

    assert complete_pending() == 1

    assert Order.objects.get().number == payment.order_number
    assert_books_balance()


def test_a_total_that_changed_after_payment_is_refused_and_refunded(client, radish, stripe_sim):
    payment = start(client, [(radish, 2)], "wechat_pay")
    StockRecord.objects.filter(product=radish).update(price="25.00")
    stripe_sim.succeed(payment.intent_id)

    assert poll(client, payment)["state"] == "refused"

    payment.refresh_from_db()
    assert "¥70.00" in payment.placement_error and "¥60.00" in payment.placement_error
    assert not Order.objects.exists()
    assert stripe_sim.refund(payment.auto_refund_id)["amount"] == TOTAL_FEN
    assert_books_balance()


def test_the_status_only_moves_forward(client, radish, stripe_sim):
    payment = start(client, [(radish, 2)], "wechat_pay")
    stripe_sim.processing(payment.intent_id)
    stripe_sim.succeed(payment.intent_id)
    [processing] = events_for(stripe_sim, payment.intent_id, "payment_intent.processing")
    [succeeded] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")

    complete_payment.complete(payment, succeeded["data"]["object"])
    after = complete_payment.complete(payment, processing["data"]["object"])

    assert (after.status, after.placement) == ("succeeded", "placed")
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert Order.objects.count() == 1


def test_a_late_authorised_event_after_the_buyer_gave_up_places_nothing(
    client, radish, stripe_sim, mailoutbox, django_capture_on_commit_callbacks
):
    payment = start(client, [(radish, 2)], "card")
    confirm_card(stripe_sim, payment)
    [held] = events_for(stripe_sim, payment.intent_id, "payment_intent.amount_capturable_updated")
    # The buyer presses 换一种付款方式 before the webhook arrives.
    response = client.post(reverse("checkout:pay-cancel", kwargs={"token": payment.token}))
    assert response["Location"] == reverse("checkout:payment-method")

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, stripe_sim, held).status_code == 200

    payment.refresh_from_db()
    assert (payment.status, payment.placement) == ("canceled", "waiting")
    assert stripe_sim.payment_intent(payment.intent_id)["status"] == "canceled"
    assert not Order.objects.exists() and not JournalEntry.objects.exists()
    assert mailoutbox == []
    assert basket_lines(client) == [("沙窝萝卜", 2)]
