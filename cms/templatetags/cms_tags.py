"""Template tags for Wagtail pages that show live catalogue content.

Product cards on CMS pages load through ``browsable_products()`` so a block
of twelve products costs a handful of queries, not one per product.
"""

from django import template

from cms.media_checks import VIDEO_MIME_TYPES
from shop.catalogue.listing import Product, browsable_products, selling_filter

register = template.Library()


def _clamp(count, default: int = 8) -> int:
    try:
        return max(0, min(int(count), 48))
    except (TypeError, ValueError):
        return default


class PageProductCards:
    """Every product card the page's product blocks show, loaded together.

    Each block loading its own cards cost five queries (products, images,
    stock records, variants, their stock records); a home page with a
    featured block and a latest block paid that twice. The first block to
    ask loads the cards of all of them: the newest products' ids (one
    query), then every card once. Kept on the request, for one page."""

    def __init__(self, blocks) -> None:
        self.featured_ids: list[int] = []
        self.latest_count = 0
        for block in blocks:
            if block.block_type == "featured_products":
                self.featured_ids += _ids(block.value.get("products"))
            elif block.block_type == "latest_products":
                self.latest_count = max(self.latest_count, _clamp(block.value.get("count")))
        self._cards: dict[int, object] | None = None
        self._latest: list[int] = []

    def _load(self) -> dict[int, object]:
        if self._cards is None:
            if self.latest_count:
                self._latest = list(
                    Product.objects.browsable()
                    .filter(selling_filter())
                    .order_by("-date_created", "-pk")
                    .values_list("pk", flat=True)[: self.latest_count]
                )
            ids = set(self.featured_ids) | set(self._latest)
            self._cards = browsable_products().in_bulk(ids) if ids else {}
        return self._cards

    def covers(self, ids: list[int] | None = None, count: int | None = None) -> bool:
        if ids is not None:
            return set(ids) <= set(self.featured_ids)
        return count is not None and count <= self.latest_count

    def featured(self, ids: list[int]) -> list:
        cards = self._load()
        return [cards[pk] for pk in dict.fromkeys(ids) if pk in cards]

    def latest(self, count: int) -> list:
        cards = self._load()
        return [cards[pk] for pk in self._latest[:count] if pk in cards]


def _ids(products) -> list[int]:
    return [p.pk for p in (products or []) if p is not None and getattr(p, "pk", None)]


def _page_cards(context) -> PageProductCards | None:
    """The page's shared card loader, or None outside a page with blocks."""
    request = context.get("request")
    page = context.get("page")
    blocks = getattr(page, "intro", None) or getattr(page, "body", None)
    if request is None or page is None or blocks is None or isinstance(blocks, str):
        return None
    memo = getattr(request, "_wangnong_product_cards", None)
    if memo is None or memo[0] != page.pk:
        try:
            memo = (page.pk, PageProductCards(blocks))
        except (AttributeError, TypeError):  # not a StreamField of blocks
            return None
        request._wangnong_product_cards = memo
    return memo[1]


@register.simple_tag(takes_context=True)
def latest_products(context, count=8):
    """The newest browsable products, newest first."""
    count = _clamp(count)
    cards = _page_cards(context)
    if cards is not None and cards.covers(count=count):
        return cards.latest(count)
    return list(browsable_products().order_by("-date_created", "-pk")[:count])


@register.simple_tag(takes_context=True)
def featured_products(context, products):
    """The chosen products that are still browsable, in the editor's order.

    ``products`` are the instances a chooser block holds; they are fetched
    again through ``browsable_products()`` so unpublished or child products
    drop out and each card has its prices, images and stock prefetched.
    """
    ids = _ids(products)
    if not ids:
        return []
    cards = _page_cards(context)
    if cards is not None and cards.covers(ids=ids):
        return cards.featured(ids)
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
    """Live, public pages directly under the site's home page marked "show
    in menus", less those ``programme_nav`` links to (no link twice)."""
    nav = _navigation(context)
    return nav.menu if nav else []


# --- Programme, training ------------------------------------------------------

NAVIGATION_CACHE = "_wangnong_site_navigation"


def _navigation(context):
    """The footer's navigation for this request (cms/navigation.py),
    computed once however many tags ask."""
    request = context.get("request")
    if request is None:
        return None
    cached = getattr(request, NAVIGATION_CACHE, None)
    if cached is None:
        from cms.navigation import site_navigation

        cached = site_navigation(request)
        setattr(request, NAVIGATION_CACHE, cached)
    return cached


@register.simple_tag(takes_context=True)
def programme_nav(context) -> list[dict]:
    """Links to the training index, the programme news index and the
    statistics page: the first live, public page of each type under the
    request's site root, whatever editors called it or wherever they put it
    (a StatisticsPage may sit anywhere)."""
    nav = _navigation(context)
    return nav.links if nav else []


@register.simple_tag
def featured_courses(courses) -> list:
    """The chosen courses that are live and public, in the editor's order,
    with their cover images' renditions prefetched."""
    from cms.models import CoursePage

    ids = [c.pk for c in (courses or []) if c is not None and getattr(c, "pk", None)]
    if not ids:
        return []
    from cms.site_cache import public_pages

    found = (
        public_pages(CoursePage.objects.live())
        .filter(pk__in=ids)
        .select_related("cover_image")
        .prefetch_related("cover_image__renditions")
        .in_bulk()
    )
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]


@register.simple_tag
def featured_cooperatives(cooperatives) -> list:
    """The chosen cooperatives that are verified (only those have a public
    page), in the editor's order."""
    from cooperatives.models import Cooperative

    # The chooser block has fetched them already (in one query): no need
    # to ask again, only to keep the verified ones, each once.
    chosen = {
        c.pk: c
        for c in (cooperatives or [])
        if c is not None and getattr(c, "pk", None) and c.status == Cooperative.Status.VERIFIED
    }
    return list(chosen.values())


@register.simple_tag
def lesson_neighbours(lesson) -> dict:
    """The previous and next live lessons of ``lesson``'s course, in the
    order editors arranged them."""
    from cms.models import LessonPage

    siblings = LessonPage.objects.sibling_of(lesson, inclusive=False).live()
    return {
        "previous": siblings.filter(path__lt=lesson.path).order_by("-path").first(),
        "next": siblings.filter(path__gt=lesson.path).order_by("path").first(),
    }


@register.filter
def video_mime(document) -> str:
    """The ``type`` of a <source> for a video document ("video/mp4")."""
    extension = (getattr(document, "file_extension", "") or "").lower()
    return VIDEO_MIME_TYPES.get(extension, "video/mp4")


@register.simple_tag(takes_context=True)
def article_listing(context, index) -> dict:
    """The programme index's articles for this request (cms/listing.py)."""
    from cms.listing import article_listing as listing

    return listing(index, context["request"])


@register.simple_tag(takes_context=True)
def course_listing(context, index) -> dict:
    """The training index's courses for this request (cms/listing.py)."""
    from cms.listing import course_listing as listing

    return listing(index, context["request"])


@register.simple_tag
def course_lessons(course) -> list:
    """The course's live lessons with their quiz sizes (cms/listing.py)."""
    from cms.listing import course_lessons as lessons

    return lessons(course)
