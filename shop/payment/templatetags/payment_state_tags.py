"""How an order's payment stands, for the buyer's pages and e-mails:
"微信支付 · 已付款", "银行卡 · 已授权", "货到付款"."""

from django import template
from django.utils.translation import gettext as _

from shop.payment.methods import label_for_source_type

register = template.Library()

STRIPE_PREFIX = "stripe-"


def _state(source) -> str:
    code = source.source_type.code
    if code.startswith(STRIPE_PREFIX):
        payment = getattr(source.order, "stripe_payment", None) if source.order_id else None
        if payment is not None and payment.disputed:
            return _("有争议")
        if source.amount_refunded and source.amount_refunded >= source.amount_debited:
            return _("已退款")
        if source.amount_refunded:
            return _("部分退款")
        if source.amount_debited:
            return _("已付款")
        return _("已授权")
    if code == "cash-on-delivery" and source.amount_debited:
        return _("已收款")
    return ""


@register.filter
def payment_state(source) -> str:
    """The state of one payment source ("已付款", "已退款"…), or "" when
    there is nothing to add to the method's name (cash on delivery not
    collected yet)."""
    try:
        return _state(source)
    except Exception:  # noqa: BLE001 - a label must never break an order page
        return ""


@register.filter
def payment_summary(source) -> str:
    """The method and its state: "微信支付 · 已付款", or "货到付款"."""
    label = label_for_source_type(source.source_type)
    state = payment_state(source)
    return f"{label} · {state}" if state else label
