"""The ledger entries written where money events happen: a cash-on-delivery
checkout and the courier collecting the cash (station orders:
tests/stations/test_ledger_entries.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from cooperatives import fulfilment
from shop.payment import accounting, ledger
from shop.payment.ledger import LedgerError
from shop.payment.models import CommissionRule, JournalEntry, Posting
from tests import factories
from tests.logistics.builders import CRAB_COOP, RADISH_COOP, goods

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")


def balance(code: str) -> int:
    return ledger.balance(ledger.LedgerAccount.objects.get(code=code))


@pytest.fixture
def shop(china, carriers):
    radish = goods("沙窝萝卜", factories.partner(RADISH_COOP), weight_g=2500, stock=10)
    crab = goods(
        "七里海河蟹", factories.partner(CRAB_COOP), weight_g=1500, storage="chilled", price="88.00"
    )
    return {"radish": radish, "crab": crab}


def cod_order(client, shop):
    factories.guest_checkout_to_preview(client, [(shop["radish"], 2), (shop["crab"], 1)])
    response = factories.place_order(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.get()


def test_cod_checkout_posts_the_sale_with_commission_and_shipping(client, shop):
    radish_coop = shop["radish"].stockrecords.get().partner
    CommissionRule.objects.create(partner=radish_coop, rate=Decimal("10"))
    order = cod_order(client, shop)

    [entry] = JournalEntry.objects.filter(kind="sale")
    assert entry.reference == order.number
    assert sum(p.amount for p in entry.postings.all()) == 0
    # ¥40 radish (10%), ¥88 crab (default 5%), ¥53 shipping: ¥181 receivable.
    assert balance("receivable:cod") == 18100
    assert balance(f"coop-pending:{radish_coop.pk}") == -(4000 - 400)
    crab_coop = shop["crab"].stockrecords.get().partner
    assert balance(f"coop-pending:{crab_coop.pk}") == -(8800 - 440)
    assert balance("platform:commission") == -(400 + 440)
    assert balance("platform:shipping") == -5300
    # Every cooperative posting names its order line.
    for p in Posting.objects.filter(account__code__startswith="coop-pending:"):
        assert p.line is not None and p.line.order_id == order.pk and p.order_id == order.pk
    assert ledger.trial_balance() == 0


def test_cod_cash_is_collected_when_the_order_is_delivered(client, shop):
    order = cod_order(client, shop)
    lines = list(order.lines.all())
    fulfilment.carrier_picked_up(lines)
    assert not JournalEntry.objects.filter(kind="cod-collected").exists()
    fulfilment.carrier_delivered(lines[:1])
    assert not JournalEntry.objects.filter(kind="cod-collected").exists()
    fulfilment.carrier_delivered(lines)
    order.refresh_from_db()
    assert order.status == "delivered"
    assert balance("receivable:cod") == 0
    assert balance("cash:in-transit") == 18100
    source = order.sources.get()
    assert source.amount_debited == order.total_incl_tax
    # Delivered again (a duplicate event): nothing more.
    fulfilment.carrier_delivered(lines)
    assert JournalEntry.objects.filter(kind="cod-collected").count() == 1
    assert ledger.trial_balance() == 0


def test_a_sale_that_does_not_add_up_is_refused(client, shop):
    order = cod_order(client, shop)
    Order.objects.filter(pk=order.pk).update(total_incl_tax=order.total_incl_tax + Decimal("0.01"))
    order.refresh_from_db()
    # Under another number, so the idempotency key does not return the first entry.
    order.number = f"{order.number}-again"
    with pytest.raises(LedgerError, match="!= total"):
        accounting.record_sale(order)
    assert JournalEntry.objects.filter(kind="sale").count() == 1
