"""Orders for cooperative tests, placed with Oscar's OrderCreator (stock is
allocated, lines carry their partner) without going through the checkout
pages; ``placed_at`` back-dates an order for the sales figures."""

from __future__ import annotations

from datetime import datetime

from oscar.core.loading import get_model
from oscar.test.factories import create_order

from shop.order.utils import OrderNumberGenerator
from tests import factories

Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")


def shipping_address(**overrides) -> ShippingAddress:
    factories.china()
    fields = {**factories.GUEST_ADDRESS, **overrides}
    return ShippingAddress.objects.create(**fields)


def order_of(*items, placed_at: datetime | None = None, **address) -> Order:
    """An order for ``(product, quantity)`` items, optionally back-dated."""
    basket = factories.basket(*items)
    order = create_order(
        number=OrderNumberGenerator().order_number(basket),
        basket=basket,
        shipping_address=shipping_address(**address),
        guest_email="buyer@example.com",
    )
    if placed_at is not None:
        Order.objects.filter(pk=order.pk).update(date_placed=placed_at)
        order.refresh_from_db()
    return order
