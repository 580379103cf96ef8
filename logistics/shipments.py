"""Shipments: created when an order is placed, consolidated for stations,
re-routed or cancelled by staff.

Every change that needs the carrier writes an OutboxMessage in the same
transaction and queues its task only after commit (logistics/handoff.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_DOWN, Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from divisions import services as divisions
from logistics import handoff, planning, rates
from logistics.models import Carrier, OutboxMessage, Shipment, ShipmentItem, ShipmentLog

CENT = Decimal("0.01")
Status = Shipment.Status


class Unshippable(ValidationError):
    """The order cannot be shipped to its destination (messages say why)."""


def ship_date(carrier: Carrier, at: dt.datetime | None = None) -> dt.date:
    """The day a parcel booked at ``at`` leaves: today before the carrier's
    pickup cut-off, tomorrow after it (local time)."""
    local = timezone.localtime(at or timezone.now())
    if local.time() >= carrier.pickup_cutoff:
        return local.date() + dt.timedelta(days=1)
    return local.date()


def log(shipment: Shipment, message: str, *, by=None, error: bool = False) -> None:
    ShipmentLog.objects.create(shipment=shipment, message=message[:500], by=by, is_error=error)


def _recipient(order) -> tuple[str, str, str]:
    address = order.shipping_address
    if address is None:
        return ("", "", "")
    name = address.name or address.last_name
    detail = " ".join(
        p for p in [address.state, address.line4, address.line3, address.line2, address.line1] if p
    )
    return (name, str(address.phone_number or ""), detail)


@transaction.atomic
def create_for_order(order, plan: planning.Plan | None = None) -> list[Shipment]:
    """Split ``order`` into shipments (one per cooperative and temperature
    class), each booked with its cheapest carrier; queue their hand-off
    after the caller's transaction commits. Raises Unshippable if a part of
    the order cannot be shipped to its address."""
    plan = plan or planning.plan_order(order)
    if not plan.ok:
        raise Unshippable(plan.problems)
    name, phone, address = _recipient(order)
    created = []
    remaining_charge = Decimal(order.shipping_incl_tax or 0)
    for index, group in enumerate(plan.shipments):
        rate = group.rate
        # The buyer paid the sum of the costs; if rates moved between the
        # quote and the order, the last shipment absorbs the difference.
        last = index == len(plan.shipments) - 1
        charge = remaining_charge if last else min(rate.cost, remaining_charge)
        remaining_charge -= charge
        shipment = Shipment.objects.create(
            order=order,
            partner_id=group.partner_id,
            carrier=rate.carrier,
            service=rate.service,
            temperature=group.temperature,
            destination_id=plan.destination_code,
            recipient_name=name,
            recipient_phone=phone,
            recipient_address=address,
            ship_date=ship_date(rate.carrier),
            zone_name=rate.zone.name,
            weight_g=group.weight_g,
            weight_estimated=group.weight_estimated,
            cost=rate.cost,
            charge=max(charge, Decimal("0.00")),
            status=Status.PENDING,
        )
        ShipmentItem.objects.bulk_create(
            ShipmentItem(shipment=shipment, line=line, weight_g=_line_grams(line))
            for line in group.lines
        )
        if group.weight_estimated:
            log(
                shipment,
                _("以下商品没有填写重量，按每件 %(g)s 克计：%(titles)s")
                % {"g": planning.fallback_weight_g(), "titles": "、".join(group.missing_weight)},
                error=True,
            )
        handoff.queue(shipment, OutboxMessage.Kind.CREATE)
        created.append(shipment)
    return created


def _line_grams(line) -> int:
    grams, _estimated = planning.line_weight(line.product, line.quantity)
    return grams


@transaction.atomic
def add_to_consolidation(
    *, order, station, recipient: tuple[str, str, str], charge: Decimal
) -> list[Shipment]:
    """Put ``order``'s lines into today's consolidated shipments from each
    of its cooperatives to ``station`` (one per cooperative, station, day
    and temperature class). They are handed to the carrier together at its
    pickup cut-off (``close_due``) or when the cooperative closes them."""
    plan = planning.plan_order(order, to_station=True, destination_code=station.village_id)
    if not plan.ok:
        raise Unshippable(plan.problems)
    shipments = []
    shares = _charge_shares(charge, len(plan.shipments))
    for group, share in zip(plan.shipments, shares, strict=True):
        carrier = group.rate.carrier
        day = ship_date(carrier)
        shipment = _open_consolidation(group, station, day, recipient)
        ShipmentItem.objects.bulk_create(
            ShipmentItem(shipment=shipment, line=line, weight_g=_line_grams(line))
            for line in group.lines
        )
        shipment.charge += share
        shipment.weight_estimated = shipment.weight_estimated or group.weight_estimated
        _reprice(shipment)
        shipment.save()
        shipments.append(shipment)
    return shipments


def _charge_shares(charge, count: int) -> list[Decimal]:
    """``charge`` split between ``count`` shipments to the cent, adding up
    to it exactly (the last share takes the rounding)."""
    if count <= 0:
        return []
    charge = Decimal(charge or 0)
    share = (charge / count).quantize(CENT, rounding=ROUND_DOWN)
    return [share] * (count - 1) + [charge - share * (count - 1)]


def _open_consolidation(group, station, day, recipient) -> Shipment:
    lookup = {
        "partner_id": group.partner_id,
        "station": station,
        "ship_date": day,
        "temperature": group.temperature,
        "status": Status.COLLECTING,
    }
    existing = Shipment.objects.select_for_update().filter(**lookup).first()
    if existing:
        return existing
    rate = group.rate
    try:
        with transaction.atomic():
            return Shipment.objects.create(
                **lookup,
                carrier=rate.carrier,
                service=rate.service,
                destination_id=station.village_id,
                recipient_name=recipient[0],
                recipient_phone=recipient[1],
                recipient_address=recipient[2],
                zone_name=rate.zone.name,
                weight_g=0,
                cost=Decimal("0.00"),
            )
    except IntegrityError:
        # Another order for the same station opened it a moment ago.
        return Shipment.objects.select_for_update().get(**lookup)


def _reprice(shipment: Shipment) -> None:
    """Weight and cost from the shipment's current items and carrier."""
    weights = list(shipment.items.values_list("weight_g", flat=True))
    shipment.weight_g = sum(weights)
    rate = _rate(shipment, shipment.carrier)
    if rate is not None:
        shipment.cost = rate.cost
        shipment.zone_name = rate.zone.name
        shipment.service = rate.service


@transaction.atomic
def close(shipment: Shipment, *, by=None) -> Shipment:
    """Stop collecting: hand the consolidated shipment to its carrier."""
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.status != Status.COLLECTING:
        return locked
    if not locked.items.exists():
        locked.status = Status.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        return locked
    locked.status = Status.PENDING
    locked.save(update_fields=["status"])
    log(locked, _("合并结束，交给承运商。"), by=by)
    handoff.queue(locked, OutboxMessage.Kind.CREATE)
    return locked


def close_due(now: dt.datetime | None = None) -> int:
    """Close every consolidated shipment whose carrier's cut-off has passed."""
    local = timezone.localtime(now or timezone.now())
    closed = 0
    due = Shipment.objects.filter(status=Status.COLLECTING, ship_date__lte=local.date())
    for shipment in due.select_related("carrier"):
        if shipment.ship_date < local.date() or local.time() >= shipment.carrier.pickup_cutoff:
            close(shipment)
            closed += 1
    return closed


def carrier_choices(shipment: Shipment) -> list[rates.Rate]:
    """The carriers that could take ``shipment`` instead, cheapest first."""
    return rates.rates_for(*_parcel(shipment), to_station=shipment.is_consolidated)


def _parcel(shipment: Shipment) -> tuple[str, int, str]:
    """What a rate depends on: destination, weight (at least a gram), class."""
    return (shipment.destination_id, shipment.weight_g or 1, shipment.temperature)


def _rate(shipment: Shipment, carrier: Carrier) -> rates.Rate | None:
    """``carrier``'s rate for ``shipment`` as it is now, or None."""
    return rates.rate_for_carrier(carrier, *_parcel(shipment), to_station=shipment.is_consolidated)


@transaction.atomic
def override_carrier(shipment: Shipment, carrier: Carrier, *, by) -> Shipment:
    """Staff send ``shipment`` with ``carrier`` instead. Only before it is
    at a carrier; the new carrier must serve the destination and class."""
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if not locked.is_open and not (
        locked.status == Status.AWAITING_TRACKING and not locked.tracking_number
    ):
        raise ValidationError(_("这个发货单已经交给承运商，不能再更换承运商；请先取消。"))
    rate = _rate(locked, carrier)
    if rate is None:
        raise ValidationError(
            _("%(carrier)s不能承运这个发货单（不服务%(place)s，或没有所需的%(temp)s服务）。")
            % {
                "carrier": carrier.name,
                "place": divisions.full_name(locked.destination_id),
                "temp": locked.get_temperature_display(),
            }
        )
    old = locked.carrier
    locked.carrier = carrier
    locked.service = rate.service
    locked.zone_name = rate.zone.name
    locked.cost = rate.cost
    locked.carrier_overridden_by = by
    if locked.status == Status.AWAITING_TRACKING:
        # A manual booking nobody completed: book again with the new carrier.
        locked.status = Status.PENDING
    locked.save()
    log(locked, _("承运商由%(old)s改为%(new)s。") % {"old": old.name, "new": carrier.name}, by=by)
    if locked.status == Status.PENDING:
        # A queued hand-off to the old carrier is dropped; a new one is queued.
        locked.outbox.filter(done_at__isnull=True, kind=OutboxMessage.Kind.CREATE).update(
            done_at=timezone.now()
        )
        locked.idempotency_key = uuid.uuid4()
        locked.save(update_fields=["idempotency_key"])
        handoff.queue(locked, OutboxMessage.Kind.CREATE)
    return locked


@transaction.atomic
def enter_tracking_number(shipment: Shipment, number: str, *, by) -> Shipment:
    """Staff (or the cooperative) type the tracking number of a manual
    carrier's waybill."""
    number = (number or "").strip().upper()
    if not number or len(number) > 64 or not number.replace("-", "").isalnum():
        raise ValidationError({"tracking_number": _("请输入快递员给的运单号（字母和数字）。")})
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.status == Status.CANCELLED:
        raise ValidationError(_("这个发货单已取消。"))
    clash = (
        Shipment.objects.filter(carrier=locked.carrier, tracking_number=number)
        .exclude(pk=locked.pk)
        .exists()
    )
    if clash:
        raise ValidationError(
            {"tracking_number": _("运单号 %(n)s 已用于另一个发货单。") % {"n": number}}
        )
    locked.tracking_number = number
    if locked.status in (Status.PENDING, Status.AWAITING_TRACKING):
        locked.status = Status.HANDED_OFF
        locked.handed_off_at = timezone.now()
    locked.needs_attention = False
    locked.save()
    locked.outbox.filter(done_at__isnull=True, kind=OutboxMessage.Kind.CREATE).update(
        done_at=timezone.now()
    )
    log(locked, _("录入运单号 %(n)s。") % {"n": number}, by=by)
    from logistics import tracking

    transaction.on_commit(partial(tracking.adopt_orphans, locked.pk), robust=True)
    return locked


@transaction.atomic
def retry(shipment: Shipment, *, by) -> Shipment:
    """Staff try a flagged hand-off again (after fixing what was wrong)."""
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.status != Status.PENDING:
        raise ValidationError(_("只有待交运的发货单可以重新交运。"))
    locked.outbox.filter(done_at__isnull=True, failed_at__isnull=False).update(
        done_at=timezone.now()
    )
    locked.needs_attention = False
    locked.save(update_fields=["needs_attention"])
    log(locked, _("重新交运。"), by=by)
    handoff.queue(locked, OutboxMessage.Kind.CREATE)
    return locked


@transaction.atomic
def cancel(shipment: Shipment, *, by=None, reason: str = "") -> Shipment:
    """Cancel ``shipment``; one already at a carrier is cancelled there too."""
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.status == Status.CANCELLED:
        return locked
    at_carrier = locked.status == Status.HANDED_OFF and bool(locked.tracking_number)
    locked.outbox.filter(done_at__isnull=True, kind=OutboxMessage.Kind.CREATE).update(
        done_at=timezone.now()
    )
    locked.status = Status.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.needs_attention = False
    locked.save()
    log(locked, _("取消发货：%(r)s") % {"r": reason or _("无说明")}, by=by)
    if at_carrier or locked.outbox.filter(kind=OutboxMessage.Kind.CREATE).exists():
        # Also when a create may be in flight: cancelling a booking that
        # never happened is harmless, a forgotten one is not.
        handoff.queue(locked, OutboxMessage.Kind.CANCEL)
    return locked


@transaction.atomic
def remove_lines(order, *, by=None, reason: str = "") -> None:
    """``order``'s lines leave their shipments (the order was cancelled).
    A shipment left with nothing in it is cancelled."""
    items = ShipmentItem.objects.filter(line__order=order).select_related("shipment")
    touched = {item.shipment_id for item in items}
    locked = list(
        Shipment.objects.select_for_update(of=("self",))
        .select_related("partner")
        .filter(pk__in=touched)
        .order_by("pk")
    )
    # The order's share of the station charge in each consolidated shipment,
    # as add_to_consolidation split it (in the plan's order).
    consolidated = sorted(
        (s for s in locked if s.is_consolidated),
        key=lambda s: (s.partner.name, s.partner_id, s.temperature),
    )
    shares = dict(
        zip(
            (s.pk for s in consolidated),
            _charge_shares(order.shipping_incl_tax, len(consolidated)),
            strict=True,
        )
    )
    for shipment in locked:
        if shipment.status == Status.COLLECTING:
            shipment.items.filter(line__order=order).delete()
            shipment.charge = max(shipment.charge - shares.get(shipment.pk, 0), Decimal("0.00"))
            shipment.save(update_fields=["charge"])
            if shipment.items.exists():
                _reprice(shipment)
                shipment.save()
                log(shipment, _("订单 %(n)s 已取消，移出合并包裹。") % {"n": order.number}, by=by)
                continue
        if shipment.items.exclude(line__order=order).exists():
            # Already on its way with other orders' goods: the station
            # returns this order's goods on arrival.
            log(shipment, _("订单 %(n)s 已取消。") % {"n": order.number}, by=by)
            continue
        cancel(shipment, by=by, reason=reason)


def sender_of(shipment: Shipment) -> dict:
    """The cooperative's name, phone and address for the waybill."""
    from cooperatives.models import Cooperative

    coop = Cooperative.objects.filter(partner_id=shipment.partner_id).first()
    if coop is None:
        return {"name": shipment.partner.name, "phone": "", "division": "", "address": ""}
    place = " ".join(divisions.path_names(coop.division_id)) if coop.division_id else ""
    return {
        "name": coop.display_name or coop.legal_name,
        "phone": coop.contact_phone,
        "division": coop.division_id or "",
        "address": f"{place} {coop.address_detail}".strip(),
    }


def for_order(order):
    """An order's shipments (its own and consolidated ones carrying its
    lines), with their events, for timelines."""
    return (
        Shipment.objects.filter(items__line__order=order)
        .distinct()
        .select_related("carrier", "partner")
        .prefetch_related("events")
        .order_by("pk")
    )


def by_line(order) -> dict:
    """``{order line id: the shipment carrying it}`` for an order."""
    return {
        item.line_id: item.shipment
        for item in ShipmentItem.objects.filter(line__order=order).select_related("shipment")
    }


def for_station_orders(station_order_ids) -> dict[tuple[int, int], list[Shipment]]:
    """The shipments carrying the lines of these station orders, as
    ``{(station order id, partner id): [shipments]}`` (a station order's
    parcel from one cooperative may travel in a chilled and an ambient
    shipment). Two queries whatever the number of orders."""
    ids = sorted({int(pk) for pk in station_order_ids})
    if not ids:
        return {}
    pairs = set(
        ShipmentItem.objects.filter(line__order__station_order__in=ids)
        .values_list("line__order__station_order", "shipment_id")
        .distinct()
    )
    shipments = {
        s.pk: s
        for s in Shipment.objects.filter(pk__in={shipment_id for _so, shipment_id in pairs})
        .select_related("carrier")
        .order_by("pk")
    }
    found: dict[tuple[int, int], list[Shipment]] = {}
    for station_order_id, shipment_id in sorted(pairs):
        shipment = shipments[shipment_id]
        found.setdefault((station_order_id, shipment.partner_id), []).append(shipment)
    return found
