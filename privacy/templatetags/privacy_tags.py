"""``{% load privacy_tags %}``: ``value|mask_phone``, ``value|mask_address``,
``value|mask_name`` (privacy/masking.py)."""

from django import template

from privacy import masking

register = template.Library()


@register.filter
def mask_phone(value) -> str:
    return masking.mask_phone(value)


@register.filter
def mask_address(value) -> str:
    return masking.mask_address(value)


@register.filter
def mask_name(value) -> str:
    return masking.mask_name(value)


@register.filter
def value_kind(value) -> str:
    """For the export page: "pairs" (a record), "list" or "scalar"."""
    from privacy.views import Pairs

    if isinstance(value, Pairs):
        return "pairs"
    if isinstance(value, list | tuple):
        return "list"
    return "scalar"
