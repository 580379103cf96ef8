"""Where the programme's sections are: the site navigation links to the
training index, the programme news index and the statistics page wherever
editors placed them and whatever they called them."""

from __future__ import annotations

from django.http import HttpRequest
from wagtail.models import Page, Site

from cms.models import ProgrammeIndexPage, StatisticsPage, TrainingIndexPage

# The sections in the order the navigation lists them.
SECTIONS = (
    ("training", TrainingIndexPage),
    ("programme", ProgrammeIndexPage),
    ("statistics", StatisticsPage),
)


def programme_links(request: HttpRequest) -> list[dict]:
    """``[{"key", "title", "url", "page"}]``: for each section the live,
    public page of its type closest to the site root (then first in tree
    order), under the request's site. One query for the pages, plus
    Wagtail's per-request site look-ups."""
    site = Site.find_for_request(request)
    if site is None:
        return []
    pages = (
        Page.objects.descendant_of(site.root_page)
        .live()
        .public()
        .type(*(model for _key, model in SECTIONS))
        .order_by("depth", "path")
    )
    first: dict[int, Page] = {}
    for page in pages:
        first.setdefault(page.content_type_id, page)
    links = []
    for key, model in SECTIONS:
        for page in first.values():
            if issubclass(page.specific_class, model):
                url = page.get_url(request)
                if url:
                    links.append({"key": key, "title": page.title, "url": url, "page": page})
                break
    return links
