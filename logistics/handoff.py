"""Handing shipments to carriers exactly once.

1. ``queue`` writes an OutboxMessage in the caller's transaction and, once
   that commits, queues the ``logistics.hand_off`` task. If the broker is
   down the row stays and ``resend`` (a periodic task) queues it later.
2. ``process`` does one attempt: it locks the message (a second copy of
   the task running at the same time skips it), calls the carrier with the
   shipment's idempotency key, and records the result. A carrier that
   created the shipment but whose answer was lost (timeout, worker killed)
   answers the retry with the same tracking number, so a shipment is
   created once however many times the task runs.
3. Failures are recorded (committed) and re-raised; the task retries with
   exponential back-off. After the last retry, or at once for an error
   retrying cannot fix, the shipment is flagged for staff with the error.

Every delay here stays below the broker's visibility timeout
(``countdown_for`` is capped; tests/logistics check the settings).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.adapters import CarrierError, get_adapter
from logistics.models import OutboxMessage, Shipment, ShipmentLog

logger = logging.getLogger("wangnong.logistics")

Status = Shipment.Status
Kind = OutboxMessage.Kind


def queue(shipment: Shipment, kind: str) -> OutboxMessage:
    """Write the outbox row now; queue its task after commit."""
    message = OutboxMessage.objects.create(shipment=shipment, kind=kind)
    transaction.on_commit(partial(dispatch, message.pk), robust=True)
    return message


def dispatch(message_id: int) -> bool:
    """Queue the task for one outbox row; False if the broker refused (the
    periodic sweep will try again)."""
    from logistics.tasks import hand_off

    queued_at = timezone.now()
    try:
        OutboxMessage.objects.filter(pk=message_id).update(enqueued_at=queued_at)
        hand_off.delay(message_id)
    except Exception:  # noqa: BLE001 - broker down; the row is still there
        logger.warning("Outbox %s: could not queue, will resend", message_id, exc_info=True)
        # Not queued after all: the next sweep takes it as never queued. (A
        # task that ran in-process, eager mode, and failed keeps its time.)
        with contextlib.suppress(Exception):
            OutboxMessage.objects.filter(pk=message_id, enqueued_at=queued_at).exclude(
                last_attempt_at__gte=queued_at
            ).update(enqueued_at=None)
        return False
    return True


def resend_after() -> float:
    return float(settings.WANGNONG_OUTBOX_RESEND_AFTER)


def resend(now: dt.datetime | None = None) -> int:
    """Queue again every outbox row not done, not given up on, and idle
    (never queued, or no attempt since ``WANGNONG_OUTBOX_RESEND_AFTER``).
    Consolidations still collecting are not due yet."""
    now = now or timezone.now()
    idle_since = now - dt.timedelta(seconds=resend_after())
    never_queued = Q(enqueued_at__isnull=True)
    idle = Q(enqueued_at__lt=idle_since) & (
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=idle_since)
    )
    ids = (
        OutboxMessage.objects.filter(done_at__isnull=True, failed_at__isnull=True)
        .exclude(shipment__status=Status.COLLECTING)
        .filter(never_queued | idle)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in ids if dispatch(pk))


def countdown_for(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: base × 2^retries with
    jitter, capped at WANGNONG_HANDOFF_RETRY_MAX."""
    base = float(settings.WANGNONG_HANDOFF_RETRY_BASE)
    cap = float(settings.WANGNONG_HANDOFF_RETRY_MAX)
    delay = min(cap, base * (2**retries))
    return round(delay * random.uniform(0.75, 1.0), 3)


def attempts_of(message_id: int) -> int:
    return (
        OutboxMessage.objects.filter(pk=message_id).values_list("attempts", flat=True).first() or 0
    )


def max_retries() -> int:
    return int(settings.WANGNONG_HANDOFF_MAX_RETRIES)


def process(message_id: int) -> str:
    """One attempt at one outbox row. Returns what happened ("done",
    "skipped", "already done", "given up"); raises CarrierError after
    recording it."""
    error: CarrierError | None = None
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        )
        if message is None:
            if OutboxMessage.objects.filter(pk=message_id).exists():
                return "skipped"
            return "missing"
        if message.done_at is not None:
            return "already done"
        if message.failed_at is not None:
            # Given up on and flagged for staff: a stray copy of the task
            # (swept or redelivered earlier) must not try again behind their
            # back; shipments.retry queues a fresh row when they decide to.
            return "given up"
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("carrier")
            .get(pk=message.shipment_id)
        )
        message.attempts += 1
        message.last_attempt_at = timezone.now()
        try:
            outcome = _attempt(message, shipment)
        except CarrierError as exc:
            error = exc
            message.last_error = str(exc)[:2000]
            shipment.last_error = message.last_error
            shipment.save(update_fields=["last_error"])
            ShipmentLog.objects.create(
                shipment=shipment,
                message=(
                    _("第 %(n)s 次%(kind)s失败：%(e)s")
                    % {"n": message.attempts, "kind": message.get_kind_display(), "e": exc}
                )[:500],
                is_error=True,
            )
            if not exc.retryable:
                _give_up(message, shipment)
        else:
            message.done_at = timezone.now()
        message.save()
    if error is not None:
        raise error
    return outcome


def _attempt(message: OutboxMessage, shipment: Shipment) -> str:
    adapter = get_adapter(shipment.carrier)
    if message.kind == Kind.CANCEL:
        if shipment.tracking_number and not adapter.manual:
            adapter.cancel(shipment)
        ShipmentLog.objects.create(shipment=shipment, message=_("已通知承运商取消。"))
        return "done"
    # CREATE
    if shipment.status != Status.PENDING:
        return "already done"  # handed off, cancelled, or waiting for a number
    created = adapter.create_shipment(shipment)
    if created is None:
        shipment.status = Status.AWAITING_TRACKING
        shipment.save(update_fields=["status"])
        ShipmentLog.objects.create(
            shipment=shipment, message=_("手工承运商：请打印面单，并录入快递员给的运单号。")
        )
        return "done"
    shipment.tracking_number = created.tracking_number
    shipment.status = Status.HANDED_OFF
    shipment.handed_off_at = timezone.now()
    shipment.needs_attention = False
    shipment.last_error = ""
    shipment.save()
    ShipmentLog.objects.create(
        shipment=shipment,
        message=_("已交运，运单号 %(n)s。") % {"n": created.tracking_number},
    )
    from logistics import tracking

    # Events the carrier sent before this commits are waiting unmatched.
    transaction.on_commit(partial(tracking.adopt_orphans, shipment.pk), robust=True)
    return "done"


def _give_up(message: OutboxMessage, shipment: Shipment) -> None:
    message.failed_at = timezone.now()
    shipment.needs_attention = True
    shipment.save(update_fields=["needs_attention"])
    ShipmentLog.objects.create(
        shipment=shipment,
        message=(_("已停止自动重试，请工作人员处理：%(e)s") % {"e": message.last_error})[:500],
        is_error=True,
    )
    from logistics import notifications

    transaction.on_commit(partial(notifications.handoff_failed, shipment.pk), robust=True)


def give_up(message_id: int, error: Exception) -> None:
    """The task's retries ran out: flag the shipment for staff."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.done_at is not None or message.failed_at is not None:
            return
        shipment = Shipment.objects.select_for_update().get(pk=message.shipment_id)
        message.last_error = message.last_error or str(error)[:2000]
        _give_up(message, shipment)
        message.save()
