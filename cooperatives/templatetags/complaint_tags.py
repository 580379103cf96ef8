"""Complaint template tags: a buyer's order lines with their complaints, and
shares as percentages (the public credit record)."""

from django import template

from cooperatives import complaints

register = template.Library()


@register.simple_tag
def order_complaints(order):
    """``{% order_complaints order as rows %}``: (line, latest complaint)."""
    return complaints.by_line(order)


@register.filter
def percent(share) -> str:
    return "" if share is None else f"{round(share * 100)}%"
