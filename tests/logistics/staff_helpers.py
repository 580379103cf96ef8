"""Orders and shipments for the staff-side logistics tests (dashboard,
costs, waybill), made through the real services: Oscar's OrderCreator with
the carrier-priced shipping method, then ``logistics.shipments``; the
station flow for consolidated shipments."""

from __future__ import annotations

import itertools

from oscar.core.loading import get_model
from oscar.test.factories import create_order

from logistics import planning
from logistics import shipments as shipping
from shop.order.utils import OrderNumberGenerator
from shop.shipping.repository import CarrierDelivery
from tests import factories
from tests.cooperatives.conftest import make_cooperative

ShippingAddress = get_model("order", "ShippingAddress")

_credit = itertools.count(1)


def cooperative(name: str, division: str = "120111"):
    """A verified cooperative (with its Oscar partner) in ``division``."""
    prefix = f"93{division}MA{next(_credit):07d}"[:17]
    return make_cooperative(name, credit_prefix=prefix, division_code=division)


def produce(coop, title: str, *, grams: int | None = 1000, storage: str = "ambient", **kw):
    return factories.product(
        title,
        price=kw.pop("price", "20.00"),
        stock=kw.pop("stock", 100),
        partner_obj=coop.partner,
        net_weight_g=grams,
        storage_class=storage,
        **kw,
    )


def address(**overrides) -> ShippingAddress:
    factories.china()
    return ShippingAddress.objects.create(**{**factories.GUEST_ADDRESS, **overrides})


def place_order(*items, **address_fields):
    """An order for ``(product, quantity)`` items to the guest address (or
    ``address_fields``), charged the carriers' rates, and its shipments
    (queued for hand-off after commit)."""
    basket = factories.basket(*items)
    shipping_address = address(**address_fields)
    plan = planning.plan_basket(basket, shipping_address.division_id)
    assert plan.ok, plan.problems
    order = create_order(
        number=OrderNumberGenerator().order_number(basket),
        basket=basket,
        shipping_address=shipping_address,
        shipping_method=CarrierDelivery(plan),
        guest_email="buyer@example.com",
    )
    return order, shipping.create_for_order(order)
