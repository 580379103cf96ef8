"""Parcels coming to a station, their arrival, and their hand-over.

An order a station places for delivery to the station has one parcel per
cooperative (each ships its own lines). Staff confirm a parcel's arrival by
scanning or typing the order number; the resident is then told by SMS (if
they have a phone) with the pickup code. Hand-over requires the order's
pickup code: a wrong code is counted, and after
``WANGNONG_PICKUP_MAX_FAILURES`` wrong codes in a row the order's parcels
lock until platform staff unlock them (they are alerted by e-mail). A right
code resets the count. Across orders, one staff member at one station may
type ``WANGNONG_PICKUP_STAFF_MAX_FAILURES`` wrong codes per
``WANGNONG_RATELIMIT_WINDOW`` (config/ratelimit.py); past that every
hand-over by that person waits for the window to end, so codes cannot be
guessed by spreading attempts over many orders. Arrived parcels not collected after
``WANGNONG_UNCOLLECTED_DAYS`` days are listed for follow-up.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config import ratelimit
from cooperatives import fulfilment
from stations import audit, notifications
from stations.models import Parcel, Resident, Station, StationOrder

Status = Parcel.Status


def max_failures() -> int:
    return int(settings.WANGNONG_PICKUP_MAX_FAILURES)


def staff_limit() -> ratelimit.Limit:
    """Wrong pickup codes one staff member may type at one station, across
    orders, per window."""
    return ratelimit.Limit(
        "pickup-staff",
        int(settings.WANGNONG_PICKUP_STAFF_MAX_FAILURES),
        int(settings.WANGNONG_RATELIMIT_WINDOW),
    )


def uncollected_days() -> int:
    return int(settings.WANGNONG_UNCOLLECTED_DAYS)


def _parcels(station: Station) -> QuerySet:
    return Parcel.objects.filter(station=station).select_related(
        "partner", "station_order__order", "station_order__resident"
    )


def incoming(station: Station) -> QuerySet:
    """Parcels on their way to the station, oldest order first."""
    return (
        _parcels(station)
        .filter(status=Status.IN_TRANSIT)
        .order_by("station_order__created_at", "pk")
    )


def waiting(station: Station) -> QuerySet:
    """Parcels at the station waiting for their resident."""
    return _parcels(station).filter(status=Status.ARRIVED).order_by("arrived_at", "pk")


def uncollected(station: Station, days: int | None = None) -> QuerySet:
    days = uncollected_days() if days is None else days
    cutoff = timezone.now() - dt.timedelta(days=days)
    return waiting(station).filter(arrived_at__lt=cutoff)


def normalise_number(value: str) -> str:
    """What a scanner or a person typed: digits only (spaces, dashes and
    full-width digits are forgiven)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(ch for ch in text if ch.isdigit())


def find_station_order(station: Station, number: str) -> StationOrder:
    """The station's own order with this number, delivered to the station.
    The message never says which station an order belongs to."""
    digits = normalise_number(number)
    if not digits:
        raise ValidationError({"number": _("请扫描或输入订单号。")})
    station_order = (
        StationOrder.objects.select_related("order", "resident", "station")
        .filter(station=station, order__number=digits)
        .first()
    )
    if station_order is None:
        raise ValidationError(
            {"number": _("本站没有订单号为 %(number)s 的订单，请核对。") % {"number": digits}}
        )
    if station_order.delivery != Resident.Delivery.STATION:
        raise ValidationError(
            {"number": _("订单 %(number)s 是送货上门的，不经过本站。") % {"number": digits}}
        )
    if station_order.is_cancelled:
        raise ValidationError({"number": _("订单 %(number)s 已取消。") % {"number": digits}})
    return station_order


def confirm_arrival(
    station: Station, staff_user, number: str, parcel_ids: list[int] | None = None
) -> list[Parcel]:
    """Mark the order's parcels in transit (or just ``parcel_ids`` of them)
    as arrived, and tell the resident. Raises ValidationError if none is
    in transit."""
    station_order = find_station_order(station, number)
    with transaction.atomic():
        StationOrder.objects.select_for_update().filter(pk=station_order.pk).first()
        qs = Parcel.objects.select_for_update().filter(
            station_order=station_order, status=Status.IN_TRANSIT
        )
        if parcel_ids is not None:
            qs = qs.filter(pk__in=parcel_ids)
        arriving = list(qs.select_related("partner"))
        if not arriving:
            already = station_order.parcels.filter(status=Status.ARRIVED).exists()
            raise ValidationError(
                {
                    "number": _("订单 %(number)s 的包裹已经登记到站，无需重复登记。")
                    % {"number": station_order.order.number}
                    if already
                    else _("订单 %(number)s 没有在途的包裹。")
                    % {"number": station_order.order.number}
                }
            )
        now = timezone.now()
        for parcel in arriving:
            parcel.status = Status.ARRIVED
            parcel.arrived_at = now
            parcel.arrived_by = staff_user
            parcel.save(update_fields=["status", "arrived_at", "arrived_by"])
        audit.record(
            station=station,
            actor=staff_user,
            action=audit.Action.PARCEL_ARRIVED,
            resident=station_order.resident,
            order=station_order.order,
            parcels=[p.pk for p in arriving],
            senders=[str(p.partner) for p in arriving],
        )
        if station_order.resident.phone:
            notifications.parcel_arrived(station_order)
            Parcel.objects.filter(pk__in=[p.pk for p in arriving]).update(notified_at=now)
            audit.record(
                station=station,
                actor=staff_user,
                action=audit.Action.RESIDENT_NOTIFIED,
                resident=station_order.resident,
                order=station_order.order,
                channel="sms",
            )
    return arriving


def hand_over(station: Station, staff_user, number: str, code: str) -> list[Parcel]:
    """Give the resident the order's arrived parcels if ``code`` is the
    order's pickup code. A wrong code is counted (and committed) before the
    ValidationError is raised; the limit locks the order's parcels."""
    station_order = find_station_order(station, number)
    code = normalise_number(code)
    if not code:
        # Nothing typed (a scanner's Enter after the order number) is not a
        # wrong guess: ask for the code without counting it.
        raise ValidationError({"code": _("请输入居民报出的取件码。")})
    limit, staff_key = staff_limit(), f"{station.pk}:{getattr(staff_user, 'pk', '')}"
    if limit.is_limited(staff_key):
        raise ValidationError(
            {
                "code": _("输错取件码的次数过多，请 %(minutes)s 分钟后再办理取件。")
                % {"minutes": max(1, -(-limit.retry_after() // 60))}
            }
        )
    with transaction.atomic():
        locked = (
            StationOrder.objects.select_for_update()
            .select_related("order", "resident")
            .get(pk=station_order.pk)
        )
        if locked.is_locked:
            raise ValidationError(
                {"code": _("取件码连续输错，包裹已锁定，请联系平台工作人员核实身份后解锁。")}
            )
        arrived = list(locked.parcels.select_for_update().filter(status=Status.ARRIVED))
        if not arrived:
            raise ValidationError(
                {
                    "number": _("订单 %(number)s 没有已到站待取的包裹。")
                    % {"number": locked.order.number}
                }
            )
        if not secrets.compare_digest(code, locked.pickup_code):
            failure = _record_failure(locked, staff_user)
            # Leave the atomic block normally so the count is committed.
        else:
            failure = None
            now = timezone.now()
            for parcel in arrived:
                parcel.status = Status.HANDED_OVER
                parcel.handed_over_at = now
                parcel.handed_over_by = staff_user
                parcel.save(update_fields=["status", "handed_over_at", "handed_over_by"])
            if locked.pickup_failures:
                StationOrder.objects.filter(pk=locked.pk).update(pickup_failures=0)
            _mark_delivered(locked, arrived, staff_user)
            audit.record(
                station=station,
                actor=staff_user,
                action=audit.Action.HANDED_OVER,
                resident=locked.resident,
                order=locked.order,
                parcels=[p.pk for p in arrived],
            )
    if failure is not None:
        limit.hit(staff_key)
        raise ValidationError({"code": failure})
    return arrived


def _record_failure(station_order: StationOrder, staff_user) -> str:
    failures = station_order.pickup_failures + 1
    limit = max_failures()
    update = {"pickup_failures": failures}
    audit.record(
        station=station_order.station,
        actor=staff_user,
        action=audit.Action.PICKUP_CODE_FAILED,
        resident=station_order.resident,
        order=station_order.order,
        attempt=failures,
    )
    if failures >= limit:
        update["locked_at"] = timezone.now()
        StationOrder.objects.filter(pk=station_order.pk).update(**update)
        audit.record(
            station=station_order.station,
            actor=staff_user,
            action=audit.Action.PARCEL_LOCKED,
            resident=station_order.resident,
            order=station_order.order,
            failures=failures,
        )
        notifications.parcel_locked(station_order, failures)
        return _("取件码连续输错 %(n)s 次，包裹已锁定，平台工作人员已收到通知。") % {"n": failures}
    StationOrder.objects.filter(pk=station_order.pk).update(**update)
    return _("取件码不对，请核对后重新输入（还可以再试 %(left)s 次）。") % {
        "left": limit - failures
    }


def _mark_delivered(station_order: StationOrder, parcels: list[Parcel], staff_user) -> None:
    """Lines of the handed-over parcels that the cooperative marked as
    handed to the carrier become delivered, as the carrier's delivery would
    make them (cooperatives.fulfilment: the event settlement counts the
    return window from, and the order following its lines)."""
    partners = {p.partner_id for p in parcels}
    lines = list(station_order.order.lines.filter(partner_id__in=partners, status="shipped"))
    fulfilment.carrier_delivered(lines, by=staff_user)


def unlock(station_order: StationOrder, platform_user, note: str = "") -> None:
    """Platform staff, having checked who the resident is, unlock."""
    with transaction.atomic():
        locked = StationOrder.objects.select_for_update().get(pk=station_order.pk)
        if not locked.is_locked:
            raise ValidationError(_("这个订单的包裹没有被锁定。"))
        StationOrder.objects.filter(pk=locked.pk).update(locked_at=None, pickup_failures=0)
        audit.record(
            station=locked.station,
            actor=platform_user,
            action=audit.Action.PARCEL_UNLOCKED,
            resident=locked.resident,
            order=locked.order,
            note=" ".join((note or "").split())[:200],
        )


def locked_orders() -> QuerySet:
    return StationOrder.objects.filter(locked_at__isnull=False).select_related(
        "station", "order", "resident"
    )
