"""The station portal's cash page: the drawer, the open entries, what is
owed to the platform, the daily close (once a day, with its difference)
and the past closes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stations import cash, ordering
from stations.models import CashEntry, DayClose
from tests.stations.conftest import assisted_order, make_staff, staff_of

pytestmark = pytest.mark.django_db

User = get_user_model()
CASH = reverse("station:cash")


@pytest.fixture
def staff_client(client, station_a):
    client.force_login(staff_of(station_a))
    return client


@pytest.fixture
def sale(station_a, resident_a, produce):
    """One order of ¥128.00 paid in cash."""
    return assisted_order(station_a, resident_a, [(produce["radish"], 2), (produce["crab"], 1)])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_non_staff_get_404(client, station_a):
    assert client.get(CASH).status_code == 302
    client.force_login(User.objects.create_user("shopper", "s@example.com", "pw-123456"))
    assert client.get(CASH).status_code == 404
    assert client.post(CASH, {"counted": "1"}).status_code == 404


def test_cash_page_shows_drawer_entries_and_balance(staff_client, station_a, sale, produce):
    ordering.cancel_assisted_order(
        assisted_order(station_a, sale.resident, [(produce["radish"], 1)]),
        staff_of(station_a),
        "下错了",
    )
    platform = User.objects.create_user("finance", "f@example.com", "pw-123456", is_staff=True)
    cash.record_remittance(station_a, platform, Decimal("100.00"), note="交款单 001")

    response = staff_client.get(CASH)
    assert response.status_code == 200
    drawer = response.context["drawer"]
    assert drawer.receipts == Decimal("148.00")
    assert drawer.refunds == Decimal("-20.00")
    assert drawer.remittances == Decimal("-100.00")
    assert drawer.expected == Decimal("28.00")
    assert response.context["outstanding"] == Decimal("28.00")
    html = response.content.decode()
    assert "¥28.00" in html
    assert "代购收款" in html and "退款" in html and "上缴平台" in html
    assert "+¥128.00" in html and "−¥20.00" in html and "−¥100.00" in html
    assert reverse("station:order-detail", args=[sale.pk]) in html
    assert sale.order.number in html
    assert "交款单 001" in html
    assert 'name="counted"' in html


def test_close_day_with_full_width_amount(staff_client, station_a, sale):
    response = staff_client.post(CASH, {"counted": "１２８", "note": ""}, follow=True)
    close = DayClose.objects.get(station=station_a)
    assert response.redirect_chain[-1][0] == reverse("station:cash-close", args=[close.pk])
    assert close.counted == Decimal("128.00")
    assert close.expected == Decimal("128.00")
    assert close.difference == 0
    assert "账实相符" in " ".join(messages_of(response))
    assert not CashEntry.objects.filter(station=station_a, day_close__isnull=True).exists()


def test_close_with_a_shortage_shows_it(staff_client, station_a, sale):
    response = staff_client.post(CASH, {"counted": "120.5", "note": "找零 找错了"}, follow=True)
    close = DayClose.objects.get(station=station_a)
    assert close.difference == Decimal("-7.50")
    assert close.note == "找零 找错了"
    assert "短款 ¥7.50" in " ".join(messages_of(response))
    html = response.content.decode()
    assert "短款 ¥7.50" in html
    assert "找零 找错了" in html
    assert sale.order.number in html  # the entries the close counted


def test_close_with_a_surplus_is_over(staff_client, station_a, sale):
    staff_client.post(CASH, {"counted": "130"})
    close = DayClose.objects.get(station=station_a)
    assert close.difference == Decimal("2.00")
    html = staff_client.get(CASH).content.decode()
    assert "长款 ¥2.00" in html


def test_closing_a_day_twice_counts_nothing_twice(
    staff_client, station_a, sale, resident_a, produce
):
    staff_client.post(CASH, {"counted": "128"})
    page = staff_client.get(CASH)
    html = page.content.decode()
    assert "今天已经日结过了" in html
    assert 'name="counted"' not in html  # the close instead of the form

    assisted_order(station_a, resident_a, [(produce["radish"], 1)])  # after the close
    response = staff_client.post(CASH, {"counted": "500"}, follow=True)
    assert response.redirect_chain[-1][0] == CASH
    assert any("已经日结过了" in m for m in messages_of(response))
    assert DayClose.objects.filter(station=station_a).count() == 1
    close = DayClose.objects.get(station=station_a)
    assert close.counted == Decimal("128.00")
    assert close.entries.count() == 1
    assert cash.open_entries(station_a).count() == 1  # the later sale waits for the next close


def test_bad_amount_keeps_what_was_typed(staff_client, station_a, sale):
    response = staff_client.post(CASH, {"counted": "一百", "note": "点了两遍"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "请填写清点出的现金金额" in html
    assert 'value="一百"' in html and 'value="点了两遍"' in html
    assert not DayClose.objects.exists()
    response = staff_client.post(CASH, {"counted": ""})
    assert "请填写清点出的现金金额" in response.content.decode()
    assert not DayClose.objects.exists()


def test_past_closes_are_listed_and_linked(staff_client, station_a, sale):
    yesterday = cash.today() - dt.timedelta(days=1)
    close = cash.close_day(station_a, staff_of(station_a), Decimal("100"), business_date=yesterday)
    html = staff_client.get(CASH).content.decode()
    assert 'name="counted"' in html  # today is still open
    assert reverse("station:cash-close", args=[close.pk]) in html
    assert "短款 ¥28.00" in html


def test_close_detail_shows_figures_and_entries(staff_client, station_a, sale):
    close = cash.close_day(station_a, staff_of(station_a), Decimal("128"), note="正常")
    response = staff_client.get(reverse("station:cash-close", args=[close.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "日结单" in html
    assert "¥128.00" in html
    assert sale.order.number in html
    assert "账实相符" in html
    assert "js-print" in html
    assert [e.pk for e in response.context["entries"]] == list(
        close.entries.values_list("pk", flat=True)
    )


def test_another_stations_close_is_404(staff_client, station_b, resident_b, produce):
    assisted_order(station_b, resident_b, [(produce["radish"], 1)])
    close_b = cash.close_day(station_b, staff_of(station_b), Decimal("20"))
    assert staff_client.get(reverse("station:cash-close", args=[close_b.pk])).status_code == 404


def test_colleague_sees_the_same_close(client, station_a, sale):
    cash.close_day(station_a, staff_of(station_a), Decimal("128"))
    colleague = make_staff(station_a, "staff-a2")
    client.force_login(colleague)
    response = client.post(CASH, {"counted": "128"}, follow=True)
    assert any("已经日结过了" in m for m in messages_of(response))
    assert DayClose.objects.filter(station=station_a).count() == 1


def test_past_closes_are_paginated(staff_client, station_a, sale, monkeypatch):
    from stations.portal import cash as views

    monkeypatch.setattr(views, "CLOSES_PER_PAGE", 1)
    staff = staff_of(station_a)
    for days in (2, 1):
        cash.close_day(
            station_a, staff, Decimal("128"), business_date=cash.today() - dt.timedelta(days=days)
        )
    response = staff_client.get(CASH)
    assert response.context["paginator"].num_pages == 2
    assert "page=2" in response.content.decode()
    assert staff_client.get(CASH, {"page": 2}).status_code == 200
