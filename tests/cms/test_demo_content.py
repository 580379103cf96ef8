"""The demo's programme content (cms/demo_programme.py, run by load_demo
through cms/demo.setup_cms): the course for cooperatives with three lessons
and a quiz whose right answers are right, the consumers' anti-fraud course,
two tagged articles, the statistics page, the home page's featured course,
and a second run that creates nothing and keeps editors' changes.

setup_cms is called directly with no catalogue: the full load_demo is
tests/test_load_demo.py's (slow) business."""

from __future__ import annotations

import pytest
from django.apps import apps
from wagtail.images import get_image_model
from wagtail.models import Page, Revision, Site, WorkflowPage

from cms.demo import setup_cms
from cms.models import (
    ArticlePage,
    CoursePage,
    HomePage,
    LessonPage,
    ProgrammeIndexPage,
    QuizQuestion,
    StatisticsPage,
    TrainingIndexPage,
)

pytestmark = pytest.mark.django_db

LESSONS = ["如何拍好农产品照片", "生鲜包装与冷链发货", "安全收款与防范电信诈骗"]


def demo(images: bool = False):
    return setup_cms(featured_product_ids=[], category_ids=[], images=images)


def counts() -> dict[str, int]:
    labels = [
        "wagtailcore.Page",
        "wagtailcore.Revision",
        "wagtailcore.Workflow",
        "wagtailcore.WorkflowPage",
        "wagtailcore.Task",
        "cms.QuizQuestion",
        "cms.ArticlePageTag",
        "taggit.Tag",
        "wagtailimages.Image",
        "auth.Group",
    ]
    return {label: apps.get_model(label).objects.count() for label in labels}


def text_of(lesson: LessonPage) -> str:
    return "".join(str(block.value) for block in lesson.body if block.block_type == "text")


@pytest.fixture
def loaded():
    return demo()


def test_the_cooperatives_course_has_three_practical_lessons(loaded):
    home = HomePage.objects.get()
    training = TrainingIndexPage.objects.child_of(home).get()
    assert training.title == "农民培训" and training.live

    course = CoursePage.objects.child_of(training).get(title="合作社网上销售入门")
    assert course.live
    assert course.audience == CoursePage.Audience.COOP_MANAGERS
    assert course.level == CoursePage.Level.BEGINNER
    assert course.estimated_minutes == 45
    lessons = list(course.lessons())
    assert [lesson.title for lesson in lessons] == LESSONS

    photo, packing, payment = (text_of(lesson) for lesson in lessons)
    for needle in ("自然光", "背景", "参照物", "硬币"):
        assert needle in photo, needle
    for needle in ("预冷", "保温箱", "冰袋", "标签"):
        assert needle in packing, needle
    for needle in ("验证码", "截图", "客服电话", "96110"):
        assert needle in payment, needle
    for lesson in lessons:
        assert len([b for b in lesson.body if b.block_type == "text"]) >= 3
        assert lesson.summary
    assert not lessons[0].has_quiz and not lessons[1].has_quiz


def test_the_payment_lessons_quiz_has_the_right_answers_set(loaded):
    lesson = LessonPage.objects.get(title="安全收款与防范电信诈骗")
    questions = list(lesson.questions.order_by("sort_order"))

    assert len(questions) == 3
    right = [q.choice_list()[q.correct - 1] for q in questions]
    assert "不给验证码" in right[0]
    assert "到账记录" in right[1]
    assert right[2].startswith("诈骗")
    for question in questions:
        question.full_clean()  # as the admin would validate it
        assert question.explanation
    # Not always the same position, so guessing "the first" does not pass.
    assert len({q.correct for q in questions}) > 1


def test_a_short_anti_fraud_course_for_consumers(loaded):
    course = CoursePage.objects.get(slug="spot-payment-fraud")
    assert course.live and course.audience == CoursePage.Audience.CONSUMERS
    lessons = list(course.lessons())
    assert len(lessons) == 2
    assert sum(lesson.questions.count() for lesson in lessons) >= 2


def test_two_tagged_articles_and_the_statistics_page(loaded):
    home = HomePage.objects.get()
    programme = ProgrammeIndexPage.objects.child_of(home).get()
    assert programme.title == "项目动态" and programme.live
    articles = list(programme.articles())

    assert len(articles) == 2
    assert {a.kind for a in articles} == {ArticlePage.Kind.NEWS, ArticlePage.Kind.POLICY}
    news = next(a for a in articles if a.kind == ArticlePage.Kind.NEWS)
    policy = next(a for a in articles if a.kind == ArticlePage.Kind.POLICY)
    assert "服务站" in news.title
    assert "农产品网络销售全覆盖工程" in policy.title
    for article in articles:
        assert article.intro and len(article.body) >= 1
        assert {"全覆盖工程"} <= set(article.tags.names())
    assert news.date > policy.date  # newest first on the index

    stats = StatisticsPage.objects.get()
    assert stats.title == "覆盖与销售统计" and stats.live
    assert stats.get_parent().pk == home.pk
    assert WorkflowPage.objects.get(page=programme).workflow.name == "文章审核"


def test_the_home_page_features_the_course(loaded):
    home = HomePage.objects.get()
    blocks = [block.block_type for block in home.intro]
    featured = next(block.value for block in home.intro if block.block_type == "featured_courses")

    assert [course.title for course in featured["courses"]] == ["合作社网上销售入门"]
    assert blocks.index("featured_courses") < blocks.index("latest_products")
    assert not home.has_unpublished_changes


def test_the_demo_pages_render(client, loaded):
    pages = [
        TrainingIndexPage.objects.get(),
        *CoursePage.objects.all(),
        *LessonPage.objects.all(),
        ProgrammeIndexPage.objects.get(),
        *ArticlePage.objects.all(),
    ]
    for page in pages:
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        assert page.title in response.content.decode()
    home = client.get("/").content.decode()
    assert (
        "学会网上卖农货" in home and CoursePage.objects.get(slug="coop-online-selling").url in home
    )


def test_running_again_creates_nothing_and_keeps_editors_changes(loaded):
    course = CoursePage.objects.get(slug="coop-online-selling")
    course.title = "合作社网上销售入门（2025 春季班）"
    course.save_revision().publish()
    LessonPage.objects.get(slug="product-photos").delete()  # an editor removed it
    before = counts()

    created = demo()

    assert not any(created.values()), created
    assert counts() == before
    course.refresh_from_db()
    assert course.title == "合作社网上销售入门（2025 春季班）"
    assert [lesson.title for lesson in course.lessons()] == LESSONS[1:]


def test_a_missing_featured_block_is_added_unless_an_editor_has_a_draft(loaded):
    home = HomePage.objects.get()
    home.intro = [b for b in home.intro.raw_data if b["type"] != "featured_courses"]
    home.save_revision().publish()
    home.refresh_from_db()
    home.title = "编辑还没发布的首页"
    draft = home.save_revision()

    demo()
    home.refresh_from_db()
    assert home.latest_revision_id == draft.pk  # the draft is still the latest
    assert "featured_courses" not in [b.block_type for b in home.intro]

    draft.publish()
    demo()
    home.refresh_from_db()
    assert "featured_courses" in [b.block_type for b in home.intro]
    assert home.title == "编辑还没发布的首页"


def test_pictures_are_drawn_only_when_asked(loaded):
    assert CoursePage.objects.filter(cover_image__isnull=False).count() == 0
    assert get_image_model().objects.count() == 0

    # A fresh site with pictures: covers and lead images, phone-sized.
    for page in Page.objects.filter(depth__gt=1):
        Site.objects.filter(root_page=page).update(root_page=Page.get_first_root_node())
    Page.objects.filter(depth=2).delete()
    Revision.objects.all().delete()
    demo(images=True)

    course = CoursePage.objects.get(slug="coop-online-selling")
    assert course.cover_image is not None
    assert course.cover_image.width == 1280 and course.cover_image.height == 720
    assert all(a.lead_image is not None for a in ArticlePage.objects.all())
    assert QuizQuestion.objects.filter(lesson__slug="safe-payments").count() == 3
