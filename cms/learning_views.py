"""The learner's actions and pages around the Wagtail course and lesson
pages, and the public certificate verification.

- POST /learning/lessons/<pk>/done/    mark a lesson without a quiz done
- POST /learning/lessons/<pk>/quiz/    submit a quiz (hidden token); a
  submission that cannot be marked re-renders the lesson page with the
  answers kept and the message; a marked one goes to its result page
- GET  /learning/quiz/<token>/         the result (the learner's own)
- GET/POST /learning/courses/<pk>/certificate/   claim the certificate
  of a completed course (asks for the name when the account has none)
- GET  /learning/certificates/<code>/pdf/        the PDF, owner only
- GET  /learning/                      我的学习
- GET  /certificates/verify/?code=…, /certificates/<code>/   public

The rules are in cms/learning.py; the pages' learning parts are template
tags (cms/templatetags/learning_tags.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cms import certificates, learning
from cms.models import Certificate, CoursePage, LessonPage, LessonProgress, QuizAttempt

ANSWER_PREFIX = "q-"


def _visible(page, request) -> bool:
    """Live, and any view restriction (login, group, password) lets this
    request see it — the same rule Wagtail applies when serving the page."""
    if not page.live:
        return False
    return all(r.accept_request(request) for r in page.get_view_restrictions())


def _live_lesson(request, pk: int) -> LessonPage:
    lesson = get_object_or_404(LessonPage.objects.live(), pk=pk)
    if not _visible(lesson, request):
        raise Http404("lesson not visible")
    return lesson


def _to_login(request, page) -> HttpResponse:
    """Anonymous POSTs go to the sign-in page, then back to the page."""
    return redirect_to_login(page.url if page is not None else request.get_full_path())


def render_lesson(request: HttpRequest, lesson: LessonPage, extra: dict) -> TemplateResponse:
    """The lesson page as Wagtail serves it, with ``extra`` in its context
    (the quiz's error, the answers given, the token)."""
    request.is_preview = False
    context = lesson.get_context(request)
    context.update(extra)
    return TemplateResponse(request, lesson.get_template(request), context)


@require_POST
def mark_done(request: HttpRequest, pk: int) -> HttpResponse:
    lesson = get_object_or_404(LessonPage.objects.live(), pk=pk)
    if not request.user.is_authenticated:
        return _to_login(request, lesson)
    if not _visible(lesson, request):
        raise Http404("lesson not visible")
    try:
        learning.mark_done(request.user, lesson)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(lesson.url)
    progress = learning.course_progress(request.user, learning.course_of(lesson))
    if progress.complete:
        messages.success(request, _("本课已学完。恭喜，整门课程都学完了！"))
    else:
        messages.success(request, _("本课已学完，已记录学习进度。"))
    return redirect(lesson.url)


@require_POST
def submit_quiz(request: HttpRequest, pk: int) -> HttpResponse:
    lesson = get_object_or_404(LessonPage.objects.live(), pk=pk)
    if not request.user.is_authenticated:
        return _to_login(request, lesson)
    if not _visible(lesson, request):
        raise Http404("lesson not visible")
    answers = {
        key[len(ANSWER_PREFIX) :]: value
        for key, value in request.POST.items()
        if key.startswith(ANSWER_PREFIX)
    }
    token = request.POST.get("token", "")
    try:
        attempt = learning.submit_quiz(request.user, lesson, answers, token)
    except learning.QuizError as exc:
        kept = {}
        for key, value in answers.items():
            if key.isascii() and key.isdigit() and value.isascii() and value.isdigit():
                kept[int(key)] = int(value)
        return render_lesson(
            request,
            lesson,
            {
                "quiz_error": exc.message,
                "quiz_error_ids": exc.question_ids,
                "quiz_answers": kept,
                # Nothing was recorded, so the same token stays good —
                # unless the token itself was the problem.
                "quiz_token": learning.new_token() if exc.code == "bad_token" else token,
            },
        )
    return redirect("learning:quiz-result", token=attempt.token)


@never_cache
@login_required
@require_GET
def quiz_result(request: HttpRequest, token) -> HttpResponse:
    attempt = get_object_or_404(
        QuizAttempt.objects.select_related("lesson"), token=token, user=request.user
    )
    lesson = attempt.lesson
    course = learning.course_of(lesson)
    progress = learning.course_progress(request.user, course)
    passed_before = (
        attempt.passed or LessonProgress.objects.filter(user=request.user, lesson=lesson).exists()
    )
    return render(
        request,
        "cms/learning/quiz_result.html",
        {
            "attempt": attempt,
            "lesson": lesson,
            "course": course,
            "progress": progress,
            "questions": learning.marked_questions(attempt),
            "lesson_done": passed_before,
            "next_lesson": progress.lesson_after(lesson),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def claim_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(CoursePage.objects.live(), pk=pk)
    if not request.user.is_authenticated:
        return _to_login(request, course)
    if not _visible(course, request):
        raise Http404("course not visible")
    progress = learning.course_progress(request.user, course)
    if progress.certificate is not None:
        return redirect(certificates.verification_path(progress.certificate.code))
    if not progress.complete:
        messages.info(request, _("还有课时没有学完，学完全部课时才能领取证书。"))
        return redirect(course.url)
    error = ""
    name = learning.suggested_name(request.user)
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            certificate = learning.issue_certificate(request.user, course, name=name)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("结业证书已颁发。"))
            return redirect(certificates.verification_path(certificate.code))
    return render(
        request,
        "cms/learning/certificate_claim.html",
        {
            "course": course,
            "progress": progress,
            "name": name,
            "error": error,
            "account_name": learning.usable_account_name(request.user),
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, code: str) -> HttpResponse:
    formatted = certificates.normalise(code)
    if not formatted:
        raise Http404("no such certificate")
    certificate = get_object_or_404(Certificate, code=formatted, user=request.user)
    pdf = certificates.certificate_pdf(certificate, request)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
@require_GET
def my_learning(request: HttpRequest) -> HttpResponse:
    """The learner's courses (with any lesson done), their progress and
    certificates: a fixed number of queries however many courses."""
    user = request.user
    # Finished lessons count for the course they are in now (an editor may
    # have moved one), and only while live and public, as on the course page.
    done_paths = list(
        LessonPage.objects.live()
        .public()
        .filter(progress__user=user)
        .values_list("path", flat=True)
    )
    done_by_parent: dict[str, int] = {}
    for path in done_paths:
        parent = path[: -CoursePage.steplen]
        done_by_parent[parent] = done_by_parent.get(parent, 0) + 1
    cert_by_course = {c.course_id: c for c in Certificate.objects.filter(user=user)}
    courses = list(
        CoursePage.objects.filter(
            Q(path__in=list(done_by_parent)) | Q(pk__in=list(cert_by_course))
        ).order_by("path")
    )
    totals: dict[int, int] = {}
    if courses:
        match = Q()
        for course in courses:
            match |= Q(path__startswith=course.path, depth=course.depth + 1)
        for path in LessonPage.objects.live().public().filter(match).values_list("path", flat=True):
            for course in courses:
                if path.startswith(course.path):
                    totals[course.pk] = totals.get(course.pk, 0) + 1
                    break
    rows = []
    for course in courses:
        total = totals.get(course.pk, 0)
        done = done_by_parent.get(course.path, 0)
        rows.append(
            {
                "course": course,
                "done": done,
                "total": total,
                "percent": round(done * 100 / total) if total else 0,
                "complete": total > 0 and done >= total,
                "certificate": cert_by_course.get(course.pk),
            }
        )
    rows.sort(key=lambda r: (r["complete"], -r["percent"]))
    return render(
        request,
        "cms/learning/my_learning.html",
        {"rows": rows, "active_tab": "learning", "page_title": _("我的学习")},
    )


def _verification_page(request, result, *, status: int = 200, asked: bool = True):
    owner = (
        result is not None
        and result.certificate is not None
        and request.user.is_authenticated
        and result.certificate.user_id == request.user.pk
    )
    return render(
        request,
        "cms/learning/verify.html",
        {
            "result": result,
            "asked": asked,
            "owner": owner,
            "programme": certificates.PROGRAMME_NAME,
            "verification_url": certificates.verification_url(result.code, request)
            if result is not None and result.valid
            else "",
        },
        status=status,
    )


@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """The public form: ``?code=…``; empty shows just the form."""
    code = request.GET.get("code", "")
    if not code.strip():
        return _verification_page(request, None, asked=False)
    result = learning.verify(code[:64])
    if result.valid:
        # One address per certificate (what the QR code holds).
        return redirect(certificates.verification_path(result.code))
    return _verification_page(request, result)


@require_GET
def certificate_public(request: HttpRequest, code: str) -> HttpResponse:
    result = learning.verify(code[:64])
    if result.valid and code != result.code:
        return redirect(certificates.verification_path(result.code))
    return _verification_page(request, result, status=200 if result.valid else 404)
