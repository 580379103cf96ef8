"""The issue's ledger reliability test: a seeded run of 1,000 random money
operations through the production services — sales (cash on delivery, card
at the local Stripe simulator, a village station's cash), deliveries,
refunds (shop/payment/refunds.py, through Stripe for card payments),
cancelled station orders, statements generated at advancing cut-off days
and paid — after which the books balance to the fen, each cooperative's and
station's payable balance is Σ its statements' payable − Σ payouts, every
statement holds exactly the postings it should, and no posting is on two
statements. Also: two generations and two payments racing each other.

Orders are built fast (tests/payment/builders.py: the rows, then
``accounting.record_sale`` as the checkout posts it); everything after that
is the real code. Time moves by back-dating nothing but the carriers'
delivery events and passing the simulated day as ``today`` to
``generate_statements`` (a statement's day may not be in the future).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from cooperatives import fulfilment
from shop.payment import ledger, refunds, settlement
from shop.payment.models import CommissionRule, JournalEntry, Posting, Statement, StatementItem
from stations import ordering
from stations.models import StationOrder
from tests import factories
from tests.cooperatives.conftest import make_cooperative
from tests.payment.builders import (
    COD,
    STRIPE,
    days_ago,
    deliver,
    pay_at_stripe,
    quick_order,
    station_order,
)
from tests.stations.conftest import make_resident, make_staff, make_station

pytestmark = pytest.mark.reliability

SEED = 20261127
OPERATIONS = 1000
Party = Statement.Party
UNDELIVERED = (fulfilment.PENDING, fulfilment.ACCEPTED, fulfilment.PACKED, fulfilment.SHIPPED)


def owed(code: str) -> int:
    account = ledger.LedgerAccount.objects.filter(code=code).first()
    return -ledger.balance(account) if account else 0


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def shop(china, carriers, settings):
    """Three cooperatives, six products at awkward prices, commission rules
    (a cooperative's own rate, a category's, both), two stations."""
    settings.WANGNONG_STATION_COMMISSION_FIXED = "1.00"
    settings.WANGNONG_STATION_COMMISSION_RATE = "2.5"
    coops = [
        make_cooperative(
            "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
        ),
        make_cooperative(
            "天津市宁河区七里海生态养殖专业合作社",
            credit_prefix="93120117MA06K5678",
            division_code="120117",
        ),
        make_cooperative(
            "天津市蓟州区盘山果品专业合作社",
            credit_prefix="93120119MA07P0001",
            division_code="120119",
        ),
    ]
    fruit = factories.category("水果")
    prices = [("19.90", coops[0]), ("33.33", coops[0]), ("88.00", coops[1]), ("7.77", coops[1])]
    prices += [("128.50", coops[2]), ("0.99", coops[2])]
    products = [
        factories.product(
            f"商品{n}",
            price=price,
            stock=None,
            partner_obj=coop.partner,
            categories=[fruit] if n % 2 else [],
        )
        for n, (price, coop) in enumerate(prices)
    ]
    CommissionRule.objects.create(partner=coops[0].partner, rate=Decimal("7.5"))
    CommissionRule.objects.create(category=fruit, rate=Decimal("3"))
    CommissionRule.objects.create(partner=coops[2].partner, category=fruit, rate=Decimal("11"))
    stations = [make_station(), make_station("七里海镇益农信息社", "120117110201")]
    for station in stations:
        make_staff(station)
        make_resident(station, "王秀英", phone=None)
    staff = get_user_model().objects.create_user("finance", "f@example.com", "x", is_staff=True)
    return {"coops": coops, "products": products, "stations": stations, "staff": staff}


class Run:
    """The simulation's state: the day, the orders, what it did."""

    def __init__(self, shop, rng: random.Random):
        self.shop = shop
        self.rng = rng
        self.start = timezone.localdate()
        self.day = 0
        self.orders: list = []
        self.station_orders: dict[int, StationOrder] = {}
        self.done: Counter = Counter()

    @property
    def date(self) -> dt.date:
        return self.start + dt.timedelta(days=self.day)

    # --- operations -------------------------------------------------------------------

    def sale(self) -> None:
        products = self.rng.sample(self.shop["products"], self.rng.randint(1, 3))
        items = [(p, self.rng.randint(1, 4)) for p in products]
        how = self.rng.choices(["cod", "stripe", "station"], weights=[4, 3, 2])[0]
        if how == "station":
            so = station_order(self.rng.choice(self.shop["stations"]), items)
            self.station_orders[so.order_id] = so
            order = so.order
        else:
            order = quick_order(
                items,
                source=COD if how == "cod" else STRIPE,
                shipping=self.rng.choice(["0.00", "8.00", "12.50"]),
            )
            if how == "stripe":
                pay_at_stripe(order)
        self.orders.append(order)
        self.done[f"sale {how}"] += 1

    def delivery(self) -> None:
        waiting = [
            o
            for o in self.rng.sample(self.orders, min(len(self.orders), 20))
            if o.lines.filter(status__in=UNDELIVERED).exists()
        ]
        if not waiting:
            return
        order = waiting[0]
        lines = list(order.lines.exclude(status__in=fulfilment.SETTLED))
        deliver(lines, at=noon(self.date))
        self.done["delivery"] += 1

    def refund(self) -> None:
        order = self.rng.choice(self.orders)
        left = refunds.refundable(order)
        lines = [(line_id, fen) for line_id, fen in left.lines.items() if fen > 0]
        if not lines:
            return
        line_id, most = self.rng.choice(lines)
        fen = most if self.rng.random() < 0.4 else self.rng.randint(1, most)
        shipping = left.shipping if left.shipping and self.rng.random() < 0.2 else 0
        refunds.refund(
            order,
            lines={line_id: fen},
            shipping=shipping,
            reason="随机退款",
            by=self.shop["staff"],
            token=uuid.uuid4(),
        )
        self.done["refund full" if fen == most else "refund part"] += 1

    def cancel(self) -> None:
        candidates = [
            so
            for so in self.station_orders.values()
            if so.cancelled_at is None
            and not so.order.lines.exclude(status__in=ordering.CANCELLABLE_LINE_STATUSES).exists()
        ]
        if not candidates:
            return
        so = self.rng.choice(candidates)
        try:
            ordering.cancel_assisted_order(so, so.placed_by, "居民不要了")
        except ValidationError:
            return  # refunded in full already: nothing to cancel
        so.refresh_from_db()
        self.done["station cancel"] += 1

    def next_day(self) -> None:
        self.day += self.rng.randint(1, 3)

    def statements(self) -> None:
        made = settlement.generate_statements(self.date, today=self.date)
        self.done["statements"] += len(made)
        self.done["generations"] += 1

    def payout(self) -> None:
        due = list(Statement.objects.filter(status=Statement.Status.ISSUED, payable__gt=0))
        if not due:
            return
        settlement.mark_paid(self.rng.choice(due), f"BANK-{self.rng.randrange(10**8)}", None)
        self.done["payout"] += 1

    def step(self) -> None:
        if not self.orders:
            return self.sale()
        op = self.rng.choices(
            [
                self.sale,
                self.delivery,
                self.refund,
                self.cancel,
                self.next_day,
                self.statements,
                self.payout,
            ],
            weights=[36, 22, 14, 3, 11, 7, 7],
        )[0]
        op()
        return None


def check_books(shop) -> None:
    """Everything that must hold at any moment."""
    assert ledger.trial_balance() == 0

    # No posting on two statements (also a unique constraint), and each
    # statement's totals are its items'.
    assert (
        StatementItem.objects.values("posting").annotate(n=Count("pk")).filter(n__gt=1).count() == 0
    )
    items = defaultdict(list)
    for item in StatementItem.objects.select_related("posting__entry", "posting__account"):
        items[item.statement_id].append(item.posting)
    window = dt.timedelta(days=settings.WANGNONG_RETURN_WINDOW_DAYS)
    for statement in Statement.objects.all():
        postings = items[statement.pk]
        assert postings, statement.number
        sums = settlement.totals(statement.party, postings)
        assert (sums.gross, sums.commission, sums.refunds, sums.payable) == (
            statement.gross,
            statement.commission,
            statement.refunds,
            statement.payable,
        ), statement.number
        assert statement.payable >= 0
        assert all(p.entry.kind != "settlement" for p in postings)
        if statement.party == Party.COOPERATIVE:
            assert {p.account.code for p in postings} == {f"coop-pending:{statement.partner_id}"}
            delivered = fulfilment.delivered_at(p.line_id for p in postings)
            limit = settlement.day_start(statement.period_end - window + dt.timedelta(days=1))
            assert all(delivered[p.line_id] < limit for p in postings), statement.number
        else:
            assert {p.account.code for p in postings} == {f"station-pending:{statement.station_id}"}
            end = settlement.day_start(statement.period_end + dt.timedelta(days=1))
            assert all(p.entry.created_at < end for p in postings)
        # The settlement entry mirrors the items onto the payable account.
        legs = statement.entry.postings.all()
        assert legs.filter(account__code__contains="pending:").aggregate(s=Sum("amount"))[
            "s"
        ] == -sum(p.amount for p in postings)

    # Each party's payable balance is Σ statements' payable − Σ payouts,
    # and its pending balance is what is on no statement.
    parties = [(Party.COOPERATIVE, c.partner) for c in shop["coops"]]
    parties += [(Party.STATION, s) for s in shop["stations"]]
    for party, owner in parties:
        if party == Party.COOPERATIVE:
            mine = Statement.objects.filter(partner=owner)
            balance = settlement.balance(owner)
            payable_code, pending_code = f"coop:{owner.pk}", f"coop-pending:{owner.pk}"
        else:
            mine = Statement.objects.filter(station=owner)
            balance = settlement.station_balance(owner)
            payable_code, pending_code = f"station:{owner.pk}", f"station-pending:{owner.pk}"
        # Its statements follow each other, day after day.
        periods = list(mine.order_by("period_end").values_list("period_start", "period_end"))
        for (_start, end), (start, _end) in zip(periods, periods[1:], strict=False):
            assert start == end + dt.timedelta(days=1)
        assert all(start <= end for start, end in periods)
        issued = mine.aggregate(s=Sum("payable"))["s"] or 0
        payouts = -(
            Posting.objects.filter(entry__kind="payout", account__code=payable_code).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
        paid = mine.filter(status=Statement.Status.PAID).aggregate(s=Sum("payable"))["s"] or 0
        assert payouts == -paid
        assert owed(payable_code) == balance.payable == issued - paid
        unsettled = (
            Posting.objects.filter(account__code=pending_code, statement_item__isnull=True)
            .exclude(entry__kind="settlement")
            .aggregate(s=Sum("amount"))["s"]
            or 0
        )
        assert owed(pending_code) == balance.pending == -unsettled


def test_a_thousand_random_money_operations_keep_the_books(shop, stripe_sim):
    rng = random.Random(SEED)
    run = Run(shop, rng)
    for n in range(OPERATIONS):
        run.step()
        if n % 250 == 249:
            check_books(shop)
    # Every kind of operation happened, several times.
    for kind in ("sale cod", "sale stripe", "sale station", "delivery", "refund part"):
        assert run.done[kind] >= 10, run.done
    for kind in ("refund full", "station cancel", "payout", "statements"):
        assert run.done[kind] >= 3, run.done
    check_books(shop)

    # Then everything left is delivered, the return window passes, the
    # statements are made and paid: nothing earned is left unsettled, and
    # what is left pending is at most what a cooperative owes back.
    run.day += 1
    for order in run.orders:
        lines = list(order.lines.filter(status__in=UNDELIVERED))
        if lines:
            deliver(lines, at=noon(run.date))
    run.day += settings.WANGNONG_RETURN_WINDOW_DAYS + 1
    run.statements()
    for statement in Statement.objects.filter(status=Statement.Status.ISSUED, payable__gt=0):
        settlement.mark_paid(statement, "BANK-FINAL", shop["staff"])
    check_books(shop)
    for coop in shop["coops"]:
        balance = settlement.balance(coop.partner)
        assert balance.payable == 0 and balance.pending <= 0, (coop, balance)
    for station in shop["stations"]:
        balance = settlement.station_balance(station)
        assert balance.payable == 0 and balance.pending <= 0, (station, balance)
    assert Statement.objects.count() >= 10
    print(f"\nledger reliability: {dict(run.done)}; {JournalEntry.objects.count()} entries")


# --- Races -------------------------------------------------------------------------------------------


def race(target, n: int = 4) -> tuple[list, list]:
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_generating_and_paying_at_the_same_time_happens_once(china, carriers):
    coop = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    radish = factories.product("沙窝萝卜", price="20.00", stock=None, partner_obj=coop.partner)
    for _ in range(3):
        order = quick_order([(radish, 2)])
        deliver(order.lines.all(), at=days_ago(10))
    day = timezone.localdate() - dt.timedelta(days=1)

    results, errors = race(lambda: [s.pk for s in settlement.generate_statements(day)])
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    statement = Statement.objects.get()
    assert statement.items.count() == 6 and statement.payable == 3 * 3800
    assert JournalEntry.objects.filter(kind="settlement").count() == 1

    results, errors = race(lambda: settlement.mark_paid(statement, "ICBC-RACE", None).pk)
    assert len(results) == 1 and len(errors) == 3
    assert all("已标记为已付款" in str(e) for e in errors)
    assert JournalEntry.objects.filter(kind="payout").count() == 1
    assert owed(f"coop:{coop.partner.pk}") == 0
    assert ledger.trial_balance() == 0
