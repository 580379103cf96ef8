"""The ledger entries for each money event, written where the event happens.

Every function here posts one balanced JournalEntry (shop/payment/ledger.py)
in the caller's transaction, keyed so that the same event posted twice (a
webhook delivered again, a retried task) is one entry. Amounts are int fen.

============================  ==============================================
event                         entry
============================  ==============================================
order placed (any payment)    Dr the payment's account (provider:stripe,
``record_sale``               receivable:cod, cash:in-transit) the total;
                              Cr coop-pending each line (tagged), Dr it the
                              line's commission, Cr platform:commission;
                              Cr platform:shipping the shipping charge
cash on delivery collected    Dr cash:in-transit, Cr receivable:cod
station order placed          Dr platform:station-commission,
``record_station_commission`` Cr station-pending (tagged with the order)
station hands cash over       Dr bank:platform, Cr cash:in-transit
refund                        Cr where the money goes back from; Dr
``record_refund``             coop-pending each refunded line, and the
                              commission on it goes back to the cooperative
                              in proportion; Dr platform:shipping
paid but not placed           Dr provider:stripe, Cr suspense:unplaced; the
                              automatic refund reverses it
statement                     each pending posting moved to the payable
``record_settlement``         account, line by line
statement paid                Dr the payable account, Cr bank:platform
============================  ==============================================
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum
from oscar.core.loading import get_model

from shop.payment import commission, ledger
from shop.payment.ledger import LedgerError, account, to_fen
from shop.payment.models import JournalEntry, Posting, Refund, RefundLine

Source = get_model("payment", "Source")

# Where an order's money sits once it is paid, by payment source type code.
STRIPE_SOURCE_PREFIX = "stripe-"
METHOD_ACCOUNTS = {
    "cash-on-delivery": "receivable:cod",
    "station-cash": "cash:in-transit",
}
REFUND_ACCOUNTS = {
    Refund.Via.STRIPE: "provider:stripe",
    Refund.Via.CASH: "cash:in-transit",
    Refund.Via.UNCOLLECTED: "receivable:cod",
}


def payment_account_code(order) -> str:
    """The account an order's payment sits in, from its payment source."""
    codes = [s.source_type.code for s in order.sources.select_related("source_type")]
    if not codes:
        raise LedgerError(f"order {order.number} has no payment source")
    code = codes[0]
    if code.startswith(STRIPE_SOURCE_PREFIX):
        return "provider:stripe"
    try:
        return METHOD_ACCOUNTS[code]
    except KeyError:
        raise LedgerError(f"no ledger account for payment source {code!r}") from None


def _lines(order) -> list:
    return list(order.lines.select_related("product", "partner").order_by("pk"))


def record_sale(order, *, by=None) -> JournalEntry | None:
    """The order's sale: what the buyer pays, each cooperative's share of
    each line less the platform's commission, and the shipping charge."""
    total = to_fen(order.total_incl_tax)
    if total == 0:
        return None  # nothing sold for money (a free order): nothing to book
    shipping = to_fen(order.shipping_incl_tax)
    legs: list[tuple] = [(account(payment_account_code(order)), total, order)]
    goods = 0
    lines = _lines(order)
    rules = commission.rules_for({line.partner_id for line in lines})
    # Each account looked up once per sale, not once per line.
    pendings: dict[int, object] = {}
    commission_account = None
    for line in lines:
        gross = to_fen(line.line_price_incl_tax)
        if gross == 0:
            continue
        if line.partner is None:
            raise LedgerError(f"order {order.number} line {line.pk} has no cooperative")
        goods += gross
        if line.partner_id not in pendings:
            pendings[line.partner_id] = ledger.cooperative_account(line.partner, pending=True)
        pending = pendings[line.partner_id]
        legs.append((pending, -gross, order, line))
        cut = commission.commission_fen(
            gross, commission.rate_for(line.partner_id, line.product, rules)
        )
        if cut:
            if commission_account is None:
                commission_account = account("platform:commission")
            legs.append((pending, cut, order, line))
            legs.append((commission_account, -cut, order, line))
    if shipping:
        legs.append((account("platform:shipping"), -shipping, order))
    if goods + shipping != total:
        raise LedgerError(
            f"order {order.number}: lines {goods} + shipping {shipping} != total {total} fen"
        )
    return ledger.post(
        "sale",
        legs,
        reference=order.number,
        memo=f"订单 {order.number} 销售",
        idempotency_key=f"sale:{order.number}",
        by=by,
    )


def _order_balance(code: str, order) -> int:
    return (
        Posting.objects.filter(account__code=code, order=order).aggregate(s=Sum("amount"))["s"] or 0
    )


def record_cod_collected(order, *, by=None) -> JournalEntry | None:
    """Cash on delivery collected by the courier or the station: what is
    still receivable on the order becomes cash in transit, and Oscar's
    payment source records the debit."""
    due = _order_balance("receivable:cod", order)
    if due <= 0:
        return None
    entry = ledger.post(
        "cod-collected",
        [(account("cash:in-transit"), due, order), (account("receivable:cod"), -due, order)],
        reference=order.number,
        memo=f"订单 {order.number} 货到付款已收",
        idempotency_key=f"cod-collected:{order.number}",
        by=by,
    )
    for source in order.sources.filter(source_type__code="cash-on-delivery"):
        owed = source.amount_allocated - source.amount_debited - source.amount_refunded
        if owed > 0:
            source.debit(owed, reference=order.number)
    return entry


def record_station_commission(station_order, *, by=None) -> JournalEntry | None:
    """The commission the station earns on an order it placed."""
    fen = to_fen(station_order.commission)
    if fen == 0:
        return None
    order = station_order.order
    return ledger.post(
        "station-commission",
        [
            (account("platform:station-commission"), fen, order),
            (ledger.station_account(station_order.station, pending=True), -fen, order),
        ],
        reference=order.number,
        memo=f"订单 {order.number} 服务站佣金",
        idempotency_key=f"station-commission:{order.number}",
        by=by,
    )


def reverse_station_commission(station_order, *, by=None) -> JournalEntry | None:
    """A cancelled station order earns nothing: its commission entry is
    reversed (once)."""
    number = station_order.order.number
    entry = JournalEntry.objects.filter(idempotency_key=f"station-commission:{number}").first()
    if entry is None:
        return None
    return ledger.reverse(entry, memo=f"订单 {number} 取消，冲回服务站佣金", by=by)


def record_remittance(cash_entry, *, by=None) -> JournalEntry:
    """Cash a station handed over to the platform (a stations.CashEntry of
    kind remittance, whose amount is negative)."""
    fen = -to_fen(cash_entry.amount)
    return ledger.post(
        "remittance",
        [(account("bank:platform"), fen), (account("cash:in-transit"), -fen)],
        reference=f"station:{cash_entry.station_id}",
        memo=f"服务站上缴现金 {cash_entry.note}".strip(),
        idempotency_key=f"remittance:{cash_entry.pk}",
        by=by,
    )


def _commission_back(line, amount: int, refund: Refund) -> int:
    """The commission going back to the cooperative when ``amount`` fen of
    ``line`` is refunded: in proportion to what was still unrefunded, so a
    line refunded in full gives back exactly what was taken."""
    earned = -(
        Posting.objects.filter(account__code="platform:commission", line=line).aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )
    if earned <= 0:
        return 0
    refunded_before = (
        RefundLine.objects.filter(line=line)
        .exclude(refund__status=Refund.Status.FAILED)
        .exclude(refund=refund)
        .aggregate(s=Sum("amount"))["s"]
        or 0
    )
    remaining = to_fen(line.line_price_incl_tax) - refunded_before
    if amount >= remaining:
        return earned
    share = Decimal(earned) * amount / remaining
    return int(share.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def record_refund(refund: Refund, *, by=None) -> JournalEntry:
    """A refund that has gone through: the money leaves the account it was
    paid into; each refunded line comes off its cooperative's pending
    earnings with its share of commission; refunded shipping comes off the
    platform's shipping revenue."""
    order = refund.order
    legs: list[tuple] = [(account(REFUND_ACCOUNTS[refund.via]), -refund.amount, order)]
    lines_total = 0
    for rl in refund.lines.select_related("line__partner").order_by("pk"):
        line = rl.line
        lines_total += rl.amount
        pending = ledger.cooperative_account(line.partner, pending=True)
        legs.append((pending, rl.amount, order, line))
        back = _commission_back(line, rl.amount, refund)
        if back:
            legs.append((pending, -back, order, line))
            legs.append((account("platform:commission"), back, order, line))
    if refund.shipping:
        legs.append((account("platform:shipping"), refund.shipping, order))
    if lines_total + refund.shipping != refund.amount:
        raise LedgerError(f"refund {refund.pk}: lines and shipping do not add up")
    return ledger.post(
        "refund",
        legs,
        reference=order.number,
        memo=f"订单 {order.number} 退款 {refund.stripe_refund_id}".strip(),
        idempotency_key=f"refund:{refund.pk}",
        by=by or refund.requested_by,
    )


def refund_entry(refund: Refund) -> JournalEntry | None:
    """The ledger entry ``record_refund`` wrote for ``refund``, if any."""
    return JournalEntry.objects.filter(idempotency_key=f"refund:{refund.pk}").first()


def record_unplaced_payment(payment) -> JournalEntry:
    """Money received online for an order that could not be placed: held
    in suspense until the automatic refund goes through."""
    return ledger.post(
        "unplaced-payment",
        [
            (account("provider:stripe"), payment.amount_received),
            (account("suspense:unplaced"), -payment.amount_received),
        ],
        reference=payment.order_number,
        memo=f"{payment.intent_id} 已付款但未能下单",
        idempotency_key=f"unplaced:{payment.intent_id}",
    )


def record_unplaced_refund(payment, refund_id: str) -> JournalEntry:
    return ledger.post(
        "unplaced-refund",
        [
            (account("suspense:unplaced"), payment.amount_received),
            (account("provider:stripe"), -payment.amount_received),
        ],
        reference=payment.order_number,
        memo=f"{payment.intent_id} 自动退款 {refund_id}",
        idempotency_key=f"unplaced-refund:{payment.intent_id}",
    )


def record_settlement(statement, postings: list[Posting], payable_account) -> JournalEntry | None:
    """Move a statement's pending postings to the party's payable account,
    line by line, so the payable balance is what statements say."""
    legs: list[tuple] = []
    for p in postings:
        legs.append((p.account, -p.amount, p.order, p.line))
        legs.append((payable_account, p.amount, p.order, p.line))
    if not legs:
        return None
    return ledger.post(
        "settlement",
        legs,
        reference=statement.number,
        memo=f"结算单 {statement.number}",
        idempotency_key=f"settlement:{statement.number}",
    )


def record_payout(statement, payable_account, *, by=None) -> JournalEntry | None:
    """A statement paid from the platform's bank account."""
    if statement.payable <= 0:
        return None
    return ledger.post(
        "payout",
        [(payable_account, statement.payable), (account("bank:platform"), -statement.payable)],
        reference=statement.number,
        memo=f"结算单 {statement.number} 已付款 {statement.bank_reference}".strip(),
        idempotency_key=f"payout:{statement.number}",
        by=by,
    )
