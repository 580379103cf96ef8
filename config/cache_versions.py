"""Version tokens for values kept in the shared cache that must never outlive
a change of the rows they were computed from.

A cached value's key (or the value itself) carries the version current when
it was computed; changing the rows replaces the version, so every value
made before is never read again and simply expires. Used by the anonymous
page cache (config/page_cache.py), the category menus
(shop/catalogue/category_menu.py) and the CMS page tree
(cms/site_cache.py).

``bump`` replaces a version at once *and again after the transaction
commits*: a request that reads the old rows between the change and the
commit may cache what it computed under the first new version, but never
under the second. Versions are random tokens, not counters, so a version
lost from the cache (eviction, a flush) can never come back with a value an
old entry was made at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction


def _replace(keys: tuple[str, ...]) -> None:
    cache.set_many({key: uuid.uuid4().hex for key in keys}, None)


def bump(*keys: str) -> None:
    """Make every value cached under these versions out of date, now and
    again when the current transaction commits (at once outside one)."""
    if not keys:
        return
    _replace(keys)
    transaction.on_commit(lambda: _replace(keys), robust=True)


def fill_missing(keys: Iterable[str], found: dict[str, str]) -> dict[str, str]:
    """``found`` (what one ``get_many`` returned, possibly with other keys)
    completed with a version for each of ``keys`` it lacks. A missing version
    is created with ``add``, so one a concurrent ``bump`` set first wins."""
    versions = {key: found[key] for key in keys if key in found}
    for key in keys:
        if key not in versions:
            new = uuid.uuid4().hex
            versions[key] = new if cache.add(key, new, None) else cache.get(key, new)
    return versions


def current(key: str) -> str:
    """The version under ``key``, created if there is none yet."""
    return fill_missing([key], cache.get_many([key]))[key]
