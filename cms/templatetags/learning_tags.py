"""Learning progress on the Wagtail course and lesson pages.

The pages' ``get_context`` stays as Wagtail makes it; the learning parts
come from these tags, used by cms/templates/cms/includes/
(course_progress.html, lesson_status.html, lesson_actions.html):

    {% course_progress page request.user as progress %}
    {% lesson_learning page as learning %}

A learner's progress through a course is computed once per request and
kept on the request, so the course page's progress block and the status
of every lesson in its list cost the same three queries together.
"""

from __future__ import annotations

from django import template

from cms import learning
from cms.models import CoursePage, LessonPage

register = template.Library()

_CACHE_ATTR = "_wangnong_course_progress"


def _progress_for(request, course: CoursePage, user) -> learning.CourseProgress:
    cache = getattr(request, _CACHE_ATTR, None) if request is not None else None
    key = (getattr(user, "pk", None), course.pk)
    if cache is not None and key in cache:
        return cache[key]
    progress = learning.course_progress(user, course)
    if request is not None:
        if cache is None:
            cache = {}
            setattr(request, _CACHE_ATTR, cache)
        cache[key] = progress
    return progress


@register.simple_tag(takes_context=True)
def course_progress(context, course, user=None):
    """The learner's progress through ``course`` (a CoursePage), or None for
    anything else. Anonymous visitors get a progress with nothing done
    (its ``total`` still counts the lessons)."""
    if not isinstance(course, CoursePage):
        return None
    request = context.get("request")
    if user is None and request is not None:
        user = request.user
    return _progress_for(request, course, user)


@register.simple_tag(takes_context=True)
def lesson_learning(context, lesson):
    """What a lesson page's actions need: the course and the learner's
    progress in it, whether this lesson is done, its quiz as the form shows
    it (choices only, with the answers kept after a refused submission)
    and the form's token."""
    if not isinstance(lesson, LessonPage):
        return None
    request = context.get("request")
    user = getattr(request, "user", None)
    course = learning.course_of(lesson)
    progress = _progress_for(request, course, user)
    answers = context.get("quiz_answers") or {}
    error_ids = set(context.get("quiz_error_ids") or [])
    questions = learning.quiz_questions(lesson)
    for q in questions:
        q["answer"] = answers.get(q["id"])
        q["error"] = q["id"] in error_ids
    signed_in = bool(user is not None and user.is_authenticated)
    latest = None
    if signed_in and questions:
        latest = lesson.attempts.filter(user=user).only("correct", "total", "passed").first()
    return {
        "course": course,
        "progress": progress,
        "signed_in": signed_in,
        "done": progress.is_done(lesson),
        "questions": questions,
        "has_quiz": bool(questions),
        "token": context.get("quiz_token") or learning.new_token(),
        "error": context.get("quiz_error", ""),
        "latest_attempt": latest,
    }


@register.filter
def lesson_done(progress, lesson) -> bool:
    """``{% if progress|lesson_done:lesson %}``."""
    if progress is None or lesson is None:
        return False
    return progress.is_done(getattr(lesson, "pk", lesson))
