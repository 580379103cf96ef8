"""The in-process beat (config/inprocess_beat.py) that runs
CELERY_BEAT_SCHEDULE under `make run`: it runs due entries' real tasks,
survives a task that raises, and starts only in runserver's serving
process with WANGNONG_INPROCESS_BEAT=1."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from decimal import Decimal

import pytest
from celery import shared_task
from celery.result import denied_join_result
from django.conf import settings

from config import inprocess_beat
from config.inprocess_beat import InProcessBeat, wanted
from logistics.models import OutboxMessage, Shipment
from tests import factories

RESEND = "logistics-resend-outbox"
ticks: list[float] = []


@shared_task(name="tests.beat.tick")
def tick() -> int:
    ticks.append(time.monotonic())
    return len(ticks)


@shared_task(name="tests.beat.explode")
def explode() -> None:
    raise RuntimeError("boom")


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lost_hand_off() -> tuple[Shipment, OutboxMessage]:
    """A pending shipment whose outbox row was written but never queued
    (the broker was down when the order committed)."""
    express, _cold = factories.carriers()  # manual adapter: no network
    shipment = Shipment.objects.create(
        partner=factories.partner(),
        carrier=express,
        service="express",
        destination_id=factories.GUEST_ADDRESS["division_id"],
        recipient_name="王小农",
        recipient_phone="13812345678",
        recipient_address="天津市西青区辛口镇水高庄村 8 号",
        ship_date=dt.date.today(),
        weight_g=2500,
        cost=Decimal("14.00"),
    )
    message = OutboxMessage.objects.create(shipment=shipment, kind=OutboxMessage.Kind.CREATE)
    return shipment, message


@pytest.mark.django_db
def test_a_due_entry_runs_its_task_at_its_interval():
    shipment, message = lost_hand_off()
    clock = FakeClock()
    schedule = {RESEND: settings.CELERY_BEAT_SCHEDULE[RESEND]}
    beat = InProcessBeat(schedule, clock=clock, initial_delay=5)
    interval = beat.entries[0].interval
    assert interval == 60

    assert beat.run_pending() == []  # not due before the initial delay
    message.refresh_from_db()
    assert message.enqueued_at is None

    clock.now += 5
    assert beat.run_pending() == [RESEND]
    # The real task ran here: the sweep queued the row and the hand-off ran
    # (eagerly, no broker); the manual carrier now waits for its number.
    message.refresh_from_db()
    shipment.refresh_from_db()
    assert message.enqueued_at is not None and message.done_at is not None
    assert shipment.status == Shipment.Status.AWAITING_TRACKING

    assert beat.run_pending() == []
    clock.now += interval - 1
    assert beat.run_pending() == []
    clock.now += 1
    assert beat.run_pending() == [RESEND]
    # Far behind (a suspended laptop): one run, then the interval again.
    clock.now += 10 * interval
    assert beat.run_pending() == [RESEND]
    assert beat.run_pending() == []
    assert beat.runs == {RESEND: 3} and beat.failures == {RESEND: 0}


def test_a_job_runs_while_another_thread_runs_an_eager_task():
    """Celery's guard against waiting on a result inside a task is one flag
    for the process; a request thread running an eager task sets it."""
    ticks.clear()
    with denied_join_result():
        assert inprocess_beat.run_task("tests.beat.tick") == 1
    assert len(ticks) == 1


def test_every_configured_entry_is_scheduled():
    beat = InProcessBeat(settings.CELERY_BEAT_SCHEDULE, clock=FakeClock(), initial_delay=0)
    assert {e.name for e in beat.entries} == set(settings.CELERY_BEAT_SCHEDULE)
    tasks = {e.task for e in beat.entries}
    assert tasks == {spec["task"] for spec in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "logistics.resend_outbox",
        "logistics.close_consolidations",
        "logistics.poll_tracking",
    } <= tasks


def test_a_task_that_raises_is_logged_and_the_others_still_run(caplog):
    clock = FakeClock()
    schedule = {
        "explode": {"task": "tests.beat.explode", "schedule": 10.0},
        "tick": {"task": "tests.beat.tick", "schedule": dt.timedelta(seconds=10)},
    }
    beat = InProcessBeat(schedule, clock=clock, initial_delay=0)
    ticks.clear()
    with caplog.at_level(logging.ERROR, logger="wangnong.beat"):
        assert beat.run_pending() == ["explode", "tick"]
        clock.now += 10
        assert beat.run_pending() == ["explode", "tick"]
    assert len(ticks) == 2
    assert beat.failures == {"explode": 2, "tick": 0}
    failures = [r for r in caplog.records if "explode" in r.getMessage()]
    assert len(failures) == 2 and failures[0].exc_info[0] is RuntimeError


def test_the_thread_survives_failing_jobs():
    schedule = {
        "explode": {"task": "tests.beat.explode", "schedule": 0.02},
        "tick": {"task": "tests.beat.tick", "schedule": 0.02},
    }
    ticks.clear()
    beat = InProcessBeat(schedule, initial_delay=0).start()
    try:
        deadline = time.monotonic() + 10
        while len(ticks) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(ticks) >= 5
        assert beat.failures["explode"] >= 4
        assert beat.alive
    finally:
        beat.stop()
    assert not beat.alive


def beat_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == inprocess_beat.THREAD_NAME]


@pytest.mark.parametrize(
    ("environ", "argv", "expected"),
    [
        ({}, ["manage.py", "runserver"], False),
        ({}, ["manage.py", "runserver", "--noreload"], False),
        ({"RUN_MAIN": "true"}, ["manage.py", "runserver"], False),
        # The flag, but the autoreloader's watcher process: not there.
        ({"WANGNONG_INPROCESS_BEAT": "1"}, ["manage.py", "runserver"], False),
        ({"WANGNONG_INPROCESS_BEAT": "1", "RUN_MAIN": "true"}, ["manage.py", "runserver"], True),
        ({"WANGNONG_INPROCESS_BEAT": "1"}, ["manage.py", "runserver", "--noreload"], True),
        # Never in workers, tests, other commands or a WSGI server.
        ({"WANGNONG_INPROCESS_BEAT": "1", "RUN_MAIN": "true"}, ["celery", "worker"], False),
        ({"WANGNONG_INPROCESS_BEAT": "1", "RUN_MAIN": "true"}, ["pytest"], False),
        ({"WANGNONG_INPROCESS_BEAT": "1", "RUN_MAIN": "true"}, ["manage.py", "migrate"], False),
        ({"WANGNONG_INPROCESS_BEAT": "1"}, ["gunicorn", "config.wsgi"], False),
        (
            {"WANGNONG_INPROCESS_BEAT": "true", "RUN_MAIN": "true"},
            ["manage.py", "runserver"],
            False,
        ),
    ],
)
def test_when_it_starts(environ, argv, expected):
    assert wanted(environ, argv) is expected


def test_it_does_not_start_without_the_flag_or_in_tests(monkeypatch):
    # Django's set-up (LogisticsConfig.ready) has run in this process.
    assert not beat_threads()
    assert inprocess_beat.start_if_wanted({}, ["manage.py", "runserver", "--noreload"]) is None
    monkeypatch.setenv(inprocess_beat.ENV_FLAG, "1")
    monkeypatch.setenv("RUN_MAIN", "true")
    assert inprocess_beat.start_if_wanted() is None  # sys.argv is pytest's
    assert not beat_threads()


def test_it_starts_once_in_the_serving_process(monkeypatch):
    monkeypatch.setattr(inprocess_beat, "_started", None)
    environ = {inprocess_beat.ENV_FLAG: "1", "RUN_MAIN": "true"}
    argv = ["manage.py", "runserver", "127.0.0.1:8000"]
    beat = inprocess_beat.start_if_wanted(environ, argv)
    try:
        assert beat is not None and beat.alive
        assert inprocess_beat.start_if_wanted(environ, argv) is beat
        assert len(beat_threads()) == 1
        assert {e.name for e in beat.entries} == set(settings.CELERY_BEAT_SCHEDULE)
        # Nothing runs before the initial delay.
        assert sum(beat.runs.values()) == 0
    finally:
        beat.stop()
