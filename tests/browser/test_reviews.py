"""A buyer who received a product writes a review on a 360 px phone; it
waits for staff, and once approved shows on the product page with a masked
name (shop/catalogue/reviews.py)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from oscar.core.loading import get_model
from playwright.sync_api import expect

from cooperatives.listings import products_of
from cooperatives.models import Cooperative
from tests.browser.conftest import axe_violations
from tests.browser.test_complaints import sign_in
from tests.payment import builders

ProductReview = get_model("reviews", "ProductReview")
EMAIL = "reviewer@example.com"
PASSWORD = "pw-review-1"


def test_buyer_reviews_a_received_product(new_page, live_server):
    coop = Cooperative.objects.filter(status=Cooperative.Status.VERIFIED).order_by("pk").first()
    product = (
        products_of(coop)
        .filter(structure="standalone", stockrecords__num_in_stock__gte=1)
        .order_by("-pk")
        .first()
    )
    buyer = get_user_model().objects.create_user(
        EMAIL, EMAIL, PASSWORD, first_name="小红", last_name="李"
    )
    order = builders.quick_order([(product, 1)], source=builders.COD)
    order.user = buyer
    order.save()
    builders.deliver(order.lines.all(), at=timezone.now() - timedelta(days=1))

    page = new_page()
    sign_in(page, EMAIL, PASSWORD, product.get_absolute_url())
    page.get_by_role("link", name="写评价").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("评价")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not axe_violations(page), axe_violations(page)
    form = page.locator("form").filter(has=page.get_by_role("button", name="提交评价"))
    form.get_by_label("评分").select_option("5")
    form.get_by_label("标题").fill("脆甜新鲜")
    form.get_by_label("正文").fill("收到时还带着泥，很新鲜。")
    page.get_by_role("button", name="提交评价").click()
    review = ProductReview.objects.get(user=buyer)
    assert review.status == ProductReview.FOR_MODERATION
    expect(page.locator(".product-reviews")).not_to_contain_text("脆甜新鲜")

    review.status = ProductReview.APPROVED
    review.save()
    page.goto(product.get_absolute_url())
    reviews = page.locator(".product-reviews")
    expect(reviews).to_contain_text("脆甜新鲜")
    expect(reviews).to_contain_text("李*")
    expect(reviews).not_to_contain_text(EMAIL)
    expect(page.get_by_role("link", name="写评价")).to_have_count(0)
    assert not axe_violations(page), axe_violations(page)
    assert not page.js_errors and not page.server_errors
