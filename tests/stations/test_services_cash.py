"""stations.cash: the ledger, the drawer, the daily close (once a day, also
when two staff close at the same moment), what a station owes the platform,
and the ledger and closes staying as written."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from stations import cash, ordering
from stations.models import CashEntry, DayClose
from tests.stations.conftest import (
    assisted_order,
    make_resident,
    make_staff,
    make_station,
    staff_of,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
D = Decimal


@pytest.fixture
def platform_user(db):
    return User.objects.create_user("finance", "finance@example.com", "pw", is_staff=True)


def sale(station, resident, produce, quantity=1):
    """An order of ``quantity`` radishes (¥20 each) paid in cash."""
    return assisted_order(station, resident, [(produce["radish"], quantity)])


def entries_snapshot(station):
    return list(
        CashEntry.objects.filter(station=station)
        .order_by("pk")
        .values_list("pk", "amount", "day_close_id")
    )


# --- The drawer and the close ---------------------------------------------------------------


def test_drawer_counts_sales_refunds_and_remittances(station_a, resident_a, produce, platform_user):
    staff = staff_of(station_a)
    first = sale(station_a, resident_a, produce, 2)  # +40
    sale(station_a, resident_a, produce, 1)  # +20
    ordering.cancel_assisted_order(first, staff, "居民不要了")  # −40
    cash.record_remittance(station_a, platform_user, D("15"), "上缴")  # −15
    d = cash.drawer(station_a)
    assert (d.opening, d.receipts, d.refunds, d.remittances) == (
        D("0"),
        D("60"),
        D("-40"),
        D("-15"),
    )
    assert d.expected == D("5.00")
    assert cash.outstanding_balance(station_a) == D("5.00")
    assert [e.kind for e in cash.open_entries(station_a)] == [
        "sale",
        "sale",
        "refund",
        "remittance",
    ]


def test_close_records_the_count_and_stamps_the_entries(station_a, resident_a, produce):
    staff = staff_of(station_a)
    sale(station_a, resident_a, produce, 3)  # +60
    close = cash.close_day(station_a, staff, D("60.00"), note="  一切 正常 ")
    assert close.business_date == cash.today() == timezone.localdate()
    assert (close.opening, close.receipts, close.expected, close.counted, close.difference) == (
        D("0"),
        D("60"),
        D("60"),
        D("60"),
        D("0"),
    )
    assert close.note == "一切 正常"
    assert close.closed_by == staff
    assert set(
        CashEntry.objects.filter(station=station_a).values_list("day_close_id", flat=True)
    ) == {close.pk}
    assert not cash.open_entries(station_a).exists()
    assert cash.is_closed(station_a, close.business_date)


def test_closing_a_day_twice_is_refused(station_a, resident_a, produce):
    staff = staff_of(station_a)
    sale(station_a, resident_a, produce)
    first = cash.close_day(station_a, staff, D("20"))
    sale(station_a, resident_a, produce)  # after the close
    entries = entries_snapshot(station_a)
    with pytest.raises(ValidationError) as exc:
        cash.close_day(station_a, staff, D("40"))
    assert "已经日结过了" in exc.value.messages[0]
    assert first.business_date.isoformat() in exc.value.messages[0]
    assert list(DayClose.objects.filter(station=station_a)) == [first]
    assert entries_snapshot(station_a) == entries  # the new sale stays open


def test_entries_after_a_close_go_to_the_next_day(station_a, resident_a, produce, platform_user):
    staff = staff_of(station_a)
    today = cash.today()
    sale(station_a, resident_a, produce, 5)  # +100
    first = cash.close_day(station_a, staff, D("99.50"))  # 0.50 short
    later = sale(station_a, resident_a, produce, 1)  # +20, after the close
    cash.record_remittance(station_a, platform_user, D("50"))
    assert CashEntry.objects.get(station_order=later).day_close is None
    d = cash.drawer(station_a)
    assert d.opening == D("99.50")  # what was counted, not what was expected
    assert d.expected == D("69.50")

    second = cash.close_day(
        station_a, staff, D("69.50"), business_date=today + dt.timedelta(days=1)
    )
    assert second.opening == first.counted == D("99.50")
    assert (second.receipts, second.remittances, second.expected) == (D("20"), D("-50"), D("69.50"))
    assert second.difference == D("0")
    assert CashEntry.objects.get(station_order=later).day_close == second
    assert set(first.entries.values_list("kind", flat=True)) == {"sale"}
    assert first.entries.count() == 1
    assert cash.last_close(station_a) == second


def test_a_shortage_is_a_negative_difference_and_does_not_reduce_what_is_owed(
    station_a, resident_a, produce
):
    staff = staff_of(station_a)
    sale(station_a, resident_a, produce, 4)  # +80
    owed = cash.outstanding_balance(station_a)
    close = cash.close_day(station_a, staff, D("72.00"), note="少了八块")
    assert close.difference == D("-8.00")
    assert cash.outstanding_balance(station_a) == owed == D("80.00")
    assert cash.drawer(station_a).expected == D("72.00")  # the next day starts from the count


def test_an_overage_is_a_positive_difference(station_a, resident_a, produce):
    sale(station_a, resident_a, produce, 1)
    close = cash.close_day(station_a, staff_of(station_a), D("25"))
    assert close.difference == D("5.00")


def test_close_refuses_a_missing_or_negative_count(station_a):
    for counted in (None, D("-1")):
        with pytest.raises(ValidationError) as exc:
            cash.close_day(station_a, staff_of(station_a), counted)
        assert "counted" in exc.value.message_dict
    assert not DayClose.objects.exists()


def test_an_empty_day_can_be_closed(station_a):
    close = cash.close_day(station_a, staff_of(station_a), D("0"))
    assert close.expected == close.counted == close.difference == D("0")


def test_closes_are_per_station(station_a, station_b, resident_a, resident_b, produce):
    sale(station_a, resident_a, produce, 1)
    sale(station_b, resident_b, produce, 2)
    close_a = cash.close_day(station_a, staff_of(station_a), D("20"))
    assert close_a.receipts == D("20")
    assert cash.open_entries(station_b).count() == 1
    close_b = cash.close_day(station_b, staff_of(station_b), D("40"))  # same date, other station
    assert close_b.receipts == D("40")


# --- Refunds and remittances ------------------------------------------------------------------


def test_refunds_cannot_exceed_the_order(station_a, resident_a, produce):
    staff = staff_of(station_a)
    so = sale(station_a, resident_a, produce, 1)
    cash.record_refund(so, staff, D("15"))
    with pytest.raises(ValidationError, match="退款合计不能超过"):
        cash.record_refund(so, staff, D("5.01"))
    with pytest.raises(ValidationError):
        cash.record_refund(so, staff, D("0"))
    assert CashEntry.objects.filter(station_order=so, kind="refund").count() == 1


def test_remittance_must_be_positive(station_a, platform_user):
    with pytest.raises(ValidationError) as exc:
        cash.record_remittance(station_a, platform_user, D("0"))
    assert "amount" in exc.value.message_dict
    assert not CashEntry.objects.exists()


# --- Every station's balance ------------------------------------------------------------------


def test_balances_sum_correctly_with_several_entries_and_closes(
    station_a, station_b, resident_a, resident_b, produce, platform_user
):
    """Three entries and two closes at A would give 6 rows in a join: the
    sums must not be multiplied."""
    staff = staff_of(station_a)
    today = cash.today()
    sale(station_a, resident_a, produce, 1)  # +20
    cash.close_day(station_a, staff, D("20"), business_date=today - dt.timedelta(days=2))
    sale(station_a, resident_a, produce, 2)  # +40
    cash.record_remittance(station_a, platform_user, D("30"))  # −30
    cash.close_day(station_a, staff, D("29"), business_date=today - dt.timedelta(days=1))  # −1
    sale(station_a, resident_a, produce, 3)  # +60, open
    sale(station_b, resident_b, produce, 1)  # +20
    quiet = make_station("花园路益农信息社", "120101001001")

    rows = {s.pk: s for s in cash.balances()}
    assert rows[station_a.pk].outstanding == D("90.00") == cash.outstanding_balance(station_a)
    assert rows[station_a.pk].last_close_date == today - dt.timedelta(days=1)
    assert rows[station_a.pk].last_difference == D("-1.00")
    assert rows[station_b.pk].outstanding == D("20.00")
    assert rows[station_b.pk].last_close_date is None
    assert rows[quiet.pk].outstanding == D("0")
    assert rows[quiet.pk].last_difference is None
    assert len(rows) == 3


# --- Written once -----------------------------------------------------------------------------


def test_cash_entries_refuse_save_and_delete(station_a, resident_a, produce):
    so = sale(station_a, resident_a, produce)
    entry = CashEntry.objects.get(station_order=so)
    entry.amount = D("1")
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert CashEntry.objects.get(pk=entry.pk).amount == D("20.00")


def test_cash_entries_refuse_changes_in_the_database(station_a, resident_a, produce):
    """On PostgreSQL a trigger refuses UPDATE and DELETE however they come:
    queryset update/delete and raw SQL. Only the close's stamping passes."""
    assert connection.vendor == "postgresql"
    staff = staff_of(station_a)
    so = sale(station_a, resident_a, produce)
    entry = CashEntry.objects.get(station_order=so)
    attempts = [
        lambda: CashEntry.objects.filter(pk=entry.pk).update(amount=D("1")),
        lambda: CashEntry.objects.filter(pk=entry.pk).update(note="改过"),
        lambda: CashEntry.objects.filter(pk=entry.pk).delete(),
        lambda: raw("UPDATE stations_cashentry SET amount = 0 WHERE id = %s", entry.pk),
        lambda: raw("DELETE FROM stations_cashentry WHERE id = %s", entry.pk),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert CashEntry.objects.get(pk=entry.pk).amount == D("20.00")

    # The day close's stamping still works …
    close = cash.close_day(station_a, staff, D("20"))
    assert CashEntry.objects.get(pk=entry.pk).day_close == close
    # … once: a stamped entry can be neither re-stamped nor un-stamped.
    other = cash.close_day(
        station_a, staff, D("20"), business_date=close.business_date + dt.timedelta(days=1)
    )
    for sql, args in [
        ("UPDATE stations_cashentry SET day_close_id = %s WHERE id = %s", (other.pk, entry.pk)),
        ("UPDATE stations_cashentry SET day_close_id = NULL WHERE id = %s", (entry.pk,)),
    ]:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(sql, *args)
    # And stamping may not smuggle in another change.
    open_entry = CashEntry.objects.get(station_order=sale(station_a, resident_a, produce))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(
            "UPDATE stations_cashentry SET day_close_id = %s, amount = 0 WHERE id = %s",
            other.pk,
            open_entry.pk,
        )
    assert CashEntry.objects.get(pk=entry.pk).day_close == close


def test_day_closes_cannot_be_changed(station_a, resident_a, produce):
    sale(station_a, resident_a, produce)
    close = cash.close_day(station_a, staff_of(station_a), D("20"))
    close.counted = D("1000")
    attempts = [
        lambda: close.save(),
        lambda: DayClose.objects.filter(pk=close.pk).update(counted=D("1000")),
        lambda: raw("UPDATE stations_dayclose SET note = 'x' WHERE id = %s", close.pk),
        lambda: raw("DELETE FROM stations_dayclose WHERE id = %s", close.pk),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="final"), transaction.atomic():
            attempt()
    fresh = DayClose.objects.get(pk=close.pk)
    assert (fresh.counted, fresh.note) == (D("20.00"), "")


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Two staff closing at once (PostgreSQL) --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_staff_closing_the_same_day_at_once_make_one_close(china, carriers):
    station = make_station()
    first_staff = make_staff(station, "counter-1")
    second_staff = make_staff(station, "counter-2")
    resident = make_resident(station, "王秀英")
    from tests import factories
    from tests.cooperatives.conftest import make_cooperative

    coop = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    radish = factories.product("沙窝萝卜", price="20.00", stock=50, partner_obj=coop.partner)
    assisted_order(station, resident, [(radish, 2)])

    barrier = threading.Barrier(2)
    outcomes: dict = {}

    def close(user, counted):
        try:
            barrier.wait(10)
            outcomes[user.username] = cash.close_day(station, user, counted)
        except ValidationError as exc:
            outcomes[user.username] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=close, args=(first_staff, D("40"))),
        threading.Thread(target=close, args=(second_staff, D("39"))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outcomes) == 2, outcomes
    made = [o for o in outcomes.values() if isinstance(o, DayClose)]
    refused = [o for o in outcomes.values() if isinstance(o, ValidationError)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert "已经日结过了" in refused[0].messages[0]
    assert DayClose.objects.filter(station=station).count() == 1
    close = DayClose.objects.get(station=station)
    assert close.receipts == D("40.00")
    assert set(
        CashEntry.objects.filter(station=station).values_list("day_close_id", flat=True)
    ) == {close.pk}
