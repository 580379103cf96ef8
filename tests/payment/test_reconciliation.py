"""Stripe reconciliation: balance transactions made through the local Stripe
(payments, refunds) against ledger entries posted directly, read back
through the production path (stripe_client, paginated listing)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from shop.payment import ledger, reconciliation, stripe_client
from shop.payment.models import StripePayment
from shop.payment.reconciliation import (
    AMOUNT_DIFFERS,
    CHINA,
    MATCHED,
    MISSING_IN_LEDGER,
    MISSING_IN_STRIPE,
    reconcile,
    reconcile_stripe,
)

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.now().astimezone(CHINA).date()


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> float:
    return dt.datetime.combine(day, dt.time(hour, minute, second), CHINA).timestamp()


def api():
    return stripe_client.client().v1


def paid(amount: int) -> str:
    """A card payment captured at once; its PaymentIntent id."""
    intent = api().payment_intents.create(
        {
            "amount": amount,
            "currency": "cny",
            "payment_method_types": ["card"],
            "confirm": True,
            "payment_method": "pm_card_visa",
        }
    )
    assert intent.status == "succeeded"
    return intent.id


def refunded(pi_id: str, amount: int) -> str:
    return api().refunds.create({"payment_intent": pi_id, "amount": amount}).id


def book(reference: str, fen: int, **kwargs):
    """A ledger entry moving ``fen`` on provider:stripe (the other side in
    suspense), referenced like accounting.py's Stripe entries."""
    return ledger.post(
        "test",
        [(ledger.account("provider:stripe"), fen), (ledger.account("suspense:unplaced"), -fen)],
        reference=reference,
        **kwargs,
    )


def by_key(result) -> dict[str, reconciliation.Line]:
    return {line.key: line for line in result.lines}


def test_everything_booked_matches(stripe_sim):
    first, second = paid(1000), paid(2500)
    refund = refunded(second, 500)
    book(first, 1000)
    book(second, 2500)
    book(refund, -500)

    result = reconcile(today(), today())

    assert result.ok
    assert {line.key: line.status for line in result.lines} == {
        first: MATCHED,
        second: MATCHED,
        refund: MATCHED,
    }
    assert result.transactions == 3
    assert result.gross == 3000
    assert result.fees == stripe_sim.fee_for(1000) + stripe_sim.fee_for(2500) == 22 + 55
    assert result.net == 3000 - 77
    assert result.ledger_total == 3000

    out = StringIO()
    call_command("reconcile_stripe", "--from", today().isoformat(), stdout=out)
    assert "一致 3 项，差异 0 项" in out.getvalue()
    assert "手续费合计 ¥0.77" in out.getvalue()


def test_every_difference_is_listed(stripe_sim):
    booked = paid(1000)
    unbooked = paid(2000)
    short = paid(3000)
    booked_refund = refunded(booked, 300)
    unbooked_refund = refunded(short, 100)
    book(booked, 1000)
    book(short, 2990)
    book(booked_refund, -300)
    book("pi_neverattempted", 500)
    stray = book("250101000001", 700)  # not tied to any Stripe object

    result = reconcile(today(), today())

    lines = by_key(result)
    assert {key: line.status for key, line in lines.items()} == {
        booked: MATCHED,
        booked_refund: MATCHED,
        unbooked: MISSING_IN_LEDGER,
        unbooked_refund: MISSING_IN_LEDGER,
        short: AMOUNT_DIFFERS,
        "pi_neverattempted": MISSING_IN_STRIPE,
        f"entry:{stray.pk}": MISSING_IN_STRIPE,
    }
    assert (lines[short].stripe_amount, lines[short].ledger_amount) == (3000, 2990)
    assert lines[short].difference == 10
    assert lines[unbooked].ledger_amount is None and lines[unbooked].stripe_amount == 2000
    assert lines[unbooked_refund].stripe_amount == -100
    assert lines[unbooked_refund].stripe_types == ["refund"]
    assert lines["pi_neverattempted"].stripe_amount is None
    assert lines[f"entry:{stray.pk}"].references == ["250101000001"]
    assert not result.ok and len(result.differences) == 5
    assert result.fees == 22 + 44 + 66  # fees are a total, never a difference

    out = StringIO()
    with pytest.raises(CommandError, match="5 处差异"):
        call_command("reconcile_stripe", "--from", today().isoformat(), stdout=out)
    text = out.getvalue()
    for key in (unbooked, unbooked_refund, short, "pi_neverattempted"):
        assert key in text
    assert "账本缺少" in text and "金额不符" in text and "Stripe 无此项" in text
    assert booked not in text  # matched lines only with --all


def test_entries_keyed_the_way_accounting_posts_them(stripe_sim):
    """accounting.py references Stripe sales by order number: the key comes
    from the StripePayment of that order (``sale:<number>``), and from the
    intent for ``unplaced:``/``unplaced-refund:`` entries; a reversal
    takes its corrected entry's key."""
    sold, unplaced, reversed_sale = paid(1800), paid(900), paid(400)
    auto_refund = refunded(unplaced, 900)
    for number, intent in (("261127000001", sold), ("261127000002", unplaced)):
        StripePayment.objects.create(
            intent_id=intent, method="card", order_number=number, amount=1800
        )
    StripePayment.objects.filter(intent_id=unplaced).update(auto_refund_id=auto_refund)
    StripePayment.objects.create(
        intent_id=reversed_sale, method="card", order_number="261127000003", amount=400
    )
    book("261127000001", 1800, idempotency_key="sale:261127000001")
    book("261127000002", 900, idempotency_key=f"unplaced:{unplaced}")
    book("261127000002", -900, idempotency_key=f"unplaced-refund:{unplaced}")
    wrong = book("261127000003", 400, idempotency_key="sale:261127000003")
    ledger.reverse(wrong, memo="误记")

    lines = by_key(reconcile(today(), today()))

    assert lines[sold].status == MATCHED
    assert lines[unplaced].status == MATCHED
    assert lines[auto_refund].status == MATCHED
    # The sale was reversed in the books but Stripe kept the money.
    assert lines[reversed_sale].status == AMOUNT_DIFFERS
    assert lines[reversed_sale].ledger_amount == 0
    assert len(lines[reversed_sale].entries) == 2


def test_a_payment_just_before_midnight_matches_a_booking_just_after(stripe_sim):
    yesterday = today() - dt.timedelta(days=1)
    stripe_sim.clock = lambda: at(yesterday, 23, 59, 59)
    late = paid(1200)
    stripe_sim.clock = lambda: at(yesterday - dt.timedelta(days=2), 10)
    old = paid(1300)
    book(late, 1200)  # booked now, today
    book(old, 1300)

    assert by_key(reconcile(yesterday, yesterday))[late].status == MATCHED
    today_lines = by_key(reconcile(today(), today()))
    assert today_lines[late].status == MATCHED
    # Booked two days after Stripe moved the money: a difference on both days.
    assert today_lines[old].status == MISSING_IN_STRIPE
    old_day = yesterday - dt.timedelta(days=2)
    assert by_key(reconcile(old_day, old_day))[old].status == MISSING_IN_LEDGER


def test_every_page_of_balance_transactions_is_read(stripe_sim, monkeypatch):
    monkeypatch.setattr(reconciliation, "PAGE_SIZE", 2)
    intents = [paid(100 + i) for i in range(5)]
    for i, intent in enumerate(intents):
        book(intent, 100 + i)

    result = reconcile(today(), today())

    assert result.ok and len(result.matched) == 5
    assert stripe_sim.counts["GET /v1/balance_transactions"] == 3


def test_disputes_show_as_their_own_differences(stripe_sim):
    intent = paid(5000)
    book(intent, 5000)
    charge = stripe_sim.payment_intent(intent)["latest_charge"]
    dispute = stripe_sim.dispute(charge)

    lines = by_key(reconcile(today(), today()))

    assert lines[intent].status == MATCHED
    assert lines[dispute["id"]].status == MISSING_IN_LEDGER
    assert lines[dispute["id"]].stripe_amount == -5000
    assert lines[dispute["id"]].stripe_types == ["adjustment"]


@pytest.fixture(autouse=True)
def _forget_runs():
    """The task remembers (in the cache) which day it has reconciled."""
    cache.clear()
    yield
    cache.clear()


def test_the_daily_task_reconciles_yesterday_once(stripe_sim, settings, mailoutbox):
    settings.WANGNONG_STAFF_EMAILS = ["finance@wangnong.example"]
    assert reconcile_stripe()["period"] == (today() - dt.timedelta(days=1)).isoformat()
    assert reconcile_stripe() == {"skipped": True, "period": str(today() - dt.timedelta(days=1))}
    # A period asked for by name is always reconciled.
    assert "matched" in reconcile_stripe((today() - dt.timedelta(days=1)).isoformat())


def test_the_daily_task_mails_staff_the_differences(stripe_sim, settings, mailoutbox):
    settings.WANGNONG_STAFF_EMAILS = ["finance@wangnong.example"]
    yesterday = today() - dt.timedelta(days=1)
    stripe_sim.clock = lambda: at(yesterday, 12)
    matched, missing = paid(1000), paid(2000)
    book(matched, 1000)

    outcome = reconcile_stripe()

    assert outcome["period"] == yesterday.isoformat()
    assert (outcome["matched"], outcome["differences"]) == (1, 1)
    [mail] = mailoutbox
    assert mail.to == ["finance@wangnong.example"]
    assert "1 处差异" in mail.subject
    assert missing in mail.body and matched not in mail.body


def test_the_daily_task_stays_quiet_when_all_match(stripe_sim, settings, mailoutbox):
    settings.WANGNONG_STAFF_EMAILS = ["finance@wangnong.example"]
    assert reconcile_stripe(today().isoformat())["differences"] == 0
    assert mailoutbox == []


def test_the_daily_task_reports_when_stripe_cannot_be_read(stripe_sim, settings, mailoutbox):
    settings.ADMINS = [("财务", "admin@wangnong.example")]
    stripe_sim.set_mode(fail_next=10)
    outcome = reconcile_stripe()
    assert "error" in outcome
    [mail] = mailoutbox
    assert mail.to == ["admin@wangnong.example"]
    assert "未能完成" in mail.subject
    # The next run tries again.
    stripe_sim.reset_modes()
    assert "matched" in reconcile_stripe()


def test_without_stripe_keys_nothing_runs(settings, mailoutbox):
    settings.STRIPE_SECRET_KEY = ""
    assert reconcile_stripe() == {"skipped": True}
    with pytest.raises(CommandError):
        call_command("reconcile_stripe")
    assert mailoutbox == []


def test_the_command_refuses_bad_dates(stripe_sim):
    with pytest.raises(CommandError):
        call_command("reconcile_stripe", "--from", "2025-13-01")
    with pytest.raises(CommandError):
        call_command("reconcile_stripe", "--from", "2025-01-02", "--to", "2025-01-01")
