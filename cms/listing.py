"""What the programme's index pages list: articles newest first by tag,
courses by audience. Called from the index templates through cms_tags, so
the page models keep no presentation code."""

from __future__ import annotations

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest
from taggit.models import Tag

from cms.models import ArticlePage, CoursePage, ProgrammeIndexPage, TrainingIndexPage
from cms.site_cache import public_pages

ARTICLES_PER_PAGE = 10


def article_listing(index: ProgrammeIndexPage, request: HttpRequest) -> dict:
    """The index's live articles, newest first, ``?tag=`` filtering by tag
    name and ``?page=`` paging ten at a time (an out-of-range or malformed
    page number shows the last or first page rather than an error).

    Returns the page of articles, its paginator, the tag asked for (when it
    exists) and the tags in use, for the filter chips."""
    articles = (
        public_pages(index.articles())
        .select_related("lead_image")
        .prefetch_related("lead_image__renditions")
    )
    tags = list(
        Tag.objects.filter(
            cms_articlepagetag_items__content_object__in=public_pages(
                ArticlePage.objects.child_of(index).live()
            )
        )
        .distinct()
        .order_by("name")
    )
    wanted = (request.GET.get("tag") or "").strip()
    tag = next((t for t in tags if t.name == wanted), None)
    if wanted:
        # A tag no live article carries lists nothing, and says so.
        articles = articles.filter(tags__name=wanted) if tag else articles.none()
    paginator = Paginator(articles, ARTICLES_PER_PAGE)
    page_obj: PaginatorPage = paginator.get_page(request.GET.get("page"))
    return {
        "articles": page_obj.object_list,
        "page_obj": page_obj,
        "paginator": paginator,
        "tags": tags,
        "tag": tag,
        "wanted_tag": wanted,
    }


def course_listing(index: TrainingIndexPage, request: HttpRequest) -> dict:
    """The index's live courses in editors' order, ``?audience=`` keeping
    one audience (an unknown value is ignored and all are shown)."""
    courses = (
        public_pages(index.courses())
        .select_related("cover_image")
        .prefetch_related("cover_image__renditions")
    )
    audience = request.GET.get("audience") or ""
    if audience not in CoursePage.Audience.values:
        audience = ""
    if audience:
        courses = courses.filter(audience=audience)
    return {
        "courses": list(courses),
        "audience": audience,
        "audiences": CoursePage.Audience.choices,
    }


def course_lessons(course: CoursePage) -> list:
    """The course's live lessons in tree order, each with ``question_count``
    (how many quiz questions it has), in one query."""
    return list(course.lessons().annotate(question_count=Count("questions")))
