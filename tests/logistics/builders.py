"""Orders, shipments and tracking events for the logistics service tests,
built through the production code: Oscar's OrderCreator priced by the
carrier delivery method (shop/shipping/repository.py), then
logistics.shipments.create_for_order, as the checkout does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from oscar.core.loading import get_class, get_model

from logistics.adapters import TrackingUpdate
from logistics.models import Shipment
from shop.order.utils import OrderNumberGenerator
from shop.shipping.repository import carrier_delivery
from tests import factories

OrderCreator = get_class("order.utils", "OrderCreator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
ShippingAddress = get_model("order", "ShippingAddress")

DESTINATION = factories.GUEST_ADDRESS["division_id"]  # 天津市西青区辛口镇水高庄村
RADISH_COOP = "天津市西青区辛口沙窝萝卜种植专业合作社"
CRAB_COOP = "天津市宁河区七里海生态养殖专业合作社"
# 广东省广州市天河区五山街道: no cold-chain carrier of tests.factories.carriers() goes there.
GUANGZHOU_ADDRESS = {
    "last_name": "陈大文",
    "phone_number": "+8613912345678",
    "state": "广东省",
    "line4": "广州市",
    "line3": "天河区",
    "line2": "五山街道",
    "line1": "先烈东路 100 号",
    "division_id": "440106001",
    "country_id": "CN",
}
GUANGZHOU_PLACE = "广东省广州市天河区五山街道"


def goods(
    title: str,
    partner_obj,
    *,
    weight_g: int | None = None,
    storage: str = "ambient",
    price: str = "20.00",
    stock: int = 50,
    **fields,
):
    """A standalone product of ``partner_obj`` with a weight per unit and a
    temperature class."""
    return factories.product(
        title,
        price=price,
        stock=stock,
        partner_obj=partner_obj,
        net_weight_g=weight_g,
        storage_class=storage,
        **fields,
    )


def shipping_address(fields: dict | None = None):
    factories.china()
    return ShippingAddress.objects.create(**dict(fields or factories.GUEST_ADDRESS))


def place(items, *, fields: dict | None = None, user=None):
    """An order for ``(product, quantity)`` items delivered to ``fields``
    (the guest address in Tianjin by default), charged what the carrier
    delivery method quotes. No shipments yet (see ``ship``)."""
    basket = factories.basket(*items, owner=user)
    address = shipping_address(fields)
    method = carrier_delivery(basket, address.division_id)
    assert method is not None, "the basket cannot be shipped there"
    charge = method.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    order = OrderCreator().place_order(
        basket=basket,
        total=total,
        shipping_method=method,
        shipping_charge=charge,
        shipping_address=address,
        order_number=OrderNumberGenerator().order_number(basket),
        user=user,
    )
    basket.submit()
    return order


def ship(items, **kwargs) -> tuple[object, list[Shipment]]:
    """Place an order and split it into shipments (their hand-off queued
    after commit, like the checkout)."""
    from logistics import shipments

    order = place(items, **kwargs)
    return order, shipments.create_for_order(order)


def make_shipment(carrier, partner_obj=None, **fields) -> Shipment:
    """A bare pending shipment to the guest address (no order), for tests
    of hand-off and tracking machinery that do not need order lines."""
    values = {
        "partner": partner_obj or factories.partner(RADISH_COOP),
        "carrier": carrier,
        "service": "express",
        "destination_id": DESTINATION,
        "recipient_name": "王小农",
        "recipient_phone": "+8613812345678",
        "recipient_address": "天津市 西青区 辛口镇 水高庄村 8 号",
        "ship_date": timezone.localdate(),
        "weight_g": 2500,
        "cost": Decimal("16.00"),
    }
    values.update(fields)
    return Shipment.objects.create(**values)


T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def event(
    number: str, status: str, minutes: int, *, event_id: str | None = None, location: str = ""
) -> TrackingUpdate:
    """A carrier's tracking event ``minutes`` after 2026-11-27 09:00 Beijing time."""
    return TrackingUpdate(
        event_id=event_id or f"{number}-{status}-{minutes}",
        tracking_number=number,
        status=status,
        occurred_at=T0 + dt.timedelta(minutes=minutes),
        location=location,
        description=f"{status} at +{minutes} min",
    )
