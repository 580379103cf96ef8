"""Settlement statements (shop/payment/settlement.py): which postings a
statement takes, its totals, the settlement and payout entries, generating
twice, paying once, the balances, the weekly task, and the documents."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import uuid
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from shop.payment import ledger, refunds, settlement, statement_documents, tasks
from shop.payment.models import JournalEntry, Posting, Statement, StatementItem
from stations import ordering
from tests import factories
from tests.cooperatives.conftest import make_cooperative
from tests.payment.builders import days_ago, deliver, quick_order, station_order
from tests.stations.conftest import make_resident, make_staff, make_station

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def owed(code: str) -> int:
    """What a liability account owes (its credit balance), in fen."""
    account = ledger.LedgerAccount.objects.filter(code=code).first()
    return -ledger.balance(account) if account else 0


@pytest.fixture
def world(china, carriers):
    """Two cooperatives (default 5% commission): 沙窝萝卜 ¥20, 七里海河蟹 ¥88."""
    radish_coop = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    crab_coop = make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )
    radish = factories.product(
        "沙窝萝卜", price="20.00", stock=500, partner_obj=radish_coop.partner
    )
    crab = factories.product("七里海河蟹", price="88.00", stock=500, partner_obj=crab_coop.partner)
    return {
        "radish_coop": radish_coop,
        "crab_coop": crab_coop,
        "radish": radish,
        "crab": crab,
        "staff": get_user_model().objects.create_user(
            "finance", "finance@example.com", "x", is_staff=True
        ),
    }


def line_of(order, product):
    return order.lines.get(product=product)


def refund_line(order, line, fen: int, by) -> None:
    refunds.refund(order, lines={line.pk: fen}, reason="品相不好", by=by, token=uuid.uuid4())


# --- Which postings -------------------------------------------------------------------------


def test_only_lines_delivered_past_the_return_window_are_settled(world):
    partner = world["radish_coop"].partner
    d = today() - dt.timedelta(days=1)
    settled = quick_order([(world["radish"], 2)])  # ¥40, commission ¥2
    deliver(settled.lines.all(), at=days_ago(10))
    recent = quick_order([(world["radish"], 1)])
    deliver(recent.lines.all(), at=days_ago(3))  # inside the 7-day window at d
    quick_order([(world["radish"], 3)])  # not delivered

    [statement] = settlement.generate_statements(d)

    assert statement.number == f"JS-C{partner.pk}-{d:%Y%m%d}"
    assert statement.party == Statement.Party.COOPERATIVE and statement.partner == partner
    # A first statement covers a whole period at least (its first posting
    # was made today here, as deliveries are back-dated but postings cannot be).
    assert statement.period_end == d
    assert statement.period_start == d - dt.timedelta(days=6)
    assert (statement.gross, statement.commission, statement.refunds) == (4000, 200, 0)
    assert statement.payable == 3800 and statement.status == Statement.Status.ISSUED
    items = Posting.objects.filter(statement_item__statement=statement)
    assert {p.line_id for p in items} == {line_of(settled, world["radish"]).pk}
    assert sorted(p.amount for p in items) == [-4000, 200]
    # One settlement entry moved them to the payable account.
    assert statement.entry.kind == "settlement" and statement.entry.reference == statement.number
    assert owed(f"coop:{partner.pk}") == 3800
    assert owed(f"coop-pending:{partner.pk}") == (2000 - 100) + (6000 - 300)
    assert settlement.balance(partner) == settlement.Balance(pending=7600, payable=3800)
    assert ledger.trial_balance() == 0
    # The other cooperative sold nothing: no statement.
    assert not Statement.objects.filter(partner=world["crab_coop"].partner).exists()


def test_the_return_window_ends_at_midnight_beijing_time(world, settings):
    settings.WANGNONG_RETURN_WINDOW_DAYS = 7
    d = today() - dt.timedelta(days=1)
    last_day = d - dt.timedelta(days=7)
    tz = timezone.get_current_timezone()
    in_time = quick_order([(world["radish"], 1)], shipping="0.00")
    deliver(in_time.lines.all(), at=dt.datetime.combine(last_day, dt.time(23, 59, 59), tz))
    too_late = quick_order([(world["radish"], 2)], shipping="0.00")
    deliver(
        too_late.lines.all(),
        at=dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0, 0), tz),
    )
    [statement] = settlement.generate_statements(d)
    assert statement.gross == 2000
    # A day later the second one is due too.
    [later] = settlement.generate_statements(d + dt.timedelta(days=1), today=d + dt.timedelta(1))
    assert later.gross == 4000 and later.period_start == d + dt.timedelta(days=1)


def test_generating_twice_creates_nothing_more(world):
    d = today() - dt.timedelta(days=1)
    order = quick_order([(world["radish"], 1), (world["crab"], 1)])
    deliver(order.lines.all(), at=days_ago(9))
    first = settlement.generate_statements(d)
    assert len(first) == 2
    counts = (
        Statement.objects.count(),
        StatementItem.objects.count(),
        JournalEntry.objects.count(),
    )
    assert settlement.generate_statements(d) == []
    assert (
        Statement.objects.count(),
        StatementItem.objects.count(),
        JournalEntry.objects.count(),
    ) == counts
    # Nothing new is eligible later either: each posting is settled once.
    assert settlement.generate_statements(today()) == []


def test_a_period_end_still_to_come_is_refused(world):
    with pytest.raises(ValidationError, match="截止日不能晚于今天"):
        settlement.generate_statements(today() + dt.timedelta(days=1))
    assert settlement.generate_statements(today()) == []


def test_a_refund_after_settlement_is_deducted_on_the_next_statement(world):
    partner = world["radish_coop"].partner
    staff = world["staff"]
    d1, d2 = today() - dt.timedelta(days=2), today() - dt.timedelta(days=1)
    first = quick_order([(world["radish"], 2)])  # ¥40
    deliver(first.lines.all(), at=days_ago(20))
    second = quick_order([(world["radish"], 5)])  # ¥100, delivered on d2 − 7
    deliver(second.lines.all(), at=days_ago(8))
    [s1] = settlement.generate_statements(d1)
    assert s1.payable == 3800

    # Half of the first line comes back after it was settled: ¥20 and ¥1
    # of commission given back.
    refund_line(first, line_of(first, world["radish"]), 2000, staff)
    assert settlement.balance(partner).pending == -(2000 - 100) + (10000 - 500)

    [s2] = settlement.generate_statements(d2)
    assert s2.period_start == d1 + dt.timedelta(days=1)
    assert (s2.gross, s2.commission, s2.refunds) == (10000, 500 - 100, 2000)
    assert s2.payable == 10000 - 400 - 2000
    rows = {row.order_number: row for row in statement_documents.statement_rows(s2)}
    refunded = rows[first.number].amounts
    assert (refunded.gross, refunded.commission, refunded.refunds) == (0, -100, 2000)
    assert refunded.payable == -1900
    assert rows[second.number].amounts.payable == 9500
    assert owed(f"coop:{partner.pk}") == s1.payable + s2.payable
    assert settlement.balance(partner).pending == 0
    assert ledger.trial_balance() == 0


def test_refunds_with_nothing_to_net_them_against_wait_in_pending(world):
    partner = world["radish_coop"].partner
    d1, d2, d3 = (today() - dt.timedelta(days=n) for n in (3, 2, 1))
    order = quick_order([(world["radish"], 2)])
    deliver(order.lines.all(), at=days_ago(30))
    [s1] = settlement.generate_statements(d1)
    refund_line(order, line_of(order, world["radish"]), 4000, world["staff"])

    # Only a deduction is due: no statement; the cooperative owes ¥38.
    assert settlement.generate_statements(d2) == []
    assert settlement.balance(partner) == settlement.Balance(pending=-3800, payable=3800)

    later = quick_order([(world["radish"], 3)])  # ¥60 − ¥3
    deliver(later.lines.all(), at=days_ago(9))
    [s3] = settlement.generate_statements(d3)
    assert (s3.gross, s3.commission, s3.refunds, s3.payable) == (6000, 300 - 200, 4000, 1900)
    assert s3.period_start == d1 + dt.timedelta(days=1)
    assert settlement.balance(partner) == settlement.Balance(pending=0, payable=3800 + 1900)


def test_a_sale_and_its_full_refund_make_a_statement_with_nothing_to_pay(world):
    order = quick_order([(world["crab"], 1)])
    deliver(order.lines.all(), at=days_ago(12))
    refund_line(order, line_of(order, world["crab"]), 8800, world["staff"])
    [statement] = settlement.generate_statements(today() - dt.timedelta(days=1))
    assert (statement.gross, statement.commission, statement.refunds) == (8800, 0, 8800)
    assert statement.payable == 0
    assert settlement.status_label(statement) == "无需付款"
    assert not settlement.needs_payment(statement)
    with pytest.raises(ValidationError, match="无需付款"):
        settlement.mark_paid(statement, "ICBC-0001", world["staff"])
    statement.refresh_from_db()
    assert statement.status == Statement.Status.ISSUED and statement.payout_entry is None


def test_a_line_never_delivered_is_never_settled(world):
    order = quick_order([(world["radish"], 1)])
    refund_line(order, line_of(order, world["radish"]), 2000, world["staff"])  # cancelled
    assert settlement.generate_statements(today()) == []
    assert settlement.balance(world["radish_coop"].partner).pending == 0


def test_totals_classify_reversals_by_what_they_reverse():
    amounts = settlement.Amounts()
    coop = Statement.Party.COOPERATIVE
    for kind, fen in [
        ("sale", -4000),
        ("sale", 200),
        ("refund", 1000),
        ("refund", -50),
        ("sale-reversal", 4000),
        ("sale-reversal", -200),
    ]:
        amounts.add(coop, kind, fen)
    assert (amounts.gross, amounts.commission, amounts.refunds) == (0, -50, 1000)
    assert amounts.payable == amounts.gross - amounts.commission - amounts.refunds == -950


# --- Paying -------------------------------------------------------------------------------------


@pytest.fixture
def issued(world):
    order = quick_order([(world["radish"], 2), (world["crab"], 1)])
    deliver(order.lines.all(), at=days_ago(15))
    settlement.generate_statements(today() - dt.timedelta(days=1))
    return Statement.objects.get(partner=world["radish_coop"].partner)


def test_mark_paid_records_the_payout_once(world, issued):
    staff = world["staff"]
    partner = world["radish_coop"].partner
    bank_before = -owed("bank:platform")

    paid = settlement.mark_paid(issued, "  ICBC 2026-11-30 0001 ", staff)

    assert paid.status == Statement.Status.PAID and paid.paid_by == staff
    assert paid.bank_reference == "ICBC 2026-11-30 0001" and paid.paid_at is not None
    entry = paid.payout_entry
    assert entry.kind == "payout" and entry.reference == issued.number
    assert sorted(entry.postings.values_list("account__code", "amount")) == [
        ("bank:platform", -3800),
        (f"coop:{partner.pk}", 3800),
    ]
    assert owed(f"coop:{partner.pk}") == 0
    assert -owed("bank:platform") == bank_before - 3800
    assert settlement.balance(partner).payable == 0

    with pytest.raises(ValidationError, match="已标记为已付款"):
        settlement.mark_paid(issued, "ICBC 2026-11-30 0002", staff)
    issued.refresh_from_db()
    assert issued.bank_reference == "ICBC 2026-11-30 0001"
    assert JournalEntry.objects.filter(kind="payout").count() == 1
    assert ledger.trial_balance() == 0


@pytest.mark.parametrize("reference", ["", "   ", "x" * 65, "ICBC\x000001"])
def test_mark_paid_needs_a_bank_reference(world, issued, reference):
    with pytest.raises(ValidationError):
        settlement.mark_paid(issued, reference, world["staff"])
    issued.refresh_from_db()
    assert issued.status == Statement.Status.ISSUED and issued.payout_entry is None
    assert not JournalEntry.objects.filter(kind="payout").exists()


# --- Stations ---------------------------------------------------------------------------------


@pytest.fixture
def station(world, settings):
    settings.WANGNONG_STATION_COMMISSION_FIXED = "1.00"
    settings.WANGNONG_STATION_COMMISSION_RATE = "2"
    station = make_station()
    make_staff(station)
    make_resident(station, "王秀英", phone="13812345678")
    return station


def test_station_commission_is_settled_and_a_cancellation_reverses_on_the_next(world, station):
    d1, d2 = today(), today() + dt.timedelta(days=1)
    first = station_order(station, [(world["radish"], 2)])  # ¥40: ¥1 + 2% = ¥1.80
    [s1] = settlement.generate_statements(d1)
    assert s1.party == Statement.Party.STATION and s1.station == station
    assert s1.number == f"JS-S{station.pk}-{d1:%Y%m%d}"
    assert (s1.gross, s1.commission, s1.refunds, s1.payable) == (0, 180, 0, 180)
    assert settlement.station_balance(station) == settlement.Balance(pending=0, payable=180)

    ordering.cancel_assisted_order(first, first.placed_by, "居民不要了")
    station_order(station, [(world["crab"], 1)])  # ¥88: ¥2.76
    # Written today, so due on a statement for today's date at the
    # earliest: d2, generated on d2.
    [s2] = settlement.generate_statements(d2, today=d2)
    assert (s2.commission, s2.refunds, s2.payable) == (276, 180, 96)
    rows = statement_documents.statement_rows(s2)
    assert [r.cancelled for r in rows] == [True, False]
    assert [r.amounts.payable for r in rows] == [-180, 276]
    assert settlement.station_balance(station) == settlement.Balance(pending=0, payable=276)
    assert ledger.trial_balance() == 0


def test_station_postings_after_the_cut_off_wait_for_the_next_statement(world, station):
    station_order(station, [(world["radish"], 1)])
    assert settlement.generate_statements(today() - dt.timedelta(days=1)) == []
    assert settlement.station_balance(station).pending == 140


# --- The weekly task ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 11, 30), dt.date(2026, 11, 29)),  # Monday → the Sunday just gone
        (dt.date(2026, 12, 6), dt.date(2026, 11, 29)),  # Sunday → the one before
        (dt.date(2026, 12, 2), dt.date(2026, 11, 29)),
    ],
)
def test_the_period_ends_on_the_last_sunday_before_today(day, expected, settings):
    settings.WANGNONG_SETTLEMENT_PERIOD_DAYS = 7
    assert settlement.latest_period_end(day) == expected
    assert expected.isoweekday() == 7


def test_the_task_runs_from_the_beat_schedule_and_is_idempotent(world):
    entry = django_settings.CELERY_BEAT_SCHEDULE["payment-generate-statements"]
    assert entry["task"] == "payment.generate_statements"
    order = quick_order([(world["radish"], 1)])
    deliver(order.lines.all(), at=days_ago(30))
    end = settlement.latest_period_end()
    assert tasks.generate_statements.apply().result == 1
    assert Statement.objects.get().period_end == end
    assert tasks.generate_statements.apply().result == 0
    day = (end - dt.timedelta(days=7)).isoformat()
    assert tasks.generate_statements.apply(kwargs={"period_end": day}).result == 0


# --- Documents ----------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils' pdftotext is needed"
    done = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def test_the_pdf_lists_the_statement_in_chinese(world, issued):
    settlement.mark_paid(issued, "ICBC-20261130-0001", world["staff"])
    issued.refresh_from_db()
    data = statement_documents.statement_pdf(issued)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert issued.number in text
    for words in ("合作社结算单", "沙窝萝卜", "已付款", "ICBC-20261130-0001", "38.00", "40.00"):
        assert words in text, words
    assert world["radish_coop"].display_name in text


def test_the_csv_has_a_bom_and_rows_that_add_up(world, issued):
    response = statement_documents.csv_download(issued)
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    assert response["Content-Disposition"] == f'attachment; filename="{issued.number}.csv"'
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["结算单号", issued.number]
    header = rows.index(["订单号", "送达日期", "商品", "数量", "货款", "佣金", "退款", "应付"])
    body, total = rows[header + 1 : -1], rows[-1]
    assert [(r[2], r[3], r[4], r[5], r[7]) for r in body] == [
        ("沙窝萝卜", "2", "40.00", "2.00", "38.00")
    ]
    assert total[0] == "合计" and total[-1] == "38.00"
    assert sum(Decimal(r[7]) for r in body) == Decimal(total[-1])
