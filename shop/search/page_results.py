"""The "courses and articles" part of the site search: matching CMS pages,
ranked like products, each with a type label, a snippet and its URL.

Reads only PageSearchDocument rows and their Page rows (one query for the
count, one for the page of hits), so the results page stays a fixed number
of queries. Pages that stopped being live or public are filtered here too,
not only when they are re-indexed.
"""

from dataclasses import dataclass

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.lookups import StartsWith
from django.http import HttpRequest
from wagtail.models import PageViewRestriction

from shop.search.backends import match_page_documents
from shop.search.models import PageSearchDocument
from shop.search.tokens import query_terms

PAGE_HITS_PER_PAGE = 10
SNIPPET_LENGTH = 80


@dataclass(frozen=True)
class PageHit:
    title: str
    url: str
    kind: str
    kind_label: str
    snippet: str


def visible_documents() -> QuerySet:
    """Documents of pages that are live and not behind a view restriction
    (on the page or an ancestor) right now."""
    restricted = PageViewRestriction.objects.filter(
        StartsWith(OuterRef("page__path"), F("page__path"))
    )
    return PageSearchDocument.objects.filter(page__live=True).filter(~Exists(restricted))


def snippet(text: str, query: str, length: int = SNIPPET_LENGTH) -> str:
    """About ``length`` characters of ``text`` around the first place a
    query term occurs (the start of the text if none does)."""
    lowered = text.lower()
    positions = [p for p in (lowered.find(t) for t in query_terms(query)) if p >= 0]
    start = max(0, min(positions) - length // 4) if positions else 0
    cut = text[start : start + length]
    return ("…" if start else "") + cut + ("…" if start + length < len(text) else "")


@dataclass(frozen=True)
class PageResults:
    hits: PaginatorPage  # of PageHit
    # False when no page holds every query term and these hold only some.
    every_term: bool


def search_pages(query: str, request: HttpRequest, page_number) -> PageResults:
    """One page (``PAGE_HITS_PER_PAGE``) of PageHits for ``query``; an
    invalid or too large ``page_number`` gives the first or last page."""
    documents, every_term = match_page_documents(visible_documents().select_related("page"), query)
    paginator = Paginator(documents, PAGE_HITS_PER_PAGE)
    results = paginator.get_page(page_number)
    hits = []
    for doc in results.object_list:
        url = doc.page.get_url(request)
        if not url:  # not under any Site: nowhere to link to
            continue
        hits.append(
            PageHit(
                title=doc.page.title,
                url=url,
                kind=doc.kind,
                kind_label=doc.get_kind_display(),
                snippet=snippet(doc.excerpt, query),
            )
        )
    results.object_list = hits
    return PageResults(hits=results, every_term=every_term)
