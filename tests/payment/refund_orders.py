"""Orders to refund, paid each way, built through the production code:
Oscar's OrderCreator priced by the carrier delivery method (as in
tests/logistics/builders.py), the payment source and the sale's ledger
entry as the checkout writes them. A Stripe-paid order has a real
PaymentIntent, paid at the local Stripe simulator (``stripe_sim``), a
``stripe-card`` payment source whose reference is the PaymentIntent id and
a StripePayment row, as the Stripe checkout leaves them."""

from __future__ import annotations

from oscar.core.loading import get_model

from cooperatives.models import Cooperative
from logistics import shipments as logistics_shipments
from shop.payment import accounting, ledger
from shop.payment.cash import cod_source
from shop.payment.models import Posting
from tests.cooperatives.conftest import make_cooperative
from tests.logistics import builders
from tests.payment import builders as payment_builders

SourceType = get_model("payment", "SourceType")
Source = get_model("payment", "Source")

RADISH_COOP = builders.RADISH_COOP
CRAB_COOP = builders.CRAB_COOP


def cooperatives() -> tuple[Cooperative, Cooperative]:
    radish = make_cooperative(RADISH_COOP, credit_prefix="93120111MA05L1234")
    crab = make_cooperative(CRAB_COOP, credit_prefix="93120117MA06K5678", division_code="120117")
    return radish, crab


def produce(radish_coop: Cooperative, crab_coop: Cooperative) -> dict:
    """沙窝萝卜 ¥20 (2.5 kg) and 七里海河蟹 ¥88 (chilled, 1.5 kg)."""
    return {
        "radish": builders.goods("沙窝萝卜", radish_coop.partner, weight_g=2500, stock=10),
        "crab": builders.goods(
            "七里海河蟹", crab_coop.partner, weight_g=1500, storage="chilled", price="88.00"
        ),
    }


def _place(items, user=None, ship: bool = True):
    order = builders.place(items, user=user)
    if ship:
        logistics_shipments.create_for_order(order)
    return order


def cod_order(items, *, user=None, ship: bool = True):
    """Cash on delivery, nothing collected yet."""
    order = _place(items, user, ship)
    source = cod_source(order.total_incl_tax, order.currency)
    source.order = order
    source.save()
    accounting.record_sale(order)
    return order


def stripe_order(items, *, user=None, ship: bool = True):
    """Paid by card at the simulator (needs the ``stripe_sim`` fixture)."""
    order = _place(items, user, ship)
    Source.objects.create(
        order=order,
        source_type=payment_builders.source_type("stripe-card"),
        currency=order.currency,
        amount_allocated=order.total_incl_tax,
    )
    payment_builders.pay_at_stripe(order)
    accounting.record_sale(order)
    return order


def balance(code: str) -> int:
    """An account's balance in fen (0 for an account never used)."""
    account = ledger.LedgerAccount.objects.filter(code=code).first()
    return ledger.balance(account) if account else 0


def owed_to(partner) -> int:
    """What the platform owes the cooperative, not yet on a statement (fen)."""
    return -balance(f"coop-pending:{partner.pk}")


def order_balance(code: str, order) -> int:
    return sum(
        Posting.objects.filter(account__code=code, order=order).values_list("amount", flat=True)
    )
