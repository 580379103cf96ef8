"""Shipping methods offered at checkout.

``CarrierDelivery`` is the real cost of delivery: the basket split into one
shipment per cooperative and temperature class, each priced by the cheapest
carrier serving the address (logistics/planning.py). With no address yet
(the basket page) the charge is shown as to be worked out. When some part
cannot be shipped to the address (chilled goods where no cold-chain carrier
goes) no method is offered and checkout says why (shop/checkout/views.py).

``StationDelivery`` is consolidated delivery to a village station for
orders a station places, at the programme's fixed charge.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oscar.apps.shipping import methods
from oscar.apps.shipping.repository import Repository as CoreRepository

from logistics import planning


class CarrierDelivery(methods.FixedPrice):
    code = "carrier-delivery"
    name = _("快递配送")

    def __init__(self, plan: planning.Plan):
        super().__init__(charge_excl_tax=plan.total, charge_incl_tax=plan.total)
        self.plan = plan

    @property
    def description(self) -> str:
        count = len(self.plan.shipments)
        return ngettext(
            "由合作社直接发货，共 %(n)s 个包裹，运费按承运商运价计算。",
            "由各合作社分别发货，共 %(n)s 个包裹，运费按承运商运价计算。",
            count,
        ) % {"n": count}


class ToBeQuoted(methods.FixedPrice):
    """The basket page's placeholder before an address is known."""

    code = "to-be-quoted"
    name = _("运费待定")
    description = _("填写收货地址后按包裹重量和承运商运价计算。")


class StationDelivery(methods.FixedPrice):
    """Consolidated delivery to a village service station, collected there
    with a pickup code (stations/). Offered by the station portal only."""

    code = "station-delivery"
    name = _("送到村服务站自提")
    description = _("和本村其他订单一起送到服务站，凭取货码领取。")


def station_delivery() -> StationDelivery:
    charge = Decimal(str(getattr(settings, "WANGNONG_STATION_DELIVERY_CHARGE", "0.00")))
    return StationDelivery(charge_excl_tax=charge, charge_incl_tax=charge)


def carrier_delivery(basket, division_code: str | None) -> CarrierDelivery | None:
    """The carrier-priced method for ``basket`` to ``division_code``, or
    None when some of it cannot be shipped there (``plan_of`` says why)."""
    plan = planning.plan_basket(basket, division_code)
    return CarrierDelivery(plan) if plan.ok else None


def plan_of(method) -> planning.Plan | None:
    """The shipment plan behind a method (also through Oscar's offer wrapper)."""
    plan = getattr(method, "plan", None)
    if plan is None and hasattr(method, "method"):
        plan = getattr(method.method, "plan", None)
    return plan


def address_division(shipping_addr) -> str | None:
    return getattr(shipping_addr, "division_id", None) if shipping_addr is not None else None


class Repository(CoreRepository):
    def get_available_shipping_methods(self, basket, shipping_addr=None, **kwargs):
        if shipping_addr is None:
            return [ToBeQuoted(charge_excl_tax=Decimal("0.00"), charge_incl_tax=Decimal("0.00"))]
        method = carrier_delivery(basket, address_division(shipping_addr))
        return [method] if method else []
