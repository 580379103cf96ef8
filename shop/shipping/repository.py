"""Shipping methods offered at checkout.

For now one flat-rate express delivery. The logistics issue replaces this with
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


def flat_rate() -> FlatRateExpress:
    charge = Decimal(str(getattr(settings, "WANGNONG_FLAT_SHIPPING_CHARGE", "12.00")))
    return FlatRateExpress(charge_excl_tax=charge, charge_incl_tax=charge)


class Repository(CoreRepository):
    def get_available_shipping_methods(self, basket, shipping_addr=None, **kwargs):
        return [flat_rate()]
