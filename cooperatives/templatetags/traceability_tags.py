"""``{% order_trace_links order as links %}``: the buyer's "溯源" links."""

from django import template

from cooperatives import traceability

register = template.Library()


@register.simple_tag
def order_trace_links(order):
    return traceability.order_trace_links(order)
