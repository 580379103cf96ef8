"""Small storefront helpers that are not about one app's models."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

register = template.Library()


@register.simple_tag
def basket_item_count(request) -> int:
    """Items in the visitor's basket for the header (shop/basket_count.py)."""
    from shop.basket_count import basket_item_count as count

    return count(request)


# Chinese punctuation that sits between values rather than inside a phrase:
# English needs ", " and a plain space instead.
LIST_SEPARATOR = pgettext_lazy("separator between the items of a list", "、")
GAP = pgettext_lazy("gap between two values on one line", "　")  # U+3000

ORDER_STATUS_LABELS = {
    "pending": _("待处理"),
    "processing": _("备货中"),
    "shipped": _("已发货"),
    "delivered": _("已送达"),
    "cancelled": _("已取消"),
    "refunded": _("已退款"),
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


@register.filter(needs_autoescape=True)
def join_list(items, autoescape=True) -> str:
    """Join items with the current language's list separator ("、" / ", ")."""
    escape = conditional_escape if autoescape else str
    return mark_safe(str(escape(LIST_SEPARATOR)).join(str(escape(item)) for item in items))


@register.simple_tag
def list_separator() -> str:
    """The list separator on its own, for lists built with {% for %}."""
    return str(LIST_SEPARATOR)


@register.simple_tag
def gap() -> str:
    """The space between two values on one line (ideographic in Chinese)."""
    return str(GAP)
