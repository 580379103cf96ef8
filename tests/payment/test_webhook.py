"""Stripe's webhook at /payments/stripe/webhook/: only signed, fresh events
are accepted; each event is handled once (even five copies at once); an
event for a PaymentIntent we did not make creates nothing; late events do
not move a payment backwards; refunds we did not make and disputes are
flagged for staff."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from shop.payment import stripe_client
from shop.payment.models import JournalEntry, StripeEvent, StripePayment
from tests import factories
from tests.payment.stripe_checkout import (
    WEBHOOK_URL,
    assert_books_balance,
    balance,
    deliver,
    events_for,
    late_event,
    return_page,
    sale_entries,
    start,
)

Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")

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
def paid(client, radish, stripe_sim):
    """A WeChat Pay checkout the buyer has paid; (payment, succeeded event)."""
    payment = start(client, [(radish, 2)], "wechat_pay")
    stripe_sim.succeed(payment.intent_id)
    [event] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")
    return payment, event


@pytest.mark.django_db
def test_a_signed_succeeded_event_places_the_order(client, stripe_sim, paid):
    payment, event = paid

    response = deliver(client, stripe_sim, event)

    assert response.status_code == 200
    order = Order.objects.get()
    payment.refresh_from_db()
    assert (payment.placement, payment.order) == ("placed", order)
    [record] = StripeEvent.objects.all()
    assert (record.event_id, record.type, record.intent_id) == (
        event["id"],
        "payment_intent.succeeded",
        payment.intent_id,
    )
    assert record.result == "succeeded/placed"
    assert_books_balance()


@pytest.mark.django_db
def test_forged_unsigned_stale_and_garbled_events_are_refused(client, stripe_sim, paid):
    _payment, event = paid
    body, header = stripe_sim.signed(event)

    unsigned = client.post(WEBHOOK_URL, body, content_type="application/json")
    forged = client.post(
        WEBHOOK_URL,
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_sim.sign(body, secret="whsec_someone_else"),
    )
    tampered = client.post(
        WEBHOOK_URL,
        body.replace(b"succeeded", b"succeeded "),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    stale = deliver(client, stripe_sim, event, timestamp=int(time.time()) - 301)
    garbled_body = b"{not json"
    garbled = client.post(
        WEBHOOK_URL,
        garbled_body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_sim.sign(garbled_body),
    )

    assert [r.status_code for r in (unsigned, forged, tampered, stale, garbled)] == [400] * 5
    assert client.get(WEBHOOK_URL).status_code == 405
    assert not StripeEvent.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_no_secret_configured_accepts_nothing(client, stripe_sim, paid, settings):
    _payment, event = paid
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(client, stripe_sim, event).status_code == 400
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_event_delivered_again_is_acknowledged_and_ignored(client, stripe_sim, paid):
    _payment, event = paid
    assert deliver(client, stripe_sim, event).status_code == 200
    entries = JournalEntry.objects.count()

    replayed = deliver(client, stripe_sim, event)

    assert replayed.status_code == 200
    assert replayed.json()["result"] == "duplicate"
    assert StripeEvent.objects.count() == 1
    assert Order.objects.count() == 1 and JournalEntry.objects.count() == entries


@pytest.mark.django_db
def test_an_event_for_an_unknown_payment_intent_creates_nothing(client, stripe_sim, radish):
    stranger = stripe_client.client().v1.payment_intents.create(
        {"amount": 1234, "currency": "cny", "payment_method_types": ["card"]}
    )
    stripe_client.client().v1.payment_intents.confirm(
        stranger.id, {"payment_method": "pm_card_visa"}
    )
    [event] = events_for(stripe_sim, stranger.id, "payment_intent.succeeded")

    response = deliver(client, stripe_sim, event)

    assert response.status_code == 200
    assert response.json()["result"] == "unknown payment"
    assert not StripeEvent.objects.exists()
    assert not StripePayment.objects.exists()
    assert not Order.objects.exists()
    assert not JournalEntry.objects.exists()


@pytest.mark.django_db
def test_failed_after_succeeded_does_not_move_the_payment_back(client, stripe_sim, paid):
    payment, event = paid
    deliver(client, stripe_sim, event)
    failed = late_event(
        event,
        "payment_intent.payment_failed",
        status="requires_payment_method",
        amount_received=0,
        last_payment_error={"code": "payment_intent_authentication_failure", "message": "x"},
    )
    canceled = late_event(event, "payment_intent.canceled", status="canceled")

    assert deliver(client, stripe_sim, failed).status_code == 200
    assert deliver(client, stripe_sim, canceled).status_code == 200

    payment.refresh_from_db()
    assert (payment.status, payment.placement) == ("succeeded", "placed")
    assert payment.amount_received == TOTAL_FEN
    assert StripeEvent.objects.count() == 3
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_processing_after_succeeded_does_not_move_the_payment_back(client, radish, stripe_sim):
    payment = start(client, [(radish, 2)], "wechat_pay")
    stripe_sim.processing(payment.intent_id)
    stripe_sim.succeed(payment.intent_id)
    [processing] = events_for(stripe_sim, payment.intent_id, "payment_intent.processing")
    [succeeded] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")

    deliver(client, stripe_sim, succeeded)
    deliver(client, stripe_sim, processing)

    payment.refresh_from_db()
    assert (payment.status, payment.placement) == ("succeeded", "placed")


@pytest.mark.django_db
def test_processing_then_failed_in_order(client, radish, stripe_sim):
    payment = start(client, [(radish, 1)], "alipay")
    stripe_sim.fail(payment.intent_id)
    [failed] = events_for(stripe_sim, payment.intent_id, "payment_intent.payment_failed")

    assert deliver(client, stripe_sim, failed).status_code == 200

    payment.refresh_from_db()
    assert (payment.status, payment.placement) == ("failed", "waiting")
    assert "authentication" in payment.last_error
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_refund_made_outside_the_shop_is_flagged_not_booked(client, stripe_sim, paid):
    payment, event = paid
    deliver(client, stripe_sim, event)
    order = Order.objects.get()
    entries = JournalEntry.objects.count()
    # Someone refunds ¥10 from Stripe's dashboard.
    stripe_client.client().v1.refunds.create({"payment_intent": payment.intent_id, "amount": 1000})
    [refunded] = [
        e
        for e in stripe_sim.events("charge.refunded")
        if e["data"]["object"]["payment_intent"] == payment.intent_id
    ]

    assert deliver(client, stripe_sim, refunded).status_code == 200

    payment.refresh_from_db()
    assert payment.amount_refunded == 1000
    assert "不是本系统发起的退款" in payment.last_error and "¥10.00" in payment.last_error
    assert OrderNote.objects.filter(order=order, message__contains="不是本系统发起的退款").exists()
    assert JournalEntry.objects.count() == entries  # no guess in the books
    assert balance("provider:stripe") == TOTAL_FEN
    assert_books_balance()


@pytest.mark.django_db
def test_our_own_automatic_refund_is_not_flagged(client, client_factory, radish, stripe_sim):
    payment = start(client, [(radish, 2)], "wechat_pay")
    other = client_factory()
    factories.guest_checkout_to_preview(other, [(radish, 10)], email="other@example.com")
    factories.place_order(other)
    stripe_sim.succeed(payment.intent_id)
    [event] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")
    deliver(client, stripe_sim, event)
    payment.refresh_from_db()
    assert payment.placement == "refused" and payment.auto_refund_id
    [refunded] = [
        e
        for e in stripe_sim.events("charge.refunded")
        if e["data"]["object"]["payment_intent"] == payment.intent_id
    ]

    assert deliver(client, stripe_sim, refunded).json()["result"] == "refund recorded"

    payment.refresh_from_db()
    assert payment.last_error == "" and payment.amount_refunded == TOTAL_FEN
    assert_books_balance()


@pytest.mark.django_db
def test_a_dispute_is_flagged_on_the_payment_and_the_order(client, stripe_sim, paid):
    payment, event = paid
    deliver(client, stripe_sim, event)
    order = Order.objects.get()
    charge = stripe_sim.payment_intent(payment.intent_id)["latest_charge"]
    stripe_sim.dispute(charge, reason="product_not_received")
    stripe_sim.close_dispute(charge, status="lost")

    for kind in ("charge.dispute.created", "charge.dispute.closed"):
        [dispute_event] = stripe_sim.events(kind)
        assert deliver(client, stripe_sim, dispute_event).status_code == 200

    payment.refresh_from_db()
    assert payment.disputed and payment.dispute_status == "lost"
    notes = list(OrderNote.objects.filter(order=order).values_list("message", flat=True))
    assert any("争议" in n and "product_not_received" in n for n in notes)
    assert any("付款争议已结束" in n and "败诉" in n for n in notes)
    # The buyer's confirmation page says so.
    assert return_page(client, payment)["Location"] == reverse("checkout:thank-you")
    thanks = client.get(reverse("checkout:thank-you")).content.decode()
    assert "付款方式：微信支付 · 有争议" in thanks


@pytest.fixture
def client_factory():
    return Client


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_the_same_succeeded_event_five_times_at_once_is_one_paid_order(client, radish, stripe_sim):
    """Issue 6 reliability: five concurrent deliveries of one succeeded
    event give one paid order and one set of ledger entries."""
    payment = start(client, [(radish, 2)], "wechat_pay")
    stripe_sim.succeed(payment.intent_id)
    [event] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")
    body, header = stripe_sim.signed(event)
    barrier = threading.Barrier(5)
    answers: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def deliver_copy():
        try:
            barrier.wait(timeout=10)
            response = Client().post(
                WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            with lock:
                answers.append((response.status_code, response.json()["result"]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_copy) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(answers) == sorted([(200, "succeeded/placed")] + [(200, "duplicate")] * 4), (
        answers
    )
    order = Order.objects.get()
    payment.refresh_from_db()
    assert (payment.placement, payment.order_id) == ("placed", order.pk)
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert sale_entries(order) == 1
    assert JournalEntry.objects.filter(reference=order.number).count() == 1
    assert order.sources.count() == 1 and order.payment_events.count() == 1
    assert balance("provider:stripe") == TOTAL_FEN
    assert_books_balance()
    assert radish.stockrecords.get().num_allocated == 2
    assert stripe_sim.counts.get("refunds_created") is None


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
def test_different_events_and_polls_at_once_place_one_order(client, radish, stripe_sim):
    """Not one event copied but several ways in at once (the webhook's
    succeeded event under different ids, the buyer's poll): the payment's
    row lock lets one of them place the order."""
    payment = start(client, [(radish, 2)], "wechat_pay")
    stripe_sim.succeed(payment.intent_id)
    [event] = events_for(stripe_sim, payment.intent_id, "payment_intent.succeeded")
    copies = [late_event(event, "payment_intent.succeeded") for _ in range(3)]
    for n, copy in enumerate(copies):
        copy["id"] = f"{event['id']}_{n}"
    session_cookie = client.cookies
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def run(action):
        try:
            barrier.wait(timeout=10)
            action()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def webhook(copy):
        body, header = stripe_sim.signed(copy)
        response = Client().post(
            WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 200, response.content

    def buyer_poll():
        buyer = Client()
        buyer.cookies = session_cookie
        response = buyer.get(
            reverse("checkout:pay-status", kwargs={"token": payment.token}), {"format": "json"}
        )
        assert response.json()["state"] == "placed", response.content

    actions = [lambda c=c: webhook(c) for c in copies] + [buyer_poll, buyer_poll]
    # As if the webhook had been quiet for a while: the polls ask Stripe too.
    StripePayment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - dt.timedelta(minutes=1)
    )
    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    order = Order.objects.get()
    assert StripeEvent.objects.count() == 3
    assert sale_entries(order) == 1
    assert order.sources.count() == 1 and order.payment_events.count() == 1
    assert radish.stockrecords.get().num_allocated == 2
    assert_books_balance()


@pytest.mark.django_db
def test_a_refund_claiming_our_metadata_without_our_record_is_flagged(client, stripe_sim, paid):
    """shop/payment/refunds.py writes its Refund before asking Stripe and
    holds the payment's lock until it commits, so the webhook always finds
    it; a refund that only carries the same metadata (made by hand with the
    API) is not ours."""
    payment, event = paid
    deliver(client, stripe_sim, event)
    stripe_client.client().v1.refunds.create(
        {
            "payment_intent": payment.intent_id,
            "amount": 2000,
            "metadata": {
                "order_number": payment.order_number,
                "refund_token": "5b0c3f0e-8d4e-4a59-9d7c-2f1f6d1f0a11",
            },
        }
    )
    [refunded] = stripe_sim.events("charge.refunded")

    assert deliver(client, stripe_sim, refunded).json()["result"] == "refund flagged"

    payment.refresh_from_db()
    assert payment.amount_refunded == 2000 and "不是本系统发起的退款" in payment.last_error
