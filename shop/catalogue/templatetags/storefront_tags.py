"""Small storefront helpers that are not about one app's models."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

ORDER_STATUS_LABELS = {
    "pending": _("待处理"),
    "processing": _("备货中"),
    "shipped": _("已发货"),
    "delivered": _("已送达"),
    "cancelled": _("已取消"),
}


@register.filter
def order_status_label(status) -> str:
    """A buyer-facing Chinese label for an order status code."""
    if not status:
        return ""
    return str(ORDER_STATUS_LABELS.get(status, status))


@register.filter
def payment_source_label(source) -> str:
    """A payment source's method name in the current language."""
    from shop.payment.methods import label_for_source_type

    return label_for_source_type(source.source_type)
