"""What every CMS page asks about the page tree, kept in the shared cache:
the footer's navigation (cms/navigation.py) and the paths of pages under a
view restriction, which Wagtail otherwise reads with a query each time a page
is served or a listing keeps to public pages.

Everything here lives under one version that ``tree_changed`` replaces
whenever a page, a view restriction or a site is saved, deleted, published,
unpublished or moved (receivers in cms/apps.py), with config/cache_versions.py,
so a value computed from the old rows cannot outlive the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Q, QuerySet
from wagtail.models import Page, PageViewRestriction, Site

from config import cache_versions

VERSION_KEY = "cms:tree:v"
# A safety net only: every change replaces the version.
TIMEOUT = 24 * 3600

T = TypeVar("T")


def tree_changed(sender: Any = None, instance: Any = None, **kwargs: Any) -> None:
    """Receiver: forget everything cached about the page tree (other
    models' saves and deletes are ignored)."""
    if kwargs.get("raw"):
        return
    if instance is not None and not isinstance(instance, (Page, PageViewRestriction, Site)):
        return
    cache_versions.bump(VERSION_KEY)


def cached(name: str, compute: Callable[[], T]) -> T:
    """``compute()``'s value under ``name`` for the current tree version."""
    key = f"cms:tree:{cache_versions.current(VERSION_KEY)}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def restricted_paths() -> list[str]:
    """Tree paths of the pages carrying a view restriction (each covers its
    descendants)."""
    return cached(
        "restricted",
        lambda: sorted(PageViewRestriction.objects.values_list("page__path", flat=True)),
    )


def is_restricted(page: Page) -> bool:
    return any(page.path.startswith(path) for path in restricted_paths())


def public_pages(pages: QuerySet) -> QuerySet:
    """Wagtail's ``.public()`` (no view restriction on the page or above
    it), from the cached restricted paths instead of a query."""
    condition = Q()
    for path in restricted_paths():
        condition |= Q(path__startswith=path)
    return pages.exclude(condition) if condition else pages


class CachedViewRestrictionsMixin:
    """For page models: Wagtail's serving asks ``get_view_restrictions()``
    (two queries) for every page it serves; a page that no restriction
    covers, and that is not an alias, has none, without asking."""

    def get_view_restrictions(self):
        if getattr(self, "alias_of_id", None) is None and not is_restricted(self):
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()
