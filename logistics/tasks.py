"""Celery tasks for logistics. Every task is safe to run twice (the broker
redelivers unacknowledged tasks after the visibility timeout, and the
outbox sweep may queue a hand-off that is already queued)."""

from __future__ import annotations

import logging

from celery import shared_task

from logistics import handoff

logger = logging.getLogger("wangnong.logistics")


@shared_task(bind=True, name="logistics.hand_off", acks_late=True, max_retries=None)
def hand_off(self, message_id: int) -> str:
    from logistics.adapters import CarrierError

    try:
        return handoff.process(message_id)
    except CarrierError as exc:
        if not exc.retryable:
            return "failed"
        # Attempts are counted on the row, across every copy of the task the
        # sweep may have queued: max_retries + 1 attempts in all.
        tried = max(self.request.retries + 1, handoff.attempts_of(message_id))
        if tried > handoff.max_retries():
            handoff.give_up(message_id, exc)
            return "failed"
        if self.request.is_eager:
            # No broker (make run): retrying here would hold up the request
            # that placed the order; the periodic sweep tries again.
            logger.info("Hand-off %s failed (%s); the sweep will retry", message_id, exc)
            return "retry later"
        logger.info("Hand-off %s failed (%s); retry %s", message_id, exc, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=handoff.countdown_for(self.request.retries))


@shared_task(name="logistics.resend_outbox", acks_late=True)
def resend_outbox() -> int:
    return handoff.resend()


@shared_task(name="logistics.close_consolidations", acks_late=True)
def close_consolidations() -> int:
    from logistics import shipments

    return shipments.close_due()


@shared_task(name="logistics.poll_tracking", acks_late=True)
def poll_tracking() -> int:
    from logistics import tracking

    return tracking.poll_all()


@shared_task(name="logistics.purge_webhook_nonces", acks_late=True)
def purge_webhook_nonces() -> int:
    from logistics.webhooks import purge_nonces

    return purge_nonces()
