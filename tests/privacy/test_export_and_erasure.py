"""Issue 8's "Done means" for personal information: a user with orders (cash
on delivery and Stripe-paid), a refund, a complaint and an address book
exports everything; deletion is refused while an order is in flight;
after delivery, deletion leaves no trace of their name, phone, e-mail or
address anywhere in the database, and order and ledger totals are exactly
what they were."""

from __future__ import annotations

import json
import uuid

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.models import Sum
from oscar.core.loading import get_model

from cooperatives import complaints
from cooperatives.models import Complaint, ComplaintPhoto
from privacy import erasure, export
from privacy.models import DeletionRecord
from shop.payment import ledger, refunds
from shop.payment.models import Posting, StripePayment
from tests.cooperatives.photos import small_jpeg
from tests.payment import builders as payment_builders
from tests.privacy.conftest import EMAIL, NAME, PERSONAL, place

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
Line = get_model("order", "Line")
User = get_model("auth", "User")


@pytest.fixture
def staff(db):
    return User.objects.create_user("arbiter", "arbiter@example.com", "pw", is_staff=True)


@pytest.fixture
def history(shop, buyer, staff, stripe_sim):
    """Two orders: COD (radish, partly refunded, with a resolved complaint
    with a photo) and card via Stripe (crab, still on its way)."""
    cod = place([(shop["radish"], 2)], buyer)
    card = place([(shop["crab"], 1)], buyer, source="stripe")
    payment = payment_builders.pay_at_stripe(card)
    payment.user = buyer
    payment.checkout = {
        "guest_email": EMAIL,
        "shipping_address": {"last_name": NAME, "phone_number": "+8613911112222"},
    }
    payment.save()
    payment_builders.deliver(cod.lines.all())
    line = cod.lines.get()
    refunds.refund(
        cod,
        lines={line.pk: 500},
        reason="萝卜有破损",
        by=staff,
        token=uuid.uuid4(),
    )
    complaint = complaints.open_complaint(
        buyer,
        line,
        kind=Complaint.Kind.DAMAGED,
        description=f"我是{NAME}，电话 13911112222，箱子压坏了",
        photos=[small_jpeg("a.jpg")],
    )
    complaints.staff_reject(complaint, by=staff, reason="照片显示包装完好")
    return {"cod": cod, "card": card, "complaint": complaint, "payment": payment}


def ledger_totals() -> dict[str, int]:
    return dict(
        Posting.objects.values_list("account__code")
        .annotate(total=Sum("amount"))
        .values_list("account__code", "total")
    )


def order_totals(user) -> list[tuple]:
    return list(
        Order.objects.filter(user=user)
        .order_by("pk")
        .values_list("number", "total_incl_tax", "shipping_incl_tax", "status")
    ) + list(
        Line.objects.filter(order__user=user)
        .order_by("pk")
        .values_list("pk", "line_price_incl_tax", "quantity", "status")
    )


def rows_containing(text: str) -> list[str]:
    """Every table.column in the database holding ``text`` (text and JSON
    columns of every model)."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            table = model._meta.db_table
            for field in model._meta.local_concrete_fields:
                if not isinstance(field, models.CharField | models.TextField | models.JSONField):
                    continue
                column = connection.ops.quote_name(field.column)
                cursor.execute(
                    f"SELECT 1 FROM {connection.ops.quote_name(table)} "  # noqa: S608
                    f"WHERE CAST({column} AS TEXT) LIKE %s LIMIT 1",
                    ["%" + text + "%"],
                )
                if cursor.fetchone():
                    found.append(f"{table}.{field.column}")
    return found


def test_export_deletion_and_totals(history, buyer, shop):
    cod, card = history["cod"], history["card"]

    # The export holds everything.
    data = export.collect(buyer)
    assert data["profile"]["email"] == EMAIL
    assert [a["line1"] for a in data["addresses"]] == ["和平里 12 栋"]
    assert [o["number"] for o in data["orders"]] == [cod.number, card.number]
    exported_cod = data["orders"][0]
    assert exported_cod["shipping_address"]["last_name"] == NAME
    assert exported_cod["lines"][0]["title"] == "沙窝萝卜"
    assert exported_cod["payments"][0]["amount_allocated"] == str(cod.total_incl_tax)
    assert exported_cod["refunds"][0]["amount"] == 500
    assert exported_cod["shipments"][0]["recipient_name"] == NAME
    assert data["orders"][1]["payments"][0]["reference"].startswith("pi_")
    assert [p["order_number"] for p in data["online_payments"]] == [card.number]
    assert data["complaints"][0]["order"] == cod.number
    assert len(data["complaints"][0]["photos"]) == 1
    assert [e["action"] for e in data["complaints"][0]["events"]] == ["opened", "rejected"]
    json.dumps(data)  # JSON-safe

    # Refused while the card order is on its way: nothing changes.
    with pytest.raises(erasure.ErasureRefused) as refused:
        erasure.erase(buyer)
    assert str(refused.value) == (
        f"您有尚未完成的订单（{card.number}），请在收货完成后再申请删除。"
    )
    buyer.refresh_from_db()
    assert buyer.email == EMAIL and buyer.is_active
    assert rows_containing("和平里 12 栋")
    assert not DeletionRecord.objects.exists()

    payment_builders.deliver(card.lines.all())
    ledger_before, orders_before = ledger_totals(), order_totals(buyer)
    record = erasure.erase(buyer)

    # Not a trace of the person, in any text column of any table.
    leftovers = {text: rows_containing(text) for text in PERSONAL}
    assert leftovers == {text: [] for text in PERSONAL}
    buyer.refresh_from_db()
    assert buyer.username.startswith("deleted-") and not buyer.is_active
    assert not buyer.has_usable_password() and buyer.email == ""
    assert not ComplaintPhoto.objects.exists()
    # Money and orders as they were.
    assert ledger_totals() == ledger_before
    assert order_totals(buyer) == orders_before
    assert ledger.trial_balance() == 0
    # What statistics need stays: the division of the delivery.
    cod.shipping_address.refresh_from_db()
    assert cod.shipping_address.division_id == "120111102203"
    assert cod.shipping_address.line3 == "西青区"
    assert cod.shipping_address.last_name == erasure.ANONYMOUS_NAME
    assert StripePayment.objects.get(pk=history["payment"].pk).order_id == card.pk
    assert record.user_hash == erasure.user_hash(buyer.pk)
    assert str(buyer.pk) not in json.dumps(record.counts)
    assert record.counts["addresses"] == 1 and record.counts["complaint_photos"] == 1


def test_photo_files_removed_after_commit(history, buyer, django_capture_on_commit_callbacks):
    payment_builders.deliver(history["card"].lines.all())
    photo = ComplaintPhoto.objects.get()
    storage, name = photo.image.storage, photo.image.name
    with django_capture_on_commit_callbacks(execute=True):
        erasure.erase(buyer)
    assert not storage.exists(name)


def test_open_complaint_and_waiting_stripe_payment_block(shop, buyer, stripe_sim):
    cod = place([(shop["radish"], 1)], buyer)
    payment_builders.deliver(cod.lines.all())
    c = complaints.open_complaint(
        buyer, cod.lines.get(), kind=Complaint.Kind.QUALITY, description="不新鲜"
    )
    found = erasure.blockers(buyer)
    assert found.orders == [cod.number]
    assert c.order.number in found.message()


def test_work_accounts_are_refused(shop, staff):
    found = erasure.blockers(staff)
    assert found.work_account
    with pytest.raises(erasure.ErasureRefused) as refused:
        erasure.erase(staff)
    assert "联系平台注销" in str(refused.value)
