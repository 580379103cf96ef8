"""How the dashboard shows stations' places and audit-event details."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from divisions.services import get_name, path_names
from stations.models import Resident


@dataclass(frozen=True)
class Place:
    district: str
    town: str
    village: str

    def __str__(self) -> str:
        return " ".join(p for p in (self.district, self.town, self.village) if p)


def place(village_code: str) -> Place:
    """District, town and village names of a Tianjin village code (cached
    look-ups: a page of stations asks for a few dozen)."""
    names = path_names(village_code) if village_code else []
    # path_names drops the municipality's 市辖区: 天津市, district, town, village.
    rest = names[1:] + ["", "", ""]
    return Place(district=rest[0], town=rest[1], village=rest[2])


DETAIL_LABELS = {
    "number": _("订单号"),
    "total": _("金额"),
    "due": _("应收"),
    "received": _("实收"),
    "change": _("找零"),
    "amount": _("金额"),
    "delivery": _("收货方式"),
    "items": _("件数"),
    "reason": _("原因"),
    "note": _("说明"),
    "parcels": _("包裹"),
    "senders": _("发货合作社"),
    "attempt": _("第几次输错"),
    "failures": _("连续输错次数"),
    "channel": _("通知方式"),
    "fields": _("修改的项目"),
    "village": _("所在村"),
    "has_phone": _("有手机号"),
}
MONEY_KEYS = {"total", "due", "received", "change", "amount"}
CHANNELS = {"sms": _("短信")}
RESIDENT_FIELDS = {
    "name": _("姓名"),
    "phone": _("手机号"),
    "village": _("所在村"),
    "address_detail": _("门牌地址"),
    "delivery_preference": _("收货方式"),
}


def _value(key: str, value):
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if key in MONEY_KEYS:
        return f"¥{value}"
    if key == "delivery" and value in Resident.Delivery.values:
        return Resident.Delivery(value).label
    if key == "village" and value:
        return get_name(str(value)) or value
    if key == "channel":
        return CHANNELS.get(value, value)
    if key == "fields" and isinstance(value, list):
        return "、".join(str(RESIDENT_FIELDS.get(v, v)) for v in value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value


def describe(detail: dict) -> list[tuple[str, object]]:
    """An audit event's detail as (label, value) pairs in a readable form;
    the order number is shown in its own column, so it is left out."""
    return [
        (DETAIL_LABELS.get(key, key), _value(key, value))
        for key, value in (detail or {}).items()
        if key != "number"
    ]
