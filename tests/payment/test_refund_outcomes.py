"""How a Stripe refund ends, reported later by its webhook: a refund that
fails at the buyer's wallet is marked failed, its ledger entry reversed
and the amount refundable again."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from shop.payment import ledger, refunds
from shop.payment.models import JournalEntry, Refund
from tests.payment.refund_orders import cooperatives, owed_to, produce, stripe_order
from tests.payment.stripe_checkout import deliver

pytestmark = pytest.mark.django_db

OrderNote = get_model("order", "OrderNote")


@pytest.fixture
def shop(china, carriers):
    radish_coop, _crab_coop = cooperatives()
    goods = produce(radish_coop, _crab_coop)
    return {**goods, "radish_coop": radish_coop}


def refund_event(sim, refund: Refund, status: str, kind: str, **extra) -> dict:
    obj = dict(sim.refund(refund.stripe_refund_id), status=status, **extra)
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_795_000_000,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def test_a_failed_refund_is_reversed_and_refundable_again(client, shop, stripe_sim):
    staff = get_user_model().objects.create_user("fin", "fin@example.com", "x", is_staff=True)
    order = stripe_order([(shop["radish"], 2)])
    line = order.lines.get()
    owed = owed_to(shop["radish_coop"].partner)
    done = refunds.refund(
        order, lines={line.pk: 2000}, by=staff, reason="质量问题", token=uuid.uuid4()
    )
    assert done.status == Refund.Status.SUCCEEDED
    assert owed_to(shop["radish_coop"].partner) < owed

    event = refund_event(
        stripe_sim, done, "failed", "refund.failed", failure_reason="expired_or_canceled_card"
    )
    response = deliver(client, stripe_sim, event)
    assert response.status_code == 200 and response.json()["result"] == "refund failed"
    done.refresh_from_db()
    assert done.status == Refund.Status.FAILED
    assert done.error == "expired_or_canceled_card"
    # The money never left: the ledger is as before the refund.
    assert JournalEntry.objects.filter(kind="refund-reversal", reference=order.number).count() == 1
    assert owed_to(shop["radish_coop"].partner) == owed
    assert ledger.balance(ledger.account("provider:stripe")) == ledger.to_fen(order.total_incl_tax)
    assert order.sources.get().amount_refunded == Decimal("0.00")
    assert refunds.refundable(order).lines[line.pk] == 4000
    assert OrderNote.objects.filter(order=order, message__contains="未能退回买家").exists()
    # Told again (a later refund.updated): nothing more.
    again = refund_event(stripe_sim, done, "failed", "refund.updated")
    assert deliver(client, stripe_sim, again).json()["result"] == "refund failed"
    assert JournalEntry.objects.filter(kind="refund-reversal").count() == 1
    assert ledger.trial_balance() == 0


def test_a_pending_refund_that_succeeds_is_marked_so(client, shop, stripe_sim):
    staff = get_user_model().objects.create_user("fin", "fin@example.com", "x", is_staff=True)
    order = stripe_order([(shop["radish"], 1)])
    line = order.lines.get()
    done = refunds.refund(order, lines={line.pk: 500}, by=staff, reason="少了", token=uuid.uuid4())
    Refund.objects.filter(pk=done.pk).update(status=Refund.Status.PENDING, completed_at=None)
    event = refund_event(stripe_sim, done, "succeeded", "refund.updated")
    assert deliver(client, stripe_sim, event).json()["result"] == "refund succeeded"
    done.refresh_from_db()
    assert done.status == Refund.Status.SUCCEEDED and done.completed_at is not None
    assert not JournalEntry.objects.filter(kind="refund-reversal").exists()
    assert ledger.trial_balance() == 0
