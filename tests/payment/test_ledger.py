"""The double-entry ledger (shop/payment/ledger.py): fen only, balanced,
append-only, idempotent, and balanced over a long random run."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from shop.payment import ledger
from shop.payment.models import JournalEntry, Posting
from tests import factories


@pytest.fixture
def coop(db):
    return factories.partner("天津市西青区辛口沙窝萝卜种植专业合作社")


def sale(coop_account, fen: int, commission: int, key: str | None = None):
    """A buyer pays ``fen`` through the provider; the cooperative is owed
    all but the platform's commission."""
    return ledger.post(
        "sale",
        [
            (ledger.account("provider:stripe"), fen),
            (coop_account, -(fen - commission)),
            (ledger.account("platform:commission"), -commission),
        ],
        reference="2611270000001",
        idempotency_key=key,
    )


# --- amounts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "fen"),
    [("12.30", 1230), (Decimal("0.01"), 1), (7, 700), ("-3.5", -350), (Decimal("88.00"), 8800)],
)
def test_yuan_become_fen(amount, fen):
    assert ledger.to_fen(amount) == fen
    assert ledger.from_fen(fen) == Decimal(str(amount)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("amount", [Decimal("0.005"), "1.001", 12.3, "abc", "NaN", True])
def test_floats_and_fractions_of_a_fen_are_refused(amount):
    with pytest.raises(ledger.LedgerError):
        ledger.to_fen(amount)


# --- posting -----------------------------------------------------------------------


def test_a_balanced_entry_is_written_with_its_postings(coop):
    owed = ledger.cooperative_account(coop)
    entry = sale(owed, 5300, 265)
    assert sorted(entry.postings.values_list("account__code", "amount")) == [
        (f"coop:{coop.pk}", -5035),
        ("platform:commission", -265),
        ("provider:stripe", 5300),
    ]
    assert ledger.balance(owed) == -5035
    assert ledger.trial_balance() == 0


@pytest.mark.parametrize(
    "amounts",
    [
        [100, -99],  # does not balance
        [100],  # one posting
        [100, -100, 0],  # a zero posting
        [Decimal("1.00"), Decimal("-1.00")],  # yuan, not fen
        [1.0, -1.0],  # floats
    ],
)
def test_what_cannot_be_posted_writes_nothing(coop, amounts):
    accounts = [ledger.account("provider:stripe"), ledger.cooperative_account(coop)]
    accounts.append(ledger.account("platform:commission"))
    with pytest.raises(ledger.LedgerError):
        ledger.post("sale", list(zip(accounts, amounts, strict=False)))
    assert not JournalEntry.objects.exists()
    assert not Posting.objects.exists()


def test_the_same_event_posted_twice_is_one_entry(coop):
    owed = ledger.cooperative_account(coop)
    first = sale(owed, 1000, 50, key="stripe:evt_1")
    again = sale(owed, 1000, 50, key="stripe:evt_1")
    assert again == first
    assert JournalEntry.objects.count() == 1
    assert ledger.balance(owed) == -950


def test_a_correction_is_a_new_entry_that_cancels_the_old(coop):
    owed = ledger.cooperative_account(coop)
    entry = sale(owed, 1000, 50)
    correction = ledger.reverse(entry)
    assert correction.corrects == entry
    assert ledger.reverse(entry) == correction  # once only
    assert ledger.balance(owed) == 0
    assert JournalEntry.objects.count() == 2
    assert Posting.objects.count() == 6


# --- append-only ------------------------------------------------------------------


def test_entries_and_postings_are_never_edited_or_deleted(coop):
    entry = sale(ledger.cooperative_account(coop), 1000, 50)
    posting = entry.postings.first()
    entry.memo = "改一下"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    posting.amount = 1
    with pytest.raises(ValidationError):
        posting.save()
    with pytest.raises(ValidationError):
        posting.delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE payment_posting SET amount = amount + 1",
        "DELETE FROM payment_posting",
        "UPDATE payment_journalentry SET memo = 'x'",
        "DELETE FROM payment_journalentry",
    ],
)
def test_the_database_refuses_edits_behind_the_models_back(coop, sql):
    sale(ledger.cooperative_account(coop), 1000, 50)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert ledger.trial_balance() == 0


def test_the_database_refuses_an_unbalanced_entry_at_commit(coop):
    entry = JournalEntry.objects.create(kind="sale")
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        Posting.objects.create(entry=entry, account=ledger.account("provider:stripe"), amount=100)
        with connection.cursor() as cursor:
            # What COMMIT does: run the deferred balance check now.
            cursor.execute("SET CONSTRAINTS payment_posting_balanced IMMEDIATE")


# --- concurrency ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_event_posted_concurrently_is_one_entry():
    coop = factories.partner("天津市宁河区七里海生态养殖专业合作社")
    owed = ledger.cooperative_account(coop)
    ledger.account("provider:stripe")
    ledger.account("platform:commission")
    barrier = threading.Barrier(5)
    entries, errors = [], []

    def deliver():
        try:
            barrier.wait()
            with transaction.atomic():
                entries.append(sale(owed, 8800, 440, key="stripe:evt_same").pk)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(entries)) == 1
    assert JournalEntry.objects.count() == 1
    assert ledger.balance(owed) == -8360


# --- a long random run -----------------------------------------------------------------


def test_a_thousand_random_sales_refunds_and_payouts_balance(db):
    """Seeded: sales through the provider or in cash, refunds of part of a
    sale, payouts from the bank. The books balance to the fen, and each
    cooperative's balance is what it was owed minus refunds and payouts."""
    rng = random.Random(20261127)
    coops = [factories.partner(f"合作社{n}") for n in range(4)]
    accounts = {c.pk: ledger.cooperative_account(c) for c in coops}
    owed = {c.pk: 0 for c in coops}
    sales: list[tuple[int, int, int]] = []  # (coop, goods fen, commission fen)
    provider, cash = ledger.account("provider:stripe"), ledger.account("cash:in-transit")
    commission_acct, bank = ledger.account("platform:commission"), ledger.account("bank:platform")
    for step in range(1000):
        action = rng.random()
        coop = rng.choice(coops).pk
        if action < 0.6 or not sales:
            goods = rng.randint(100, 50_000)
            commission = goods * rng.choice([3, 5, 8]) // 100
            source = provider if rng.random() < 0.7 else cash
            postings = [(source, goods), (accounts[coop], -(goods - commission))]
            if commission:
                postings.append((commission_acct, -commission))
            ledger.post("sale", postings, reference=str(step))
            owed[coop] += goods - commission
            sales.append((coop, goods, commission))
        elif action < 0.8:
            coop, goods, commission = rng.choice(sales)
            part = rng.randint(1, goods)
            back = part * (goods - commission) // goods  # the cooperative's share
            postings = [(provider, -part), (accounts[coop], back)]
            if part - back:
                postings.append((commission_acct, part - back))
            ledger.post("refund", postings, reference=str(step))
            owed[coop] -= back
        else:
            if owed[coop] <= 0:
                continue
            paid = rng.randint(1, owed[coop])
            ledger.post("payout", [(accounts[coop], paid), (bank, -paid)], reference=str(step))
            owed[coop] -= paid
    assert ledger.trial_balance() == 0
    for coop in coops:
        assert -ledger.balance(accounts[coop.pk]) == owed[coop.pk]
    assert JournalEntry.objects.count() > 900
