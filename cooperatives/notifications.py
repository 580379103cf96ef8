"""Telling a cooperative about new orders and low stock, by e-mail and SMS.

- **New order**: when an order containing a cooperative's lines is placed,
  each member of that cooperative gets an e-mail listing only the
  cooperative's own lines, and the cooperative's contact phone gets an SMS.
  Oscar's ``order_placed`` fires inside the placement transaction; the
  notice is queued only once that has committed.
- **Low stock**: when a stock record's available level (in stock minus
  allocated) falls to or below its ``low_stock_threshold``, the same
  people hear about it once, on the crossing (not on every later sale).

Each message is its own Celery task that retries with back-off
(``autoretry_for``), so a mail server or SMS gateway that is down delays the
message instead of losing it; a failure is logged and never reaches the
buyer's checkout. SMS goes through ``config.sms.send_sms`` (settings.
SMS_BACKEND, console by default). No buyer details are sent: the member
opens the portal for those.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.contrib.sites.models import Site
from django.db.models.signals import post_save, pre_save
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from oscar.apps.order.signals import order_placed
from oscar.core.loading import get_model

from config import messaging
from config.messaging import enqueue as _enqueue
from config.messaging import send_email_task, send_sms_task
from cooperatives.models import Cooperative

logger = logging.getLogger("wangnong.cooperatives.notifications")

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")


def _after_commit(task, *args) -> None:
    messaging.after_commit(task, *args)


# --- Recipients and messages ----------------------------------------------------


def member_emails(cooperative: Cooperative) -> list[str]:
    """E-mail addresses of the cooperative's active members, each once."""
    emails = cooperative.memberships.filter(user__is_active=True).values_list(
        "user__email", flat=True
    )
    result, seen = [], set()
    for email in emails:
        key = (email or "").strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append(email.strip())
    return result


def _portal_url(name: str) -> str:
    domain = Site.objects.get_current().domain
    return f"{settings.OSCAR_URL_SCHEMA}://{domain}{reverse(name)}"


def _notify(cooperative: Cooperative, subject: str, body: str, text: str) -> None:
    for email in member_emails(cooperative):
        _enqueue(send_email_task, email, subject, body)
    phone = (cooperative.contact_phone or "").strip()
    if phone:
        _enqueue(send_sms_task, phone, text)


def new_order_messages(cooperative: Cooperative, order, lines) -> tuple[str, str, str]:
    """(subject, e-mail body, SMS text) about ``order``'s ``lines`` for the
    cooperative; nothing about the buyer."""
    items = sum(line.quantity for line in lines)
    subject = _("【网农】新订单 %(number)s") % {"number": order.number}
    listing = "\n".join(
        _("· %(title)s × %(quantity)s") % {"title": line.title, "quantity": line.quantity}
        for line in lines
    )
    body = _(
        "%(coop)s：\n\n"
        "你们有一笔新订单（订单号 %(number)s），共 %(items)s 件：\n\n"
        "%(listing)s\n\n"
        "请登录合作社后台接单并打包：\n%(url)s\n\n"
        "——网农"
    ) % {
        "coop": cooperative,
        "number": order.number,
        "items": items,
        "listing": listing,
        "url": _portal_url("coop:orders"),
    }
    text = _("【网农】%(coop)s有新订单 %(number)s，共 %(items)s 件商品，请登录合作社后台接单。") % {
        "coop": cooperative,
        "number": order.number,
        "items": items,
    }
    return subject, body, text


def low_stock_messages(cooperative: Cooperative, stockrecord) -> tuple[str, str, str]:
    title = stockrecord.product.get_title()
    values = {
        "coop": cooperative,
        "title": title,
        "sku": stockrecord.partner_sku,
        "level": stockrecord.net_stock_level,
        "threshold": stockrecord.low_stock_threshold,
    }
    subject = _("【网农】库存不足：%(title)s") % values
    body = _(
        "%(coop)s：\n\n"
        "“%(title)s”（货号 %(sku)s）的可售库存只剩 %(level)s，"
        "已到提醒值 %(threshold)s。请及时补货或调整库存：\n%(url)s\n\n"
        "——网农"
    ) % {**values, "url": _portal_url("coop:home")}
    text = (
        _(
            "【网农】库存提醒：%(title)s 可售库存只剩 %(level)s（提醒值 %(threshold)s），请及时补货。"
        )
        % values
    )
    return subject, body, text


# --- Fan-out tasks (read the database, queue one task per message) -------------


@shared_task(name="cooperatives.notifications.notify_new_order")
def notify_new_order(order_id: int) -> None:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    by_coop: dict[int, list] = defaultdict(list)
    coops: dict[int, Cooperative] = {}
    lines = order.lines.filter(partner__cooperative__isnull=False).select_related(
        "partner__cooperative"
    )
    for line in lines.order_by("pk"):
        coop = line.partner.cooperative
        coops[coop.pk] = coop
        by_coop[coop.pk].append(line)
    with translation.override(settings.LANGUAGE_CODE):
        for coop_id, coop_lines in by_coop.items():
            coop = coops[coop_id]
            _notify(coop, *new_order_messages(coop, order, coop_lines))


@shared_task(name="cooperatives.notifications.notify_low_stock")
def notify_low_stock(stockrecord_id: int) -> None:
    record = (
        StockRecord.objects.select_related("partner__cooperative", "product__parent")
        .filter(pk=stockrecord_id, partner__cooperative__isnull=False)
        .first()
    )
    if record is None:
        return
    coop = record.partner.cooperative
    with translation.override(settings.LANGUAGE_CODE):
        _notify(coop, *low_stock_messages(coop, record))


# --- Signal receivers -------------------------------------------------------------


def on_order_placed(sender, order, **kwargs) -> None:
    """Oscar's order_placed (inside the placement transaction): notify after
    the commit, so a rolled-back order sends nothing."""
    _after_commit(notify_new_order, order.pk)


def _available(num_in_stock, num_allocated) -> int | None:
    if num_in_stock is None:
        return None
    return num_in_stock - (num_allocated or 0)


def remember_stock_level(sender, instance, raw: bool = False, **kwargs) -> None:
    """pre_save (also sent by allocate/consume/cancel): note the level before."""
    if raw or instance.pk is None or instance.low_stock_threshold is None:
        return
    row = (
        StockRecord.objects.filter(pk=instance.pk)
        .values_list("num_in_stock", "num_allocated")
        .first()
    )
    instance._available_before = _available(*row) if row else None


def check_low_stock(sender, instance, created: bool = False, raw: bool = False, **kwargs) -> None:
    """post_save: notify when the level has just crossed to/below the threshold."""
    before = instance.__dict__.pop("_available_before", None)
    threshold = instance.low_stock_threshold
    if created or raw or before is None or threshold is None:
        return
    after = _available(instance.num_in_stock, instance.num_allocated)
    if after is not None and before > threshold >= after:
        _after_commit(notify_low_stock, instance.pk)


def connect() -> None:
    order_placed.connect(on_order_placed, dispatch_uid="cooperatives_new_order_notice")
    pre_save.connect(
        remember_stock_level, sender=StockRecord, dispatch_uid="cooperatives_stock_before"
    )
    post_save.connect(check_low_stock, sender=StockRecord, dispatch_uid="cooperatives_low_stock")
