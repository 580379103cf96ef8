"""The statistics page's data: the latest complete snapshot, fetched in one
query whatever the number of orders behind it (cms/statistics.py)."""

from django import template

from cms import statistics

register = template.Library()


@register.simple_tag
def latest_statistics() -> statistics.Figures | None:
    """The latest complete snapshot's figures, or None before the first."""
    return statistics.latest()
