"""The local Stripe, driven through stripe-python exactly as the shop drives
it (``stripe_client.client()`` with the settings the ``stripe_sim`` fixture
sets), so what these tests pin down is what the shop's code will see."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe

from shop.payment import stripe_client
from shop.payment.stripe_client import StripeUnavailable, call
from shop.payment.stripe_simulator import StripeSimulator
from tests.stripe_fixtures import WEBHOOK_SECRET


def api():
    return stripe_client.client().v1


def http():
    session = requests.Session()
    session.trust_env = False
    return session


def card_intent(amount=1500, capture_method="automatic", **extra):
    return api().payment_intents.create(
        {
            "amount": amount,
            "currency": "cny",
            "payment_method_types": ["card"],
            "capture_method": capture_method,
            **extra,
        }
    )


def paid_card_intent(amount=1500):
    intent = card_intent(amount)
    return api().payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})


class Receiver:
    """A site's webhook endpoint: records every delivery, answers with the
    statuses queued in ``answers`` (then 200)."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.received: list[tuple[dict, bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/payments/stripe/webhook/"

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(body) for _headers, body in self.received]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    site = Receiver()
    yield site
    site.stop()


# -- PaymentIntents --------------------------------------------------------------------
def test_the_same_idempotency_key_creates_one_payment_intent(stripe_sim):
    params = {
        "amount": 2350,
        "currency": "cny",
        "payment_method_types": ["card", "alipay", "wechat_pay"],
        "metadata": {"basket": "17"},
    }
    first = api().payment_intents.create(params, {"idempotency_key": "basket-17-2350"})
    again = api().payment_intents.create(params, {"idempotency_key": "basket-17-2350"})

    assert again.id == first.id
    assert again.client_secret == first.client_secret
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert stripe_sim.counts["payment_intents_created"] == 1
    assert first.object == "payment_intent" and first.livemode is False
    assert first.status == "requires_payment_method"
    assert first.metadata.to_dict() == {"basket": "17"}
    assert first.payment_method_types == ["card", "alipay", "wechat_pay"]
    assert len(stripe_sim.events("payment_intent.created")) == 1

    with pytest.raises(stripe.IdempotencyError) as refused:
        api().payment_intents.create(
            {**params, "amount": 2400}, {"idempotency_key": "basket-17-2350"}
        )
    assert refused.value.http_status == 400
    assert "same parameters" in refused.value.user_message
    assert stripe_sim.counts["payment_intents_created"] == 1


def test_bad_parameters_are_refused_like_stripe(stripe_sim):
    with pytest.raises(stripe.InvalidRequestError) as fraction:
        api().payment_intents.create({"amount": "12.5", "currency": "cny"})
    assert fraction.value.code == "parameter_invalid_integer"
    assert fraction.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as no_currency:
        api().payment_intents.create({"amount": 100})
    assert no_currency.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        api().payment_intents.retrieve("pi_doesnotexist")
    assert unknown.value.http_status == 404
    assert unknown.value.code == "resource_missing"
    # Parameters are checked before anything runs: a corrected retry with
    # the same key is not an idempotency error.
    with pytest.raises(stripe.InvalidRequestError):
        api().payment_intents.create({"amount": "x", "currency": "cny"}, {"idempotency_key": "k"})
    assert (
        api()
        .payment_intents.create({"amount": 100, "currency": "cny"}, {"idempotency_key": "k"})
        .amount
        == 100
    )


def test_a_card_payment_succeeds_at_once_with_automatic_capture(stripe_sim):
    intent = paid_card_intent(1500)

    assert intent.status == "succeeded"
    assert intent.amount_received == 1500
    charge = api().charges.retrieve(intent.latest_charge, {"expand": ["balance_transaction"]})
    assert charge.object == "charge" and charge.paid and charge.captured
    assert charge.payment_intent == intent.id
    assert charge.payment_method_details.type == "card"
    assert charge.payment_method_details.card.last4 == "4242"
    txn = charge.balance_transaction
    assert (txn.type, txn.amount, txn.fee, txn.net) == ("charge", 1500, 33, 1467)
    assert txn.source == charge.id
    types = [e["type"] for e in stripe_sim.events()]
    assert types == ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]


def test_a_declined_card_leaves_the_intent_awaiting_another_method(stripe_sim):
    intent = card_intent(800)
    with pytest.raises(stripe.CardError) as declined:
        api().payment_intents.confirm(intent.id, {"payment_method": "pm_card_chargeDeclined"})

    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "generic_decline"
    current = api().payment_intents.retrieve(intent.id)
    assert current.status == "requires_payment_method"
    assert current.last_payment_error.code == "card_declined"
    failed = stripe_sim.events("payment_intent.payment_failed")
    assert [e["data"]["object"]["id"] for e in failed] == [intent.id]
    assert stripe_sim.balance_transactions() == []
    # The buyer tries another card.
    paid = api().payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert paid.status == "succeeded"


def test_manual_capture_holds_then_captures(stripe_sim):
    intent = card_intent(3000, capture_method="manual")
    held = api().payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})

    assert held.status == "requires_capture"
    assert held.amount_capturable == 3000 and held.amount_received == 0
    assert stripe_sim.balance_transactions() == []  # nothing moves until capture
    assert [e["type"] for e in stripe_sim.events()][-1] == (
        "payment_intent.amount_capturable_updated"
    )

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        api().payment_intents.capture(intent.id, {"amount_to_capture": 3001})
    assert too_much.value.code == "amount_too_large"

    captured = api().payment_intents.capture(intent.id, {"amount_to_capture": 2500})
    assert captured.status == "succeeded"
    assert captured.amount_received == 2500 and captured.amount_capturable == 0
    charge = api().charges.retrieve(captured.latest_charge)
    assert charge.amount_captured == 2500
    assert charge.amount_refunded == 500  # the rest of the hold is released
    [txn] = stripe_sim.balance_transactions()
    assert (txn["type"], txn["amount"], txn["source"]) == ("charge", 2500, charge.id)
    assert stripe_sim.events()[-1]["type"] == "payment_intent.succeeded"

    with pytest.raises(stripe.InvalidRequestError) as twice:
        api().payment_intents.capture(intent.id)
    assert twice.value.code == "payment_intent_unexpected_state"


def test_cancel(stripe_sim):
    intent = card_intent(1200, capture_method="manual")
    api().payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})

    canceled = api().payment_intents.cancel(intent.id, {"cancellation_reason": "abandoned"})

    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "abandoned"
    assert canceled.canceled_at
    charge = api().charges.retrieve(canceled.latest_charge)
    assert charge.refunded and charge.amount_refunded == 1200 and not charge.captured
    assert stripe_sim.balance_transactions() == []
    assert stripe_sim.events()[-1]["type"] == "payment_intent.canceled"

    paid = paid_card_intent()
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api().payment_intents.cancel(paid.id)
    assert refused.value.code == "payment_intent_unexpected_state"


def test_updating_metadata(stripe_sim):
    intent = card_intent(metadata={"basket": "3", "drop": "me"})
    updated = api().payment_intents.update(
        intent.id, {"metadata": {"order_number": "250101000001", "drop": ""}}
    )
    assert updated.metadata.to_dict() == {"basket": "3", "order_number": "250101000001"}
    paid = api().payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert api().charges.retrieve(paid.latest_charge).metadata["order_number"] == "250101000001"
    with pytest.raises(stripe.InvalidRequestError):
        api().payment_intents.update(intent.id, {"amount": 10})


# -- Alipay and WeChat Pay ---------------------------------------------------------------
def alipay_intent(amount=2000):
    intent = api().payment_intents.create(
        {"amount": amount, "currency": "cny", "payment_method_types": ["alipay"]}
    )
    return api().payment_intents.confirm(
        intent.id,
        {
            "payment_method_data": {"type": "alipay"},
            "return_url": "http://127.0.0.1:8000/checkout/stripe/return/?basket=9",
        },
    )


def test_alipay_redirects_to_a_test_page_and_back(stripe_sim):
    intent = alipay_intent(2000)

    assert intent.status == "requires_action"
    action = intent.next_action
    assert action.type == "redirect_to_url"
    assert action.redirect_to_url.return_url == (
        "http://127.0.0.1:8000/checkout/stripe/return/?basket=9"
    )
    page = http().get(action.redirect_to_url.url)
    assert page.status_code == 200
    assert "支付宝 测试付款" in page.text and "¥20.00" in page.text
    assert "确认付款" in page.text and "取消" in page.text

    back = http().post(action.redirect_to_url.url + "/succeed", allow_redirects=False)

    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    assert location.path == "/checkout/stripe/return/"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query == {
        "basket": "9",
        "payment_intent": intent.id,
        "payment_intent_client_secret": intent.client_secret,
        "redirect_status": "succeeded",
    }
    paid = api().payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert paid.status == "succeeded" and paid.amount_received == 2000
    assert paid.latest_charge.payment_method_details.type == "alipay"
    [txn] = stripe_sim.balance_transactions()
    assert (txn["amount"], txn["fee"], txn["net"]) == (2000, 44, 1956)
    assert [e["type"] for e in stripe_sim.events()][-3:] == [
        "payment_intent.requires_action",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    # Coming back to the page later only redirects again.
    again = http().get(action.redirect_to_url.url, allow_redirects=False)
    assert again.status_code == 302 and "redirect_status=succeeded" in again.headers["Location"]


def test_alipay_cancelled_by_the_buyer(stripe_sim):
    intent = alipay_intent()
    back = http().post(intent.next_action.redirect_to_url.url + "/fail", allow_redirects=False)

    assert "redirect_status=failed" in back.headers["Location"]
    failed = api().payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    assert stripe_sim.events()[-1]["type"] == "payment_intent.payment_failed"
    assert stripe_sim.balance_transactions() == []


def test_alipay_needs_a_return_url(stripe_sim):
    intent = api().payment_intents.create(
        {"amount": 500, "currency": "cny", "payment_method_types": ["alipay"]}
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api().payment_intents.confirm(intent.id, {"payment_method_data": {"type": "alipay"}})
    assert refused.value.param == "return_url"


def test_alipay_does_not_do_manual_capture(stripe_sim):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api().payment_intents.create(
            {
                "amount": 500,
                "currency": "cny",
                "payment_method_types": ["card", "alipay"],
                "capture_method": "manual",
            }
        )
    assert refused.value.param == "capture_method"


def test_wechat_pay_shows_a_qr_code_until_the_buyer_scans(stripe_sim):
    intent = api().payment_intents.create(
        {
            "amount": 4210,
            "currency": "cny",
            "payment_method_types": ["wechat_pay"],
            "payment_method_options": {"wechat_pay": {"client": "web"}},
        }
    )
    shown = api().payment_intents.confirm(
        intent.id, {"payment_method_data": {"type": "wechat_pay"}}
    )

    assert shown.status == "requires_action"
    assert shown.next_action.type == "wechat_pay_display_qr_code"
    qr = shown.next_action.wechat_pay_display_qr_code
    assert set(qr.to_dict()) == {
        "data",
        "hosted_instructions_url",
        "image_data_url",
        "image_url_png",
        "image_url_svg",
    }
    assert qr.data.startswith("weixin://wxpay/bizpayurl?pr=")
    prefix = "data:image/png;base64,"
    assert qr.image_data_url.startswith(prefix)
    assert base64.b64decode(qr.image_data_url[len(prefix) :]).startswith(b"\x89PNG")
    png = http().get(qr.image_url_png)
    assert png.headers["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert b"<svg" in http().get(qr.image_url_svg).content
    assert "微信支付" in http().get(qr.hosted_instructions_url).text

    # Polling before the scan: still waiting.
    assert api().payment_intents.retrieve(intent.id).status == "requires_action"
    # The scan, through the control endpoint.
    scanned = http().post(f"{stripe_sim.base_url}/_control/payment_intents/{intent.id}/succeed")
    assert scanned.status_code == 200 and scanned.json()["status"] == "succeeded"

    assert api().payment_intents.retrieve(intent.id).status == "succeeded"
    assert stripe_sim.events()[-1]["type"] == "payment_intent.succeeded"
    assert stripe_sim.events()[-1]["request"] == {"id": None, "idempotency_key": None}


def test_wechat_pay_needs_the_client_option(stripe_sim):
    intent = api().payment_intents.create(
        {"amount": 100, "currency": "cny", "payment_method_types": ["wechat_pay"]}
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api().payment_intents.confirm(intent.id, {"payment_method_data": {"type": "wechat_pay"}})
    assert refused.value.param == "payment_method_options[wechat_pay][client]"
    shown = api().payment_intents.confirm(
        intent.id,
        {
            "payment_method_data": {"type": "wechat_pay"},
            "payment_method_options": {"wechat_pay": {"client": "web"}},
        },
    )
    assert shown.status == "requires_action"


def test_processing_then_failed(stripe_sim):
    intent = api().payment_intents.create(
        {
            "amount": 100,
            "currency": "cny",
            "payment_method_types": ["wechat_pay"],
            "payment_method_options": {"wechat_pay": {"client": "web"}},
        }
    )
    api().payment_intents.confirm(intent.id, {"payment_method_data": {"type": "wechat_pay"}})
    assert stripe_sim.processing(intent.id)["status"] == "processing"
    assert stripe_sim.fail(intent.id)["status"] == "requires_payment_method"
    assert [e["type"] for e in stripe_sim.events()][-2:] == [
        "payment_intent.processing",
        "payment_intent.payment_failed",
    ]


# -- refunds and disputes -----------------------------------------------------------------
def test_refunds_cannot_exceed_what_was_captured(stripe_sim):
    intent = paid_card_intent(1000)

    part = api().refunds.create(
        {"payment_intent": intent.id, "amount": 300, "metadata": {"refund": "1"}},
        {"idempotency_key": "refund-1"},
    )
    assert part.object == "refund" and part.status == "succeeded"
    assert (part.amount, part.payment_intent) == (300, intent.id)
    replayed = api().refunds.create(
        {"payment_intent": intent.id, "amount": 300, "metadata": {"refund": "1"}},
        {"idempotency_key": "refund-1"},
    )
    assert replayed.id == part.id

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        api().refunds.create({"payment_intent": intent.id, "amount": 701})
    assert too_much.value.code == "amount_too_large"
    assert too_much.value.param == "amount"

    rest = api().refunds.create({"payment_intent": intent.id})
    assert rest.amount == 700
    with pytest.raises(stripe.InvalidRequestError) as again:
        api().refunds.create({"charge": intent.latest_charge, "amount": 1})
    assert again.value.code == "charge_already_refunded"

    charge = api().charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == 1000 and charge.refunded
    refund_txns = [t for t in stripe_sim.balance_transactions() if t["type"] == "refund"]
    assert sorted(t["amount"] for t in refund_txns) == [-700, -300]
    assert {t["source"] for t in refund_txns} == {part.id, rest.id}
    assert api().refunds.retrieve(part.id).balance_transaction in {t["id"] for t in refund_txns}
    assert len(stripe_sim.events("charge.refunded")) == 2
    assert len(stripe_sim.events("refund.created")) == 2
    last = stripe_sim.events("charge.refunded")[-1]["data"]
    assert last["object"]["amount_refunded"] == 1000
    assert last["previous_attributes"]["amount_refunded"] == 300


def test_an_unpaid_intent_cannot_be_refunded(stripe_sim):
    intent = card_intent()
    with pytest.raises(stripe.InvalidRequestError):
        api().refunds.create({"payment_intent": intent.id})


def test_a_dispute_withdraws_the_money_and_a_win_gives_it_back(stripe_sim):
    intent = paid_card_intent(5000)
    dispute = stripe_sim.dispute(intent.latest_charge)

    assert dispute["object"] == "dispute" and dispute["status"] == "needs_response"
    assert dispute["amount"] == 5000 and dispute["payment_intent"] == intent.id
    created = stripe_sim.events("charge.dispute.created")
    assert [e["data"]["object"]["id"] for e in created] == [dispute["id"]]
    withdrawal = stripe_sim.balance_transactions()[0]
    assert (withdrawal["type"], withdrawal["amount"]) == ("adjustment", -5000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        api().refunds.create({"payment_intent": intent.id})
    assert refused.value.code == "charge_disputed"

    closed = http().post(
        f"{stripe_sim.base_url}/_control/charges/{intent.latest_charge}/dispute/close?status=won"
    )
    assert closed.json()["status"] == "won"
    assert stripe_sim.events()[-1]["type"] == "charge.dispute.closed"
    assert stripe_sim.balance_transactions()[0]["amount"] == 5000


# -- webhooks ---------------------------------------------------------------------------------
def test_webhooks_are_signed_with_stripes_scheme(stripe_sim, receiver, settings):
    stripe_sim.webhook_url = receiver.url
    intent = paid_card_intent(1500)
    assert stripe_sim.wait_for_webhooks()

    assert [e["type"] for e in receiver.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    headers, body = receiver.received[-1]
    event = stripe_client.construct_event(body, headers["Stripe-Signature"])
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent.id
    assert event.data.object.status == "succeeded"
    assert event.id.startswith("evt_") and event.object == "event"
    assert event.livemode is False and event.api_version
    assert event.request.idempotency_key  # stripe-python's own key for the confirm

    tampered = body.replace(b'"amount": 1500', b'"amount": 1')
    assert tampered != body
    with pytest.raises(stripe.SignatureVerificationError):
        stripe_client.construct_event(tampered, headers["Stripe-Signature"])
    with pytest.raises(stripe.SignatureVerificationError):
        stripe_client.construct_event(body, stripe_sim.sign(body, secret="whsec_forged"))
    stale = stripe_sim.sign(body, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe_client.construct_event(body, stale)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe_client.construct_event(body, "")
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(stripe.SignatureVerificationError):
        stripe_client.construct_event(body, headers["Stripe-Signature"])


def test_events_can_be_signed_for_tests_that_post_them_themselves(stripe_sim):
    paid_card_intent()
    event = stripe_sim.events("payment_intent.succeeded")[0]
    body, header = stripe_sim.signed(event)
    assert stripe.Webhook.construct_event(body, header, WEBHOOK_SECRET).id == event["id"]


def test_failed_deliveries_are_retried_and_duplicates_sent_on_request(stripe_sim, receiver):
    receiver.answers = [500, 503]
    stripe_sim.webhook_url = receiver.url
    intent = card_intent()
    assert stripe_sim.wait_for_webhooks()
    assert [e["id"] for e in receiver.events()] == [stripe_sim.events()[0]["id"]] * 3
    assert [d["status"] for d in stripe_sim.deliveries] == [500, 503, 200]

    stripe_sim.set_webhooks(duplicate=3)
    api().payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert stripe_sim.wait_for_webhooks()
    succeeded = [e for e in receiver.events() if e["type"] == "payment_intent.succeeded"]
    assert len(succeeded) == 3 and len({e["id"] for e in succeeded}) == 1

    stripe_sim.set_webhooks(duplicate=1, paused=True)
    api().refunds.create({"payment_intent": intent.id})
    time.sleep(0.2)
    assert not [e for e in receiver.events() if e["type"] == "charge.refunded"]
    stripe_sim.set_webhooks(paused=False)
    assert stripe_sim.wait_for_webhooks()
    assert [e for e in receiver.events() if e["type"] == "charge.refunded"]

    before = len(receiver.received)
    resent = http().post(f"{stripe_sim.base_url}/_control/resend").json()["queued"]
    assert stripe_sim.wait_for_webhooks()
    assert len(receiver.received) == before + resent == before + len(stripe_sim.events())


# -- outages ---------------------------------------------------------------------------------
def test_server_errors_become_stripe_unavailable(stripe_sim):
    stripe_sim.set_mode(fail_next=3)  # the first try and both retries
    with pytest.raises(StripeUnavailable) as unavailable:
        call(api().payment_intents.create, {"amount": 100, "currency": "cny"})
    assert "支付服务" in str(unavailable.value)
    assert isinstance(unavailable.value.cause, stripe.APIError)
    assert stripe_sim.counts.get("payment_intents_created", 0) == 0

    # One failure is absorbed by stripe-python's retry, with the same key.
    stripe_sim.set_mode(fail_next=1)
    intent = call(api().payment_intents.create, {"amount": 100, "currency": "cny"})
    assert intent.status == "requires_payment_method"
    assert stripe_sim.counts["payment_intents_created"] == 1


def test_card_errors_are_not_outages(stripe_sim):
    intent = card_intent()
    with pytest.raises(stripe.CardError):
        call(api().payment_intents.confirm, intent.id, {"payment_method": "pm_card_chargeDeclined"})
    with pytest.raises(stripe.InvalidRequestError):
        call(api().payment_intents.retrieve, "pi_missing")


def test_a_lost_answer_is_replayed_on_retry_and_a_hang_is_an_outage(stripe_sim, settings):
    settings.STRIPE_TIMEOUT = 0.5
    stripe_sim.set_mode(hang_next=1, hang_seconds=1.5)
    intent = call(
        api().payment_intents.create,
        {"amount": 100, "currency": "cny"},
        {"idempotency_key": "basket-1-100"},
    )
    assert intent.last_response.headers["Idempotent-Replayed"] == "true"
    assert stripe_sim.counts["payment_intents_created"] == 1

    stripe_sim.set_mode(hang_next=3)
    with pytest.raises(StripeUnavailable) as unavailable:
        call(api().payment_intents.retrieve, intent.id)
    assert isinstance(unavailable.value.cause, stripe.APIConnectionError)


def test_offline_and_wrong_keys_are_outages(stripe_sim, settings):
    stripe_sim.set_mode(offline=True)
    with pytest.raises(StripeUnavailable):
        call(api().payment_intents.create, {"amount": 100, "currency": "cny"})
    stripe_sim.set_mode(offline=False)
    assert call(api().payment_intents.create, {"amount": 100, "currency": "cny"}).amount == 100

    settings.STRIPE_SECRET_KEY = "sk_test_revoked"
    with pytest.raises(StripeUnavailable) as unavailable:
        call(api().payment_intents.create, {"amount": 100, "currency": "cny"})
    assert isinstance(unavailable.value.cause, stripe.AuthenticationError)


def test_control_mode_endpoint(stripe_sim):
    answer = http().post(f"{stripe_sim.base_url}/_control/mode", json={"fail_next": 5})
    assert answer.json()["fail_next"] == 5
    with pytest.raises(StripeUnavailable):
        call(api().payment_intents.create, {"amount": 100, "currency": "cny"})
    state = http().get(f"{stripe_sim.base_url}/_control/state").json()
    assert state["mode"]["fail_next"] == 2


def test_is_configured(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert not stripe_client.is_configured()
    with pytest.raises(StripeUnavailable):
        stripe_client.client()
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    assert stripe_client.is_configured()


# -- balance transactions --------------------------------------------------------------------
def test_balance_transactions_are_listed_newest_first_in_pages(stripe_sim):
    start = int(time.time()) - 10 * 86400
    clock = itertools.count(start, 60)
    stripe_sim.clock = lambda: next(clock)
    intents = [paid_card_intent(1000 + i) for i in range(5)]
    for intent in intents[:2]:
        api().refunds.create({"payment_intent": intent.id, "amount": 100})
    everything = stripe_sim.balance_transactions()
    assert len(everything) == 7

    page = api().balance_transactions.list({"limit": 3})
    assert page.object == "list" and page.url == "/v1/balance_transactions"
    assert len(page.data) == 3 and page.has_more
    assert [t.id for t in page.data] == [t["id"] for t in everything[:3]]
    walked = [t.id for t in page.auto_paging_iter()]
    assert walked == [t["id"] for t in everything]
    created = [t["created"] for t in everything]
    assert created == sorted(created, reverse=True)

    second = api().balance_transactions.list({"limit": 3, "starting_after": page.data[-1].id})
    assert [t.id for t in second.data] == [t["id"] for t in everything[3:6]]

    refunds = api().balance_transactions.list({"type": "refund"})
    assert [t.type for t in refunds.data] == ["refund", "refund"] and not refunds.has_more

    middle = everything[3]["created"]
    window = api().balance_transactions.list(
        {"created": {"gte": middle, "lt": everything[1]["created"]}, "limit": 100}
    )
    assert [t.id for t in window.data] == [t["id"] for t in everything[2:4]]

    expanded = api().balance_transactions.list({"limit": 1, "expand": ["data.source"]})
    assert expanded.data[0].source.object == "refund"
    one = api().balance_transactions.retrieve(everything[-1]["id"])
    assert one.source == api().payment_intents.retrieve(intents[0].id).latest_charge


def test_concurrent_requests_with_one_key_create_one_intent(stripe_sim):
    results, errors = [], []

    def create():
        try:
            intent = api().payment_intents.create(
                {"amount": 990, "currency": "cny"}, {"idempotency_key": "basket-5-990"}
            )
            results.append(intent.id)
        except stripe.StripeError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert len(results) == 6 and len(set(results)) == 1
    assert stripe_sim.counts["payment_intents_created"] == 1


def test_the_publishable_key_reads_only_with_the_client_secret(stripe_sim):
    intent = card_intent()
    url = f"{stripe_sim.base_url}/v1/payment_intents/{intent.id}"
    auth = {"Authorization": "Bearer pk_test_wangnong"}
    ok = http().get(url, params={"client_secret": intent.client_secret}, headers=auth)
    assert ok.status_code == 200 and ok.json()["id"] == intent.id
    assert (
        http().get(url, params={"client_secret": "pi_x_secret_y"}, headers=auth).status_code == 401
    )
    assert http().get(url, headers=auth).status_code == 401
    unsigned = http().get(url)
    assert unsigned.status_code == 401
    assert unsigned.json()["error"]["type"] == "invalid_request_error"


def test_a_new_simulator_on_a_stopped_ones_port_answers_alone(settings):
    from tests.stripe_fixtures import new_simulator, point_settings_at

    first = new_simulator()
    point_settings_at(settings, first)
    intent = card_intent()  # leaves a kept-alive connection in the client's pool
    port = first.server.server_address[1]
    first.stop()
    second = StripeSimulator(
        first.api_key, first.webhook_secret, port=port, publishable_key=first.publishable_key
    ).start()
    try:
        assert second.base_url == first.base_url  # the same cached client
        with pytest.raises(stripe.InvalidRequestError) as unknown:
            api().payment_intents.retrieve(intent.id)
        assert unknown.value.code == "resource_missing"
    finally:
        second.stop()
