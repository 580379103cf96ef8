"""The learning rules (cms/learning.py) and the learner's views around the
course and lesson pages: marking done, quizzes (missing answers, the same
submission twice, tampered values), progress, certificates once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms import learning
from cms.models import Certificate, LessonProgress, QuizAttempt
from tests.cms.learning_helpers import (
    QUIZ,
    learner,
    lessons_of,
    make_course,
    question_ids,
    right_answers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return make_course()


@pytest.fixture
def lessons(course):
    return lessons_of(course)


def wrong_answers(lesson) -> dict[int, int]:
    return {q.pk: (1 if q.correct != 1 else 2) for q in lesson.questions.all()}


# --- Marking lessons done and progress --------------------------------------------------


def test_mark_done_is_idempotent_and_progress_counts(course, lessons):
    user = learner()
    first = learning.mark_done(user, lessons[0])
    again = learning.mark_done(user, lessons[0])
    assert again.pk == first.pk and again.completed_at == first.completed_at
    assert LessonProgress.objects.filter(user=user).count() == 1
    assert first.via == LessonProgress.Via.MARKED and first.course_id == course.pk

    progress = learning.course_progress(user, course)
    assert (progress.done, progress.total, progress.complete) == (1, 3, False)
    assert progress.next_lesson.pk == lessons[1].pk
    assert progress.percent == 33

    learning.mark_done(user, lessons[1])
    progress = learning.course_progress(user, course)
    assert (progress.done, progress.total) == (2, 3)
    assert progress.next_lesson.pk == lessons[2].pk  # the quiz lesson
    # Another learner's progress is their own.
    assert learning.course_progress(learner(), course).done == 0


def test_a_lesson_with_a_quiz_cannot_be_marked_done(lessons):
    user = learner()
    with pytest.raises(ValidationError) as exc:
        learning.mark_done(user, lessons[2])
    assert "测验" in exc.value.messages[0]
    assert not LessonProgress.objects.exists()


def test_progress_ignores_unpublished_lessons(course, lessons):
    user = learner()
    learning.mark_done(user, lessons[0])
    lessons[1].unpublish()
    progress = learning.course_progress(user, course)
    assert (progress.done, progress.total) == (1, 2)
    assert progress.next_lesson.pk == lessons[2].pk


def test_course_progress_costs_the_same_queries_for_any_course_size():
    user = learner()
    small = make_course("小课", [("一", None)])
    big = make_course("大课", [(f"第{i}课", None) for i in range(8)])
    for c in (small, big):
        for lesson in lessons_of(c)[:1]:
            learning.mark_done(user, lesson)
    counts = []
    for c in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            p = learning.course_progress(user, c)
            _ = (p.done, p.total, p.next_lesson, p.complete, p.certificate)
        counts.append(len(ctx.captured_queries))
    # Lessons (with the view-restriction check), progress, certificate.
    assert counts[0] == counts[1] <= 4, counts


# --- Quizzes ------------------------------------------------------------------------------


def test_missing_answers_are_named_and_nothing_is_recorded(lessons):
    user = learner()
    quiz = lessons[2]
    first, second = question_ids(quiz)
    with pytest.raises(learning.QuizError) as exc:
        learning.submit_quiz(user, quiz, {first: 2}, uuid.uuid4())
    message = exc.value.message
    assert "第 2 题" in message and QUIZ[1]["prompt"][:8] in message
    assert "第 1 题" not in message
    assert exc.value.question_ids == [second]
    with pytest.raises(learning.QuizError) as exc:
        learning.submit_quiz(user, quiz, {}, uuid.uuid4())
    assert "2 道题没有作答" in exc.value.message
    # An empty value is an unanswered question too.
    with pytest.raises(learning.QuizError):
        learning.submit_quiz(user, quiz, {str(first): "2", str(second): ""}, uuid.uuid4())
    assert not QuizAttempt.objects.exists()
    assert not LessonProgress.objects.exists()


def test_the_same_token_twice_is_one_attempt(lessons):
    user = learner()
    quiz = lessons[2]
    token = uuid.uuid4()
    first = learning.submit_quiz(user, quiz, wrong_answers(quiz), token)
    # Sent again — even with other answers — it is the first attempt.
    again = learning.submit_quiz(user, quiz, right_answers(quiz), str(token))
    assert again.pk == first.pk and not again.passed
    assert QuizAttempt.objects.filter(user=user).count() == 1
    assert not LessonProgress.objects.exists()
    # Someone else's token is refused, not returned.
    with pytest.raises(learning.QuizError):
        learning.submit_quiz(learner(), quiz, right_answers(quiz), token)
    assert QuizAttempt.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        "unknown_question",
        "other_lessons_question",
        "choice_zero",
        "choice_too_big",
        "choice_negative",
        "choice_text",
        "choice_float",
        "choice_superscript",
        "bad_token",
    ],
)
def test_tampered_submissions_are_refused(tamper):
    user = learner()
    course = make_course()
    quiz = lessons_of(course)[2]
    other = lessons_of(make_course("另一门", [("测验", QUIZ)]))[0]
    answers: dict = {str(k): str(v) for k, v in right_answers(quiz).items()}
    first = str(question_ids(quiz)[0])
    token = uuid.uuid4()
    if tamper == "unknown_question":
        answers["999999"] = "1"
    elif tamper == "other_lessons_question":
        answers[str(question_ids(other)[0])] = "1"
    elif tamper == "choice_zero":
        answers[first] = "0"
    elif tamper == "choice_too_big":
        answers[first] = "4"  # the first question has three choices
    elif tamper == "choice_negative":
        answers[first] = "-1"
    elif tamper == "choice_text":
        answers[first] = "<script>"
    elif tamper == "choice_float":
        answers[first] = "2.0"
    elif tamper == "choice_superscript":
        answers[first] = "²"
    elif tamper == "bad_token":
        token = "not-a-uuid"
    with pytest.raises(learning.QuizError):
        learning.submit_quiz(user, quiz, answers, token)
    assert not QuizAttempt.objects.exists()
    assert not LessonProgress.objects.exists()


def test_a_failed_attempt_records_only_the_attempt_then_a_pass_counts(lessons):
    user = learner()
    quiz = lessons[2]
    failed = learning.submit_quiz(user, quiz, wrong_answers(quiz), uuid.uuid4())
    assert (failed.correct, failed.total, failed.passed) == (0, 2, False)
    assert not LessonProgress.objects.filter(user=user).exists()

    passed = learning.submit_quiz(user, quiz, right_answers(quiz), uuid.uuid4())
    assert (passed.correct, passed.percent, passed.passed) == (2, 100, True)
    row = LessonProgress.objects.get(user=user, lesson=quiz)
    assert row.via == LessonProgress.Via.QUIZ and row.score == 100
    # A later pass keeps the first record.
    learning.submit_quiz(user, quiz, right_answers(quiz), uuid.uuid4())
    assert LessonProgress.objects.get(user=user, lesson=quiz).completed_at == row.completed_at
    assert QuizAttempt.objects.filter(user=user).count() == 3


def test_pass_mark_is_a_percentage_at_least():
    user = learner()
    quiz = lessons_of(make_course("及格线", [("测验", QUIZ)], pass_mark=50))[0]
    answers = right_answers(quiz)
    first, second = question_ids(quiz)
    answers[second] = 2  # one of two right: 50%
    attempt = learning.submit_quiz(user, quiz, answers, uuid.uuid4())
    assert attempt.passed and attempt.percent == 50
    assert LessonProgress.objects.get(user=user, lesson=quiz).score == 50

    strict = lessons_of(make_course("严格", [("测验", QUIZ)], pass_mark=51))[0]
    answers = right_answers(strict)
    answers[question_ids(strict)[1]] = 2
    assert not learning.submit_quiz(user, strict, answers, uuid.uuid4()).passed


def test_quiz_questions_for_the_form_hold_no_answers(lessons):
    shown = learning.quiz_questions(lessons[2])
    assert [q["number"] for q in shown] == [1, 2]
    assert shown[0]["choices"][1] == (2, "上午或傍晚的柔和自然光")
    assert all(set(q) == {"id", "number", "prompt", "choices"} for q in shown)


@pytest.mark.django_db(transaction=True)
def test_submissions_at_the_same_moment_record_once():
    """Four connections send the same form (one token) and four others pass
    with their own tokens, all at once: one attempt for the shared token,
    one progress row and one certificate."""
    course = make_course("并发", [("测验", QUIZ)])
    quiz = lessons_of(course)[0]
    user = learner(first_name="春生", last_name="李")
    shared = uuid.uuid4()
    tokens = [shared] * 4 + [uuid.uuid4() for _i in range(4)]
    barrier = threading.Barrier(len(tokens))

    def submit(token):
        try:
            barrier.wait(timeout=30)
            return learning.submit_quiz(user, quiz, right_answers(quiz), token).pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        results = list(pool.map(submit, tokens))
    assert len(set(results[:4])) == 1
    assert QuizAttempt.objects.filter(token=shared).count() == 1
    assert QuizAttempt.objects.count() == 5
    assert LessonProgress.objects.filter(user=user, lesson=quiz).count() == 1
    assert Certificate.objects.filter(user=user, course=course).count() == 1


# --- Completing the course and the certificate ---------------------------------------------


def complete(user, course):
    plain, plain2, quiz = lessons_of(course)
    learning.mark_done(user, plain)
    learning.mark_done(user, plain2)
    learning.submit_quiz(user, quiz, right_answers(quiz), uuid.uuid4())


def test_completing_a_course_issues_the_certificate_once_with_the_account_name(course):
    user = learner(first_name="小农", last_name="王")
    complete(user, course)
    progress = learning.course_progress(user, course)
    assert progress.complete and progress.next_lesson is None and progress.percent == 100
    certificate = Certificate.objects.get(user=user, course=course)
    assert certificate.name == "王小农" and certificate.course_title == course.title
    assert progress.certificate == certificate
    again = learning.issue_certificate(user, course, name="别的名字")
    assert again.pk == certificate.pk and again.name == "王小农"
    assert Certificate.objects.filter(user=user).count() == 1


def test_a_learner_without_a_name_gives_one(course):
    user = learner()
    complete(user, course)
    assert not Certificate.objects.exists()  # nothing to put on it yet
    for bad in ("", "  ", "王", "<b>李</b>", "李" * 101):
        with pytest.raises(ValidationError):
            learning.issue_certificate(user, course, name=bad)
    assert not Certificate.objects.exists()
    certificate = learning.issue_certificate(user, course, name="  李  春生 ")
    assert certificate.name == "李 春生"
    assert learning.suggested_name(user) == "李 春生"


def test_no_certificate_before_the_course_is_complete(course, lessons):
    user = learner(first_name="春生", last_name="李")
    learning.mark_done(user, lessons[0])
    with pytest.raises(learning.NotComplete):
        learning.issue_certificate(user, course)
    assert not Certificate.objects.exists()


def test_a_course_without_lessons_is_never_complete():
    course = make_course("空课程", [])
    user = learner(first_name="春生", last_name="李")
    assert not learning.course_progress(user, course).complete
    with pytest.raises(learning.NotComplete):
        learning.issue_certificate(user, course)


# --- Views ---------------------------------------------------------------------------------


def test_posts_need_a_login_and_record_nothing(client, lessons):
    done_url = reverse("learning:lesson-done", args=[lessons[0].pk])
    response = client.post(done_url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "next=" in response["Location"]
    quiz = lessons[2]
    response = client.post(
        reverse("learning:quiz-submit", args=[quiz.pk]),
        {f"q-{k}": v for k, v in right_answers(quiz).items()} | {"token": str(uuid.uuid4())},
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not LessonProgress.objects.exists() and not QuizAttempt.objects.exists()
    assert client.get(done_url).status_code == 405


def test_mark_done_view_records_and_returns_to_the_lesson(client, lessons):
    user = learner()
    client.force_login(user)
    url = reverse("learning:lesson-done", args=[lessons[0].pk])
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == lessons[0].url
    client.post(url)
    assert LessonProgress.objects.filter(user=user).count() == 1
    # Refused for the quiz lesson, with a message.
    response = client.post(reverse("learning:lesson-done", args=[lessons[2].pk]), follow=False)
    assert response.status_code == 302
    assert LessonProgress.objects.filter(user=user).count() == 1
    # An unpublished lesson is not found.
    lessons[1].unpublish()
    assert client.post(reverse("learning:lesson-done", args=[lessons[1].pk])).status_code == 404


def quiz_post(lesson, answers: dict, token=None) -> dict:
    data = {f"q-{k}": str(v) for k, v in answers.items()}
    data["token"] = str(token or uuid.uuid4())
    return data


def test_quiz_view_marks_and_shows_the_result_to_its_owner_only(client, lessons):
    user = learner()
    client.force_login(user)
    quiz = lessons[2]
    token = uuid.uuid4()
    url = reverse("learning:quiz-submit", args=[quiz.pk])
    response = client.post(url, quiz_post(quiz, wrong_answers(quiz), token))
    result_url = reverse("learning:quiz-result", kwargs={"token": token})
    assert response.status_code == 302 and response["Location"] == result_url
    # The same form sent again lands on the same result, recorded once.
    response = client.post(url, quiz_post(quiz, right_answers(quiz), token))
    assert response["Location"] == result_url
    assert QuizAttempt.objects.filter(user=user).count() == 1

    page = client.get(result_url).content.decode()
    assert "未通过" in page and "答对 0 / 2 题" in page
    assert "答错了" in page and QUIZ[0]["explanation"] in page
    # A failed attempt does not give away the right choices.
    assert "正确答案" not in page

    other = learner()
    client.force_login(other)
    assert client.get(result_url).status_code == 404

    client.force_login(user)
    token2 = uuid.uuid4()
    client.post(url, quiz_post(quiz, right_answers(quiz), token2))
    page = client.get(reverse("learning:quiz-result", kwargs={"token": token2})).content.decode()
    assert "通过！答对 2 / 2 题（100%）" in page


def test_my_learning_lists_courses_progress_and_certificates(client, course, lessons):
    user = learner(first_name="春生", last_name="李")
    other_course = make_course("生鲜包装与冷链发货", [("保温箱", None), ("冰袋", None)])
    learning.mark_done(user, lessons_of(other_course)[0])
    complete(user, course)
    certificate = Certificate.objects.get(user=user)
    client.force_login(user)
    client.get(reverse("learning:mine"))  # the session's and site's first-request queries
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("learning:mine"))
    assert response.status_code == 200
    page = response.content.decode()
    assert course.title in page and other_course.title in page
    assert "已学完 1 / 2 课" in page and "已学完 3 / 3 课" in page
    assert certificate.code in page
    assert reverse("learning:certificate-pdf", args=[certificate.code]) in page
    few = len(ctx.captured_queries)
    # More courses, same number of queries.
    for i in range(3):
        extra = make_course(f"加课{i}", [("一", None), ("二", None)])
        learning.mark_done(user, lessons_of(extra)[0])
    client.get(reverse("learning:mine"))  # new pages: the cached page tree is refilled
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("learning:mine"))
    assert len(ctx.captured_queries) == few
    # Linked from the account menu.
    assert (
        reverse("learning:mine")
        in client.get(reverse("customer:summary"), follow=True).content.decode()
    )
    # Signed out: to the login page.
    client.logout()
    assert client.get(reverse("learning:mine")).status_code == 302


def test_claiming_a_certificate_asks_for_the_name_when_the_account_has_none(client, course):
    user = learner()
    url = reverse("learning:certificate-claim", args=[course.pk])
    client.force_login(user)
    # Not complete yet: back to the course.
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == course.url
    complete(user, course)
    page = client.get(url).content.decode()
    assert 'name="name"' in page
    response = client.post(url, {"name": " "})
    assert response.status_code == 400 and "请填写证书上的姓名" in response.content.decode()
    assert not Certificate.objects.exists()
    response = client.post(url, {"name": "李春生"})
    certificate = Certificate.objects.get(user=user)
    assert certificate.name == "李春生"
    assert response.status_code == 302
    assert response["Location"] == reverse("learning:certificate-public", args=[certificate.code])
    # Claiming again changes nothing and shows the certificate.
    response = client.post(url, {"name": "别人"})
    assert Certificate.objects.get(user=user).name == "李春生"
    assert response["Location"].endswith(f"/certificates/{certificate.code}/")


# --- The course and lesson pages --------------------------------------------------------------


def test_anonymous_visitors_see_a_sign_in_prompt_instead_of_forms(client, course, lessons):
    page = client.get(course.url).content.decode()
    assert "登录后记录学习进度" in page
    for lesson in (lessons[0], lessons[2]):
        page = client.get(lesson.url).content.decode()
        assert "登录后记录学习进度" in page
        assert reverse("learning:lesson-done", args=[lesson.pk]) not in page
        assert reverse("learning:quiz-submit", args=[lesson.pk]) not in page
        assert f"/accounts/login/?next={lesson.url}" in page


def test_the_quiz_form_never_carries_the_right_answers(client, lessons):
    client.force_login(learner())
    quiz = lessons[2]
    page = client.get(quiz.url).content.decode()
    assert reverse("learning:quiz-submit", args=[quiz.pk]) in page
    for q in QUIZ:
        assert q["prompt"] in page
        assert q["explanation"] not in page
    for q in quiz.questions.all():
        # Every choice is offered alike: value = its number, nothing else.
        for n in range(1, len(q.choice_list()) + 1):
            assert f'name="q-{q.pk}" value="{n}">' in page
    assert "correct" not in page.lower()
    assert 'name="token"' in page


def test_a_refused_quiz_comes_back_with_the_answers_kept_and_a_message(client, lessons):
    user = learner()
    client.force_login(user)
    quiz = lessons[2]
    first, second = question_ids(quiz)
    token = uuid.uuid4()
    response = client.post(
        reverse("learning:quiz-submit", args=[quiz.pk]), {f"q-{first}": "3", "token": str(token)}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "还有 1 道题没有作答" in page and "第 2 题" in page
    assert f'name="q-{first}" value="3" checked>' in page
    assert f'id="question-{second}" class="quiz-question field-error"' in page
    assert f'value="{token}"' in page  # nothing was recorded: the same form may be sent again
    assert not QuizAttempt.objects.exists()
    # Corrected and sent with the same token, it counts.
    response = client.post(
        reverse("learning:quiz-submit", args=[quiz.pk]),
        {f"q-{first}": "2", f"q-{second}": "1", "token": str(token)},
    )
    assert response.status_code == 302
    assert QuizAttempt.objects.get(token=token).passed


def test_pages_show_progress_and_the_certificate(client, course, lessons):
    user = learner(first_name="春生", last_name="李")
    client.force_login(user)
    learning.mark_done(user, lessons[0])
    page = client.get(course.url).content.decode()
    assert "已学完 1 / 3 课" in page
    assert f"继续学习：{lessons[1].title}" in page
    assert page.count("✓ 已学完") == 1
    page = client.get(lessons[0].url).content.decode()
    assert "本课已学完" in page and "返回课程（已学完 1 / 3 课）" in page
    learning.mark_done(user, lessons[1])
    learning.submit_quiz(user, lessons[2], right_answers(lessons[2]), uuid.uuid4())
    certificate = Certificate.objects.get(user=user)
    page = client.get(course.url).content.decode()
    assert "课程已完成" in page and page.count("✓ 已学完") == 3
    assert reverse("learning:certificate-pdf", args=[certificate.code]) in page
    # A passed quiz may be taken again, folded away.
    page = client.get(lessons[2].url).content.decode()
    assert "测验已通过" in page and "<details><summary>再做一次测验</summary>" in page


def test_the_course_page_costs_the_same_queries_with_more_lessons(client):
    user = learner()
    client.force_login(user)
    counts = []
    for n in (2, 8):
        course = make_course(f"{n}课时", [(f"第{i}课", None) for i in range(n)])
        learning.mark_done(user, lessons_of(course)[0])
        client.get(course.url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(course.url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_tampered_form_values_come_back_as_a_message_not_an_error(client, lessons):
    client.force_login(learner())
    quiz = lessons[2]
    first, second = question_ids(quiz)
    url = reverse("learning:quiz-submit", args=[quiz.pk])
    for data in (
        {f"q-{first}": "²", f"q-{second}": "1", "token": str(uuid.uuid4())},
        {f"q-{first}": "9", f"q-{second}": "1", "token": str(uuid.uuid4())},
        {f"q-{first}": "1", f"q-{second}": "1", "q-999999": "1", "token": str(uuid.uuid4())},
        {f"q-{first}": "1", f"q-{second}": "1", "token": "forged"},
    ):
        response = client.post(url, data)
        assert response.status_code == 200, data
        assert 'class="form-errors" role="alert"' in response.content.decode()
    assert not QuizAttempt.objects.exists()


def test_a_finished_lesson_moved_into_another_course_counts_there():
    """An editor moves a lesson someone already finished into another
    course: it counts as done there, and finishing the rest completes it."""
    user = learner(first_name="小农", last_name="王")
    first = make_course("拍照入门", [("光线", None)])
    second = make_course("拍照进阶", [("构图", None)])
    [light] = lessons_of(first)
    learning.mark_done(user, light)
    light.move(second, pos="last-child")
    light.refresh_from_db()
    progress = learning.course_progress(user, second)
    assert progress.is_done(light) and progress.done == 1 and not progress.complete
    [composition, _light] = lessons_of(second)
    learning.mark_done(user, composition)
    assert learning.course_progress(user, second).complete
    assert Certificate.objects.filter(user=user, course=second).exists()
