"""Offline training sessions recorded by station staff
(cms/training_sessions.py, /station/training/): what may be recorded, the
messages for bad counts and dates, resubmission, and that a station sees
only its own sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cms import training_sessions
from cms.models import TrainingSession
from tests.cms.learning_helpers import learner, make_course
from tests.stations.conftest import VILLAGE_B, make_staff, make_station, staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return make_course("安全收款与防范电信诈骗", [("识别骗局", None)])


@pytest.fixture
def station():
    station = make_station("上辛口村益农信息社")
    make_staff(station, "staff-a")
    return station


@pytest.fixture
def other_station():
    station = make_station("七里海镇益农信息社", VILLAGE_B, contact_phone="022-69591234")
    make_staff(station, "staff-b")
    return station


def record(station, course, **overrides):
    values = {
        "course": course,
        "held_on": timezone.localdate() - dt.timedelta(days=1),
        "attendees": 25,
        "names": "",
        "note": "",
    }
    values.update(overrides)
    return training_sessions.record_session(station, staff_of(station), **values)


def errors_of(station, course, **overrides) -> dict:
    with pytest.raises(ValidationError) as exc:
        record(station, course, **overrides)
    return exc.value.message_dict


def test_a_session_is_recorded_with_its_names_cleaned(station, course):
    session = record(
        station,
        course,
        attendees="12",
        names="王秀英\n\n  李  桂兰 \n赵德顺\n",
        note=" 村委会 会议室 ",
    )
    session.refresh_from_db()
    assert session.station == station and session.course.pk == course.pk
    assert session.attendees == 12
    assert session.names == "王秀英\n李 桂兰\n赵德顺"
    assert session.note == "村委会 会议室"
    assert session.recorded_by == staff_of(station)


@pytest.mark.parametrize(
    ("attendees", "message"),
    [
        (-5, "不能是负数"),
        ("-1", "不能是负数"),
        (0, "至少 1 人"),
        (501, "不合常理"),
        ("100000", "不合常理"),
        ("十", "整数"),
        ("2.5", "整数"),
        ("", "请填写参加人数"),
        (None, "请填写参加人数"),
    ],
)
def test_bad_attendee_counts_are_refused_with_a_clear_message(station, course, attendees, message):
    errors = errors_of(station, course, attendees=attendees)
    assert message in " ".join(errors["attendees"])
    assert not TrainingSession.objects.exists()


def test_the_limits_are_allowed(station, course):
    assert record(station, course, attendees=1).attendees == 1
    assert record(station, course, attendees=500).attendees == 500


def test_dates_must_have_happened_and_not_before_2020(station, course):
    today = timezone.localdate()
    assert (
        "不能晚于今天"
        in errors_of(station, course, held_on=today + dt.timedelta(days=1))["held_on"][0]
    )
    assert (
        "不能早于 2020-01-01"
        in errors_of(station, course, held_on=dt.date(2019, 12, 31))["held_on"][0]
    )
    assert "请填写培训日期" in errors_of(station, course, held_on=None)["held_on"][0]
    assert record(station, course, held_on=today).held_on == today
    assert record(station, course, held_on=dt.date(2020, 1, 1)).held_on == dt.date(2020, 1, 1)


def test_more_names_than_attendees_is_refused(station, course):
    errors = errors_of(station, course, attendees=2, names="甲\n乙\n丙")
    assert "名单上有 3 人，多于参加人数 2" in errors["names"][0]
    assert not TrainingSession.objects.exists()


def test_only_live_courses(station, course):
    course.unpublish()
    assert "已发布的课程" in errors_of(station, course)["course"][0]
    assert "已发布的课程" in errors_of(station, None)["course"][0]


def test_every_problem_is_reported_at_once(station, course):
    errors = errors_of(station, course, attendees=-3, held_on=dt.date(2019, 1, 1), note="注" * 201)
    assert set(errors) == {"attendees", "held_on", "note"}


def test_the_same_record_sent_twice_is_one_session(station, course):
    first = record(station, course, names="王秀英")
    again = record(station, course, names="王秀英")
    assert again.pk == first.pk
    assert TrainingSession.objects.count() == 1
    # A different session on the same day is another record.
    record(station, course, attendees=30)
    assert TrainingSession.objects.count() == 2


# --- The portal page ----------------------------------------------------------------------------


def test_the_portal_page_records_and_lists_the_stations_sessions(
    client, station, other_station, course
):
    record(other_station, course, note="七里海的独有培训")
    client.force_login(staff_of(station))
    url = reverse("station:training")
    page = client.get(url).content.decode()
    assert "线下培训" in page and course.title in page  # the course in the select
    assert "七里海的独有培训" not in page
    assert 'href="/station/training/"' in page  # in the portal's navigation

    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client.post(
        url,
        {
            "course": course.pk,
            "held_on": yesterday,
            "attendees": "18",
            "names": "王秀英\n李桂兰",
            "note": "辛口的独有培训",
        },
    )
    assert response.status_code == 302 and response["Location"] == url
    session = TrainingSession.objects.get(station=station)
    assert (session.attendees, session.note) == (18, "辛口的独有培训")
    page = client.get(url).content.decode()
    assert "已记录" in page and "辛口的独有培训" in page and "七里海的独有培训" not in page
    assert "1 场" in page and "18 人次" in page

    # The other station's staff see theirs only.
    client.force_login(staff_of(other_station))
    page = client.get(url).content.decode()
    assert "七里海的独有培训" in page and "辛口的独有培训" not in page


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"attendees": "-3"}, "参加人数不能是负数"),
        ({"attendees": "9999"}, "不合常理"),
        ({"attendees": ""}, "请填写参加人数"),
        ({"held_on": "2099-01-01"}, "不能晚于今天"),
        ({"held_on": "2019-06-01"}, "不能早于"),
        ({"held_on": "昨天"}, "日期格式不对"),
        ({"course": "999999"}, "请选择一门已发布的课程"),
        ({"course": ""}, "请选择一门已发布的课程"),
    ],
)
def test_the_portal_form_shows_what_is_wrong_and_keeps_what_was_typed(
    client, station, course, data, field_message
):
    client.force_login(staff_of(station))
    values = {
        "course": course.pk,
        "held_on": timezone.localdate().isoformat(),
        "attendees": "20",
        "names": "王秀英",
        "note": "留着的备注",
    }
    values.update(data)
    response = client.post(reverse("station:training"), values)
    assert response.status_code == 400
    page = response.content.decode()
    assert field_message in page and "请按红色提示修改" in page
    assert "留着的备注" in page  # nothing typed is lost
    assert not TrainingSession.objects.exists()


def test_only_station_staff_get_in(client, course):
    url = reverse("station:training")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(learner())
    assert client.get(url).status_code == 404
    assert client.post(url, {"course": course.pk, "attendees": "5"}).status_code == 404
    assert not TrainingSession.objects.exists()
