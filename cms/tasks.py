"""Celery tasks of the CMS. Each is safe to run twice."""

from __future__ import annotations

import io

from celery import shared_task
from django.core.management import call_command


@shared_task(name="cms.publish_scheduled", acks_late=True)
def publish_scheduled() -> str:
    """Publish pages and snippets whose go-live time has come and unpublish
    expired ones: Wagtail's ``publish_scheduled`` command, run by beat
    (CELERY_BEAT_SCHEDULE["cms-publish-scheduled"]), so an article an editor
    scheduled goes live within the beat interval. The command is idempotent:
    a revision it already published is no longer scheduled."""
    out = io.StringIO()
    call_command("publish_scheduled", stdout=out)
    return out.getvalue()


@shared_task(name="cms.compute_statistics", acks_late=True, ignore_result=True)
def compute_statistics() -> int:
    """Compute the programme's coverage and sales figures into a new
    snapshot (cms/statistics.py), run by beat
    (CELERY_BEAT_SCHEDULE["cms-compute-statistics"]) so the statistics page
    is never older than the interval. Running twice only makes two
    snapshots; the page shows the newest complete one. Returns its id."""
    from cms import statistics

    return statistics.compute_snapshot().pk
