"""Template tags for Wagtail pages that show live catalogue content.

Product cards on CMS pages load through ``browsable_products()`` so a block
of twelve products costs a handful of queries, not one per product.
"""

from django import template

from cms.media_checks import VIDEO_MIME_TYPES
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
