"""Paying online at 360 px (issue 6, Done means): a guest pays by WeChat
Pay's QR code and a signed-in buyer by Alipay's redirect, against the local
Stripe server (shop/payment/stripe_simulator.py over loopback); the signed
webhooks reach the live server and the orders show as paid.

Card payment needs Stripe.js from the network, so it is covered by the
service tests (tests/payment/test_checkout_stripe.py) instead."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from oscar.core.loading import get_model
from playwright.sync_api import expect

from shop.payment import ledger
from shop.payment.models import JournalEntry, StripeEvent, StripePayment
from tests.browser import flows
from tests.stripe_fixtures import new_simulator, point_settings_at

Order = get_model("order", "Order")

BUYER = "alipay-buyer@example.cn"
PASSWORD = "wangnong-buyer-2026"
PAID = re.compile(r"付款方式：(微信支付|支付宝) · 已付款")


@pytest.fixture
def stripe_server(live_server, settings):
    """Stripe's API on a free loopback port, sending its signed events to
    the live server's webhook; the site's Stripe settings point at it."""
    sim = new_simulator(webhook_url=live_server.url + "/payments/stripe/webhook/")
    point_settings_at(settings, sim)
    yield sim
    sim.stop()


@pytest.fixture
def buyer():
    User = get_user_model()
    user = User.objects.filter(email=BUYER).first()
    if user is None:
        user = User.objects.create_user(BUYER, BUYER, PASSWORD)
    return user


def wait_for(predicate, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def to_payment_method(page) -> None:
    """From the basket, the delivery address in 西青区辛口镇 and on to the
    payment-method step."""
    expect(page.get_by_role("heading", level=1)).to_have_text("收货地址")
    flows.fill_contact(page)
    flows.choose_division_with_js(page)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)
    flows.choose_shipping_if_asked(page)


def choose_and_submit(page, method: str) -> StripePayment:
    page.get_by_role("radio", name=re.compile(f"^{method}")).check()
    page.get_by_role("button", name="继续，确认订单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("确认订单")
    before = set(StripePayment.objects.values_list("pk", flat=True))
    page.get_by_role("button", name="提交订单").click()
    return wait_for(lambda: StripePayment.objects.exclude(pk__in=before).first())


def paid_by_webhook(sim, payment: StripePayment) -> Order:
    """The succeeded event was delivered, verified and recorded; the payment
    has its one order."""
    assert sim.wait_for_webhooks(20)
    wait_for(
        lambda: StripeEvent.objects.filter(
            intent_id=payment.intent_id, type="payment_intent.succeeded"
        ).exists()
    )
    payment.refresh_from_db()
    assert payment.status == StripePayment.Status.SUCCEEDED
    assert payment.placement == StripePayment.Placement.PLACED
    order = Order.objects.get(number=payment.order_number)
    assert payment.order_id == order.pk
    assert JournalEntry.objects.filter(kind="sale", reference=order.number).count() == 1
    assert ledger.trial_balance() == 0
    return order


def test_guest_pays_by_wechat_qr_code_and_the_order_is_paid(new_page, stripe_server):
    page = new_page()
    orders_before = Order.objects.count()
    flows.buy_radish(page, quantity=1)
    flows.go_to_basket(page)
    flows.start_guest_checkout(page, email="wechat-guest@example.cn")
    to_payment_method(page)
    payment = choose_and_submit(page, "微信支付")

    # The QR code to scan, the amount, and the page waiting for the payment.
    expect(page.get_by_role("heading", level=1)).to_have_text("微信支付付款")
    qr = page.get_by_role("img", name=re.compile("微信支付二维码"))
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/png;base64,")
    expect(page.get_by_role("main")).to_contain_text(f"¥{ledger.from_fen(payment.amount)}")
    expect(page.get_by_role("status")).to_contain_text("等待付款")
    assert payment.method == "wechat_pay" and payment.order_id is None
    intent = stripe_server.payment_intent(payment.intent_id)
    assert intent["status"] == "requires_action"
    assert intent["amount"] == payment.amount and intent["currency"] == "cny"

    # The buyer scans and pays in WeChat: Stripe's signed webhook reaches
    # the site, and the page's poll takes the buyer to the thank-you page.
    stripe_server.succeed(payment.intent_id)
    expect(page.get_by_role("heading", level=1)).to_have_text("订单已提交，谢谢！")
    order = paid_by_webhook(stripe_server, payment)
    expect(page.get_by_role("main")).to_contain_text(order.number)
    expect(page.get_by_role("main")).to_contain_text(PAID)
    assert Order.objects.count() == orders_before + 1
    assert order.sources.get().source_type.code == "stripe-wechat_pay"
    assert page.js_errors == []
    assert page.server_errors == []


def test_signed_in_buyer_pays_by_alipay_redirect_and_the_order_is_paid(
    new_page, stripe_server, buyer
):
    page = new_page()
    page.goto("/accounts/login/")
    form = page.locator("#login_form")
    form.get_by_label("电子邮件地址").fill(BUYER)
    form.get_by_label("密码").fill(PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("登录")

    flows.buy_radish(page, quantity=2)
    flows.go_to_basket(page)
    page.get_by_role("link", name="去结算").click()
    to_payment_method(page)
    payment = choose_and_submit(page, "支付宝")

    # Off to "Alipay" (the local Stripe's stand-in page), then back.
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_server.base_url)}/_pay/alipay/"))
    expect(page.locator("body")).to_contain_text("支付宝")
    page.locator("#authorize").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("订单已提交，谢谢！")
    order = paid_by_webhook(stripe_server, payment)
    assert order.user_id == buyer.pk
    assert order.sources.get().source_type.code == "stripe-alipay"
    assert stripe_server.payment_intent(payment.intent_id)["status"] == "succeeded"

    # The buyer's order page says it is paid.
    page.goto(f"/accounts/orders/{order.number}/")
    expect(page.get_by_role("main")).to_contain_text(PAID)
    assert page.js_errors == []
    assert page.server_errors == []
