"""The payment methods a buyer can choose at checkout.

Cash on delivery (货到付款) is always offered. The money issue adds Stripe's
card, Alipay and WeChat Pay here, offered only when Stripe keys are set.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CASH_ON_DELIVERY = "cod"


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    label: str | Promise
    description: str | Promise
    is_online: bool
    # payment.SourceType.code recorded on orders paid this way
    source_code: str


COD = PaymentMethod(
    code=CASH_ON_DELIVERY,
    label=_("货到付款"),
    description=_("收货时付现金给快递员或站点工作人员，无需网上支付。"),
    is_online=False,
    source_code="cash-on-delivery",
)


# Cash a village service station takes at its counter for an order it places
# for a resident (stations/ordering.py); not offered at the web checkout.
STATION_CASH = PaymentMethod(
    code="station-cash",
    label=_("站点现金"),
    description=_("在村服务站下单时付现金给工作人员。"),
    is_online=False,
    source_code="station-cash",
)


def available_methods() -> list[PaymentMethod]:
    return [COD]


def recorded_methods() -> list[PaymentMethod]:
    """Every method an order may have been paid with."""
    return [*available_methods(), STATION_CASH]


def get_method(code: str | None) -> PaymentMethod | None:
    return next((m for m in available_methods() if m.code == code), None)


def label_for_source_type(source_type) -> str:
    """The buyer-facing, translated name of a recorded payment source type
    (the stored SourceType.name is in whatever language created it)."""
    for method in recorded_methods():
        if method.source_code == source_type.code:
            return str(method.label)
    return source_type.name
