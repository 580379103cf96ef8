"""Settlement statements: what the platform owes each cooperative and each
village station, a period at a time, and paying it.

Money earned waits on a party's *pending* account (``coop-pending:<partner
id>``, ``station-pending:<station id>``, shop/payment/accounting.py). A
statement for cut-off day D (``period_end``, Asia/Shanghai) takes the
pending postings that are *eligible* at D, lists each once (StatementItem,
one per posting, unique), and moves them to the party's *payable* account
(``coop:<id>``, ``station:<id>``) in one settlement entry; staff then pay it
with a bank reference (``mark_paid``: the payout entry). So at every moment
the payable balance is Σ statements' payable − Σ payouts.

Eligible at D
-------------
* a cooperative's posting (each is tagged with its order line) when the
  line was delivered — its FulfilmentEvent to "delivered"
  (``cooperatives.fulfilment.lines_delivered_before``) — on or before
  D − ``WANGNONG_RETURN_WINDOW_DAYS``. Whenever the posting was made: a
  refund posted after the line was settled is eligible at once and lands on
  the next statement as a deduction. A line never delivered is never
  settled (a line cancelled before hand-over has a refund that nets its
  sale to zero; both stay pending);
* a station's posting (tagged with its order) when its entry was written
  on or before the end of D, so a cancelled order's reversal lands on the
  statement after the one that paid its commission;
* never a posting already on a statement, nor a settlement entry's own leg.

Totals, from the kinds of the entries the postings belong to
--------------------------------------------------------------
A cooperative's pending account is credited (negative) with each line's
price and debited (positive) with the platform's commission on it in the
``sale`` entry; a ``refund`` entry debits the refunded amount and credits
back its share of commission. So, per posting of amount *a*:

* ``refund`` entry: *a* > 0 → ``refunds`` += *a*; *a* < 0 → ``commission``
  += *a* (commission given back lowers the commission);
* any other entry (``sale``): *a* < 0 → ``gross`` += −*a*; *a* > 0 →
  ``commission`` += *a*;
* a ``…-reversal`` entry counts in the bucket of what it reverses, with the
  opposite sign (a reversed sale lowers ``gross``).

A station's pending account is credited with its commission per order and
debited when a cancelled order's commission is reversed: credits go to
``commission`` (earned), debits to ``refunds`` (cancelled), ``gross`` is 0.

Either way ``payable`` = −Σ amounts (cooperative: gross − commission −
refunds; station: commission − refunds).

Nothing to pay
--------------
A statement is issued only when its payable would be ≥ 0. If a party's
eligible postings add up to less (refunds after its lines were paid, and
no new sales), they stay pending — the cooperative owes the platform that
much, shown as a negative 待结算 — and are netted against its next sales on
a later statement. So every payout is one statement's payable, in full, and
nothing is paid twice. A statement whose payable is exactly 0 (a sale and
its full refund) settles its items and is shown as 无需付款; it cannot be
marked paid.

A statement's period runs from the day after the party's previous
statement's ``period_end`` (a first statement: from its first posting's
day, or a whole WANGNONG_SETTLEMENT_PERIOD_DAYS period if that is later) to
D. The periodic task (shop/payment/tasks.py) uses the last cut-off before
today; staff may generate for any day up to today in the dashboard.

Running ``generate_statements`` again for the same D creates nothing (one
statement per party and period end: a unique constraint, checked under a
row lock on the party's pending account, so two runs at once make one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cooperatives import fulfilment
from shop.payment import accounting, ledger
from shop.payment.models import LedgerAccount, Posting, Statement, StatementItem

Party = Statement.Party

COOP_PENDING = "coop-pending:"
STATION_PENDING = "station-pending:"
SETTLEMENT_KIND = "settlement"
REFUND_KIND = "refund"
REVERSAL_SUFFIX = "-reversal"

# Periods of WANGNONG_SETTLEMENT_PERIOD_DAYS days end on this day and every
# period after it: a Sunday, so weekly statements run Monday to Sunday.
PERIOD_ANCHOR = dt.date(2000, 1, 2)
BANK_REFERENCE_MAX = 64


# --- Days and cut-offs --------------------------------------------------------------


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the project's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def delivered_cutoff(period_end: dt.date) -> dt.datetime:
    """Lines delivered before this moment are past their return window at
    ``period_end``: the end of the day WANGNONG_RETURN_WINDOW_DAYS earlier."""
    last_day = period_end - dt.timedelta(days=settings.WANGNONG_RETURN_WINDOW_DAYS)
    return day_start(last_day + dt.timedelta(days=1))


def latest_period_end(today: dt.date | None = None) -> dt.date:
    """The last cut-off day before ``today``: every
    WANGNONG_SETTLEMENT_PERIOD_DAYS days from PERIOD_ANCHOR (weekly: the
    Sunday just gone when today is Monday, the one before it on a Sunday)."""
    today = today or timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    return yesterday - dt.timedelta(days=(yesterday - PERIOD_ANCHOR).days % _period_days())


def _period_days() -> int:
    return max(1, int(settings.WANGNONG_SETTLEMENT_PERIOD_DAYS))


# --- Which postings --------------------------------------------------------------------


def _unsettled(qs: QuerySet) -> QuerySet:
    return qs.filter(statement_item__isnull=True).exclude(entry__kind__startswith=SETTLEMENT_KIND)


def eligible_cooperative_postings(period_end: dt.date) -> QuerySet:
    """Cooperatives' pending postings on lines delivered past their return
    window at ``period_end``, not on a statement yet."""
    delivered = fulfilment.lines_delivered_before(delivered_cutoff(period_end))
    return _unsettled(
        Posting.objects.filter(account__code__startswith=COOP_PENDING, line_id__in=delivered)
    )


def eligible_station_postings(period_end: dt.date) -> QuerySet:
    """Stations' pending postings written by the end of ``period_end``, not
    on a statement yet."""
    before = day_start(period_end + dt.timedelta(days=1))
    return _unsettled(
        Posting.objects.filter(
            account__code__startswith=STATION_PENDING, entry__created_at__lt=before
        )
    )


def _eligible(party: str, period_end: dt.date) -> QuerySet:
    if party == Party.COOPERATIVE:
        return eligible_cooperative_postings(period_end)
    return eligible_station_postings(period_end)


# --- Totals --------------------------------------------------------------------------------


@dataclass
class Amounts:
    """A statement's (or one of its rows') sums in fen, see the module
    docstring for which posting goes where."""

    gross: int = 0
    commission: int = 0
    refunds: int = 0
    payable: int = 0

    def add(self, party: str, kind: str, amount: int) -> None:
        self.payable -= amount
        if party == Party.STATION:
            if amount < 0:
                self.commission -= amount
            else:
                self.refunds += amount
            return
        reversal = kind.endswith(REVERSAL_SUFFIX)
        base = kind.removesuffix(REVERSAL_SUFFIX)
        as_posted = -amount if reversal else amount
        if base == REFUND_KIND:
            if as_posted > 0:
                self.refunds += amount
            else:
                self.commission += amount
        elif as_posted < 0:
            self.gross -= amount
        else:
            self.commission += amount


def totals(party: str, postings: Iterable[Posting]) -> Amounts:
    """The sums of ``postings`` (with their entries loaded)."""
    amounts = Amounts()
    for posting in postings:
        amounts.add(party, posting.entry.kind, posting.amount)
    return amounts


# --- Generating statements ------------------------------------------------------------------


def statement_number(party: str, party_id: int, period_end: dt.date) -> str:
    """``JS-C12-20261129`` (cooperative: its partner id) or ``JS-S3-20261129``."""
    letter = "C" if party == Party.COOPERATIVE else "S"
    return f"JS-{letter}{party_id}-{period_end:%Y%m%d}"


def payable_account(statement: Statement) -> LedgerAccount:
    """The account a statement settles to and is paid from."""
    if statement.party == Party.COOPERATIVE:
        return ledger.cooperative_account(statement.partner)
    return ledger.station_account(statement.station)


def generate_statements(period_end: dt.date, *, today: dt.date | None = None) -> list[Statement]:
    """One statement per cooperative and station with eligible postings at
    ``period_end``, each written (statement, items, settlement entry) in
    its own transaction. Returns the statements created now: none for a
    party that already has one for ``period_end``, or whose eligible
    postings add up to less than nothing.

    ``period_end`` may not be after ``today`` (default: today's date): a
    cut-off day still to come would settle lines still inside their return
    window."""
    today = today or timezone.localdate()
    if period_end > today:
        raise ValidationError(_("截止日不能晚于今天。"), code="future")
    created = []
    for party in (Party.COOPERATIVE, Party.STATION):
        account_ids = (
            _eligible(party, period_end).order_by().values_list("account_id", flat=True).distinct()
        )
        for account_id in sorted(account_ids):
            statement = _settle(party, account_id, period_end)
            if statement is not None:
                created.append(statement)
    return created


def _settle(party: str, account_id: int, period_end: dt.date) -> Statement | None:
    try:
        with transaction.atomic():
            return _settle_locked(party, account_id, period_end)
    except IntegrityError:
        # Another run made this party's statement for the period first.
        return None


def _settle_locked(party: str, account_id: int, period_end: dt.date) -> Statement | None:
    # The lock serialises runs for one party; after it, this transaction
    # sees whatever a run that held it before committed.
    account = LedgerAccount.objects.select_for_update().get(pk=account_id)
    if party == Party.COOPERATIVE:
        owner = {"partner_id": account.partner_id}
        owner_id = account.partner_id
    else:
        owner = {"station_id": account.station_id}
        owner_id = account.station_id
    if owner_id is None:
        return None
    mine = Statement.objects.filter(**owner)
    if mine.filter(period_end=period_end).exists():
        return None
    postings = list(
        _eligible(party, period_end)
        .filter(account=account)
        .select_related("account", "entry", "order", "line")
        .order_by("pk")
    )
    if not postings:
        return None
    amounts = totals(party, postings)
    if amounts.payable < 0:
        return None  # stays pending, netted against later earnings
    previous = mine.filter(period_end__lt=period_end).order_by("-period_end").first()
    if previous is not None:
        period_start = previous.period_end + dt.timedelta(days=1)
    else:
        # A party's first statement: from its first posting, or a whole
        # period if that is later (a posting made after the cut-off day: a
        # refund, or history written afterwards as in shop/payment/demo.py).
        first = min(timezone.localtime(p.entry.created_at).date() for p in postings)
        period_start = min(first, period_end - dt.timedelta(days=_period_days() - 1))
    statement = Statement.objects.create(
        number=statement_number(party, owner_id, period_end),
        party=party,
        period_start=period_start,
        period_end=period_end,
        gross=amounts.gross,
        commission=amounts.commission,
        refunds=amounts.refunds,
        payable=amounts.payable,
        **owner,
    )
    StatementItem.objects.bulk_create(
        StatementItem(statement=statement, posting=p) for p in postings
    )
    entry = accounting.record_settlement(statement, postings, payable_account(statement))
    statement.entry = entry
    statement.save(update_fields=["entry"])
    return statement


# --- Paying ----------------------------------------------------------------------------------


def needs_payment(statement: Statement) -> bool:
    return statement.status == Statement.Status.ISSUED and statement.payable > 0


def status_label(statement: Statement) -> str:
    """已付款, 待付款, or 无需付款 for a statement with nothing to pay."""
    if statement.status == Statement.Status.PAID:
        return str(Statement.Status.PAID.label)
    if statement.payable <= 0:
        return _("无需付款")
    return str(Statement.Status.ISSUED.label)


def clean_bank_reference(value) -> str:
    """The bank transfer's reference as typed, trimmed; required, at most
    64 characters, printable."""
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError(_("请填写银行流水号。"), code="required")
    if len(text) > BANK_REFERENCE_MAX:
        raise ValidationError(
            _("银行流水号最多 %(n)s 个字符。") % {"n": BANK_REFERENCE_MAX}, code="max_length"
        )
    if not text.isprintable():
        raise ValidationError(_("银行流水号里有不能显示的字符。"), code="invalid")
    return text


@transaction.atomic
def mark_paid(statement: Statement, bank_reference, by) -> Statement:
    """Record that the platform paid ``statement`` by bank transfer
    ``bank_reference``: once (the row is locked; a second time is refused),
    with the payout entry (payable account → the platform's bank)."""
    locked = (
        Statement.objects.select_for_update(of=("self",))
        .select_related("partner", "station")
        .get(pk=statement.pk)
    )
    if locked.status == Statement.Status.PAID:
        raise ValidationError(
            _("结算单 %(number)s 已标记为已付款。") % {"number": locked.number}, code="paid"
        )
    if locked.payable <= 0:
        raise ValidationError(
            _("结算单 %(number)s 的应付金额为零，无需付款。") % {"number": locked.number},
            code="nothing_to_pay",
        )
    locked.bank_reference = clean_bank_reference(bank_reference)
    locked.status = Statement.Status.PAID
    locked.paid_at = timezone.now()
    locked.paid_by = by
    locked.payout_entry = accounting.record_payout(locked, payable_account(locked), by=by)
    locked.save(update_fields=["bank_reference", "status", "paid_at", "paid_by", "payout_entry"])
    return locked


# --- Balances --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """What the platform owes a party, in fen: ``pending`` earned but not on
    a statement yet (sales not delivered or inside the return window;
    negative when refunds wait for later sales), ``payable`` on statements
    not paid yet."""

    pending: int
    payable: int

    @property
    def total(self) -> int:
        return self.pending + self.payable


def _owed(code: str) -> int:
    """What a liability account owes (its credit balance), 0 if it does not
    exist yet."""
    total = Posting.objects.filter(account__code=code).aggregate(s=Sum("amount"))["s"]
    return -(total or 0)


def balance(partner) -> Balance:
    """A cooperative's (its Oscar partner's) balance."""
    return Balance(pending=_owed(f"coop-pending:{partner.pk}"), payable=_owed(f"coop:{partner.pk}"))


def station_balance(station) -> Balance:
    return Balance(
        pending=_owed(f"station-pending:{station.pk}"), payable=_owed(f"station:{station.pk}")
    )


# --- Looking statements up -----------------------------------------------------------------------


def cooperative_statements(partner) -> QuerySet:
    """The cooperative's statements, newest period first."""
    return Statement.objects.filter(party=Party.COOPERATIVE, partner=partner)


def station_statements(station) -> QuerySet:
    return Statement.objects.filter(party=Party.STATION, station=station)


def party_name(statement: Statement) -> str:
    """The cooperative's (display) name or the station's name."""
    if statement.party == Party.COOPERATIVE:
        cooperative = getattr(statement.partner, "cooperative", None)
        return str(cooperative) if cooperative is not None else statement.partner.name
    return statement.station.name
