"""Where the programme's sections are: the site navigation links to the
training index, the programme news index and the statistics page wherever
editors placed them and whatever they called them.

The footer shows it on every page of the site, so it is kept in the shared
cache per host (no query at all once cached, not even Wagtail's site
look-up), under cms/site_cache.py's version of the page tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import HttpRequest
from wagtail.models import Page, Site

from cms.models import ProgrammeIndexPage, StatisticsPage, TrainingIndexPage
from cms.site_cache import cached, restricted_paths

# The sections in the order the navigation lists them.
SECTIONS = (
    ("training", TrainingIndexPage),
    ("programme", ProgrammeIndexPage),
    ("statistics", StatisticsPage),
)


@dataclass
class SiteNavigation:
    """What the footer links to: the programme's sections (``links``: key,
    title, url) and the other pages under home marked "show in menus"
    (``menu``: title, url), each page once."""

    links: list[dict] = field(default_factory=list)
    menu: list[Page] = field(default_factory=list)


def site_navigation(request: HttpRequest) -> SiteNavigation:
    """The navigation for the request's host, from the cache when it can."""
    return cached(f"navigation:{request.get_host()}", lambda: compute_navigation(request))


def compute_navigation(request: HttpRequest) -> SiteNavigation:
    """For each section the live, public page of its type closest to the
    site root (then first in tree order), and the home page's live, public
    menu children: a query (and Wagtail's site look-up), only when the cache
    does not hold the navigation."""
    site = Site.find_for_request(request)
    if site is None:
        return SiteNavigation()
    root = site.root_page
    restricted = restricted_paths()
    section_types = ContentType.objects.get_for_models(*(m for _k, m in SECTIONS)).values()
    pages = [
        page
        for page in Page.objects.descendant_of(root)
        .live()
        .filter(
            Q(content_type__in=list(section_types)) | Q(depth=root.depth + 1, show_in_menus=True)
        )
        .order_by("depth", "path")
        if not any(page.path.startswith(path) for path in restricted)
    ]
    first: dict[int, Page] = {}
    for page in pages:
        first.setdefault(page.content_type_id, page)
    nav = SiteNavigation()
    for key, model in SECTIONS:
        for page in first.values():
            if issubclass(page.specific_class, model):
                url = page.get_url(request)
                if url:
                    nav.links.append({"key": key, "title": page.title, "url": url, "pk": page.pk})
                break
    linked = {link["pk"] for link in nav.links}
    menu = [
        page
        for page in pages
        if page.depth == root.depth + 1 and page.show_in_menus and page.pk not in linked
    ]
    menu.sort(key=lambda page: page.path)
    nav.menu = [{"title": page.title, "url": page.get_url(request)} for page in menu]
    return nav
