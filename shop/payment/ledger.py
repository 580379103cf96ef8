"""The double-entry ledger: accounts, posting balanced entries, balances.

Money is an ``int`` of fen (the CNY minor unit) everywhere in here; yuan
amounts from Oscar (``Decimal``) are converted with ``to_fen``, which refuses
fractions of a fen and floats. Every call to ``post`` is one balanced
JournalEntry written in the caller's transaction, so a sale and its entries
commit (or roll back) together. Posting the same event twice with the same
``idempotency_key`` returns the first entry. Nothing is ever edited: a
correction is a new entry (``reverse``).

Accounts (natural keys):

=============================  =========  ==================================
code                           kind       what
=============================  =========  ==================================
``platform:commission``        revenue    the platform's commission on sales
``platform:shipping``          revenue    shipping charged to buyers
``platform:shipping-cost``     expense    what carriers charge the platform
``platform:station-commission`` expense   commission owed to stations
``provider:stripe``            asset      money held by the payment provider
``cash:in-transit``            asset      cash collected (COD, stations) not yet banked
``bank:platform``              asset      the platform's bank account
``receivable:cod``             asset      cash on delivery not yet collected
``suspense:unplaced``          liability  paid online for an order that could
                                          not be placed, until refunded
``coop-pending:<partner id>``  liability  a cooperative's earnings not yet on
                                          a statement (return window, not
                                          delivered)
``coop:<partner id>``          liability  on a statement: payable to it
``station-pending:<id>``       liability  a station's commission not yet on a
                                          statement
``station:<station id>``       liability  on a statement: payable to it
=============================  =========  ==================================

A posting may name the order and the order line it is for
(``(account, fen, order, line)``): statements list pending postings by
line (cooperatives) or by order (stations).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum

from shop.payment.models import JournalEntry, LedgerAccount, Posting

Kind = LedgerAccount.Kind

PLATFORM_ACCOUNTS = {
    "platform:commission": ("平台佣金收入", Kind.REVENUE),
    "platform:shipping": ("运费收入", Kind.REVENUE),
    "platform:shipping-cost": ("运费支出", Kind.EXPENSE),
    "platform:station-commission": ("服务站佣金支出", Kind.EXPENSE),
    "provider:stripe": ("Stripe 待结算款", Kind.ASSET),
    "cash:in-transit": ("在途现金", Kind.ASSET),
    "bank:platform": ("平台银行账户", Kind.ASSET),
    "receivable:cod": ("货到付款应收", Kind.ASSET),
    "suspense:unplaced": ("未成单待退款", Kind.LIABILITY),
}


class LedgerError(ValueError):
    """An entry that cannot be posted (unbalanced, a float, a fraction of
    a fen, a zero posting)."""


def to_fen(amount) -> int:
    """Yuan (``Decimal``, ``int`` or a string like "12.30") → fen. Refuses
    floats and fractions of a fen."""
    if isinstance(amount, float):
        raise LedgerError("amounts are never floats")
    if isinstance(amount, bool):
        raise LedgerError("not an amount")
    try:
        value = Decimal(str(amount)) * 100
    except InvalidOperation:
        raise LedgerError(f"not an amount: {amount!r}")
    if not value.is_finite() or value != value.to_integral_value():
        raise LedgerError(f"{amount} has a fraction of a fen")
    return int(value)


def from_fen(fen: int) -> Decimal:
    """fen → yuan, for display and Oscar."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def account(code: str) -> LedgerAccount:
    """One of the platform's own accounts (created on first use)."""
    name, kind = PLATFORM_ACCOUNTS[code]
    found, _created = LedgerAccount.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind}
    )
    return found


def cooperative_account(partner, *, pending: bool = False) -> LedgerAccount:
    """What the platform owes the cooperative selling through ``partner``:
    settled on a statement (payable), or with ``pending`` earned but not
    yet on one."""
    prefix, label = ("coop-pending", "合作社待结算") if pending else ("coop", "应付合作社")
    found, _created = LedgerAccount.objects.get_or_create(
        code=f"{prefix}:{partner.pk}",
        defaults={"name": f"{label}：{partner.name}", "kind": Kind.LIABILITY, "partner": partner},
    )
    return found


def station_account(station, *, pending: bool = False) -> LedgerAccount:
    """What the platform owes the station (its commission): on a statement,
    or with ``pending`` earned but not yet on one."""
    prefix, label = ("station-pending", "服务站待结算") if pending else ("station", "应付服务站")
    found, _created = LedgerAccount.objects.get_or_create(
        code=f"{prefix}:{station.pk}",
        defaults={"name": f"{label}：{station.name}", "kind": Kind.LIABILITY, "station": station},
    )
    return found


def _legs(postings) -> list[tuple]:
    """Each posting as (account, fen, order, line)."""
    legs = []
    for leg in postings:
        if not 2 <= len(leg) <= 4:
            raise LedgerError("a posting is (account, fen[, order[, line]])")
        legs.append(tuple(leg) + (None,) * (4 - len(leg)))
    return legs


def _check(postings: list[tuple]) -> None:
    if len(postings) < 2:
        raise LedgerError("an entry needs at least two postings")
    for _account, fen, *_tags in postings:
        if not isinstance(fen, int) or isinstance(fen, bool):
            raise LedgerError(f"posting amounts are int fen, not {type(fen).__name__}")
        if fen == 0:
            raise LedgerError("a posting of zero")
    if sum(leg[1] for leg in postings) != 0:
        raise LedgerError("the entry does not balance")


@transaction.atomic
def post(
    kind: str,
    postings: Iterable[tuple],
    *,
    reference: str = "",
    memo: str = "",
    idempotency_key: str | None = None,
    corrects: JournalEntry | None = None,
    by=None,
) -> JournalEntry:
    """Write one balanced entry (debits positive, credits negative, in fen;
    each posting ``(account, fen)`` or ``(account, fen, order, line)``) in
    the caller's transaction; the same ``idempotency_key`` again returns
    the entry already written."""
    postings = _legs(postings)
    _check(postings)
    if idempotency_key:
        existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                kind=kind,
                reference=reference[:64],
                memo=memo[:300],
                idempotency_key=idempotency_key,
                corrects=corrects,
                created_by=by,
            )
            Posting.objects.bulk_create(
                Posting(entry=entry, account=acct, amount=fen, order=order, line=line)
                for acct, fen, order, line in postings
            )
    except IntegrityError:
        if idempotency_key:
            # Posted by a concurrent transaction that committed first.
            existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return entry


def reverse(entry: JournalEntry, *, memo: str = "", by=None) -> JournalEntry:
    """A correction: a new entry with every posting of ``entry`` negated."""
    postings = [
        (p.account, -p.amount, p.order, p.line)
        for p in entry.postings.select_related("account", "order", "line")
    ]
    return post(
        f"{entry.kind}-reversal",
        postings,
        reference=entry.reference,
        memo=memo or f"冲销凭证 #{entry.pk}",
        idempotency_key=f"reversal:{entry.pk}",
        corrects=entry,
        by=by,
    )


def balance(acct: LedgerAccount) -> int:
    """The account's balance in fen (debits − credits)."""
    return Posting.objects.filter(account=acct).aggregate(total=Sum("amount"))["total"] or 0


def trial_balance() -> int:
    """The sum over every posting: zero when the books balance."""
    return Posting.objects.aggregate(total=Sum("amount"))["total"] or 0
