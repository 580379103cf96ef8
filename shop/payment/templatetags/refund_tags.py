"""Template helpers for refunds: fen shown as yuan, an order's refunds."""

from django import template

from shop.payment import refunds
from shop.payment.models import Refund

register = template.Library()


@register.filter
def fen_yuan(fen) -> str:
    """int fen → "¥12.30" (empty for None)."""
    if fen is None or fen == "":
        return ""
    return f"¥{refunds.yuan(int(fen))}"


@register.simple_tag
def buyer_refunds(order) -> list:
    """The order's refunds a buyer sees: done or under way, oldest first."""
    return list(
        Refund.objects.filter(order=order, status__in=refunds.COUNTED).order_by("created_at", "pk")
    )


@register.simple_tag
def partner_refund_lines(order, partner) -> list:
    """``partner``'s refunded lines on ``order`` (never other cooperatives'
    lines nor the shipping), newest first: for the cooperative portal."""
    from shop.payment.models import RefundLine

    return list(
        RefundLine.objects.filter(
            refund__order=order, line__partner=partner, refund__status__in=refunds.COUNTED
        )
        .select_related("refund", "refund__requested_by", "line")
        .order_by("-refund__created_at", "-pk")
    )


@register.filter
def line_status(status) -> str:
    """An order line's status in words (cooperatives.fulfilment)."""
    from cooperatives.fulfilment import status_label

    return status_label(status)
