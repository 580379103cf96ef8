"""Template helpers for reviews and stored rich text on storefront pages."""

from django import template
from django.utils.safestring import mark_safe
from wagtail.whitelist import Whitelister

from shop.catalogue.reviews import author_name

register = template.Library()


@register.filter
def review_author(review) -> str:
    """The author of a review as shown: a masked name, never an e-mail."""
    return getattr(review, "display_name", None) or author_name(review)


@register.filter
def review_stars(score) -> str:
    """★★★☆☆ for 3 of 5."""
    try:
        score = max(0, min(5, int(score)))
    except (TypeError, ValueError):
        score = 0
    return "★" * score + "☆" * (5 - score)


_whitelister = Whitelister()


@register.filter
def clean_html(value) -> str:
    """Stored HTML (product and category descriptions, which Oscar's dashboard
    edits as rich text) through Wagtail's allow-list: known tags only, no
    event handlers or style, links and images only to http(s)/mailto/tel.
    Everything else is dropped or shown as text, so it never runs."""
    if not value:
        return ""
    return mark_safe(_whitelister.clean(str(value)))  # noqa: S308 - cleaned by the allow-list
