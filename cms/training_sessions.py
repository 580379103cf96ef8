"""Offline training sessions a village station's staff ran: what may be
recorded, and the station's own list. The programme's statistics count
these (cms/statistics.py), so a session is checked before it is saved: a
live course, a day that has happened (not before the programme's
records start), between 1 and 500 attendees, and a list of names (if
given) no longer than the count. The station portal's page is
stations/portal/training.py.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import CoursePage, TrainingSession

FIRST_DAY = dt.date(2020, 1, 1)
MIN_ATTENDEES = 1
MAX_ATTENDEES = 500
MAX_NAMES_LENGTH = 5000
MAX_NOTE_LENGTH = 200
# An identical record from the same person this recently is a resubmission.
REPEAT_WINDOW = dt.timedelta(minutes=10)


def live_courses() -> QuerySet:
    """The courses a session may be recorded for, in tree order."""
    return CoursePage.objects.live().order_by("path")


def station_sessions(station) -> QuerySet:
    """The station's own sessions, newest first (the only way the portal
    looks them up)."""
    return (
        TrainingSession.objects.filter(station=station)
        .select_related("course", "recorded_by")
        .order_by("-held_on", "-pk")
    )


def clean_names(text: str | None) -> list[str]:
    """The attendees' names, one per line, blanks dropped."""
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def validate_attendees(value) -> int:
    """The attendee count as a number in 1..500, or a message saying what
    is wrong with it."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(_("请填写参加人数。"), code="attendees_missing")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(
            _("参加人数要填一个整数，例如 25。"), code="attendees_not_number"
        ) from None
    if number < 0:
        raise ValidationError(_("参加人数不能是负数。"), code="attendees_negative")
    if number < MIN_ATTENDEES:
        raise ValidationError(_("参加人数至少 1 人。"), code="attendees_zero")
    if number > MAX_ATTENDEES:
        raise ValidationError(
            _("参加人数 %(n)s 不合常理：一场线下培训最多记 %(max)s 人，人更多请分场记录。")
            % {"n": number, "max": MAX_ATTENDEES},
            code="attendees_absurd",
        )
    return number


def validate_held_on(day: dt.date | None, today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    if day is None:
        raise ValidationError(_("请填写培训日期。"), code="date_missing")
    if day > today:
        raise ValidationError(_("培训日期不能晚于今天：请在培训结束后再记录。"), code="date_future")
    if day < FIRST_DAY:
        raise ValidationError(
            _("培训日期不能早于 %(day)s。") % {"day": FIRST_DAY.strftime("%Y-%m-%d")},
            code="date_too_early",
        )
    return day


def record_session(
    station,
    staff_user,
    *,
    course: CoursePage,
    held_on: dt.date,
    attendees,
    names: str = "",
    note: str = "",
) -> TrainingSession:
    """Record a session the station ran. Raises ValidationError (a dict by
    field, so a form can show each message by its field) and saves nothing
    when any part is wrong."""
    errors: dict[str, list[str]] = {}

    def check(field_name, fn, *args):
        try:
            return fn(*args)
        except ValidationError as exc:
            errors.setdefault(field_name, []).extend(exc.messages)
            return None

    number = check("attendees", validate_attendees, attendees)
    check("held_on", validate_held_on, held_on)
    if course is None or not live_courses().filter(pk=course.pk).exists():
        errors.setdefault("course", []).append(_("请选择一门已发布的课程。"))
    listed = clean_names(names)
    names_text = "\n".join(listed)
    if len(names_text) > MAX_NAMES_LENGTH:
        errors.setdefault("names", []).append(
            _("名单太长（最多 %(n)s 个字）。") % {"n": MAX_NAMES_LENGTH}
        )
    elif number is not None and len(listed) > number:
        errors.setdefault("names", []).append(
            _("名单上有 %(listed)s 人，多于参加人数 %(n)s：请核对人数或名单。")
            % {"listed": len(listed), "n": number}
        )
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE_LENGTH:
        errors.setdefault("note", []).append(_("备注最多 %(n)s 个字。") % {"n": MAX_NOTE_LENGTH})
    if errors:
        raise ValidationError(errors)
    # The same form sent twice (a double tap, a resent POST) is one session.
    same = station_sessions(station).filter(
        course=course,
        held_on=held_on,
        attendees=number,
        names=names_text,
        note=note,
        recorded_by=staff_user,
        created_at__gte=timezone.now() - REPEAT_WINDOW,
    )
    repeated = same.first()
    if repeated is not None:
        return repeated
    return TrainingSession.objects.create(
        station=station,
        course=course,
        held_on=held_on,
        attendees=number,
        names=names_text,
        note=note,
        recorded_by=staff_user,
    )
