"""The refund pages: the staff dashboard (an order's refund page, the
payments overview, the link from Oscar's order page), the cooperative
portal's refund form on its order page, and the buyer's order page."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from shop.payment import refunds
from shop.payment.models import Refund, StripePayment
from tests.cooperatives.conftest import manager_of, member_of
from tests.payment.refund_orders import cod_order, cooperatives, produce, stripe_order

pytestmark = pytest.mark.django_db

User = get_model("auth", "User")


@pytest.fixture
def shop(china, carriers):
    radish_coop, crab_coop = cooperatives()
    return {**produce(radish_coop, crab_coop), "radish_coop": radish_coop, "crab_coop": crab_coop}


@pytest.fixture
def staff(db):
    return User.objects.create_user("finance", "finance@example.com", "pw-123", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def order(shop):
    return cod_order([(shop["radish"], 2), (shop["crab"], 1)])


def lines_of(order):
    return {line.title: line for line in order.lines.order_by("pk")}


def refund_url(order) -> str:
    return reverse("payments-dashboard:refund", kwargs={"number": order.number})


def token_in(html: str) -> str:
    return re.search(r'name="token" value="([0-9a-f-]+)"', html).group(1)


def form_data(page_html: str, **fields) -> dict:
    data = {"token": token_in(page_html), "reason": "萝卜有破损"}
    data.update(fields)
    return data


# --- Staff -------------------------------------------------------------------------


def test_staff_see_what_each_line_paid_and_can_refund(staff_client, order):
    radish, crab = lines_of(order).values()
    page = staff_client.get(refund_url(order))
    assert page.status_code == 200
    html = page.content.decode()
    assert "沙窝萝卜" in html and "七里海河蟹" in html
    assert "¥40.00" in html and "¥88.00" in html
    assert f'name="line_{radish.pk}"' in html and 'name="shipping"' in html
    assert "全额退款" in html

    response = staff_client.post(
        refund_url(order), form_data(html, **{f"line_{radish.pk}": "12.50"}), follow=True
    )
    assert response.redirect_chain[-1][0] == refund_url(order)
    refund = Refund.objects.get(order=order)
    assert refund.amount == 1250 and refund.via == Refund.Via.UNCOLLECTED
    assert list(refund.lines.values_list("line_id", "amount")) == [(radish.pk, 1250)]
    html = response.content.decode()
    assert "已退款 ¥12.50" in html
    assert "萝卜有破损" in html  # in the refunds table
    # A fresh token for the next refund.
    assert token_in(html) != str(refund.token)


def test_the_same_form_posted_twice_is_one_refund(staff_client, order):
    radish = lines_of(order)["沙窝萝卜"]
    data = form_data(staff_client.get(refund_url(order)).content.decode())
    data[f"line_{radish.pk}"] = "10"
    assert staff_client.post(refund_url(order), data).status_code == 302
    assert staff_client.post(refund_url(order), data).status_code == 302
    assert Refund.objects.filter(order=order).count() == 1


def test_full_refund_button_refunds_everything_left(staff_client, order):
    radish = lines_of(order)["沙窝萝卜"]
    html = staff_client.get(refund_url(order)).content.decode()
    staff_client.post(refund_url(order), form_data(html, **{f"line_{radish.pk}": "10"}))
    html = staff_client.get(refund_url(order)).content.decode()
    # Whatever the boxes say, "全额退款" refunds what is left, shipping included.
    response = staff_client.post(
        refund_url(order), form_data(html, full="1", **{f"line_{radish.pk}": "1"})
    )
    assert response.status_code == 302
    assert refunds.refundable(order).total == 0
    assert (
        sum(r.amount for r in Refund.objects.filter(order=order))
        == refunds.refundable(order).shipping_paid + 4000 + 8800
    )
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_errors_keep_what_was_typed(staff_client, order):
    radish, crab = lines_of(order).values()
    html = staff_client.get(refund_url(order)).content.decode()
    token = token_in(html)
    response = staff_client.post(
        refund_url(order),
        form_data(
            html,
            reason="买家拒收",
            **{f"line_{radish.pk}": "99.00", f"line_{crab.pk}": "12.345"},
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "请输入正确的金额（元），最多两位小数，精确到分。" in html
    assert 'value="99.00"' in html and 'value="12.345"' in html
    assert "买家拒收" in html
    assert token_in(html) == token
    # The fraction is fixed; the service then refuses the over-refund on its line.
    response = staff_client.post(
        refund_url(order),
        form_data(
            html, reason="买家拒收", **{f"line_{radish.pk}": "99.00", f"line_{crab.pk}": "12.34"}
        ),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "退款金额不能超过可退金额 ¥40.00。" in html
    assert 'value="99.00"' in html and 'value="12.34"' in html
    assert not Refund.objects.exists()


def test_only_staff(client, order, shop):
    url = refund_url(order)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("dashboard:login")
    )
    client.force_login(manager_of(shop["radish_coop"]))
    assert client.get(url).status_code == 403
    assert (
        client.post(url, {"reason": "x", "full": "1", "token": str(uuid.uuid4())}).status_code
        == 403
    )
    assert client.get(reverse("payments-dashboard:overview")).status_code == 403
    assert not Refund.objects.exists()


def test_unknown_order_is_404(staff_client):
    url = reverse("payments-dashboard:refund", kwargs={"number": "999999999"})
    assert staff_client.get(url).status_code == 404


def test_oscars_order_page_links_to_the_refund_page(client, order):
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw-123")
    client.force_login(admin)
    html = client.get(reverse("dashboard:order-detail", kwargs={"number": order.number})).content
    assert refund_url(order) in html.decode()


def test_stripe_unreachable_keeps_the_form_and_its_token(staff_client, shop, stripe_sim):
    paid = stripe_order([(shop["radish"], 2)])
    radish = paid.lines.get()
    html = staff_client.get(refund_url(paid)).content.decode()
    token = token_in(html)
    stripe_sim.set_mode(offline=True)
    response = staff_client.post(refund_url(paid), form_data(html, **{f"line_{radish.pk}": "5"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "暂时无法连接 Stripe" in html
    # The same token: Stripe may have done it, so trying again must be the same refund.
    assert token_in(html) == token and 'value="5"' in html
    assert not Refund.objects.exists()
    stripe_sim.set_mode(offline=False)
    response = staff_client.post(refund_url(paid), form_data(html, **{f"line_{radish.pk}": "5"}))
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (
        refund.via == Refund.Via.STRIPE
        and stripe_sim.refund(refund.stripe_refund_id)["amount"] == 500
    )


def test_a_stripe_refusal_gives_the_form_a_new_token(staff_client, shop, stripe_sim):
    paid = stripe_order([(shop["radish"], 2)])
    radish = paid.lines.get()
    stripe_sim.dispute(stripe_sim.payment_intent(paid.stripe_payment.intent_id)["latest_charge"])
    html = staff_client.get(refund_url(paid)).content.decode()
    token = token_in(html)
    response = staff_client.post(refund_url(paid), form_data(html, **{f"line_{radish.pk}": "5"}))
    html = response.content.decode()
    assert "Stripe 拒绝了这笔退款" in html
    assert token_in(html) != token
    assert not Refund.objects.exists()


def test_the_overview_lists_refunds_and_payments_needing_attention(staff_client, order, staff):
    radish = lines_of(order)["沙窝萝卜"]
    refunds.refund(order, lines={radish.pk: 700}, reason="少发一个", by=staff, token=uuid.uuid4())
    base = {"method": "alipay", "amount": 5000, "amount_received": 5000}
    StripePayment.objects.create(
        intent_id="pi_unplaced",
        order_number="WN-UNPLACED",
        status=StripePayment.Status.SUCCEEDED,
        placement=StripePayment.Placement.REFUSED,
        **base,
    )
    StripePayment.objects.create(
        intent_id="pi_disputed",
        order_number="WN-DISPUTED",
        status=StripePayment.Status.SUCCEEDED,
        placement=StripePayment.Placement.PLACED,
        disputed=True,
        dispute_status="needs_response",
        **base,
    )
    StripePayment.objects.create(
        intent_id="pi_outside",
        order_number="WN-OUTSIDE",
        status=StripePayment.Status.SUCCEEDED,
        placement=StripePayment.Placement.PLACED,
        amount_refunded=1200,
        **base,
    )
    StripePayment.objects.create(
        intent_id="pi_fine",
        order_number="WN-FINE",
        status=StripePayment.Status.SUCCEEDED,
        placement=StripePayment.Placement.REFUSED,
        auto_refund_id="re_done",
        amount_refunded=5000,
        **base,
    )
    html = staff_client.get(reverse("payments-dashboard:overview")).content.decode()
    assert order.number in html and "少发一个" in html and "¥7.00" in html
    assert "pi_unplaced" in html and "自动退款还没有完成" in html
    assert "pi_disputed" in html and "needs_response" in html
    assert "pi_outside" in html and "¥12.00 的退款不是在本平台发起的" in html
    assert "pi_fine" not in html


def test_the_overview_finds_an_order_by_number(staff_client, order):
    response = staff_client.get(reverse("payments-dashboard:overview"), {"number": order.number})
    assert response.status_code == 302 and response["Location"] == refund_url(order)
    response = staff_client.get(reverse("payments-dashboard:overview"), {"number": "404404"})
    assert response.status_code == 200 and "没有找到订单 404404" in response.content.decode()


# --- Cooperative portal ----------------------------------------------------------


def coop_urls(line) -> tuple[str, str]:
    return (
        reverse("coop:order-line", kwargs={"pk": line.pk}),
        reverse("coop:order-line-refund", kwargs={"pk": line.pk}),
    )


def test_a_cooperative_manager_refunds_own_lines_within_the_limit(client, order, shop, settings):
    settings.WANGNONG_COOP_REFUND_LIMIT = "30"
    radish, crab = lines_of(order).values()
    coop = shop["radish_coop"]
    client.force_login(manager_of(coop))
    detail, refund = coop_urls(radish)
    html = client.get(detail).content.decode()
    assert f'name="line_{radish.pk}"' in html
    assert f'name="line_{crab.pk}"' not in html and 'name="shipping"' not in html
    assert "七里海河蟹" not in html  # another cooperative's line is not shown

    response = client.post(refund, form_data(html, **{f"line_{radish.pk}": "20"}))
    assert response.status_code == 302
    done = Refund.objects.get()
    assert done.partner == coop.partner and done.amount == 2000

    html = client.get(detail).content.decode()
    assert "¥20.00" in html and "本社退款" in html
    response = client.post(refund, form_data(html, **{f"line_{radish.pk}": "10.01"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "超过合作社可自行退款的限额，请联系平台处理" in html
    assert 'value="10.01"' in html
    assert Refund.objects.count() == 1


def test_a_cooperative_cannot_refund_another_cooperatives_line(client, order, shop):
    radish, crab = lines_of(order).values()
    client.force_login(manager_of(shop["radish_coop"]))
    detail, refund = coop_urls(crab)
    assert client.get(detail).status_code == 404
    assert client.get(refund).status_code == 404
    response = client.post(
        refund, {"token": str(uuid.uuid4()), "reason": "x", f"line_{crab.pk}": "1"}
    )
    assert response.status_code == 404
    # Naming the other cooperative's line in its own form does nothing either.
    _detail, own = coop_urls(radish)
    response = client.post(
        own, {"token": str(uuid.uuid4()), "reason": "x", f"line_{crab.pk}": "1", "full": ""}
    )
    refunded = Refund.objects.first()
    assert refunded is None or not refunded.lines.filter(line=crab).exists()


def test_only_a_cooperatives_managers_refund(client, order, shop):
    radish = lines_of(order)["沙窝萝卜"]
    coop = shop["radish_coop"]
    client.force_login(member_of(coop))
    detail, refund = coop_urls(radish)
    html = client.get(detail).content.decode()
    assert "只有合作社管理员可以退款" in html and 'name="reason"' not in html
    response = client.post(
        refund, {"token": str(uuid.uuid4()), "reason": "x", f"line_{radish.pk}": "1"}
    )
    assert response.status_code == 403
    assert not Refund.objects.exists()


# --- Buyer -------------------------------------------------------------------------


def test_the_buyer_sees_refunds_on_the_order_page(client, shop, staff):
    buyer = User.objects.create_user("buyer", "buyer@example.com", "pw-123")
    mine = cod_order([(shop["radish"], 2)], user=buyer)
    client.force_login(buyer)
    url = reverse("customer:order", kwargs={"order_number": mine.number})
    assert "order-refunds" not in client.get(url).content.decode()
    refunds.refund(
        mine, lines={mine.lines.get().pk: 1250}, reason="内部备注", by=staff, token=uuid.uuid4()
    )
    html = client.get(url).content.decode()
    assert "order-refunds" in html
    assert "¥12.50" in html and "货到付款未收款，免收" in html
    assert "内部备注" not in html


def test_stripe_telling_us_of_our_refund_flags_nothing(staff_client, shop, staff, stripe_sim):
    paid = stripe_order([(shop["radish"], 2)])
    radish = paid.lines.get()
    refunds.refund(paid, lines={radish.pk: 1500}, reason="少发一个", by=staff, token=uuid.uuid4())
    [event] = stripe_sim.events("charge.refunded")
    body, header = stripe_sim.signed(event)
    response = staff_client.post(
        reverse("payments:stripe-webhook"),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 200
    payment = StripePayment.objects.get(order=paid)
    assert payment.amount_refunded == 1500 and payment.last_error == ""
    html = staff_client.get(reverse("payments-dashboard:overview")).content.decode()
    assert "没有需要处理的在线付款" in html
