"""Listings load a page of products in a fixed number of SQL queries, however
many products there are (no query per product card)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop.search.indexing import rebuild_index
from tests import factories

pytestmark = pytest.mark.django_db

ORIGINS = ["120111", "120116", "120117", "120112"]  # 西青区, 滨海新区, 宁河区, 津南区


@pytest.fixture
def shop(db):
    return {
        "category": factories.category("蔬菜"),
        "cooperatives": [factories.partner(f"第{i}合作社") for i in range(3)],
        "count": 0,
    }


def grow(shop, to: int) -> None:
    """Add products until the category holds ``to``: a mix of standalone
    products and parents with two variants, from several cooperatives and
    districts, a few with certifications."""
    while shop["count"] < to:
        i = shop["count"]
        common = {
            "partner_obj": shop["cooperatives"][i % 3],
            "categories": [shop["category"]],
            "origin_id": ORIGINS[i % len(ORIGINS)],
            "certifications": ["green_food"] if i % 2 else [],
        }
        if i % 3 == 2:
            factories.parent_product(
                f"礼盒{i}", [(f"礼盒{i} 小份", "30.00", 5), (f"礼盒{i} 大份", "55.00", 0)], **common
            )
        else:
            factories.product(f"蔬菜{i}", price=f"{10 + i}.00", stock=i % 4, **common)
        shop["count"] += 1
    rebuild_index()  # the signals index after commit, which a test never reaches


def queries_for(client, url: str, expected_products: int) -> int:
    client.get(url)  # warm caches (thumbnails, category tree, site)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["products"]) == expected_products
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["catalogue", "category", "search"])
def test_query_count_does_not_grow_with_products(client, shop, page):
    def url():
        if page == "catalogue":
            return reverse("catalogue:index")
        if page == "category":
            return shop["category"].get_absolute_url()
        return reverse("search:search") + "?q=合作社"

    grow(shop, 5)
    few = queries_for(client, url(), 5)
    grow(shop, 30)  # a full page of 20 (OSCAR_PRODUCTS_PER_PAGE) and a second page
    many = queries_for(client, url(), 20)
    assert many == few, f"{few} queries for 5 products, {many} for 30"
    assert few <= 25


def test_second_page(client, shop):
    grow(shop, 30)
    response = client.get(reverse("catalogue:index"), {"page": 2})
    assert response.status_code == 200
    assert len(response.context["products"]) == 10
