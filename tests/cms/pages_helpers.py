"""Pages, images and documents for the CMS page tests: a home page the
default Site points at, sections under it, and small real media files."""

from __future__ import annotations

import datetime as dt
import io
import itertools

from django.core.files.base import ContentFile
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from cms.models import (
    ArticlePage,
    CoursePage,
    HomePage,
    LessonPage,
    ProgrammeIndexPage,
    QuizQuestion,
    TrainingIndexPage,
)

_serial = itertools.count(1)

# The first bytes of real files: an MP4 starts with an 'ftyp' box, WebM with
# the EBML magic number, a PDF with '%PDF'.
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 40
WEBM_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01" + b"\x00" * 40
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def n() -> int:
    return next(_serial)


def home_page() -> HomePage:
    """A HomePage the default Wagtail Site serves, so pages have URLs."""
    home = HomePage.objects.first()
    if home is None:
        home = Page.get_first_root_node().add_child(
            instance=HomePage(title="网农", slug=f"wn-home-{n()}")
        )
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="网农"
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.save()
    return home


def publish(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def draft(parent: Page, page: Page) -> Page:
    page.live = False
    parent.add_child(instance=page)
    page.save_revision()
    return page


def programme_index(title: str = "项目动态", parent: Page | None = None) -> ProgrammeIndexPage:
    return publish(
        parent or home_page(), ProgrammeIndexPage(title=title, slug=f"news-{n()}", intro="")
    )


def training_index(title: str = "农民培训", parent: Page | None = None) -> TrainingIndexPage:
    return publish(parent or home_page(), TrainingIndexPage(title=title, slug=f"training-{n()}"))


def article(
    index: ProgrammeIndexPage,
    title: str,
    *,
    date: dt.date | None = None,
    kind: str = ArticlePage.Kind.NEWS,
    tags: tuple[str, ...] = (),
    intro: str = "",
    lead_image=None,
    body_html: str = "<p>正文</p>",
) -> ArticlePage:
    page = ArticlePage(
        title=title,
        slug=f"article-{n()}",
        date=date or dt.date(2025, 5, 1),
        kind=kind,
        intro=intro,
        lead_image=lead_image,
        body=[{"type": "text", "value": body_html}],
    )
    page.tags.add(*tags)
    return publish(index, page)


def course(
    index: TrainingIndexPage,
    title: str,
    *,
    audience: str = CoursePage.Audience.FARMERS,
    level: str = CoursePage.Level.BEGINNER,
    minutes: int = 30,
    cover_image=None,
    lessons: tuple[str, ...] = (),
) -> CoursePage:
    page = publish(
        index,
        CoursePage(
            title=title,
            slug=f"course-{n()}",
            audience=audience,
            level=level,
            estimated_minutes=minutes,
            intro=f"{title}的简介",
            cover_image=cover_image,
        ),
    )
    for lesson_title in lessons:
        lesson(page, lesson_title)
    return page


def lesson(
    course_page: CoursePage, title: str, *, body: list | None = None, quiz: int = 0
) -> LessonPage:
    page = LessonPage(
        title=title,
        slug=f"lesson-{n()}",
        summary=f"{title}的要点",
        body=body if body is not None else [{"type": "text", "value": f"<p>{title}正文</p>"}],
        questions=[
            QuizQuestion(prompt=f"第{i + 1}题", choices="对\n错", correct=1, sort_order=i)
            for i in range(quiz)
        ],
    )
    return publish(course_page, page)


def image(title: str = "题图", size: tuple[int, int] = (1600, 900)):
    """A Wagtail image of a real JPEG."""
    data = io.BytesIO()
    PILImage.new("RGB", size, (40, 120, 60)).save(data, "JPEG")
    return get_image_model().objects.create(
        title=title, file=ContentFile(data.getvalue(), name=f"img-{n()}.jpg")
    )


def document(title: str, filename: str, content: bytes):
    """A Wagtail document holding ``content`` under ``filename``."""
    return get_document_model().objects.create(
        title=title, file=ContentFile(content, name=filename)
    )
