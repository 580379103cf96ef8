"""Shipping methods offered at checkout.

For now one flat-rate express delivery for shoppers, and consolidated
delivery to a village station for orders a station places. The logistics issue replaces this with
per-cooperative shipments priced from carriers' rate cards.
"""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from oscar.apps.shipping import methods
from oscar.apps.shipping.repository import Repository as CoreRepository


class FlatRateExpress(methods.FixedPrice):
    code = "flat-rate-express"
    name = _("快递配送")
    description = _("全国统一运费，发货后通常 2–4 天送达。")


class StationDelivery(methods.FixedPrice):
    """Consolidated delivery to a village service station, collected there
    with a pickup code (stations/). Offered by the station portal only."""

    code = "station-delivery"
    name = _("送到村服务站自提")
    description = _("和本村其他订单一起送到服务站，凭取货码领取。")


def station_delivery() -> StationDelivery:
    charge = Decimal(str(getattr(settings, "WANGNONG_STATION_DELIVERY_CHARGE", "0.00")))
    return StationDelivery(charge_excl_tax=charge, charge_incl_tax=charge)


def flat_rate() -> FlatRateExpress:
    charge = Decimal(str(getattr(settings, "WANGNONG_FLAT_SHIPPING_CHARGE", "12.00")))
    return FlatRateExpress(charge_excl_tax=charge, charge_incl_tax=charge)


class Repository(CoreRepository):
    def get_available_shipping_methods(self, basket, shipping_addr=None, **kwargs):
        return [flat_rate()]
