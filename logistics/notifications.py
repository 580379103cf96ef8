"""Telling platform staff about shipments that need a person."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from config.messaging import enqueue, send_email_task
from logistics.models import Shipment


def handoff_failed(shipment_id: int) -> None:
    shipment = Shipment.objects.select_related("carrier", "partner").filter(pk=shipment_id).first()
    if shipment is None:
        return
    subject = _("发货单 #%(id)s 无法交给%(carrier)s") % {
        "id": shipment.pk,
        "carrier": shipment.carrier.name,
    }
    body = _(
        "发货单 #%(id)s（%(coop)s）多次交运失败，已停止自动重试。\n最近错误：%(error)s\n"
        "请在管理后台“物流 → 发货单”中处理：更换承运商、重新交运或取消。"
    ) % {"id": shipment.pk, "coop": shipment.partner.name, "error": shipment.last_error}
    for address in settings.WANGNONG_LOGISTICS_ALERT_EMAILS:
        enqueue(send_email_task, address, subject, body)
