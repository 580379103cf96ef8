"""Online payment at checkout through the real checkout (the test client)
and the local Stripe: which methods are offered, WeChat Pay's QR code and
poll, Alipay's redirect and return, a card authorised then captured once
the stock is allocated, giving a payment up, and Stripe unreachable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from logistics.models import Shipment
from shop.payment import ledger
from shop.payment.models import StripePayment
from tests import factories
from tests.payment.stripe_checkout import (
    assert_books_balance,
    balance,
    basket_lines,
    confirm_card,
    http,
    local,
    poll,
    return_page,
    sale_entries,
    start,
    submit,
    to_preview,
)

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
PaymentEvent = get_model("order", "PaymentEvent")

# 2 × ¥20 radish, 5 kg by 测试快递 (¥12 + 4 × ¥2 = ¥20): ¥60.00.
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


def offered(client) -> list[str]:
    page = client.get(reverse("checkout:payment-method"))
    assert page.status_code == 200
    return [m.code for m in page.context["form"].methods]


def test_online_methods_are_hidden_without_stripe_keys(client, radish, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    factories.guest_checkout_to_preview(client, [(radish, 1)])
    assert offered(client) == ["cod"]
    # Posting an online method anyway is refused.
    response = client.post(reverse("checkout:payment-method"), {"method": "wechat_pay"})
    assert response.status_code == 200
    assert "请选择付款方式" in response.content.decode()


def test_online_methods_are_offered_with_keys(client, radish, stripe_sim):
    factories.guest_checkout_to_preview(client, [(radish, 1)])
    assert offered(client) == ["wechat_pay", "alipay", "card", "cod"]
    text = client.get(reverse("checkout:payment-method")).content.decode()
    assert "微信支付" in text and "支付宝" in text and "银行卡" in text


def test_wechat_pay_shows_the_qr_code_and_the_poll_places_the_order_once(
    client, radish, stripe_sim, mailoutbox, django_capture_on_commit_callbacks
):
    payment = start(client, [(radish, 2)], "wechat_pay")

    # Nothing is placed before the money is there; the basket is frozen.
    assert not Order.objects.exists()
    assert payment.amount == TOTAL_FEN and payment.method == "wechat_pay"
    assert payment.basket.status == Basket.FROZEN
    intent = stripe_sim.payment_intent(payment.intent_id)
    assert intent["amount"] == TOTAL_FEN and intent["currency"] == "cny"
    assert intent["payment_method_types"] == ["wechat_pay"]
    assert intent["capture_method"] == "automatic"
    assert intent["metadata"] == {
        "order_number": payment.order_number,
        "basket_id": str(payment.basket_id),
    }
    assert intent["payment_method_options"]["wechat_pay"]["client"] == "web"

    page = client.get(reverse("checkout:pay", kwargs={"token": payment.token}))
    assert page.status_code == 200
    text = page.content.decode()
    qr = intent["next_action"]["wechat_pay_display_qr_code"]["image_data_url"]
    assert f'src="{qr}"' in text
    assert 'alt="微信支付二维码，付款 ¥60.00"' in text
    assert "扫一扫" in text and "我已付款，查看结果" in text
    assert "js.stripe.com" not in text  # Stripe.js only on the card page
    assert poll(client, payment) == {"state": "waiting", "next": None, "error": ""}

    stripe_sim.succeed(payment.intent_id)  # the buyer scans and pays
    with django_capture_on_commit_callbacks(execute=True):
        first = poll(client, payment)
        again = poll(client, payment)

    return_url = reverse("checkout:pay-return", kwargs={"token": payment.token})
    assert first == again == {"state": "placed", "next": return_url, "error": ""}
    order = Order.objects.get()
    assert order.number == payment.order_number
    assert order.total_incl_tax == Decimal("60.00") and order.guest_email == "buyer@example.com"
    # The address confirmed at the preview, rebuilt from the snapshot.
    address = order.shipping_address
    assert (address.last_name, str(address.phone_number)) == ("王小农", "+8613812345678")
    assert address.division_id == factories.GUEST_ADDRESS["division_id"]
    assert address.line1 == factories.GUEST_ADDRESS["line1"]
    payment.refresh_from_db()
    assert (payment.status, payment.placement, payment.order) == ("succeeded", "placed", order)
    assert payment.amount_received == TOTAL_FEN
    [source] = order.sources.all()
    assert source.source_type.code == "stripe-wechat_pay"
    assert source.reference == payment.intent_id
    assert source.amount_allocated == source.amount_debited == Decimal("60.00")
    assert [e.event_type.code for e in PaymentEvent.objects.filter(order=order)] == ["paid"]
    assert Shipment.objects.filter(order=order).count() == 1
    assert Basket.objects.get(pk=payment.basket_id).status == Basket.SUBMITTED
    assert sale_entries(order) == 1
    assert balance("provider:stripe") == TOTAL_FEN
    assert_books_balance()
    # Oscar's order confirmation, once, to the guest, showing the payment.
    [mail] = [m for m in mailoutbox if order.number in m.body]
    assert mail.to == ["buyer@example.com"]
    assert "付款方式：微信支付 · 已付款" in mail.body

    # The return URL shows Oscar's thank-you page with the payment state.
    response = return_page(client, payment)
    assert response.status_code == 302 and response["Location"] == reverse("checkout:thank-you")
    thanks = client.get(reverse("checkout:thank-you")).content.decode()
    assert order.number in thanks and "付款方式：微信支付 · 已付款" in thanks
    assert Order.objects.count() == 1


def test_no_script_button_shows_the_result(client, radish, stripe_sim):
    payment = start(client, [(radish, 1)], "wechat_pay")
    status_url = reverse("checkout:pay-status", kwargs={"token": payment.token})

    waiting = client.get(status_url)
    assert waiting.status_code == 200
    assert "正在确认您的付款" in waiting.content.decode()

    stripe_sim.succeed(payment.intent_id)
    done = client.get(status_url)
    assert done.status_code == 302 and done["Location"] == reverse("checkout:thank-you")
    assert Order.objects.count() == 1


def test_alipay_redirects_to_alipay_and_the_return_places_the_order(client, radish, stripe_sim):
    payment = start(client, [(radish, 2)], "alipay")
    intent = stripe_sim.payment_intent(payment.intent_id)
    assert intent["payment_method_types"] == ["alipay"] and intent["status"] == "requires_action"
    expected_return = "http://testserver" + reverse(
        "checkout:pay-return", kwargs={"token": payment.token}
    )
    assert intent["next_action"]["redirect_to_url"]["return_url"] == expected_return

    page = client.get(reverse("checkout:pay", kwargs={"token": payment.token}))
    assert page.status_code == 302
    alipay = page["Location"]
    assert alipay == intent["next_action"]["redirect_to_url"]["url"]

    # The buyer confirms on Alipay's page and is sent back.
    back = http().post(alipay + "/succeed", allow_redirects=False)
    assert back.status_code == 302
    assert back.headers["Location"].startswith(expected_return + "?payment_intent=")
    response = client.get(local(back.headers["Location"]))

    assert response.status_code == 302 and response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.sources.get().source_type.code == "stripe-alipay"
    thanks = client.get(reverse("checkout:thank-you")).content.decode()
    assert "付款方式：支付宝 · 已付款" in thanks
    # Coming back again changes nothing.
    assert client.get(local(back.headers["Location"])).status_code == 302
    assert Order.objects.count() == 1 and sale_entries(order) == 1
    assert_books_balance()


def test_alipay_cancelled_by_the_buyer_offers_to_pay_again(client, radish, stripe_sim):
    payment = start(client, [(radish, 1)], "alipay")
    alipay = client.get(reverse("checkout:pay", kwargs={"token": payment.token}))["Location"]
    back = http().post(alipay + "/fail", allow_redirects=False)

    page = client.get(local(back.headers["Location"]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "付款没有完成" in text and "重新付款" in text and "换一种付款方式" in text
    payment.refresh_from_db()
    assert payment.status == "failed" and payment.placement == "waiting"
    assert not Order.objects.exists()

    # 重新付款: the old intent is cancelled, the basket thawed, the preview again.
    response = client.post(
        reverse("checkout:pay-cancel", kwargs={"token": payment.token}), {"next": "preview"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("checkout:preview")
    assert stripe_sim.payment_intent(payment.intent_id)["status"] == "canceled"
    payment.refresh_from_db()
    assert payment.status == "canceled"
    assert Basket.objects.get(pk=payment.basket_id).status == Basket.OPEN
    assert basket_lines(client) == [("沙窝萝卜", 1)]

    second = start_again(client)
    assert second.pk != payment.pk and second.order_number != payment.order_number
    assert second.basket_id == payment.basket_id


def start_again(client) -> StripePayment:
    response = submit(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return StripePayment.objects.order_by("-pk").first()


def test_card_is_authorised_then_captured_after_the_stock_is_allocated(
    client, radish, stripe_sim, settings
):
    settings.STRIPE_JS_URL = "https://js.stripe.example/v3/"
    payment = start(client, [(radish, 2)], "card")
    intent = stripe_sim.payment_intent(payment.intent_id)
    assert intent["capture_method"] == "manual" and intent["status"] == "requires_payment_method"
    assert payment.capture_manual

    page = client.get(reverse("checkout:pay", kwargs={"token": payment.token}))
    assert page.status_code == 200
    text = page.content.decode()
    assert '<script src="https://js.stripe.example/v3/" defer></script>' in text
    assert 'data-key="pk_test_wangnong"' in text
    assert f'data-secret="{intent["client_secret"]}"' in text
    assert 'id="card-element"' in text

    # Stripe.js confirms the card: the money is held, not taken.
    held = confirm_card(stripe_sim, payment)
    assert held["status"] == "requires_capture"
    stock = radish.stockrecords.get()
    assert stock.num_allocated in (0, None)

    response = return_page(client, payment)

    assert response.status_code == 302 and response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    captured = stripe_sim.payment_intent(payment.intent_id)
    assert captured["status"] == "succeeded" and captured["amount_received"] == TOTAL_FEN
    stock.refresh_from_db()
    assert stock.num_allocated == 2
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.amount_received == TOTAL_FEN
    source = order.sources.get()
    assert source.source_type.code == "stripe-card"
    assert source.amount_debited == Decimal("60.00")
    assert [e.event_type.code for e in PaymentEvent.objects.filter(order=order).order_by("pk")] == [
        "authorised",
        "paid",
    ]
    # One capture, made with the key derived from the intent.
    assert stripe_sim.counts.get("POST /v1/payment_intents/{id}/capture") == 1
    assert "付款方式：银行卡 · 已付款" in client.get(reverse("checkout:thank-you")).content.decode()
    assert_books_balance()


def test_choosing_another_method_cancels_the_intent_and_keeps_the_basket(
    client, radish, stripe_sim
):
    payment = start(client, [(radish, 3)], "wechat_pay")
    cancel = reverse("checkout:pay-cancel", kwargs={"token": payment.token})

    response = client.post(cancel)

    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:payment-method")
    assert stripe_sim.payment_intent(payment.intent_id)["status"] == "canceled"
    payment.refresh_from_db()
    assert (payment.status, payment.placement) == ("canceled", "waiting")
    assert basket_lines(client) == [("沙窝萝卜", 3)]
    # Twice is harmless.
    assert client.post(cancel).status_code in (200, 302)
    assert stripe_sim.counts.get("POST /v1/payment_intents/{id}/cancel") == 1

    # Cash on delivery instead.
    response = client.post(reverse("checkout:payment-method"), {"method": "cod"})
    assert response.status_code == 302
    response = submit(client)
    assert response.status_code == 302 and response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.sources.get().source_type.code == "cash-on-delivery"
    assert order.number != payment.order_number
    assert_books_balance()


def test_stripe_unreachable_at_checkout_keeps_the_basket_and_makes_nothing(
    client, radish, stripe_sim
):
    to_preview(client, [(radish, 2)], "wechat_pay")
    stripe_sim.set_mode(offline=True)

    response = submit(client)

    assert response.status_code == 200
    text = response.content.decode()
    assert "暂时无法连接支付服务，请稍后再试。您的购物车已保留。" in text
    assert not StripePayment.objects.exists()
    assert not Order.objects.exists()
    basket = Basket.objects.get()
    assert basket.status == Basket.OPEN
    assert basket_lines(client) == [("沙窝萝卜", 2)]
    assert ledger.trial_balance() == 0

    # Stripe answering again: the same preview goes through.
    stripe_sim.set_mode(offline=False)
    response = submit(client)
    assert response.status_code == 302
    assert StripePayment.objects.count() == 1


def test_stripe_server_errors_at_checkout_are_an_outage_too(client, radish, stripe_sim):
    to_preview(client, [(radish, 1)], "alipay")
    stripe_sim.set_mode(fail_next=3)  # the first try and both retries

    response = submit(client)

    assert response.status_code == 200
    assert "暂时无法连接支付服务" in response.content.decode()
    assert not StripePayment.objects.exists()
    assert Basket.objects.get().status == Basket.OPEN


def test_a_changed_total_is_shown_before_any_payment(client, radish, stripe_sim):
    to_preview(client, [(radish, 1)], "wechat_pay")
    response = submit(client, shown_total="1.00")
    assert response.status_code == 302 and response["Location"] == reverse("checkout:preview")
    assert not StripePayment.objects.exists()
    assert stripe_sim.counts.get("payment_intents_created") is None


def test_only_the_buyer_sees_the_payment_pages(client, radish, stripe_sim, django_user_model):
    from django.test import Client

    payment = start(client, [(radish, 1)], "wechat_pay")
    stranger = Client()
    for name in ("checkout:pay", "checkout:pay-return", "checkout:pay-status"):
        assert stranger.get(reverse(name, kwargs={"token": payment.token})).status_code == 404
    assert (
        stranger.post(reverse("checkout:pay-cancel", kwargs={"token": payment.token})).status_code
        == 404
    )
    assert stripe_sim.payment_intent(payment.intent_id)["status"] == "requires_action"


def test_a_signed_in_buyer_sees_the_payment_state_on_the_order_page(
    client, radish, stripe_sim, django_user_model
):
    user = django_user_model.objects.create_user(
        username="wang", email="wang@example.com", password="pw-12345678"
    )
    client.force_login(user)
    for product, quantity in [(radish, 1)]:
        factories.add_to_basket(client, product, quantity)
    factories.set_shipping_address(client)
    assert client.get(reverse("checkout:shipping-method")).status_code == 302
    client.post(reverse("checkout:payment-method"), {"method": "wechat_pay"})
    response = submit(client)
    assert response.status_code == 302
    payment = StripePayment.objects.get()
    assert payment.user == user

    stripe_sim.succeed(payment.intent_id)
    assert poll(client, payment)["state"] == "placed"

    order = Order.objects.get()
    assert order.user == user
    page = client.get(reverse("customer:order", kwargs={"order_number": order.number}))
    assert page.status_code == 200
    assert "付款方式：微信支付 · 已付款" in page.content.decode()


def test_the_poll_leaves_a_fresh_payment_to_the_webhook(client, radish, stripe_sim):
    """Every two seconds the QR page polls; it asks Stripe only once the
    payment has been quiet for a while (a lost webhook), not each time."""
    payment = start(client, [(radish, 2)], "wechat_pay")
    client.get(reverse("checkout:pay", kwargs={"token": payment.token}))
    asked = stripe_sim.counts.get("requests", 0)
    for _ in range(3):
        assert poll(client, payment, quiet=False)["state"] == "waiting"
    assert stripe_sim.counts.get("requests", 0) == asked
    stripe_sim.succeed(payment.intent_id)
    # No webhook here: once quiet, the poll asks Stripe and places the order.
    assert poll(client, payment)["state"] == "placed"
    assert stripe_sim.counts.get("requests", 0) > asked
