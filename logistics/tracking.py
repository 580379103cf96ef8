"""Carrier tracking: events from webhooks, polling or staff, kept once and
in the order they happened.

Events may arrive twice (the carrier retries, or a poll repeats a webhook)
and out of order. Each is stored once per carrier event id; the shipment's
status is derived from all its events in time order, and once a parcel is
delivered, returned or cancelled only another such final event (later in
time) changes it. So the timeline is right whatever order events come in.

When a shipment's status changes, the order lines in it follow
(cooperatives/fulfilment.py): on the way → packed lines become "handed to
the carrier"; delivered → shipped lines become delivered.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.adapters import CarrierError, TrackingUpdate, get_adapter
from logistics.models import Carrier, Shipment, TrackingEvent
from logistics.vocabulary import FINAL_TRACKING, ON_THE_WAY, TRACKING_RANK, TrackingStatus

logger = logging.getLogger("wangnong.logistics")


@dataclass
class Recorded:
    accepted: int = 0
    duplicates: int = 0
    unmatched: list[str] = field(default_factory=list)


def derive_status(events) -> TrackingEvent | None:
    """The event that says where the parcel is now."""
    current = None
    for event in sorted(events, key=lambda e: (e.occurred_at, TRACKING_RANK[e.status], e.pk or 0)):
        if current is not None and current.status in FINAL_TRACKING:
            if event.status not in FINAL_TRACKING:
                continue
        current = event
    return current


def record(carrier: Carrier, updates: list[TrackingUpdate], *, source: str, by=None) -> Recorded:
    """Store ``updates`` from ``carrier``; returns what was new."""
    result = Recorded()
    touched: set[int] = set()
    numbers = {u.tracking_number for u in updates}
    shipments = {
        s.tracking_number: s
        for s in Shipment.objects.filter(carrier=carrier, tracking_number__in=numbers)
    }
    for update in updates:
        shipment = shipments.get(update.tracking_number)
        try:
            with transaction.atomic():
                TrackingEvent.objects.create(
                    carrier=carrier,
                    tracking_number=update.tracking_number,
                    shipment=shipment,
                    event_id=update.event_id,
                    status=update.status,
                    occurred_at=update.occurred_at,
                    location=update.location,
                    description=update.description,
                    source=source,
                    recorded_by=by,
                )
        except IntegrityError:
            result.duplicates += 1
            continue
        result.accepted += 1
        if shipment is None:
            # The hand-off that learns this number may have committed just now.
            shipment = Shipment.objects.filter(
                carrier=carrier, tracking_number=update.tracking_number
            ).first()
            if shipment is not None:
                shipments[update.tracking_number] = shipment
                TrackingEvent.objects.filter(
                    carrier=carrier, event_id=update.event_id, shipment__isnull=True
                ).update(shipment=shipment)
        if shipment is None:
            result.unmatched.append(update.tracking_number)
            logger.warning(
                "Carrier %s: event for unknown tracking number %s kept unmatched",
                carrier.code,
                update.tracking_number,
            )
        else:
            touched.add(shipment.pk)
    for pk in sorted(touched):
        refresh(pk)
    return result


@transaction.atomic
def refresh(shipment_id: int) -> Shipment:
    """Re-derive the shipment's status from its events and let its order
    lines follow."""
    shipment = Shipment.objects.select_for_update().get(pk=shipment_id)
    current = derive_status(list(shipment.events.all()))
    if current is None:
        return shipment
    changed = current.status != shipment.tracking_status
    shipment.tracking_status = current.status
    shipment.tracking_status_at = current.occurred_at
    manual = shipment.carrier.adapter == shipment.carrier.Adapter.MANUAL
    if shipment.status == Shipment.Status.AWAITING_TRACKING or (
        manual and shipment.status == Shipment.Status.PENDING
    ):
        # A manual carrier's parcel staff report on: it is with the courier.
        shipment.status = Shipment.Status.HANDED_OFF
        shipment.handed_off_at = shipment.handed_off_at or timezone.now()
    shipment.save()
    if changed:
        _lines_follow(shipment, current.status)
    return shipment


def _lines_follow(shipment: Shipment, status: str) -> None:
    from cooperatives import fulfilment

    lines = [item.line for item in shipment.items.select_related("line")]
    if status in ON_THE_WAY or status == TrackingStatus.DELIVERED:
        fulfilment.carrier_picked_up(lines)
    if status == TrackingStatus.DELIVERED:
        fulfilment.carrier_delivered(lines)


def adopt_orphans(shipment_id: int) -> int:
    """Attach events that arrived before we knew this shipment's tracking
    number (called after the number commits; ``record`` checks again after
    storing an unmatched event, so one of the two always sees the other)."""
    shipment = Shipment.objects.filter(pk=shipment_id).first()
    if shipment is None or not shipment.tracking_number:
        return 0
    adopted = TrackingEvent.objects.filter(
        carrier_id=shipment.carrier_id,
        tracking_number=shipment.tracking_number,
        shipment__isnull=True,
    ).update(shipment=shipment)
    if adopted:
        refresh(shipment.pk)
    return adopted


def record_by_staff(shipment: Shipment, status: str, *, location: str = "", note: str = "", by):
    """A status typed by staff (manual carriers, or a phone call)."""
    from django.core.exceptions import ValidationError

    if status not in TrackingStatus.values:
        raise ValidationError({"status": _("请选择物流状态。")})
    manual = shipment.carrier.adapter == shipment.carrier.Adapter.MANUAL
    with_courier = shipment.status in (
        Shipment.Status.HANDED_OFF,
        Shipment.Status.AWAITING_TRACKING,
    ) or (manual and shipment.status == Shipment.Status.PENDING)
    if not with_courier:
        # Before the carrier has it (a booking may still be queued) or after
        # it was cancelled, a typed status would be a guess.
        raise ValidationError(_("只有已交给承运商的发货单才能记录物流状态。"))
    now = timezone.now()
    digest = hashlib.sha256(f"{shipment.pk}:{status}:{now.isoformat()}".encode()).hexdigest()
    update = TrackingUpdate(
        event_id=f"staff-{digest[:24]}",
        tracking_number=shipment.tracking_number or f"WN{shipment.pk}",
        status=status,
        occurred_at=now,
        location=location[:100],
        description=note[:300],
    )
    with transaction.atomic():
        TrackingEvent.objects.create(
            carrier=shipment.carrier,
            tracking_number=update.tracking_number,
            shipment=shipment,
            event_id=update.event_id,
            status=status,
            occurred_at=now,
            location=update.location,
            description=update.description,
            source=TrackingEvent.Source.STAFF,
            recorded_by=by,
        )
        return refresh(shipment.pk)


def poll(shipment: Shipment) -> Recorded:
    updates = get_adapter(shipment.carrier).track(shipment)
    return record(shipment.carrier, updates, source=TrackingEvent.Source.POLL)


def poll_all() -> int:
    """Ask carriers that do not push (``poll_tracking``) about their parcels
    still on the way; a carrier that fails is logged and skipped."""
    active = Shipment.objects.filter(
        carrier__poll_tracking=True,
        carrier__is_active=True,
        status=Shipment.Status.HANDED_OFF,
    ).exclude(tracking_status__in=list(FINAL_TRACKING))
    polled = 0
    for shipment in active.select_related("carrier").exclude(tracking_number=""):
        try:
            poll(shipment)
            polled += 1
        except (CarrierError, ValueError) as exc:
            logger.warning("Polling %s at %s failed: %s", shipment, shipment.carrier.code, exc)
    return polled


def timeline(shipment: Shipment) -> list[TrackingEvent]:
    """The shipment's events, newest first, for people to read."""
    return sorted(
        shipment.events.all(),
        key=lambda e: (e.occurred_at, TRACKING_RANK[e.status], e.pk),
        reverse=True,
    )
