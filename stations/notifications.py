"""Messages about station parcels: the resident hears that a parcel has
arrived (SMS with the pickup code and the station's phone), platform staff
hear that a parcel locked after too many wrong pickup codes (e-mail).
Queued after the caller's transaction commits, retried by config.messaging."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from config import messaging


def parcel_arrived_text(station_order) -> str:
    station = station_order.station
    return _(
        "【网农】%(name)s，您在%(station)s代购的订单 %(number)s 已到站，"
        "请凭取货码 %(code)s 到站领取。站点电话 %(phone)s，营业时间 %(hours)s。"
    ) % {
        "name": station_order.resident.name,
        "station": station.name,
        "number": station_order.order.number,
        "code": station_order.pickup_code,
        "phone": station.contact_phone,
        "hours": station.opening_hours or "-",
    }


def parcel_arrived(station_order) -> None:
    phone = station_order.resident.phone
    if not phone:
        return
    with translation.override(settings.LANGUAGE_CODE):
        text = parcel_arrived_text(station_order)
    messaging.sms_later(phone, text)


def alert_recipients() -> list[str]:
    configured = [e for e in settings.WANGNONG_STATION_ALERT_EMAILS if e]
    if configured:
        return configured
    User = get_user_model()
    emails = (
        User.objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted({e.strip() for e in emails if e.strip()})


def parcel_locked(station_order, failures: int) -> None:
    station = station_order.station
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("【网农】包裹已锁定：%(station)s 订单 %(number)s") % {
            "station": station.name,
            "number": station_order.order.number,
        }
        body = _(
            "%(station)s（%(phone)s）的订单 %(number)s 取件码连续输错 %(n)s 次，"
            "包裹已锁定。请与站点联系核实居民身份，确认后在管理后台“服务站 → 锁定的包裹”解锁。"
        ) % {
            "station": station.name,
            "phone": station.contact_phone,
            "number": station_order.order.number,
            "n": failures,
        }
    for email in alert_recipients():
        messaging.email_later(email, subject, body)
