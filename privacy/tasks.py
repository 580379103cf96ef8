"""Periodic work for personal information (registered in CELERY_IMPORTS)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="privacy.anonymise_old_deliveries", acks_late=True, ignore_result=True)
def anonymise_old_deliveries() -> int:
    from privacy import retention

    return retention.anonymise_old_deliveries()
