"""Delivering e-mail and text messages from any app, as Celery tasks.

Each message is its own task that retries with exponential back-off
(``autoretry_for``), so a mail server or SMS gateway that is down delays
the message instead of losing it. Delays stay below the Redis broker's
visibility timeout (``CELERY_BROKER_TRANSPORT_OPTIONS``): a longer countdown
would be delivered again and again. ``after_commit`` queues a message only
once the caller's transaction has committed, and a failure to queue is
logged, never raised into the caller (an order must not fail because the
SMS gateway is down).
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction

from config import sms

logger = logging.getLogger("wangnong.messaging")

# Retried with exponential back-off (1, 2, 4 … minutes, at most 30) for
# about an hour, which stays within the broker's visibility timeout.
RETRY_OPTIONS = {
    "autoretry_for": (Exception,),
    "retry_backoff": 60,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(name="wangnong.send_email", **RETRY_OPTIONS)
def send_email_task(to: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [to])
    except Exception:
        logger.warning("E-mail to %s failed (will retry): %s", to, subject, exc_info=True)
        raise


@shared_task(name="wangnong.send_sms", **RETRY_OPTIONS)
def send_sms_task(phone: str, text: str) -> None:
    try:
        sms.send_sms(phone, text)
    except Exception:
        logger.warning("SMS to %s failed (will retry)", phone, exc_info=True)
        raise


def enqueue(task, *args) -> None:
    """Queue ``task``; a failure (broker down, or an eager task that used up
    its retries) is logged, never raised."""
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - notifications must never break the caller
        logger.exception("Notification task %s%r failed", task.name, args)


def after_commit(task, *args) -> None:
    """Queue ``task`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(enqueue, task, *args), robust=True)


def email_later(to: str, subject: str, body: str) -> None:
    after_commit(send_email_task, to, subject, body)


def sms_later(phone: str, text: str) -> None:
    after_commit(send_sms_task, phone, text)
