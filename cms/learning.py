"""The learning rules: lessons done, quizzes, course progress, certificates.

- A lesson **without** a quiz is done when the learner marks it done
  (``mark_done``); a lesson **with** a quiz is done by passing the quiz
  (``submit_quiz``), never by marking. Either way a ``LessonProgress`` row
  (one per learner and lesson) records it; the first one stays.
- A quiz submission must answer every question with one of its choices;
  otherwise nothing is recorded and the error names the questions. Each
  submission carries a token from the form: the same token again (a
  double click, a resent POST) returns the first attempt, recorded once.
  ``QuizQuestion.correct`` is read here and nowhere on the way to the
  browser before the learner has submitted.
- A course is complete when every live lesson is done. Completing it
  issues the certificate at once when the learner's account has a name;
  otherwise the learner gives the name on the certificate page
  (``issue_certificate(..., name=...)``). One certificate per learner and
  course; its name and course title are kept as issued.
- ``verify(code)`` answers the public verification page (the code's shape
  and check are tested in cms/certificates.py before the database).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cms import certificates
from cms.models import Certificate, CoursePage, LessonPage, LessonProgress, QuizAttempt

NAME_MAX_LENGTH = 100
_CJK = re.compile(r"[\u3400-\u9fff]")
_DIGITS = re.compile(r"^[0-9]{1,9}$")


# --- Names --------------------------------------------------------------------------------


def account_name(user) -> str:
    """The learner's name from the account, or "" when it has none.
    Chinese names are family name first with no space (王 + 小农 → 王小农)."""
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if first and last and (_CJK.search(first) or _CJK.search(last)):
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


def usable_account_name(user) -> str:
    """The account's name if it is fit for a certificate, else ""."""
    try:
        return clean_name(account_name(user))
    except ValidationError:
        return ""


def suggested_name(user) -> str:
    """What the certificate form offers: the account's name, else the name
    on the learner's latest certificate."""
    name = account_name(user)
    if name:
        return name
    latest = Certificate.objects.filter(user=user).order_by("-issued_at").first()
    return latest.name if latest else ""


def clean_name(name: str | None) -> str:
    """A name fit for a certificate (one line, 2–100 characters)."""
    text = " ".join((name or "").split())
    if not text:
        raise ValidationError(_("请填写证书上的姓名。"), code="name_missing")
    if len(text) < 2:
        raise ValidationError(_("姓名至少两个字。"), code="name_short")
    if len(text) > NAME_MAX_LENGTH:
        raise ValidationError(_("姓名最多 %(n)s 个字。") % {"n": NAME_MAX_LENGTH}, code="name_long")
    if any(ch in text for ch in "<>{}\\"):
        raise ValidationError(_("姓名里不能有 < > { } \\ 这些符号。"), code="name_symbols")
    return text


# --- Course structure ------------------------------------------------------------------------


def course_of(lesson: LessonPage) -> CoursePage:
    """The lesson's course (its parent page), in one query."""
    return CoursePage.objects.get(path=lesson.path[: -LessonPage.steplen])


@dataclass
class CourseProgress:
    """A learner's progress through a course's live lessons."""

    course: CoursePage
    lessons: list[LessonPage]
    done_ids: set[int] = field(default_factory=set)
    certificate: Certificate | None = None

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def done(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.pk in self.done_ids)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def percent(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 0

    @property
    def next_lesson(self) -> LessonPage | None:
        """The first lesson in course order not done yet."""
        return next((lesson for lesson in self.lessons if lesson.pk not in self.done_ids), None)

    def is_done(self, lesson: LessonPage | int) -> bool:
        return (lesson if isinstance(lesson, int) else lesson.pk) in self.done_ids

    def lesson_after(self, lesson: LessonPage) -> LessonPage | None:
        """The lesson that follows ``lesson`` in course order."""
        ids = [item.pk for item in self.lessons]
        if lesson.pk not in ids:
            return None
        index = ids.index(lesson.pk)
        return self.lessons[index + 1] if index + 1 < len(ids) else None


def course_progress(user, course: CoursePage) -> CourseProgress:
    """Done/total lessons, the next lesson, complete or not, and the
    certificate if issued: three queries whatever the course's size."""
    lessons = list(course.lessons())
    progress = CourseProgress(course=course, lessons=lessons)
    if user is None or not user.is_authenticated:
        return progress
    # By the lessons the course has now (an editor may have moved a lesson
    # someone already finished into this course), not by the course the
    # lesson was in when it was done.
    progress.done_ids = set(
        LessonProgress.objects.filter(
            user=user, lesson_id__in=[lesson.pk for lesson in lessons]
        ).values_list("lesson_id", flat=True)
    )
    progress.certificate = Certificate.objects.filter(user=user, course=course).first()
    return progress


# --- Marking a lesson done -------------------------------------------------------------------


def _record_progress(user, lesson: LessonPage, course: CoursePage, via: str, score=None):
    """The lesson's progress row, created once (the first stays, also when
    two requests race)."""
    existing = LessonProgress.objects.filter(user=user, lesson=lesson).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            row = LessonProgress.objects.create(
                user=user, lesson=lesson, course=course, via=via, score=score
            )
        return row, True
    except IntegrityError:
        return LessonProgress.objects.get(user=user, lesson=lesson), False


def _after_progress(user, course: CoursePage) -> None:
    """A course just completed by a learner with a name gets its certificate."""
    progress = course_progress(user, course)
    if progress.complete and progress.certificate is None and usable_account_name(user):
        issue_certificate(user, course)


def mark_done(user, lesson: LessonPage) -> LessonProgress:
    """Mark a lesson without a quiz done. Idempotent: marking again returns
    the first record. A lesson with a quiz is refused (pass the quiz)."""
    if not lesson.live:
        raise ValidationError(_("这一课还没有发布。"), code="not_live")
    if lesson.has_quiz:
        raise ValidationError(_("这一课有小测验，通过测验才算学完。"), code="has_quiz")
    course = course_of(lesson)
    row, _created = _record_progress(user, lesson, course, LessonProgress.Via.MARKED)
    # Also when it was done before: the lesson may be new to this course.
    _after_progress(user, course)
    return row


# --- Quizzes ---------------------------------------------------------------------------------


class QuizError(ValidationError):
    """A submission that cannot be marked; ``question_ids`` are the questions
    to point at (unanswered or with an impossible answer)."""

    def __init__(self, message: str, *, code: str, question_ids: list[int] | None = None):
        super().__init__(message, code=code)
        self.question_ids = question_ids or []


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value.strip())
    return None


def _token(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise QuizError(_("测验表单已失效，请刷新页面后重新作答。"), code="bad_token") from None


def _question_label(number: int, prompt: str) -> str:
    short = prompt if len(prompt) <= 20 else prompt[:20] + "…"
    return _("第 %(n)s 题（%(prompt)s）") % {"n": number, "prompt": short}


def submit_quiz(user, lesson: LessonPage, answers: dict, token: Any) -> QuizAttempt:
    """Mark a quiz submission: ``answers`` maps question id → choice number
    (1-based). Raises ``QuizError`` (a ValidationError), recording nothing,
    when an answer is missing, names a question not in this quiz or a
    choice the question does not have. The same ``token`` again returns
    the first attempt. A pass records the lesson done (via quiz, with the
    score) unless it already was."""
    token = _token(token)
    earlier = QuizAttempt.objects.filter(token=token).first()
    if earlier is not None:
        if earlier.user_id != user.pk or earlier.lesson_id != lesson.pk:
            raise QuizError(_("测验表单已失效，请刷新页面后重新作答。"), code="bad_token")
        return earlier
    if not lesson.live:
        raise QuizError(_("这一课还没有发布。"), code="not_live")

    questions = list(lesson.questions.order_by("sort_order", "pk"))
    if not questions:
        raise QuizError(_("这一课没有测验。"), code="no_quiz")
    by_id = {q.pk: q for q in questions}

    given: dict[int, int] = {}
    for raw_key, raw_value in (answers or {}).items():
        key = _as_int(raw_key)
        if key is None or key not in by_id:
            raise QuizError(
                _("提交的答案里有不属于本测验的题目，请刷新页面后重新作答。"),
                code="unknown_question",
            )
        if raw_value in (None, ""):
            continue  # unanswered: reported below with the others
        value = _as_int(raw_value)
        options = len(by_id[key].choice_list())
        if value is None or not 1 <= value <= options:
            number = questions.index(by_id[key]) + 1
            raise QuizError(
                _("%(question)s的答案不是它的选项之一，请重新选择。")
                % {"question": _question_label(number, by_id[key].prompt)},
                code="bad_choice",
                question_ids=[key],
            )
        given[key] = value

    missing = [(n, q) for n, q in enumerate(questions, start=1) if q.pk not in given]
    if missing:
        # Translators: the separator between listed questions.
        labels = _("、").join(_question_label(n, q.prompt) for n, q in missing)
        raise QuizError(
            _("还有 %(count)s 道题没有作答：%(labels)s。请答完所有题目再提交。")
            % {"count": len(missing), "labels": labels},
            code="missing",
            question_ids=[q.pk for _n, q in missing],
        )

    correct = sum(1 for q in questions if given[q.pk] == q.correct)
    total = len(questions)
    passed = correct * 100 >= lesson.pass_mark * total
    course = course_of(lesson)
    try:
        with transaction.atomic():
            attempt = QuizAttempt.objects.create(
                token=token,
                user=user,
                lesson=lesson,
                answers={str(k): v for k, v in given.items()},
                correct=correct,
                total=total,
                passed=passed,
            )
    except IntegrityError:
        # The same token raced in from a second request: the first wins.
        attempt = QuizAttempt.objects.get(token=token)
        if attempt.user_id != user.pk or attempt.lesson_id != lesson.pk:
            raise QuizError(_("测验表单已失效，请刷新页面后重新作答。"), code="bad_token")
        return attempt
    if passed:
        _record_progress(user, lesson, course, LessonProgress.Via.QUIZ, score=attempt.percent)
        _after_progress(user, course)
    return attempt


@dataclass
class MarkedQuestion:
    """A question as the result page shows it, after submitting."""

    number: int
    prompt: str
    choices: list[str]
    chosen: int | None
    right: bool
    correct: int | None  # only filled in when the answer may be shown
    explanation: str

    @property
    def chosen_text(self) -> str:
        if self.chosen and 1 <= self.chosen <= len(self.choices):
            return self.choices[self.chosen - 1]
        return ""

    @property
    def correct_text(self) -> str:
        if self.correct and 1 <= self.correct <= len(self.choices):
            return self.choices[self.correct - 1]
        return ""


def marked_questions(attempt: QuizAttempt) -> list[MarkedQuestion]:
    """Each question of the attempt's lesson with the learner's answer,
    right or wrong, and the explanation. The right choice itself is shown
    once the quiz is passed, so a failed attempt is not a list of answers
    to copy."""
    rows = []
    questions = attempt.lesson.questions.order_by("sort_order", "pk")
    for number, q in enumerate(questions, start=1):
        chosen = attempt.answers.get(str(q.pk))
        right = chosen == q.correct
        rows.append(
            MarkedQuestion(
                number=number,
                prompt=q.prompt,
                choices=q.choice_list(),
                chosen=chosen,
                right=right,
                correct=q.correct if attempt.passed else None,
                explanation=q.explanation,
            )
        )
    return rows


def quiz_questions(lesson: LessonPage) -> list[dict]:
    """The quiz as the form shows it: numbers, prompts and choices only —
    never which choice is right."""
    return [
        {
            "id": q.pk,
            "number": number,
            "prompt": q.prompt,
            "choices": list(enumerate(q.choice_list(), start=1)),
        }
        for number, q in enumerate(lesson.questions.order_by("sort_order", "pk"), start=1)
    ]


def new_token() -> str:
    """A fresh submission token for a quiz form."""
    return str(uuid.uuid4())


# --- Certificates ----------------------------------------------------------------------------


class NotComplete(ValidationError):
    pass


def issue_certificate(user, course: CoursePage, name: str | None = None) -> Certificate:
    """The learner's certificate for a completed course, issued once: a
    second call returns the first certificate unchanged. The name is the
    account's, or ``name`` (what the learner typed) when the account has
    none. Raises ``NotComplete`` before the last lesson is done and a
    ValidationError when no usable name is known."""
    existing = Certificate.objects.filter(user=user, course=course).first()
    if existing is not None:
        return existing
    if not course_progress(user, course).complete:
        raise NotComplete(_("还有课时没有学完，学完全部课时才能领取证书。"), code="not_complete")
    chosen = usable_account_name(user) or clean_name(name)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Certificate.objects.create(
                    code=certificates.new_code(),
                    user=user,
                    course=course,
                    name=chosen,
                    course_title=course.title,
                )
        except IntegrityError:
            existing = Certificate.objects.filter(user=user, course=course).first()
            if existing is not None:
                return existing  # issued by a concurrent request
            # Otherwise the random code clashed with another: draw again.
    raise RuntimeError("could not draw an unused certificate code")


class Verification(Enum):
    VALID = "valid"
    INVALID = "invalid"  # not a code we could have issued (typo, tampering)
    NOT_FOUND = "not_found"  # well-formed but not on record


@dataclass
class VerificationResult:
    status: Verification
    code: str
    certificate: Certificate | None = None

    @property
    def valid(self) -> bool:
        return self.status is Verification.VALID


def verify(code: str | None) -> VerificationResult:
    """Check a code as typed. A code that fails its check is ``INVALID``
    without touching the database; a well-formed one is looked up."""
    formatted = certificates.normalise(code)
    if not formatted or not certificates.is_well_formed(formatted):
        return VerificationResult(Verification.INVALID, (code or "").strip()[:40])
    found = Certificate.objects.filter(code=formatted).first()
    if found is None:
        return VerificationResult(Verification.NOT_FOUND, formatted)
    return VerificationResult(Verification.VALID, formatted, found)
