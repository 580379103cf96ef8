"""Reconcile Stripe's balance transactions for a period with the ledger.

Stripe's balance transactions are what actually moved in the platform's
Stripe balance (a captured charge, a refund, a dispute's withdrawal and
reinstatement, a payout); the ledger's postings on ``provider:stripe`` are
what the shop believes moved. Both sides are grouped by the Stripe object
they are about, and every group where they disagree is listed:

* in Stripe, not in the ledger (money the books do not know about);
* in the ledger, not in Stripe (money the books expect and Stripe never
  moved);
* both, with different amounts.

The key of a balance transaction is its PaymentIntent (``pi_…``) for a
charge, the refund (``re_…``) for a refund, and otherwise its source
(``dp_…`` for a dispute, ``po_…`` for a payout). The key of a ledger entry
is its ``reference`` when that is a Stripe id; otherwise it is found from
the entry's idempotency key as shop/payment/accounting.py writes them
(``sale:<order number>`` → the StripePayment of that order,
``refund:<pk>`` → the Refund's Stripe id, ``unplaced:<pi>``,
``unplaced-refund:<pi>`` → the automatic refund, ``reversal:<pk>`` → the
corrected entry's key). An entry that cannot be tied to a Stripe object is
a difference of its own (``entry:<pk>``).

Amounts compare gross (Stripe's ``amount``) with the ledger's net posting
on ``provider:stripe`` for the key; the ledger may instead book the net of
Stripe's fee, which also counts as matched. Fees are reported as a total.

A period is whole days in Asia/Shanghai. Either side is read a day beyond
the period, so a sale booked a second before midnight and charged a second
after matches; only groups with something inside the period are reported.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shop.payment import ledger, stripe_client
from shop.payment.models import JournalEntry, Posting, Refund, StripePayment

logger = logging.getLogger("wangnong.reconciliation")

CHINA = ZoneInfo("Asia/Shanghai")
MARGIN = dt.timedelta(days=1)
STRIPE_ID = re.compile(r"^(pi|re|ch|py|pyr|dp|du|po|txn)_[A-Za-z0-9]+$")
PAGE_SIZE = 100

MATCHED = "matched"
MISSING_IN_LEDGER = "missing_in_ledger"
MISSING_IN_STRIPE = "missing_in_stripe"
AMOUNT_DIFFERS = "amount_differs"
STATUS_LABELS = {
    MATCHED: gettext_lazy("一致"),
    MISSING_IN_LEDGER: gettext_lazy("账本缺少"),
    MISSING_IN_STRIPE: gettext_lazy("Stripe 无此项"),
    AMOUNT_DIFFERS: gettext_lazy("金额不符"),
}


@dataclass
class Line:
    """One Stripe object, as Stripe and the ledger each see it."""

    key: str
    status: str
    stripe_amount: int | None = None  # gross fen, None when Stripe has nothing
    stripe_fee: int = 0
    ledger_amount: int | None = None  # net fen on provider:stripe, None when no entry
    stripe_types: list[str] = field(default_factory=list)
    balance_transactions: list[str] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    @property
    def difference(self) -> int:
        """Stripe minus ledger, in fen."""
        return (self.stripe_amount or 0) - (self.ledger_amount or 0)

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.status])


@dataclass
class Reconciliation:
    start: dt.datetime  # aware, inclusive
    end: dt.datetime  # aware, exclusive
    lines: list[Line]
    transactions: int = 0  # Stripe balance transactions in the period
    gross: int = 0
    fees: int = 0
    net: int = 0
    ledger_total: int = 0  # provider:stripe postings in the period

    @property
    def differences(self) -> list[Line]:
        return [line for line in self.lines if line.status != MATCHED]

    @property
    def matched(self) -> list[Line]:
        return [line for line in self.lines if line.status == MATCHED]

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def period_label(self) -> str:
        first = self.start.astimezone(CHINA).date()
        last = (self.end.astimezone(CHINA) - dt.timedelta(microseconds=1)).date()
        if first == last:
            return first.isoformat()
        return _("%(first)s 至 %(last)s") % {"first": first, "last": last}

    def as_text(self, *, all_lines: bool = False) -> str:
        """A plain-text table (for the command and the e-mail)."""
        out = [
            _("Stripe 对账：%(period)s（北京时间）") % {"period": self.period_label},
            _(
                "Stripe 余额交易 %(count)s 笔，金额合计 %(gross)s，手续费合计 %(fees)s，"
                "净额 %(net)s；账本 provider:stripe 本期合计 %(ledger)s。"
            )
            % {
                "count": self.transactions,
                "gross": _money(self.gross),
                "fees": _money(self.fees),
                "net": _money(self.net),
                "ledger": _money(self.ledger_total),
            },
            _("一致 %(matched)s 项，差异 %(differences)s 项。")
            % {"matched": len(self.matched), "differences": len(self.differences)},
        ]
        shown = self.lines if all_lines else self.differences
        if shown:
            headers = [
                _("状态"),
                _("Stripe 对象"),
                _("Stripe 金额"),
                _("账本金额"),
                _("差额"),
                _("类型"),
                _("账本单号"),
            ]
            rows = [
                [
                    line.label,
                    line.key,
                    "—" if line.stripe_amount is None else _money(line.stripe_amount),
                    "—" if line.ledger_amount is None else _money(line.ledger_amount),
                    _money(line.difference),
                    ",".join(line.stripe_types) or "—",
                    ",".join(line.references) or "—",
                ]
                for line in shown
            ]
            out.append("")
            out.extend(_table(headers, rows))
        return "\n".join(out)


def _money(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{ledger.from_fen(abs(fen))}"


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def fmt(row):
        cells = (cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row))
        return "  ".join(cells).rstrip()

    return [fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]


# -- the period ----------------------------------------------------------------
def period(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Whole days ``first``..``last`` (inclusive) in Asia/Shanghai."""
    if last < first:
        raise ValueError("the period ends before it starts")
    start = dt.datetime.combine(first, dt.time(), CHINA)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), CHINA)
    return start, end


def yesterday() -> dt.date:
    return timezone.now().astimezone(CHINA).date() - dt.timedelta(days=1)


# -- Stripe's side ---------------------------------------------------------------
@dataclass
class _StripeTxn:
    id: str
    key: str
    type: str
    amount: int
    fee: int
    created: int


def _object_id(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value.get("id") or "")


def _stripe_key(txn: dict) -> str:
    source = txn.get("source")
    kind = txn.get("type")
    if kind in ("charge", "payment") and source is not None and not isinstance(source, str):
        return _object_id(source.get("payment_intent")) or _object_id(source)
    if kind in ("charge", "payment") and isinstance(source, str):
        # Not expanded (should not happen): look the charge up.
        charge = stripe_client.client().v1.charges.retrieve(source)
        return _object_id(charge.payment_intent) or source
    return _object_id(source) or txn["id"]


def stripe_transactions(start: dt.datetime, end: dt.datetime) -> list[_StripeTxn]:
    """Every balance transaction created in [start, end), all pages
    (``starting_after``), each with its key. Raises StripeUnavailable."""
    params = {
        "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
        "limit": PAGE_SIZE,
        "expand": ["data.source"],
    }
    found = []
    with stripe_client.unavailable():
        page = stripe_client.client().v1.balance_transactions.list(params)
        for obj in page.auto_paging_iter():
            txn = obj.to_dict()  # stripe-python's objects are not dicts
            found.append(
                _StripeTxn(
                    id=txn["id"],
                    key=_stripe_key(txn),
                    type=txn["type"],
                    amount=int(txn["amount"]),
                    fee=int(txn["fee"] or 0),
                    created=int(txn["created"]),
                )
            )
    return found


# -- the ledger's side -------------------------------------------------------------
@dataclass
class _LedgerEntry:
    pk: int
    key: str
    amount: int  # on provider:stripe
    created_at: dt.datetime
    reference: str


def _keys_for(entries: list[JournalEntry]) -> dict[int, str]:
    """The Stripe object each entry is about (see the module docstring)."""
    keys: dict[int, str] = {}
    by_order: dict[int, str] = {}
    by_refund: dict[int, int] = {}
    by_auto_refund: dict[int, str] = {}
    reversals: dict[int, int] = {}
    for entry in entries:
        idem = entry.idempotency_key or ""
        prefix, _sep, rest = idem.partition(":")
        if STRIPE_ID.match(entry.reference or ""):
            keys[entry.pk] = entry.reference
        elif prefix == "unplaced" and STRIPE_ID.match(rest):
            keys[entry.pk] = rest
        elif prefix == "sale" and rest:
            by_order[entry.pk] = rest
        elif prefix == "refund" and rest.isdigit():
            by_refund[entry.pk] = int(rest)
        elif prefix == "unplaced-refund" and rest:
            by_auto_refund[entry.pk] = rest
        elif entry.corrects_id:
            reversals[entry.pk] = entry.corrects_id
    if by_order:
        intents = dict(
            StripePayment.objects.filter(order_number__in=set(by_order.values())).values_list(
                "order_number", "intent_id"
            )
        )
        keys.update({pk: intents[n] for pk, n in by_order.items() if n in intents})
    if by_refund:
        refunds = dict(
            Refund.objects.filter(pk__in=set(by_refund.values()))
            .exclude(stripe_refund_id="")
            .values_list("pk", "stripe_refund_id")
        )
        keys.update({pk: refunds[r] for pk, r in by_refund.items() if r in refunds})
    if by_auto_refund:
        autos = dict(
            StripePayment.objects.filter(intent_id__in=set(by_auto_refund.values()))
            .exclude(auto_refund_id="")
            .values_list("intent_id", "auto_refund_id")
        )
        keys.update({pk: autos[i] for pk, i in by_auto_refund.items() if i in autos})
    if reversals:
        corrected = list(JournalEntry.objects.filter(pk__in=set(reversals.values())))
        corrected_keys = _keys_for(corrected)
        keys.update({pk: corrected_keys[c] for pk, c in reversals.items() if c in corrected_keys})
    for entry in entries:
        keys.setdefault(entry.pk, f"entry:{entry.pk}")
    return keys


def ledger_entries(start: dt.datetime, end: dt.datetime) -> list[_LedgerEntry]:
    """Every entry created in [start, end) with a posting on
    provider:stripe, its net amount there, and its key."""
    stripe_account = ledger.account("provider:stripe")
    sums = dict(
        Posting.objects.filter(
            account=stripe_account, entry__created_at__gte=start, entry__created_at__lt=end
        )
        .values("entry")
        .annotate(total=Sum("amount"))
        .values_list("entry", "total")
    )
    entries = list(JournalEntry.objects.filter(pk__in=sums).order_by("pk"))
    keys = _keys_for(entries)
    return [
        _LedgerEntry(
            pk=e.pk,
            key=keys[e.pk],
            amount=int(sums[e.pk]),
            created_at=e.created_at,
            reference=e.reference,
        )
        for e in entries
    ]


# -- comparing ---------------------------------------------------------------------
def reconcile(first: dt.date, last: dt.date) -> Reconciliation:
    """Compare Stripe and the ledger for the days ``first``..``last``
    (Asia/Shanghai). Raises StripeUnavailable when Stripe cannot be read."""
    start, end = period(first, last)
    txns = stripe_transactions(start - MARGIN, end + MARGIN)
    entries = ledger_entries(start - MARGIN, end + MARGIN)
    lo, hi = int(start.timestamp()), int(end.timestamp())

    def inside_stripe(t: _StripeTxn) -> bool:
        return lo <= t.created < hi

    def inside_ledger(e: _LedgerEntry) -> bool:
        return start <= e.created_at < end

    in_period = [t for t in txns if inside_stripe(t)]
    wanted = {t.key for t in in_period} | {e.key for e in entries if inside_ledger(e)}
    stripe_by_key: dict[str, list[_StripeTxn]] = defaultdict(list)
    for txn in txns:
        stripe_by_key[txn.key].append(txn)
    ledger_by_key: dict[str, list[_LedgerEntry]] = defaultdict(list)
    for entry in entries:
        ledger_by_key[entry.key].append(entry)

    lines = []
    for key in wanted:
        s = sorted(stripe_by_key.get(key, []), key=lambda t: (t.created, t.id))
        e = ledger_by_key.get(key, [])
        stripe_amount = sum(t.amount for t in s) if s else None
        stripe_fee = sum(t.fee for t in s)
        ledger_amount = sum(x.amount for x in e) if e else None
        if stripe_amount is None:
            status = MISSING_IN_STRIPE
        elif ledger_amount is None:
            status = MISSING_IN_LEDGER
        elif ledger_amount in (stripe_amount, stripe_amount - stripe_fee):
            status = MATCHED
        else:
            status = AMOUNT_DIFFERS
        if status == MISSING_IN_STRIPE and ledger_amount == 0:
            # Entries on a key that cancel out (a sale and its reversal).
            status = MATCHED
        lines.append(
            Line(
                key=key,
                status=status,
                stripe_amount=stripe_amount,
                stripe_fee=stripe_fee,
                ledger_amount=ledger_amount,
                stripe_types=sorted({t.type for t in s}),
                balance_transactions=[t.id for t in s],
                entries=[x.pk for x in e],
                references=sorted({x.reference for x in e if x.reference}),
            )
        )
    order = {MISSING_IN_LEDGER: 0, MISSING_IN_STRIPE: 1, AMOUNT_DIFFERS: 2, MATCHED: 3}
    lines.sort(key=lambda line: (order[line.status], line.key))
    return Reconciliation(
        start=start,
        end=end,
        lines=lines,
        transactions=len(in_period),
        gross=sum(t.amount for t in in_period),
        fees=sum(t.fee for t in in_period),
        net=sum(t.amount - t.fee for t in in_period),
        ledger_total=sum(e.amount for e in entries if inside_ledger(e)),
    )


# -- the daily task ------------------------------------------------------------------
def staff_emails() -> list[str]:
    """Who hears about differences: WANGNONG_STAFF_EMAILS if set, else
    ADMINS, else the active superusers."""
    addresses = list(getattr(settings, "WANGNONG_STAFF_EMAILS", None) or [])
    if not addresses:
        addresses = [email for _name, email in getattr(settings, "ADMINS", [])]
    if not addresses:
        addresses = list(
            get_user_model()
            .objects.filter(is_superuser=True, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    return list(dict.fromkeys(addresses))


def _mail(subject: str, body: str) -> int:
    to = staff_emails()
    if not to:
        logger.warning("No staff e-mail address for the Stripe reconciliation report")
        return 0
    try:
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except Exception:  # noqa: BLE001 - the report is logged anyway
        logger.exception("Could not e-mail the Stripe reconciliation report")
        return 0


@shared_task(name="payment.reconcile_stripe")
def reconcile_stripe(first: str | None = None, last: str | None = None) -> dict:
    """Reconcile a period (default: yesterday, Asia/Shanghai); log the
    result and e-mail staff the differences (or that Stripe could not be
    read)."""
    if not stripe_client.is_configured():
        logger.info("Stripe reconciliation skipped: Stripe is not configured")
        return {"skipped": True}
    day_first = dt.date.fromisoformat(first) if first else yesterday()
    day_last = dt.date.fromisoformat(last) if last else day_first
    # Beat runs this every half hour (an interval must stay below the
    # broker's visibility timeout); yesterday is reconciled by the first
    # run of the day, and again only if that run could not read Stripe.
    done_key = f"payment:reconciled:{day_first}:{day_last}"
    if first is None and not cache.add(done_key, True, timeout=3 * 86400):
        return {"skipped": True, "period": str(day_first)}
    try:
        result = reconcile(day_first, day_last)
    except stripe_client.StripeUnavailable as exc:
        cache.delete(done_key)
        logger.error(
            "Stripe reconciliation for %s..%s failed: %r", day_first, day_last, exc.cause or exc
        )
        _mail(
            _("Stripe 对账未能完成：%(first)s") % {"first": day_first},
            _("无法读取 Stripe 余额交易：%(error)s") % {"error": exc.cause or exc},
        )
        return {"error": str(exc)}
    text = result.as_text()
    if result.ok:
        logger.info(
            "Stripe reconciliation %s: all %s match", result.period_label, len(result.lines)
        )
    else:
        logger.warning(
            "Stripe reconciliation %s: %s differences\n%s",
            result.period_label,
            len(result.differences),
            text,
        )
        _mail(
            _("Stripe 对账发现 %(count)s 处差异：%(period)s")
            % {"count": len(result.differences), "period": result.period_label},
            text,
        )
    return {
        "period": result.period_label,
        "matched": len(result.matched),
        "differences": len(result.differences),
        "fees": result.fees,
    }
