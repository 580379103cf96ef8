"""Courses, lessons and learners for the learning tests (and for the station
isolation sweep, which records a training session on a course)."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from wagtail.models import Page, Site

from cms.models import CoursePage, HomePage, LessonPage, QuizQuestion, TrainingIndexPage

User = get_user_model()

_serial = itertools.count(1)

# Two questions; the right answers are 2 and 1.
QUIZ = [
    {
        "prompt": "拍农产品照片，什么光线最好？",
        "choices": "正午的直射阳光\n上午或傍晚的柔和自然光\n夜里的闪光灯",
        "correct": 2,
        "explanation": "柔和的自然光颜色真实、阴影浅。",
    },
    {
        "prompt": "主图背景应该怎样？",
        "choices": "干净简单\n越花哨越好",
        "correct": 1,
        "explanation": "背景简单，买家一眼看到商品。",
    },
]


def home_page() -> HomePage:
    """The site's HomePage (made if missing), with the default Wagtail Site
    pointing at it so pages have URLs."""
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = root.add_child(instance=HomePage(title="网农", slug=f"wn-home-{next(_serial)}"))
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="网农"
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.save()
    return home


def training_index() -> TrainingIndexPage:
    index = TrainingIndexPage.objects.first()
    if index is None:
        index = home_page().add_child(
            instance=TrainingIndexPage(title="农民培训", slug=f"training-{next(_serial)}")
        )
    else:
        home_page()
    return index


def make_course(
    title: str = "如何拍好农产品照片",
    lessons: list[tuple[str, list[dict] | None]] | None = None,
    *,
    pass_mark: int = 100,
) -> CoursePage:
    """A live course with live lessons; ``lessons`` are (title, quiz) pairs,
    quiz None for a lesson without one. By default: two plain lessons and
    one with the two-question QUIZ."""
    if lessons is None:
        lessons = [("光线与角度", None), ("背景与构图", None), ("课后小测验", QUIZ)]
    n = next(_serial)
    course = training_index().add_child(
        instance=CoursePage(title=title, slug=f"course-{n}", intro=f"{title}：课程简介。")
    )
    for i, (lesson_title, quiz) in enumerate(lessons, start=1):
        lesson = LessonPage(
            title=lesson_title,
            slug=f"lesson-{n}-{i}",
            summary=f"{lesson_title}的要点。",
            pass_mark=pass_mark,
            questions=[QuizQuestion(sort_order=k, **q) for k, q in enumerate(quiz or [])],
        )
        course.add_child(instance=lesson)
    return course


def lessons_of(course: CoursePage) -> list[LessonPage]:
    return list(course.lessons())


def learner(username: str | None = None, *, first_name: str = "", last_name: str = ""):
    username = username or f"learner{next(_serial)}"
    return User.objects.create_user(
        username,
        f"{username}@example.cn",
        "pw-learner-123",
        first_name=first_name,
        last_name=last_name,
    )


def question_ids(lesson: LessonPage) -> list[int]:
    return list(lesson.questions.order_by("sort_order", "pk").values_list("pk", flat=True))


def right_answers(lesson: LessonPage) -> dict[int, int]:
    return {q.pk: q.correct for q in lesson.questions.all()}
