"""Showing ledger amounts (int fen) and statements in templates."""

from django import template
from oscar.templatetags.currency_filters import currency

from shop.payment import settlement
from shop.payment.ledger import from_fen

register = template.Library()


@register.filter
def fen_yuan(value) -> str:
    """fen → "12.30" (no currency sign: for tables headed 元)."""
    try:
        return f"{from_fen(int(value))}"
    except (TypeError, ValueError):
        return ""


@register.filter
def fen_currency(value) -> str:
    """fen → "¥12.30", the shop's currency format."""
    try:
        return currency(from_fen(int(value)), "CNY")
    except (TypeError, ValueError):
        return ""


@register.filter
def statement_status(statement) -> str:
    """已付款, 待付款 or 无需付款."""
    return settlement.status_label(statement)


@register.filter
def statement_badge(statement) -> str:
    """A badge modifier for the statement's status."""
    if statement.status == statement.Status.PAID:
        return "paid"
    return "due" if statement.payable > 0 else "none"


# The storefront stylesheet's badges (static/css/site.css), for the portals.
PORTAL_BADGES = {"paid": "badge-success", "due": "badge-shipment-waiting", "none": ""}


@register.filter
def statement_badge_class(statement) -> str:
    return PORTAL_BADGES[statement_badge(statement)]


@register.filter
def fen_negated(value) -> str:
    """A deduction shown with its sign: fen 120 → "-1.20", fen -120 → "1.20"."""
    try:
        return fen_yuan(-int(value))
    except (TypeError, ValueError):
        return ""
