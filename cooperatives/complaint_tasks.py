"""Periodic work for consumer complaints (registered in CELERY_IMPORTS)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="cooperatives.flag_overdue_complaints", acks_late=True, ignore_result=True)
def flag_overdue_complaints() -> int:
    from cooperatives import complaints

    return complaints.flag_overdue()
