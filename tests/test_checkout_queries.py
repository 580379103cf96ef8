"""SQL queries per step of a signed-in buyer's cash-on-delivery checkout.

Oscar asks for the shipping address and method several times per request;
shop/checkout/session.py remembers them for the request, so each step reads
the address book row once and prices the basket once. These counts are the
ceiling: a change that adds queries to a step fails here. The order's
placement is counted without its after-commit work (carrier hand-off, the
cooperative's notice, the buyer's confirmation), which are Celery tasks and
leave the request when there is a broker.

Lines: every further basket line (same cooperative) may cost at most
``PER_LINE`` more queries in a step — the lines Oscar checks and prices one
by one (stock record and its partner) and, at placement, each line's order
line, price, stock allocation and stock alert.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model

from tests import factories

UserAddress = get_model("address", "UserAddress")
Order = get_model("order", "Order")

# The most each step may take with one line in the basket (measured after
# the per-request memory; before it: shipping-method 25, payment-method GET
# 30 and POST 29, preview 27, place 120 with its after-commit work).
ONE_LINE = {
    "add": 31,
    "checkout index": 15,
    "shipping-address": 14,
    "select address": 15,
    "shipping-method": 19,
    "payment-method get": 15,
    "payment-method cod": 18,
    "preview": 16,
    "place": 85,
    "thank-you": 14,
}
# What each further line may add: Oscar checks and prices every line (its
# stock record with the partner, its product class) on every step.
PER_LINE = 3
# Placement per further line: its order line and price, stock allocation
# (conditional UPDATE, re-read, Oscar's stock and product alerts), its
# product and product class, the ledger's posting for it.
PLACE_PER_LINE = 13


@pytest.fixture
def buyer(django_user_model, china):
    user = django_user_model.objects.create_user(
        username="buyer", email="buyer@example.com", password="pw-buyer-123"
    )
    fields = dict(factories.GUEST_ADDRESS)
    fields.pop("country_id")
    UserAddress.objects.create(user=user, country=china, is_default_for_shipping=True, **fields)
    return user


def walk(client, products) -> dict[str, int]:
    """The signed-in COD checkout for ``products`` (one of each), returning
    each step's query count (the last product's add for "add")."""
    counts: dict[str, int] = {}

    def step(name, method, url, data=None, expect=(200, 302)):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url, data or {})
        assert response.status_code in expect, (name, response.status_code)
        counts[name] = len(queries)
        return response

    for product in products:
        step("add", "post", reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    step("checkout index", "get", reverse("checkout:index"))
    # The first page anyone renders fills the caches every visitor shares
    # (the site's page tree for the footer); count a later visitor's page.
    client.get(reverse("checkout:shipping-address"))
    step("shipping-address", "get", reverse("checkout:shipping-address"))
    address = UserAddress.objects.get()
    response = step(
        "select address",
        "post",
        reverse("checkout:shipping-address"),
        {"action": "ship_to", "address_id": address.pk},
    )
    assert response["Location"] == reverse("checkout:shipping-method")
    response = step("shipping-method", "get", reverse("checkout:shipping-method"))
    assert response["Location"] == reverse("checkout:payment-method")
    step("payment-method get", "get", reverse("checkout:payment-method"), expect=(200,))
    step("payment-method cod", "post", reverse("checkout:payment-method"), {"method": "cod"})
    step("preview", "get", reverse("checkout:preview"), expect=(200,))
    response = step("place", "post", reverse("checkout:preview"), {"action": "place_order"})
    assert response["Location"] == reverse("checkout:thank-you")
    step("thank-you", "get", response["Location"], expect=(200,))
    return counts


def products(count: int, vegetables, cooperative) -> list:
    return [
        factories.product(
            f"沙窝萝卜{i}",
            price="20.00",
            stock=10,
            partner_obj=cooperative,
            product_class_obj=vegetables,
            net_weight_g=500,
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("lines", [1, 3])
def test_signed_in_cod_checkout_queries(client, buyer, vegetables, cooperative, settings, lines):
    settings.WANGNONG_PAGE_CACHE_SECONDS = 0
    client.force_login(buyer)
    counts = walk(client, products(lines, vegetables, cooperative))
    order = Order.objects.get()
    assert order.lines.count() == lines
    assert order.sources.get().source_type.code == "cash-on-delivery"
    limits = {
        name: ONE_LINE[name] + (PLACE_PER_LINE if name == "place" else PER_LINE) * (lines - 1)
        for name in ONE_LINE
    }
    over = {name: (n, limits[name]) for name, n in counts.items() if n > limits[name]}
    assert not over, f"queries (counted, allowed) per step: {over}"
