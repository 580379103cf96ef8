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
``coop:<partner id>``          liability  what the platform owes a cooperative
``station:<station id>``       liability  what the platform owes a station
=============================  =========  ==================================
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


def cooperative_account(partner) -> LedgerAccount:
    """What the platform owes the cooperative selling through ``partner``."""
    found, _created = LedgerAccount.objects.get_or_create(
        code=f"coop:{partner.pk}",
        defaults={
            "name": f"应付合作社：{partner.name}",
            "kind": Kind.LIABILITY,
            "partner": partner,
        },
    )
    return found


def station_account(station) -> LedgerAccount:
    """What the platform owes the station (its commission)."""
    found, _created = LedgerAccount.objects.get_or_create(
        code=f"station:{station.pk}",
        defaults={
            "name": f"应付服务站：{station.name}",
            "kind": Kind.LIABILITY,
            "station": station,
        },
    )
    return found


def _check(postings: list[tuple[LedgerAccount, int]]) -> None:
    if len(postings) < 2:
        raise LedgerError("an entry needs at least two postings")
    for _account, fen in postings:
        if not isinstance(fen, int) or isinstance(fen, bool):
            raise LedgerError(f"posting amounts are int fen, not {type(fen).__name__}")
        if fen == 0:
            raise LedgerError("a posting of zero")
    if sum(fen for _account, fen in postings) != 0:
        raise LedgerError("the entry does not balance")


@transaction.atomic
def post(
    kind: str,
    postings: Iterable[tuple[LedgerAccount, int]],
    *,
    reference: str = "",
    memo: str = "",
    idempotency_key: str | None = None,
    corrects: JournalEntry | None = None,
    by=None,
) -> JournalEntry:
    """Write one balanced entry (debits positive, credits negative, in fen)
    in the caller's transaction; the same ``idempotency_key`` again returns
    the entry already written."""
    postings = [(acct, fen) for acct, fen in postings]
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
                Posting(entry=entry, account=acct, amount=fen) for acct, fen in postings
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
    postings = [(p.account, -p.amount) for p in entry.postings.select_related("account")]
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
