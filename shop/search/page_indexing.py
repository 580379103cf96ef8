"""Build and store the search documents of CMS pages (courses, lessons,
articles and the plain content pages), so the site search box finds them
with the same Chinese terms as the products (shop/search/tokens.py).

Only live pages of the types in ``INDEXED_TYPES`` that nobody has put behind
a view restriction (on the page or an ancestor) have a document; anything
else loses its row when it is re-indexed. Called after commit by
shop/search/page_signals.py (publish, unpublish, move, view restrictions)
and in bulk by ``rebuild_page_index()`` (``rebuild_index()`` and load_demo).
Wagtail's admin search keeps its own index (wagtail.search); this one only
serves the public site search.
"""

import re
from collections.abc import Iterable

from django.conf import settings
from django.utils import translation
from wagtail.models import Page, PageViewRestriction

from cms.models import (
    ArticlePage,
    CoursePage,
    LessonPage,
    ProgrammeIndexPage,
    StandardPage,
    TrainingIndexPage,
)
from config import page_cache
from shop.search.models import PageSearchDocument
from shop.search.tokens import document_terms, join_terms

Kind = PageSearchDocument.Kind

# Page type → what the results list calls it.
INDEXED_TYPES: dict[type[Page], str] = {
    CoursePage: Kind.COURSE,
    LessonPage: Kind.LESSON,
    ArticlePage: Kind.ARTICLE,
    StandardPage: Kind.PAGE,
    TrainingIndexPage: Kind.PAGE,
    ProgrammeIndexPage: Kind.PAGE,
}

# The fields whose text is the page's body, in order (the summary first, so
# the results list quotes it when the query term is not further in).
BODY_FIELDS: dict[type[Page], tuple[str, ...]] = {
    CoursePage: ("intro", "description"),
    LessonPage: ("summary", "body"),
    ArticlePage: ("intro", "body"),
    StandardPage: ("body",),
    TrainingIndexPage: ("intro",),
    ProgrammeIndexPage: ("intro",),
}

EXCERPT_LENGTH = 1500
_SPACE = re.compile(r"\s+")


# Page types whose title their children's documents carry: a course its
# training section's ("农民培训", so 培训 finds every course), a lesson its
# course's, an article its programme section's.
SECTION_TYPES: tuple[type[Page], ...] = (TrainingIndexPage, CoursePage, ProgrammeIndexPage)


class IndexContext:
    """What documents need beyond the page itself, read once per batch:
    the paths of pages with view restrictions and the sections' titles."""

    def __init__(self) -> None:
        self.restricted_paths = list(
            PageViewRestriction.objects.values_list("page__path", flat=True)
        )
        self.section_titles = dict(Page.objects.type(*SECTION_TYPES).values_list("path", "title"))

    def is_private(self, page: Page) -> bool:
        return any(page.path.startswith(path) for path in self.restricted_paths)

    def section_title(self, page: Page) -> str:
        """The title of the course or section ``page`` is in ("" if none)."""
        return self.section_titles.get(page.path[: -Page.steplen], "")


def is_indexable(page: Page, context: IndexContext) -> bool:
    """Live, of a searchable type, and visible to everyone."""
    return type(page) in INDEXED_TYPES and page.live and not context.is_private(page)


def _plain(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def _field_text(page: Page, name: str) -> str:
    """A field as plain text: rich text and StreamFields through Wagtail's
    own ``get_searchable_content`` (text blocks without HTML, captions and
    labels; images, documents and chosen products contribute nothing)."""
    field = page._meta.get_field(name)
    value = getattr(page, name)
    if hasattr(field, "get_searchable_content"):
        parts = field.get_searchable_content(value)
    else:
        parts = [value]
    return _plain(" ".join(str(p) for p in parts if p))


def _extras(page: Page, context: IndexContext) -> list[str]:
    # The course or section it is in: a word of a course's title finds its
    # lessons too, and the training section's name finds its courses.
    extras: list[str] = [context.section_title(page)]
    if isinstance(page, CoursePage):
        extras += [page.get_audience_display(), page.get_level_display()]
    elif isinstance(page, ArticlePage):
        extras.append(page.get_kind_display())
        extras.extend(tag.name for tag in page.tags.all())
    extras.append(page.search_description)
    return [_plain(e) for e in extras if e]


def build_page_document(page: Page, context: IndexContext) -> PageSearchDocument:
    """The (unsaved) document of a specific page instance, in the site's
    default language whatever the request that triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        texts = [_field_text(page, name) for name in BODY_FIELDS[type(page)]]
        extras = _extras(page, context)
    # The page's own text, summary first: the results list quotes the part
    # around the first query term (shop/search/page_results.snippet).
    excerpt = " ".join(t for t in texts if t) or page.search_description or ""
    return PageSearchDocument(
        page=page,
        kind=INDEXED_TYPES[type(page)],
        title_terms=join_terms(document_terms(page.title, unigrams=True)),
        body_terms=join_terms(document_terms(" ".join(texts + extras))),
        excerpt=_plain(excerpt)[:EXCERPT_LENGTH],
    )


def index_page_ids(page_ids: Iterable[int]) -> None:
    """(Re)index these pages: store the document of each indexable one,
    delete the document of any other (unpublished, private, gone)."""
    ids = set(page_ids)
    if not ids:
        return
    context = IndexContext()
    keep: set[int] = set()
    for page in Page.objects.filter(pk__in=ids).specific():
        if not is_indexable(page, context):
            continue
        doc = build_page_document(page, context)
        PageSearchDocument.objects.update_or_create(
            page_id=page.pk,
            defaults={
                "kind": doc.kind,
                "title_terms": doc.title_terms,
                "body_terms": doc.body_terms,
                "excerpt": doc.excerpt,
            },
        )
        keep.add(page.pk)
    PageSearchDocument.objects.filter(page_id__in=ids - keep).delete()
    page_cache.site_changed()  # search results cached before the new documents


def subtree_ids(page: Page) -> set[int]:
    """The ids of ``page`` and every page under it (a view restriction or
    a move changes them all)."""
    return set(Page.objects.descendant_of(page, inclusive=True).values_list("pk", flat=True))


def rebuild_page_index() -> int:
    """Rebuild every page document; returns how many pages are indexed."""
    context = IndexContext()
    docs = [
        build_page_document(page, context)
        for page in Page.objects.live().type(*INDEXED_TYPES).specific()
        if is_indexable(page, context)
    ]
    PageSearchDocument.objects.all().delete()
    PageSearchDocument.objects.bulk_create(docs)
    page_cache.site_changed()  # bulk_create sends no signal
    return len(docs)
