"""Carriers, their rate cards, shipments, the hand-off outbox and tracking.

An order is split into one Shipment per cooperative and temperature class
(logistics/planning.py); a station's orders for one cooperative, day and
temperature class share one consolidated Shipment. Handing a shipment to its
carrier goes through an OutboxMessage written in the same transaction as the
shipment, so nothing is lost if the broker is down when the order commits
(logistics/handoff.py). Carriers report progress as TrackingEvents, kept in
the order they happened whatever order they arrive in (logistics/tracking.py).
"""

from __future__ import annotations

import uuid
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from logistics.vocabulary import Service, TrackingStatus
from shop.catalogue.produce import StorageClass

MONEY = {"max_digits": 10, "decimal_places": 2}


class Carrier(models.Model):
    """A logistics partner: courier, postal service, cold chain, local courier."""

    class Adapter(models.TextChoices):
        HTTP = "http", _("通用 HTTP 接口")
        MANUAL = "manual", _("手工录单（无接口）")

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    services = models.JSONField(
        _("服务"),
        default=list,
        help_text=_("快递、邮政、冷链、同城配送、送村服务站中的一项或几项。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    adapter = models.CharField(
        _("对接方式"), max_length=16, choices=Adapter.choices, default=Adapter.MANUAL
    )
    api_base_url = models.URLField(_("接口地址"), blank=True)
    api_key = models.CharField(_("接口账号"), max_length=64, blank=True)
    api_secret = models.CharField(
        _("签名密钥"),
        max_length=128,
        blank=True,
        help_text=_("双方用它签名请求和回调（HMAC-SHA256）。"),
    )
    timeout_seconds = models.FloatField(
        _("接口超时（秒）"), default=10, validators=[MinValueValidator(0.1)]
    )
    poll_tracking = models.BooleanField(
        _("主动查询轨迹"), default=False, help_text=_("承运商不推送轨迹时，定时向它查询。")
    )
    pickup_cutoff = models.TimeField(
        _("揽收截止时间"),
        default=time(16, 0),
        help_text=_("此时间之后交运的包裹算作次日发出；送村服务站的合并包裹在截止时交运。"),
    )
    cold_chain_surcharge = models.DecimalField(
        _("冷链附加费"), default=Decimal("0.00"), validators=[MinValueValidator(0)], **MONEY
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("承运商")
        verbose_name_plural = _("承运商")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def offers(self, service: str) -> bool:
        return service in (self.services or [])

    def service_labels(self) -> list[str]:
        labels = dict(Service.choices)
        return [str(labels[s]) for s in self.services or [] if s in labels]


class RateZone(models.Model):
    """One line of a carrier's rate card: a price for the first weight and
    for each additional step, for the destinations assigned to it."""

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="zones")
    name = models.CharField(_("区域名称"), max_length=50, help_text=_("如：同城、京津冀、全国"))
    first_weight_g = models.PositiveIntegerField(
        _("首重（克）"), default=1000, validators=[MinValueValidator(1)]
    )
    first_price = models.DecimalField(_("首重价格"), validators=[MinValueValidator(0)], **MONEY)
    additional_weight_g = models.PositiveIntegerField(
        _("续重单位（克）"), default=1000, validators=[MinValueValidator(1)]
    )
    additional_price = models.DecimalField(
        _("续重价格"), validators=[MinValueValidator(0)], **MONEY
    )
    transit_days = models.PositiveSmallIntegerField(_("时效（天）"), default=2)

    class Meta:
        verbose_name = _("运价区域")
        verbose_name_plural = _("运价区域")
        ordering = ["carrier", "first_price", "pk"]

    def __str__(self) -> str:
        return f"{self.carrier} · {self.name}"


class ServiceArea(models.Model):
    """A region a carrier serves (a province, city or county), priced by
    one of its zones. The most specific area containing a destination wins."""

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="areas")
    zone = models.ForeignKey(RateZone, on_delete=models.CASCADE, related_name="areas")
    division = models.ForeignKey(
        "divisions.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("地区")
    )

    class Meta:
        verbose_name = _("服务地区")
        verbose_name_plural = _("服务地区")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "division"], name="logistics_area_once_per_carrier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier} · {self.division_id}"


class Shipment(models.Model):
    """One parcel (or one consolidated load) from one cooperative to one
    destination with one carrier."""

    class Status(models.TextChoices):
        COLLECTING = "collecting", _("合并中")
        PENDING = "pending", _("待交运")
        AWAITING_TRACKING = "awaiting_tracking", _("待填运单号")
        HANDED_OFF = "handed_off", _("已交运")
        CANCELLED = "cancelled", _("已取消")

    order = models.ForeignKey(
        "order.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
        help_text=_("合并发往服务站的包裹可包含多个订单，此处为空。"),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
    )
    partner = models.ForeignKey("partner.Partner", on_delete=models.PROTECT, related_name="+")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="shipments")
    service = models.CharField(_("服务"), max_length=20, choices=Service.choices)
    temperature = models.CharField(
        _("温层"), max_length=16, choices=StorageClass.choices, default=StorageClass.AMBIENT
    )
    destination = models.ForeignKey(
        "divisions.Division", on_delete=models.PROTECT, related_name="+", verbose_name=_("目的地")
    )
    recipient_name = models.CharField(_("收件人"), max_length=100)
    recipient_phone = models.CharField(_("收件电话"), max_length=32)
    recipient_address = models.CharField(_("收件地址"), max_length=400)
    ship_date = models.DateField(_("发货日"))
    zone_name = models.CharField(_("运价区域"), max_length=50, blank=True)
    weight_g = models.PositiveIntegerField(_("计费重量（克）"))
    weight_estimated = models.BooleanField(
        _("重量为估算"), default=False, help_text=_("有商品没有填写重量，按默认重量计。")
    )
    cost = models.DecimalField(_("运费成本"), **MONEY)
    charge = models.DecimalField(_("向买家收取"), default=Decimal("0.00"), **MONEY)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tracking_number = models.CharField(_("运单号"), max_length=64, blank=True)
    tracking_status = models.CharField(
        _("物流状态"), max_length=20, choices=TrackingStatus.choices, blank=True
    )
    tracking_status_at = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(_("需人工处理"), default=False)
    last_error = models.TextField(_("最近错误"), blank=True)
    carrier_overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("发货单")
        verbose_name_plural = _("发货单")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open consolidated shipment per cooperative, station, day
            # and temperature class.
            models.UniqueConstraint(
                fields=["partner", "station", "ship_date", "temperature"],
                condition=models.Q(status="collecting"),
                name="logistics_one_open_consolidation",
            ),
        ]
        indexes = [
            models.Index(fields=["carrier", "tracking_number"]),
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["status", "needs_attention"]),
        ]

    def __str__(self) -> str:
        return self.tracking_number or f"#{self.pk}"

    @property
    def is_consolidated(self) -> bool:
        return self.station_id is not None

    @property
    def is_open(self) -> bool:
        """Not yet at the carrier: its carrier may still be changed."""
        return self.status in (self.Status.COLLECTING, self.Status.PENDING)

    @property
    def status_text(self) -> str:
        """Where the parcel is, in words: the carrier's last word once there
        is one, else our status (always ours once cancelled)."""
        if self.tracking_status and self.status != self.Status.CANCELLED:
            return self.get_tracking_status_display()
        return self.get_status_display()


class ShipmentItem(models.Model):
    """An order line travelling in a shipment."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items")
    line = models.OneToOneField(
        "order.Line", on_delete=models.PROTECT, related_name="shipment_item"
    )
    weight_g = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("发货明细")
        verbose_name_plural = _("发货明细")
        ordering = ["pk"]


class OutboxMessage(models.Model):
    """Work for a carrier, written in the transaction that makes it necessary
    and done by a Celery task after commit. Rows not done are re-queued by
    the periodic sweep; a row whose retries ran out waits for staff."""

    class Kind(models.TextChoices):
        CREATE = "create", _("交运")
        CANCEL = "cancel", _("取消")

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ["pk"]
        indexes = [models.Index(fields=["done_at", "failed_at", "enqueued_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.shipment_id}"


class TrackingEvent(models.Model):
    """One thing a carrier said about a parcel. Kept once (by the carrier's
    event id) and shown in the order it happened. An event for a tracking
    number we do not know yet (it can arrive before the hand-off that
    learned the number commits) is kept without a shipment and attached
    when the number turns up."""

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("推送")
        POLL = "poll", _("查询")
        STAFF = "staff", _("人工")

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="+")
    tracking_number = models.CharField(_("运单号"), max_length=64)
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    event_id = models.CharField(max_length=100)
    status = models.CharField(_("状态"), max_length=20, choices=TrackingStatus.choices)
    occurred_at = models.DateTimeField(_("时间"))
    location = models.CharField(_("地点"), max_length=100, blank=True)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("物流轨迹")
        verbose_name_plural = _("物流轨迹")
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "event_id"], name="logistics_event_once")
        ]
        indexes = [models.Index(fields=["carrier", "tracking_number"])]

    def __str__(self) -> str:
        return f"{self.tracking_number} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"


class WebhookNonce(models.Model):
    """A signed webhook request already accepted: the same request again is
    a replay and is refused."""

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["carrier", "nonce"], name="logistics_nonce_once")
        ]


class ShipmentLog(models.Model):
    """What happened to a shipment on our side: hand-off attempts and
    errors, carrier overrides, tracking numbers typed, cancellations."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="log")
    message = models.CharField(max_length=500)
    is_error = models.BooleanField(default=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
