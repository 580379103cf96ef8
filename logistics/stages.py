"""Where a shipment is, in the words people filter and read by.

A shipment has our side's status (collecting … handed off, cancelled) and
the carrier's tracking status. Cooperatives filter their shipments by
stage (待交运, 在途, 已签收, 需处理); buyers read one plain label per
shipment (they do not need to know that a manual carrier waits for a
tracking number).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from logistics.models import Shipment
from logistics.vocabulary import FINAL_TRACKING, TrackingStatus

Status = Shipment.Status


class Stage(models.TextChoices):
    TO_HAND_OFF = "to_hand_off", gettext_lazy("待交运")
    ON_THE_WAY = "on_the_way", gettext_lazy("在途")
    DELIVERED = "delivered", gettext_lazy("已签收")
    ATTENTION = "attention", gettext_lazy("需处理")


def condition(stage: str) -> Q:
    """The shipments in ``stage`` (stages may overlap: a manual carrier's
    shipment waiting for its tracking number is both 待交运 and 需处理)."""
    if stage == Stage.TO_HAND_OFF:
        return Q(status__in=[Status.COLLECTING, Status.PENDING, Status.AWAITING_TRACKING])
    if stage == Stage.ON_THE_WAY:
        return Q(status=Status.HANDED_OFF) & ~Q(tracking_status__in=list(FINAL_TRACKING))
    if stage == Stage.DELIVERED:
        return Q(tracking_status=TrackingStatus.DELIVERED)
    if stage == Stage.ATTENTION:
        return ~Q(status=Status.CANCELLED) & (
            Q(needs_attention=True)
            | Q(status=Status.AWAITING_TRACKING)
            | Q(tracking_status__in=[TrackingStatus.EXCEPTION, TrackingStatus.RETURNED])
        )
    raise ValueError(f"unknown stage {stage!r}")


def counts(queryset: QuerySet) -> dict[str, int]:
    """``{"": all, stage: n, …}`` for ``queryset`` in one query."""
    aggregates = {"all": Count("pk")}
    for stage in Stage.values:
        aggregates[stage] = Count("pk", filter=condition(stage))
    row = queryset.order_by().aggregate(**aggregates)
    return {"": row.pop("all"), **row}


def needs_attention(shipment: Shipment) -> bool:
    """The in-memory twin of ``condition(Stage.ATTENTION)``."""
    if shipment.status == Status.CANCELLED:
        return False
    return (
        shipment.needs_attention
        or shipment.status == Status.AWAITING_TRACKING
        or shipment.tracking_status in (TrackingStatus.EXCEPTION, TrackingStatus.RETURNED)
    )


def attention_reason(shipment: Shipment) -> str:
    """Why a shipment is 需处理, for the cooperative ("" if it is not)."""
    if not needs_attention(shipment):
        return ""
    if shipment.status == Status.AWAITING_TRACKING:
        return _("请打印面单交给快递员，并录入快递员给的运单号。")
    if shipment.needs_attention:
        return _("交给承运商时出错，平台工作人员正在处理。")
    if shipment.tracking_status == TrackingStatus.RETURNED:
        return _("承运商报告包裹已退回。")
    return _("承运商报告运输异常，请留意轨迹或联系承运商。")


def badge_class(shipment: Shipment) -> str:
    """A CSS modifier for the shipment's status badge."""
    if shipment.status == Status.CANCELLED:
        return "cancelled"
    if needs_attention(shipment):
        return "attention"
    if shipment.tracking_status == TrackingStatus.DELIVERED:
        return "delivered"
    if shipment.status == Status.HANDED_OFF:
        return "on-the-way"
    return "waiting"


def buyer_label(shipment: Shipment) -> str:
    """What a buyer reads about one of their parcels."""
    if shipment.status == Status.CANCELLED:
        return _("已取消")
    if shipment.tracking_status:
        return shipment.get_tracking_status_display()
    if shipment.status == Status.HANDED_OFF:
        return _("已交给承运商")
    return _("待发货")
