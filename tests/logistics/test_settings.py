"""Every delay the project gives Celery stays below the Redis broker's
visibility timeout: a task whose countdown or ETA exceeds it is delivered
again and again. Read from the settings and the registered tasks, so a
change to either that breaks the rule fails here."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.schedules import crontab, schedule
from django.conf import settings as django_settings

from config import messaging
from config.celery import app as celery_app
from logistics import handoff


def visibility_timeout(settings=django_settings) -> float:
    return float(settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])


def seconds_of(value) -> float | None:
    """A beat schedule entry's interval in seconds, or None if it cannot be
    told (a crontab: its gaps vary)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, crontab):
        return None
    if isinstance(value, schedule):
        return value.run_every.total_seconds()
    return None


def task_delays() -> dict[str, float]:
    """The longest delay each registered task with automatic retries can
    ask for: its back-off ceiling and its default retry delay."""
    celery_app.loader.import_default_modules()
    delays = {}
    for name, task in sorted(celery_app.tasks.items()):
        if name.startswith("celery."):
            continue
        autoretry = bool(getattr(task, "autoretry_for", ()))
        backoff = getattr(task, "retry_backoff", False)
        if not autoretry and not backoff:
            continue
        longest = float(task.default_retry_delay or 0)
        if backoff:
            # Celery caps exponential back-off at retry_backoff_max (600 s
            # when unset).
            ceiling = getattr(task, "retry_backoff_max", 600)
            longest = max(longest, float(ceiling if ceiling is not None else 600))
        delays[name] = longest
    return delays


def delays(settings=django_settings) -> dict[str, float | None]:
    """Every delay the project configures, in seconds, by where it comes from."""
    found: dict[str, float | None] = {
        "WANGNONG_HANDOFF_RETRY_MAX": float(settings.WANGNONG_HANDOFF_RETRY_MAX),
        "WANGNONG_OUTBOX_RESEND_AFTER": float(settings.WANGNONG_OUTBOX_RESEND_AFTER),
        "config.messaging.RETRY_OPTIONS retry_backoff_max": float(
            messaging.RETRY_OPTIONS["retry_backoff_max"]
        ),
    }
    # The hand-off task's own countdowns, over every retry it makes.
    found["logistics.handoff.countdown_for"] = max(
        max(handoff.countdown_for(n) for _ in range(20)) for n in range(handoff.max_retries() + 1)
    )
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        found[f"CELERY_BEAT_SCHEDULE[{name!r}]"] = seconds_of(entry["schedule"])
        options = entry.get("options") or {}
        if "countdown" in options:
            found[f"CELERY_BEAT_SCHEDULE[{name!r}] countdown"] = float(options["countdown"])
    for name, seconds in task_delays().items():
        found[f"task {name}"] = seconds
    return found


def too_long(settings=django_settings) -> dict[str, float | None]:
    limit = visibility_timeout(settings)
    return {
        name: seconds
        for name, seconds in delays(settings).items()
        if seconds is None or seconds >= limit
    }


def test_every_delay_stays_below_the_visibility_timeout():
    assert visibility_timeout() > 0
    assert too_long() == {}


def test_the_celery_app_uses_the_configured_visibility_timeout():
    options = celery_app.conf.broker_transport_options
    assert float(options["visibility_timeout"]) == visibility_timeout()


def test_the_check_covers_what_it_claims():
    found = delays()
    for name in (
        "WANGNONG_HANDOFF_RETRY_MAX",
        "WANGNONG_OUTBOX_RESEND_AFTER",
        "config.messaging.RETRY_OPTIONS retry_backoff_max",
        "logistics.handoff.countdown_for",
        "CELERY_BEAT_SCHEDULE['logistics-resend-outbox']",
        "CELERY_BEAT_SCHEDULE['logistics-close-consolidations']",
        "CELERY_BEAT_SCHEDULE['logistics-poll-tracking']",
        "task wangnong.send_email",
        "task wangnong.send_sms",
    ):
        assert name in found, name
    # Every beat entry is counted.
    beat = [n for n in found if n.startswith("CELERY_BEAT_SCHEDULE[")]
    assert len(beat) >= len(django_settings.CELERY_BEAT_SCHEDULE)


@pytest.mark.parametrize(
    ("setting", "value", "culprit"),
    [
        ("WANGNONG_HANDOFF_RETRY_MAX", 4000, "WANGNONG_HANDOFF_RETRY_MAX"),
        ("WANGNONG_OUTBOX_RESEND_AFTER", 3600, "WANGNONG_OUTBOX_RESEND_AFTER"),
        (
            "CELERY_BEAT_SCHEDULE",
            {"weekly": {"task": "logistics.resend_outbox", "schedule": dt.timedelta(days=7)}},
            "CELERY_BEAT_SCHEDULE['weekly']",
        ),
        (
            "CELERY_BEAT_SCHEDULE",
            {"nightly": {"task": "logistics.poll_tracking", "schedule": crontab(hour=3)}},
            "CELERY_BEAT_SCHEDULE['nightly']",
        ),
    ],
)
def test_a_setting_past_the_timeout_is_caught(settings, setting, value, culprit):
    setattr(settings, setting, value)
    assert culprit in too_long(settings)


def test_a_lower_visibility_timeout_is_caught(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 500}
    caught = too_long(settings)
    # The hand-off's 600 s back-off cap and the messaging tasks' 1800 s.
    assert "WANGNONG_HANDOFF_RETRY_MAX" in caught
    assert "logistics.handoff.countdown_for" in caught
    assert "task wangnong.send_email" in caught


def test_the_sweep_waits_longer_than_a_retry_countdown():
    """A row waiting out its back-off is not idle: the sweep must not queue
    a second copy of its task while the first is still due."""
    assert float(django_settings.WANGNONG_OUTBOX_RESEND_AFTER) > float(
        django_settings.WANGNONG_HANDOFF_RETRY_MAX
    )
