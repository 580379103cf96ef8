"""Delivery details are kept only as long as they are needed.

An order delivered, cancelled or refunded more than
``WANGNONG_DELIVERY_RETENTION_DAYS`` ago (its last status change; an order
without one counts from when it was placed) loses the person from its
delivery details — recipient name, phone, detail line and notes on the
shipping and billing addresses, the shipments' recipient copies and the
online checkout snapshot — through the same function account deletion
uses (privacy/erasure.py). Province … town and the division stay for the
statistics. Each order is marked once done (AnonymisedDelivery), so runs
are idempotent and never look at it again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone
from oscar.core.loading import get_model

from privacy.erasure import FINAL_STATUSES, anonymise_order_delivery
from privacy.models import AnonymisedDelivery

BATCH_SIZE = 500
MAX_BATCHES = 20


def due_orders(now: dt.datetime | None = None, limit: int = BATCH_SIZE) -> list[int]:
    """Ids of completed orders past the retention period not done yet."""
    Order = get_model("order", "Order")
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.WANGNONG_DELIVERY_RETENTION_DAYS)
    done = AnonymisedDelivery.objects.values("order_id")
    return list(
        Order.objects.filter(status__in=FINAL_STATUSES)
        .exclude(pk__in=done)
        .annotate(completed_at=Coalesce(Max("status_changes__date_created"), "date_placed"))
        .filter(completed_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def anonymise_old_deliveries(now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Anonymise due orders in batches (each its own transaction); the
    number of orders done."""
    total = 0
    for _batch in range(MAX_BATCHES):
        with transaction.atomic():
            ids = due_orders(now, batch_size)
            if not ids:
                break
            anonymise_order_delivery(ids)
            AnonymisedDelivery.objects.bulk_create(
                [AnonymisedDelivery(order_id=pk) for pk in ids], ignore_conflicts=True
            )
        total += len(ids)
        if len(ids) < batch_size:
            break
    return total
