"""A buyer on a 360 px phone reads everything the platform holds about them
and deletes their account (issue 8, personal information)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from cooperatives.listings import products_of
from cooperatives.models import Cooperative
from privacy.models import DeletionRecord
from shop.payment import accounting
from tests.browser.test_complaints import axe_violations, sign_in
from tests.payment import builders

EMAIL = "privacy-buyer@example.com"
PASSWORD = "pw-privacy-1"


def _buyer_with_a_delivered_order():
    coop = Cooperative.objects.filter(status=Cooperative.Status.VERIFIED).order_by("pk").first()
    product = (
        products_of(coop)
        .filter(structure="standalone", stockrecords__num_in_stock__gte=1)
        .order_by("pk")
        .first()
    )
    buyer = get_user_model().objects.create_user(EMAIL, EMAIL, PASSWORD)
    order = builders.quick_order([(product, 1)], source=builders.COD)
    order.user = buyer
    order.guest_email = ""
    order.save()
    builders.deliver(order.lines.all(), at=timezone.now() - timedelta(days=1))
    accounting.record_cod_collected(order)
    return buyer, order


def test_export_and_delete_on_a_phone(page, live_server):
    buyer, order = _buyer_with_a_delivered_order()
    sign_in(page, EMAIL, PASSWORD, "/accounts/privacy/")
    expect(page).to_have_url(re.compile("/accounts/privacy/$"))

    page.get_by_role("link", name="在网页上查看（可打印）").click()
    expect(page.get_by_role("heading", name="订单（含商品、付款、退款、发货）")).to_be_visible()
    expect(page.locator("#s-orders")).to_contain_text(order.number)
    expect(page.locator("#s-profile")).to_contain_text(EMAIL)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not axe_violations(page), axe_violations(page)
    assert not page.js_errors and not page.server_errors

    page.goto("/accounts/privacy/delete/")
    page.get_by_label("登录密码").fill("wrong-password")
    page.get_by_label(re.compile("我已了解")).check()
    page.get_by_role("button", name="确认删除我的账户").click()
    expect(page.get_by_text("密码不正确。")).to_be_visible()
    assert not axe_violations(page), axe_violations(page)
    page.get_by_label("登录密码").fill(PASSWORD)
    page.get_by_label(re.compile("我已了解")).check()
    page.get_by_role("button", name="确认删除我的账户").click()
    expect(page.get_by_text("您的账户已删除。")).to_be_visible()
    buyer.refresh_from_db()
    assert not buyer.is_active and buyer.email == ""
    assert DeletionRecord.objects.exists()
    page.goto("/accounts/privacy/")
    expect(page).to_have_url(re.compile("/accounts/login/"))
