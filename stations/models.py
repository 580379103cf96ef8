"""Village service stations (村级益农信息社) and what their staff do for
residents: assisted orders, cash, parcels, and the audit trail of it all.

A resident is also a Django user with no usable password: Oscar's orders
belong to users, and "the order belongs to the resident" is then literally
true (``order.user``). Nobody signs in as that user; the station's staff act
for them, and every such act is an ``AuditEvent``.

The domain rules live in the modules named after what they do
(``residents.py``, ``ordering.py``, ``cash.py``, ``parcels.py``,
``commission.py``, ``audit.py``); views, tasks and commands call those.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Station(models.Model):
    """A station serves one administrative village (a level-5 division)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("运营中")
        SUSPENDED = "suspended", _("已暂停")

    name = models.CharField(_("站点名称"), max_length=100)
    village = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("服务村"),
        on_delete=models.PROTECT,
        related_name="stations",
    )
    street_address = models.CharField(_("详细地址"), max_length=200)
    opening_hours = models.CharField(_("营业时间"), max_length=100, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    operator = models.CharField(_("运营者"), max_length=100, help_text=_("负责站点的个人或单位。"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("暂停原因"), max_length=200, blank=True)
    is_pickup_point = models.BooleanField(_("可作为自提点"), default=True)
    # Empty = the programme's default (settings.WANGNONG_STATION_COMMISSION_*).
    commission_fixed = models.DecimalField(
        _("每单固定佣金（元）"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    commission_rate = models.DecimalField(
        _("佣金比例（%）"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("服务站")
        verbose_name_plural = _("服务站")
        ordering = ["village_id", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def clean(self) -> None:
        code = self.village_id or ""
        if code and not (len(code) == 12 and code.startswith("12")):
            raise ValidationError({"village": _("请选择天津市的一个村（居）委会。")})


class StationStaff(models.Model):
    """A staff account at a station. One person works at one station."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="station_staff",
        verbose_name=_("账号"),
    )
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="staff", verbose_name=_("站点")
    )
    is_active = models.BooleanField(_("在岗"), default=True)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("站点工作人员")
        verbose_name_plural = _("站点工作人员")

    def __str__(self) -> str:
        return staff_name(self.user)


def staff_name(user) -> str:
    """How a staff member is named on receipts and in the audit log."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class Resident(models.Model):
    """A villager the station orders for. Only what is needed is kept."""

    class Delivery(models.TextChoices):
        STATION = "station", _("送到站点，到站自提")
        HOME = "home", _("送货上门")

    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="residents", verbose_name=_("站点")
    )
    # The Oscar customer that owns the resident's orders (no usable password).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="resident", editable=False
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
    village = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("所在村"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    address_detail = models.CharField(
        _("门牌地址"), max_length=100, blank=True, help_text=_("送货上门时使用，如“三排五号”。")
    )
    delivery_preference = models.CharField(
        _("收货方式"), max_length=16, choices=Delivery.choices, default=Delivery.STATION
    )
    consent_at = models.DateTimeField(_("同意时间"))
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("记录同意的工作人员"),
    )
    consent_statement = models.TextField(_("告知内容"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "phone"],
                condition=~Q(phone=""),
                name="stations_resident_phone_unique_per_station",
            )
        ]
        indexes = [models.Index(fields=["station", "name"])]

    def __str__(self) -> str:
        return self.name


class StationOrder(models.Model):
    """An order a station placed for a resident: who, where, how paid."""

    class Payment(models.TextChoices):
        CASH = "cash", _("现金（站点代收）")

    order = models.OneToOneField(
        "order.Order", on_delete=models.PROTECT, related_name="station_order"
    )
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="orders")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    delivery = models.CharField(max_length=16, choices=Resident.Delivery.choices)
    payment = models.CharField(max_length=16, choices=Payment.choices, default=Payment.CASH)
    goods_total = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    cash_received = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    change_given = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    pickup_code = models.CharField(max_length=6)
    commission = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    # Consecutive wrong pickup codes; at the limit the order's parcels lock.
    pickup_failures = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("代购订单")
        verbose_name_plural = _("代购订单")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["station", "-created_at"])]

    def __str__(self) -> str:
        return self.order.number

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class Parcel(models.Model):
    """One cooperative's part of a station-delivered order, on its way to,
    waiting at, or collected from the station. The logistics issue links
    these to carriers' shipments."""

    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", _("在途")
        ARRIVED = "arrived", _("已到站，待取")
        HANDED_OVER = "handed_over", _("已取走")
        CANCELLED = "cancelled", _("已取消")

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="parcels")
    station_order = models.ForeignKey(
        StationOrder, on_delete=models.PROTECT, related_name="parcels"
    )
    partner = models.ForeignKey("partner.Partner", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_TRANSIT)
    arrived_at = models.DateTimeField(null=True, blank=True)
    arrived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("包裹")
        verbose_name_plural = _("包裹")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["station_order", "partner"], name="stations_parcel_one_per_partner"
            )
        ]
        indexes = [models.Index(fields=["station", "status", "arrived_at"])]

    def __str__(self) -> str:
        return f"{self.station_order_id}/{self.partner_id}"


class DayClose(models.Model):
    """A station's cash count for a business day. Closed days never change."""

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="day_closes")
    business_date = models.DateField(_("营业日"))
    opening = models.DecimalField(_("上次结存"), max_digits=12, decimal_places=2)
    receipts = models.DecimalField(_("收款"), max_digits=12, decimal_places=2)
    refunds = models.DecimalField(_("退款"), max_digits=12, decimal_places=2)
    remittances = models.DecimalField(_("上缴"), max_digits=12, decimal_places=2)
    expected = models.DecimalField(_("应有现金"), max_digits=12, decimal_places=2)
    counted = models.DecimalField(_("实点现金"), max_digits=12, decimal_places=2)
    difference = models.DecimalField(_("差额"), max_digits=12, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("日结")
        verbose_name_plural = _("日结")
        ordering = ["-business_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "business_date"], name="stations_one_close_per_day"
            )
        ]


class CashEntry(models.Model):
    """One movement of cash at a station. Signed: + into the drawer, − out.

    Append-only: a mistake is corrected by a new entry. The only change ever
    made is the day close stamping ``day_close`` on the open entries it
    counted (a queryset update in ``cash.close_day``); after that the entry
    can never change. On PostgreSQL a trigger holds the database to the
    same rule (migration 0002)."""

    class Kind(models.TextChoices):
        SALE = "sale", _("代购收款")
        REFUND = "refund", _("退款")
        REMITTANCE = "remittance", _("上缴平台")

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="cash_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    station_order = models.ForeignKey(
        StationOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="cash_entries"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    day_close = models.ForeignKey(
        DayClose, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )

    class Meta:
        verbose_name = _("现金流水")
        verbose_name_plural = _("现金流水")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["station", "day_close"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("cash entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("cash entries are append-only")


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("the audit log is append-only")

    def delete(self):
        raise ValidationError("the audit log is append-only")


class AuditEvent(models.Model):
    """Something a station did on a resident's behalf. Append-only: the
    model refuses updates and deletes, and on PostgreSQL a trigger refuses
    them in the database too (migration 0002)."""

    class Action(models.TextChoices):
        RESIDENT_CREATED = "resident_created", _("登记居民")
        RESIDENT_UPDATED = "resident_updated", _("修改居民信息")
        CONTACT_VIEWED = "contact_viewed", _("查看联系方式")
        ORDER_PLACED = "order_placed", _("代下单")
        CASH_RECEIVED = "cash_received", _("收取现金")
        RECEIPT_PRINTED = "receipt_printed", _("打印小票")
        ORDER_CANCELLED = "order_cancelled", _("取消订单")
        CASH_REFUNDED = "cash_refunded", _("退还现金")
        PARCEL_ARRIVED = "parcel_arrived", _("包裹到站")
        RESIDENT_NOTIFIED = "resident_notified", _("通知取件")
        PICKUP_CODE_FAILED = "pickup_code_failed", _("取件码错误")
        PARCEL_LOCKED = "parcel_locked", _("包裹锁定")
        PARCEL_UNLOCKED = "parcel_unlocked", _("包裹解锁")
        HANDED_OVER = "handed_over", _("交付包裹")

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="audit_events")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=32, choices=Action.choices)
    order = models.ForeignKey(
        "order.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["resident", "-created_at"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("the audit log is append-only")
