"""The station portal's monthly commission statement, on screen and as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from stations import ordering
from stations.models import StationOrder
from tests.stations.conftest import assisted_order, make_resident, staff_of

pytestmark = pytest.mark.django_db

User = get_user_model()
URL = reverse("station:commission")


@pytest.fixture
def staff_client(client, station_a):
    client.force_login(staff_of(station_a))
    return client


@pytest.fixture
def month_orders(station_a, resident_a, produce):
    """Two orders this month (¥40 and ¥88 of goods), a third cancelled."""
    first = assisted_order(station_a, resident_a, [(produce["radish"], 2)])
    second = assisted_order(station_a, resident_a, [(produce["crab"], 1)])
    cancelled = assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    ordering.cancel_assisted_order(cancelled, staff_of(station_a), "居民不要了")
    return first, second, cancelled


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def test_non_staff_get_404(client, station_a):
    assert client.get(URL).status_code == 302
    client.force_login(User.objects.create_user("shopper", "s@example.com", "pw-123456"))
    assert client.get(URL).status_code == 404
    assert client.get(URL, {"format": "csv"}).status_code == 404


def test_statement_defaults_to_this_month(staff_client, station_a, month_orders):
    first, second, cancelled = month_orders
    response = staff_client.get(URL)
    assert response.status_code == 200
    statement = response.context["statement"]
    assert (statement.year, statement.month) == (
        timezone.localdate().year,
        timezone.localdate().month,
    )
    assert statement.orders == 2
    assert statement.cancelled == 1
    assert statement.goods_total == Decimal("128.00")
    # ¥1 per order + 3 % of goods: 1 + 1.20 and 1 + 2.64
    assert statement.commission == Decimal("5.84")
    html = response.content.decode()
    for so in month_orders:
        assert so.order.number in html
    assert "¥5.84" in html
    assert "已取消" in html
    assert "每单 ¥1.00" in html and "3%" in html
    assert f'value="{this_month()}"' in html


def test_station_rates_are_shown(staff_client, station_a):
    station_a.commission_fixed = Decimal("2.50")
    station_a.commission_rate = Decimal("4.5")
    station_a.save()
    html = staff_client.get(URL).content.decode()
    assert "每单 ¥2.50" in html and "4.50%" in html


def test_another_month_is_empty(staff_client, month_orders):
    response = staff_client.get(URL, {"month": "2020-02"})
    statement = response.context["statement"]
    assert (statement.year, statement.month) == (2020, 2)
    assert statement.orders == 0 and not statement.rows.exists()
    assert "这个月没有代购订单" in response.content.decode()


@pytest.mark.parametrize("bad", ["2026-13", "abc", "1999-05", "9999-01"])
def test_bad_month_falls_back_to_this_month(staff_client, month_orders, bad):
    response = staff_client.get(URL, {"month": bad})
    assert response.status_code == 200
    statement = response.context["statement"]
    assert (statement.year, statement.month) == (
        timezone.localdate().year,
        timezone.localdate().month,
    )
    assert any("已显示本月" in str(m) for m in response.context["messages"])


def test_only_own_stations_orders(staff_client, station_b, resident_b, produce):
    so_b = assisted_order(station_b, resident_b, [(produce["radish"], 1)])
    response = staff_client.get(URL)
    assert response.context["statement"].orders == 0
    assert so_b.order.number not in response.content.decode()


def test_csv_statement(staff_client, station_a, month_orders):
    first, second, cancelled = month_orders
    response = staff_client.get(URL, {"month": this_month(), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"commission-{this_month()}.csv" in response["Content-Disposition"]
    body = response.content
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "日期",
        "订单号",
        "居民",
        "商品金额（元）",
        "订单金额（元）",
        "佣金（元）",
        "状态",
    ]
    today = timezone.localdate().isoformat()
    assert rows[1] == [today, first.order.number, "王秀英", "40.00", "40.00", "2.20", "有效"]
    assert rows[2] == [today, second.order.number, "王秀英", "88.00", "88.00", "3.64", "有效"]
    assert rows[3][1] == cancelled.order.number
    assert rows[3][5] == "0.00" and rows[3][6].startswith("已取消")
    assert rows[4][0].startswith("合计")
    assert rows[4][3:6] == ["128.00", "128.00", "5.84"]
    assert len(rows) == 5


def test_csv_defuses_formula_names(staff_client, station_a, produce):
    resident = make_resident(station_a, "=HYPERLINK(1)", phone="")
    assisted_order(station_a, resident, [(produce["radish"], 1)])
    response = staff_client.get(URL, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][2] == "'=HYPERLINK(1)"


def test_previous_month_orders_are_not_in_this_month(staff_client, station_a, month_orders):
    first = month_orders[0]
    start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    StationOrder.objects.filter(pk=first.pk).update(created_at=start - dt.timedelta(minutes=1))
    statement = staff_client.get(URL).context["statement"]
    assert statement.orders == 1
    assert first.order.number not in [so.order.number for so in statement.rows]
