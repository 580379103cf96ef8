"""The category menus (the header's and the catalogue's top-level categories,
a category page's subcategories) from the shared cache.

Oscar's ``category_tree`` tag costs two queries each time, and the header
shows it on every page. The menus change only when a category does, so they
are kept in the cache under a version that ``category_changed`` replaces on
every save or delete of a category (receivers in shop/catalogue/apps.py),
with config/cache_versions.py, so a menu computed from the old rows cannot
outlive the change. The dashboard's move of a
category saves it after moving it, so moves are seen too.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from oscar.templatetags.category_tags import get_annotated_list

from config import cache_versions

VERSION_KEY = "catalogue:category-menu:v"
MENU_KEY = "catalogue:category-menu:{version}:{depth}:{parent}"
# A safety net only: every change replaces the version.
TIMEOUT = 24 * 3600


def category_changed(sender: Any = None, **kwargs: Any) -> None:
    """Receiver for Category post_save/post_delete: forget every menu."""
    if kwargs.get("raw"):
        return
    cache_versions.bump(VERSION_KEY)


def category_menu(depth: int = 1, parent=None) -> list:
    """Oscar's annotated category list (what ``category_tree`` returns):
    ``depth`` levels of public, in-menu categories, under ``parent`` or
    from the root."""
    key = MENU_KEY.format(
        version=cache_versions.current(VERSION_KEY),
        depth=depth,
        parent=getattr(parent, "pk", None) or "root",
    )
    menu = cache.get(key)
    if menu is None:
        menu = list(get_annotated_list(depth=depth, parent=parent))
        cache.set(key, menu, TIMEOUT)
    return menu
