"""Celery tasks for payments (found by Celery's autodiscovery of tasks.py).

``payment.generate_statements`` runs from CELERY_BEAT_SCHEDULE every half
hour rather than once a week on a crontab: generation is idempotent (one
statement per party and cut-off day), so every run after the first of a
period creates nothing, and a run missed while the workers were down is
made up half an hour later instead of a week later. The cut-off is the
last period end before today (``settlement.latest_period_end``: with
weekly periods, the Sunday just gone), so statements appear in the first
half hour of each Monday, Asia/Shanghai. An interval also keeps the entry
runnable by config/inprocess_beat.py under `make run` and below the
broker's visibility timeout (tests/logistics/test_settings.py).
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

logger = logging.getLogger("wangnong.payment")


@shared_task(name="payment.generate_statements", acks_late=True)
def generate_statements(period_end: str | None = None) -> int:
    """Statements for ``period_end`` (ISO date; default the last period end
    before today); returns how many were created."""
    from shop.payment import settlement

    end = dt.date.fromisoformat(period_end) if period_end else settlement.latest_period_end()
    created = settlement.generate_statements(end)
    if created:
        logger.info("Settlement statements for %s: %s", end, ", ".join(s.number for s in created))
    return len(created)
