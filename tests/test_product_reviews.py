"""Reviews on the product page (shop/catalogue/reviews.py): approved reviews
only, masked author names, the "写评价" link and the add-review page only for
buyers who received the product, moderation, a constant query count, and
stored descriptions cleaned of script."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model

from tests.payment.refund_orders import cod_order, cooperatives, produce

pytestmark = pytest.mark.django_db

User = get_model("auth", "User")
ProductReview = get_model("reviews", "ProductReview")


@pytest.fixture
def radish(china, carriers):
    radish_coop, crab_coop = cooperatives()
    return produce(radish_coop, crab_coop)["radish"]


@pytest.fixture
def buyer(db):
    return User.objects.create_user(
        "wang.fang@example.com", "wang.fang@example.com", "pw", first_name="芳", last_name="王"
    )


def deliver(order):
    order.lines.update(status="delivered")


def add_url(product) -> str:
    return reverse(
        "catalogue:reviews-add", kwargs={"product_slug": product.slug, "product_pk": product.pk}
    )


def review(product, n: int, status=ProductReview.APPROVED, **kwargs):
    user = User.objects.create_user(f"rev{n}", f"rev{n}@example.com", "pw")
    kwargs.setdefault("title", f"评价{n}")
    return ProductReview.objects.create(
        product=product, user=user, score=4, body="很新鲜", status=status, **kwargs
    )


def test_settings(settings):
    assert settings.OSCAR_ALLOW_ANON_REVIEWS is False
    assert settings.OSCAR_MODERATE_REVIEWS is True


def test_only_approved_reviews_show_with_masked_names(client, radish, buyer):
    ProductReview.objects.create(
        product=radish, user=buyer, score=5, title="脆甜", body="孩子很爱吃", status=1
    )
    review(radish, 1, status=ProductReview.FOR_MODERATION, title="待审核的")
    review(radish, 2, status=ProductReview.REJECTED, title="被拒绝的")
    html = client.get(radish.get_absolute_url()).content.decode()
    assert "脆甜" in html and "孩子很爱吃" in html and "★★★★★" in html
    assert "王*" in html  # 王芳 masked
    assert "wang.fang" not in html and "@example.com" not in html
    assert "待审核的" not in html and "被拒绝的" not in html
    assert "写评价" not in html  # anonymous


def test_write_link_only_for_buyers_who_received_it(client, radish, buyer):
    order = cod_order([(radish, 1)], user=buyer)
    client.force_login(buyer)
    assert "写评价" not in client.get(radish.get_absolute_url()).content.decode()
    assert client.get(add_url(radish)).status_code == 302  # not received yet: refused
    deliver(order)
    html = client.get(radish.get_absolute_url()).content.decode()
    assert "写评价" in html and add_url(radish) in html

    other = User.objects.create_user("other", "o@example.com", "pw")
    client.force_login(other)
    assert "写评价" not in client.get(radish.get_absolute_url()).content.decode()
    assert client.get(add_url(radish)).status_code == 302


def test_a_review_waits_for_moderation(client, radish, buyer):
    deliver(cod_order([(radish, 1)], user=buyer))
    client.force_login(buyer)
    page = client.get(add_url(radish))
    assert page.status_code == 200 and "提交评价" in page.content.decode()
    bad = client.post(add_url(radish), {"score": "5", "title": "", "body": "好吃"})
    assert bad.status_code == 200 and "好吃" in bad.content.decode()  # typed text kept
    response = client.post(add_url(radish), {"score": "5", "title": "脆甜", "body": "好吃"})
    assert response.status_code == 302
    stored = ProductReview.objects.get()
    assert stored.status == ProductReview.FOR_MODERATION
    assert "脆甜" not in client.get(radish.get_absolute_url()).content.decode()
    stored.status = ProductReview.APPROVED
    stored.save()
    html = client.get(radish.get_absolute_url()).content.decode()
    assert "脆甜" in html and "写评价" not in html  # once per buyer


def test_query_count_does_not_grow_with_reviews(client, radish):
    review(radish, 0)
    client.get(radish.get_absolute_url())  # caches warmed (site, categories …)
    with CaptureQueriesContext(connection) as few:
        client.get(radish.get_absolute_url())
    for n in range(1, 15):
        review(radish, n)
    with CaptureQueriesContext(connection) as many:
        html = client.get(radish.get_absolute_url()).content.decode()
    assert len(many) == len(few)
    assert html.count('class="review"') == 10
    list_url = reverse(
        "catalogue:reviews-list", kwargs={"product_slug": radish.slug, "product_pk": radish.pk}
    )
    assert "全部评价" in html and list_url in html
    assert client.get(list_url).content.decode().count('class="review"') == 15


def test_descriptions_are_cleaned_of_script(client, radish):
    radish.description = (
        '<p>脆甜<script>window.__x=1</script><img src="x" onerror="alert(1)">'
        '<a href="javascript:alert(2)">点</a><a href="https://example.com/">链接</a></p>'
    )
    radish.save()
    html = client.get(radish.get_absolute_url()).content.decode()
    assert "<script>window.__x" not in html
    assert "onerror" not in html and "javascript:alert" not in html
    assert '<a href="https://example.com/">链接</a>' in html
