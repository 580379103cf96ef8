"""The station's cash ledger and its daily close.

Every cash movement at a station is a CashEntry, signed (+ into the drawer,
− out): a sale when an assisted order is paid, a refund when one is
cancelled, a remittance when the station hands cash over to the platform
(recorded by platform staff, who receive it). Entries are never edited.

The daily close counts the drawer: expected cash is what the last close
counted plus every entry since; the staff member enters what they count;
the difference is recorded. The close stamps itself on the entries it
counted, and neither it nor they change again. One close per station per
business day (Asia/Shanghai); entries after a close belong to the next.

All writes lock the station row first, so a sale and a close never
interleave (the close would otherwise miss or double-count the sale).

What the station owes the platform (outstanding balance) is sales minus
refunds minus remittances: a shortage in the drawer does not reduce it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from shop.payment import accounting
from stations.models import CashEntry, DayClose, Station, StationOrder

ZERO = Decimal("0.00")
Kind = CashEntry.Kind


def _lock(station: Station) -> None:
    Station.objects.select_for_update().filter(pk=station.pk).first()


def record_sale(station_order: StationOrder, staff_user) -> CashEntry:
    """The order's total taken in cash (the change given back is not
    counted: only what stays in the drawer)."""
    with transaction.atomic():
        _lock(station_order.station)
        return CashEntry.objects.create(
            station_id=station_order.station_id,
            kind=Kind.SALE,
            amount=station_order.total,
            station_order=station_order,
            recorded_by=staff_user,
            note=station_order.order.number,
        )


def record_refund(
    station_order: StationOrder, staff_user, amount: Decimal, *, note: str = ""
) -> CashEntry:
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError(_("退款金额必须大于 0。"))
    refunded = -(
        CashEntry.objects.filter(station_order=station_order, kind=Kind.REFUND).aggregate(
            s=Coalesce(Sum("amount"), ZERO)
        )["s"]
    )
    if refunded + amount > station_order.total:
        raise ValidationError(
            _("退款合计不能超过订单金额 ¥%(total)s（已退 ¥%(done)s）。")
            % {"total": station_order.total, "done": refunded}
        )
    with transaction.atomic():
        _lock(station_order.station)
        return CashEntry.objects.create(
            station_id=station_order.station_id,
            kind=Kind.REFUND,
            amount=-amount,
            station_order=station_order,
            recorded_by=staff_user,
            note=note[:200],
        )


def record_remittance(
    station: Station, platform_user, amount: Decimal, note: str = ""
) -> CashEntry:
    """Cash the station handed over to the platform, recorded by the
    platform staff member who received it."""
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": _("上缴金额必须大于 0。")})
    with transaction.atomic():
        _lock(station)
        entry = CashEntry.objects.create(
            station=station,
            kind=Kind.REMITTANCE,
            amount=-amount,
            recorded_by=platform_user,
            note=note[:200],
        )
        accounting.record_remittance(entry, by=platform_user)
        return entry


def open_entries(station: Station):
    """Entries not yet counted by a day close, oldest first."""
    return (
        CashEntry.objects.filter(station=station, day_close__isnull=True)
        .select_related("station_order__order", "recorded_by")
        .order_by("created_at", "pk")
    )


def last_close(station: Station) -> DayClose | None:
    return DayClose.objects.filter(station=station).order_by("-business_date", "-pk").first()


@dataclass(frozen=True)
class Drawer:
    opening: Decimal
    receipts: Decimal
    refunds: Decimal
    remittances: Decimal

    @property
    def expected(self) -> Decimal:
        return self.opening + self.receipts + self.refunds + self.remittances


def drawer(station: Station) -> Drawer:
    """What should be in the drawer now: the last count plus open entries."""
    previous = last_close(station)
    sums = CashEntry.objects.filter(station=station, day_close__isnull=True).aggregate(
        receipts=Coalesce(Sum("amount", filter=Q(kind=Kind.SALE)), ZERO),
        refunds=Coalesce(Sum("amount", filter=Q(kind=Kind.REFUND)), ZERO),
        remittances=Coalesce(Sum("amount", filter=Q(kind=Kind.REMITTANCE)), ZERO),
    )
    return Drawer(opening=previous.counted if previous else ZERO, **sums)


def today() -> dt.date:
    return timezone.localdate()


def close_day(
    station: Station,
    staff_user,
    counted: Decimal,
    *,
    note: str = "",
    business_date: dt.date | None = None,
) -> DayClose:
    """Close ``business_date`` (today by default) with the counted cash.
    Raises ValidationError if that day is already closed."""
    business_date = business_date or today()
    if counted is None or Decimal(counted) < 0:
        raise ValidationError({"counted": _("请填写清点出的现金金额。")})
    counted = Decimal(counted)
    try:
        with transaction.atomic():
            _lock(station)
            if DayClose.objects.filter(station=station, business_date=business_date).exists():
                raise ValidationError(
                    _("%(date)s 已经日结过了，日结后不能再修改。")
                    % {"date": business_date.isoformat()}
                )
            d = drawer(station)
            close = DayClose.objects.create(
                station=station,
                business_date=business_date,
                opening=d.opening,
                receipts=d.receipts,
                refunds=d.refunds,
                remittances=d.remittances,
                expected=d.expected,
                counted=counted,
                difference=counted - d.expected,
                note=" ".join((note or "").split())[:200],
                closed_by=staff_user,
            )
            CashEntry.objects.filter(station=station, day_close__isnull=True).update(
                day_close=close
            )
    except IntegrityError as exc:  # a second close racing past the check
        raise ValidationError(
            _("%(date)s 已经日结过了，日结后不能再修改。") % {"date": business_date.isoformat()}
        ) from exc
    return close


def is_closed(station: Station, business_date: dt.date) -> bool:
    return DayClose.objects.filter(station=station, business_date=business_date).exists()


def outstanding_balance(station: Station) -> Decimal:
    """Cash the station holds for the platform: sales − refunds − remittances."""
    return CashEntry.objects.filter(station=station).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]


def balances():
    """Every station with its outstanding balance and last close (platform
    view). Subqueries, not joins: joining entries and closes would multiply
    the sums."""
    from django.db.models import DecimalField, OuterRef, Subquery

    entries = (
        CashEntry.objects.filter(station=OuterRef("pk"))
        .order_by()
        .values("station")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    last = DayClose.objects.filter(station=OuterRef("pk")).order_by("-business_date", "-pk")
    money = DecimalField(max_digits=12, decimal_places=2)
    return Station.objects.annotate(
        outstanding=Coalesce(Subquery(entries, output_field=money), ZERO, output_field=money),
        last_close_date=Subquery(last.values("business_date")[:1]),
        last_difference=Subquery(last.values("difference")[:1], output_field=money),
    ).order_by("village_id", "pk")
