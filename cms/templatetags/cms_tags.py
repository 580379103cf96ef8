"""Template tags for Wagtail pages that show live catalogue content.

Product cards on CMS pages load through ``browsable_products()`` so a block
of twelve products costs a handful of queries, not one per product.
"""

from django import template
from wagtail.models import Page, Site

from shop.catalogue.listing import browsable_products

register = template.Library()


@register.simple_tag
def latest_products(count=8):
    """The newest browsable products, newest first."""
    try:
        count = max(0, min(int(count), 48))
    except (TypeError, ValueError):
        count = 8
    return list(browsable_products().order_by("-date_created", "-pk")[:count])


@register.simple_tag
def featured_products(products):
    """The chosen products that are still browsable, in the editor's order.

    ``products`` are the instances a chooser block holds; they are fetched
    again through ``browsable_products()`` so unpublished or child products
    drop out and each card has its prices, images and stock prefetched.
    """
    ids = [p.pk for p in (products or []) if p is not None and getattr(p, "pk", None)]
    if not ids:
        return []
    found = browsable_products().in_bulk(ids)
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]


@register.simple_tag
def browsable_categories(categories):
    """The chosen categories that shoppers may see, in the editor's order."""
    return [
        c for c in (categories or []) if c is not None and c.is_public and c.ancestors_are_public
    ]


@register.simple_tag(takes_context=True)
def menu_pages(context):
    """Live pages directly under the site's home page marked "show in menus"."""
    request = context.get("request")
    if request is None:
        return []
    site = Site.find_for_request(request)
    if site is None:
        return []
    return list(Page.objects.child_of(site.root_page).live().public().in_menu().order_by("path"))
