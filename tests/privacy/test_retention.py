"""The retention task anonymises the delivery details of orders completed
more than WANGNONG_DELIVERY_RETENTION_DAYS ago, and only those; running it
again changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone
from oscar.core.loading import get_model

from logistics.models import Shipment
from privacy import retention
from privacy.erasure import ANONYMOUS_NAME
from privacy.models import AnonymisedDelivery
from privacy.tasks import anonymise_old_deliveries
from tests.payment import builders as payment_builders
from tests.privacy.conftest import DETAIL, NAME, PHONE_DIGITS, place

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
OrderStatusChange = get_model("order", "OrderStatusChange")


def age(order, days: int) -> None:
    """Back-date the order and its status changes by ``days``."""
    then = timezone.now() - dt.timedelta(days=days)
    Order.objects.filter(pk=order.pk).update(date_placed=then)
    OrderStatusChange.objects.filter(order=order).update(date_created=then)


def test_setting_and_beat_entry():
    assert settings.WANGNONG_DELIVERY_RETENTION_DAYS == 180
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-anonymise-old-deliveries"]
    assert entry["task"] == "privacy.anonymise_old_deliveries"
    assert entry["schedule"] <= 1800
    assert "privacy.tasks" in settings.CELERY_IMPORTS


def test_only_old_completed_orders(shop, buyer):
    old = place([(shop["radish"], 1)], buyer)
    payment_builders.deliver(old.lines.all())
    recent = place([(shop["radish"], 1)], buyer)
    payment_builders.deliver(recent.lines.all())
    old_pending = place([(shop["radish"], 1)], buyer)
    age(old, 181)
    age(recent, 10)
    age(old_pending, 400)  # never completed: still needed

    assert anonymise_old_deliveries() == 1
    for order in (old, recent, old_pending):
        order.shipping_address.refresh_from_db()
    gone = old.shipping_address
    assert gone.last_name == ANONYMOUS_NAME
    assert str(gone.phone_number or "") == "" and gone.line1 == "" and gone.notes == ""
    assert gone.division_id == "120111102203" and gone.line2 == "辛口镇"
    shipment = Shipment.objects.get(order=old)
    assert shipment.recipient_name == ANONYMOUS_NAME and shipment.recipient_phone == ""
    assert NAME not in shipment.recipient_address and DETAIL not in shipment.recipient_address
    for kept in (recent, old_pending):
        assert kept.shipping_address.last_name == NAME
        assert PHONE_DIGITS in str(kept.shipping_address.phone_number)
        assert Shipment.objects.get(order=kept).recipient_name == NAME

    # Idempotent: nothing left to do, nothing changes.
    before = list(Shipment.objects.order_by("pk").values())
    assert anonymise_old_deliveries() == 0
    assert list(Shipment.objects.order_by("pk").values()) == before
    assert AnonymisedDelivery.objects.count() == 1


def test_batches(shop, buyer):
    orders = []
    for _ in range(3):
        order = place([(shop["radish"], 1)], buyer)
        payment_builders.deliver(order.lines.all())
        age(order, 200)
        orders.append(order)
    assert retention.anonymise_old_deliveries(batch_size=2) == 3
    assert AnonymisedDelivery.objects.count() == 3
    assert retention.due_orders() == []
