"""``{% category_menu depth=1 [parent=category] as nodes %}``: Oscar's
``category_tree`` read through the shared cache (shop/catalogue/category_menu.py)."""

from django import template

from shop.catalogue.category_menu import category_menu as cached_menu

register = template.Library()


@register.simple_tag
def category_menu(depth: int = 1, parent=None) -> list:
    return cached_menu(depth=depth, parent=parent)
