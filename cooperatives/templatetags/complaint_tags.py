"""{% complaint_record cooperative as record %}: the cooperative's public
complaint figures (cooperatives.complaints.cooperative_record)."""

from django import template

from cooperatives import complaints

register = template.Library()


@register.simple_tag
def complaint_record(cooperative):
    return complaints.cooperative_record(cooperative)


@register.simple_tag
def order_complaints(order):
    """``{% order_complaints order as rows %}``: (line, latest complaint)."""
    return complaints.by_line(order)


@register.filter
def percent(share) -> str:
    return "" if share is None else f"{round(share * 100)}%"
