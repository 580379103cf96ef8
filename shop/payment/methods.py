"""The payment methods a buyer can choose at checkout.

Cash on delivery (货到付款) is always offered. Stripe's WeChat Pay, Alipay
and card are offered when both Stripe keys are set, in the order (and only
those) named by ``WANGNONG_ONLINE_PAYMENT_METHODS``.
"""

from dataclasses import dataclass

from django.conf import settings
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


# Online, through Stripe PaymentIntents (code = Stripe's payment method type).
WECHAT_PAY = PaymentMethod(
    code="wechat_pay",
    label=_("微信支付"),
    description=_("用微信扫码付款。"),
    is_online=True,
    source_code="stripe-wechat_pay",
)
ALIPAY = PaymentMethod(
    code="alipay",
    label=_("支付宝"),
    description=_("跳转到支付宝完成付款，付款后自动返回。"),
    is_online=True,
    source_code="stripe-alipay",
)
CARD = PaymentMethod(
    code="card",
    label=_("银行卡"),
    description=_("用银行卡（Visa、Mastercard、银联等）在线付款。"),
    is_online=True,
    source_code="stripe-card",
)
ONLINE_METHODS = {m.code: m for m in (WECHAT_PAY, ALIPAY, CARD)}


def online_payments_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def online_methods() -> list[PaymentMethod]:
    """The online methods offered now: none without Stripe keys."""
    if not online_payments_configured():
        return []
    return [
        ONLINE_METHODS[code]
        for code in settings.WANGNONG_ONLINE_PAYMENT_METHODS
        if code in ONLINE_METHODS
    ]


def available_methods() -> list[PaymentMethod]:
    return [*online_methods(), COD]


def recorded_methods() -> list[PaymentMethod]:
    """Every method an order may have been paid with (offered now or not)."""
    return [*ONLINE_METHODS.values(), COD, STATION_CASH]


def get_method(code: str | None) -> PaymentMethod | None:
    return next((m for m in available_methods() if m.code == code), None)


def label_for_source_type(source_type) -> str:
    """The buyer-facing, translated name of a recorded payment source type
    (the stored SourceType.name is in whatever language created it)."""
    for method in recorded_methods():
        if method.source_code == source_type.code:
            return str(method.label)
    return source_type.name
