"""Sales at a glance: figures from aggregate queries on the cooperative's
own lines, in Asia/Shanghai days, a 90-day chart drawn on the server, and
the CSV export."""

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cooperatives import charts, fulfilment, sales
from tests import factories
from tests.cooperatives.conftest import member_of
from tests.cooperatives.order_helpers import order_of

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 26)  # a Thursday; its week starts on Monday 11-23


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def shop(coop_a, coop_b, china):
    """Known orders on known days (Shanghai time):

    - 11-23 00:30 (Monday, this week; still Sunday 11-22 in UTC): 2 × radish ¥25
    - 11-24 10:00: 1 × radish ¥25 + 1 × gift box ¥60, and B's crab (not A's)
    - 11-26 23:30 (today; already 11-27 is *not* reached): 4 × gift box ¥60
    - 11-22 23:59 (last Sunday, not this week): 10 × radish ¥25
    - 11-25 09:00: 3 × radish ¥25, cancelled (not a sale)
    - 2026-08-28 (day 91 back, outside the 90-day series): 1 × gift box ¥60
    """
    radish = factories.product("沙窝萝卜", price="25.00", stock=100, partner_obj=coop_a.partner)
    gift = factories.product("萝卜礼盒", price="60.00", stock=100, partner_obj=coop_a.partner)
    crab = factories.product("河蟹", price="88.00", stock=100, partner_obj=coop_b.partner)
    orders = {
        "mon": order_of((radish, 2), placed_at=at(date(2026, 11, 23), 0, 30)),
        "tue": order_of((radish, 1), (gift, 1), (crab, 1), placed_at=at(date(2026, 11, 24), 10)),
        "thu": order_of((gift, 4), placed_at=at(date(2026, 11, 26), 23, 30)),
        "sun": order_of((radish, 10), placed_at=at(date(2026, 11, 22), 23, 59)),
        "cancelled": order_of((radish, 3), placed_at=at(date(2026, 11, 25), 9)),
        "old": order_of((gift, 1), placed_at=at(date(2026, 8, 28), 12)),
    }
    orders["cancelled"].lines.get().set_status(fulfilment.CANCELLED)
    return {"radish": radish, "gift": gift, "crab": crab, **orders}


def test_this_week(shop, coop_a):
    week = sales.this_week(coop_a, today=TODAY)
    assert (week.start, week.end) == (date(2026, 11, 23), TODAY)
    # mon 2×25, tue 25 + 60, thu 4×60; B's crab, last Sunday and the
    # cancelled line do not count.
    assert week.orders == 3
    assert week.items == 2 + 2 + 4
    assert week.revenue == Decimal("50.00") + Decimal("85.00") + Decimal("240.00")
    assert [(p.title, p.quantity, p.revenue) for p in week.top_products] == [
        ("萝卜礼盒", 5, Decimal("300.00")),
        ("沙窝萝卜", 3, Decimal("75.00")),
    ]


def test_figures_are_aggregate_queries(shop, coop_a):
    with CaptureQueriesContext(connection) as queries:
        sales.this_week(coop_a, today=TODAY)
    assert len(queries) == 2  # totals, best sellers
    with CaptureQueriesContext(connection) as queries:
        sales.daily_revenue(coop_a, today=TODAY)
    assert len(queries) == 1


def test_daily_revenue_has_90_shanghai_days(shop, coop_a):
    series = sales.daily_revenue(coop_a, today=TODAY)
    assert len(series) == 90
    assert series[0].day == TODAY - timedelta(days=89) == date(2026, 8, 29)
    assert series[-1].day == TODAY
    by_day = {point.day: point.revenue for point in series}
    assert by_day[date(2026, 11, 22)] == Decimal("250.00")  # Sunday 23:59 stays Sunday
    assert by_day[date(2026, 11, 23)] == Decimal("50.00")  # 00:30 is Monday in Shanghai
    assert by_day[date(2026, 11, 24)] == Decimal("85.00")
    assert by_day[date(2026, 11, 25)] == Decimal("0.00")  # cancelled
    assert by_day[date(2026, 11, 26)] == Decimal("240.00")
    assert sum(by_day.values()) == Decimal("625.00")  # the August order is day 91
    assert [p.orders for p in series if p.orders] == [1, 1, 1, 1]


def test_another_cooperatives_figures_are_its_own(shop, coop_b):
    week = sales.this_week(coop_b, today=TODAY)
    assert (week.orders, week.items, week.revenue) == (1, 1, Decimal("88.00"))


def svg_tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_chart_svg_is_accessible_and_self_contained(shop, coop_a):
    series = sales.daily_revenue(coop_a, today=TODAY)
    svg = charts.bar_chart_svg(
        [(p.day, p.revenue) for p in series], title="近 90 天每日销售额", desc="合计 ¥625.00"
    )
    root = svg_tree(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-title chart-desc"
    assert root.find(f"{ns}title").text == "近 90 天每日销售额"
    assert root.find(f"{ns}desc").text == "合计 ¥625.00"
    bars = root.findall(f".//{ns}g[@class='chart-bars']/{ns}rect")
    assert len(bars) == 4  # one per day with sales
    assert {bar.find(f"{ns}title").text for bar in bars} >= {"2026-11-26: 240.00"}
    dates = [t.text for t in root.findall(f".//{ns}g[@class='chart-dates']/{ns}text")]
    assert dates[0] == "11/26" and len(dates) == 6
    # Nothing to fetch: no links, images, scripts, styles or fonts from elsewhere.
    for element in root.iter():
        tag = element.tag.replace(ns, "")
        assert tag not in ("image", "script", "use", "foreignObject", "style", "a")
        for name, value in element.attrib.items():
            assert "href" not in name
            assert "url(" not in value
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_chart_with_no_sales_still_has_its_axes():
    points = [(date(2026, 1, 1) + timedelta(days=i), Decimal("0")) for i in range(90)]
    root = svg_tree(charts.bar_chart_svg(points, title="t", desc="d"))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.findall(f".//{ns}g[@class='chart-bars']/{ns}rect") == []
    assert len(root.findall(f".//{ns}g[@class='chart-axis']/{ns}text")) == 5


@pytest.mark.parametrize(
    "value, top",
    [(0, 4), (3, 3), (240, 250), (625, 800), (1234.5, 1250), (99999, 100000), (0.42, 0.5)],
)
def test_nice_axis_maximum(value, top):
    assert charts.nice_ceiling(value)[0] == top


def test_home_shows_sales_at_a_glance(shop, coop_a):
    client = Client()
    client.force_login(member_of(coop_a))
    response = client.get(reverse("coop:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "销售概况" in html
    assert "<svg" in html and 'role="img"' in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert response.context["series_days"] == 90
    assert reverse("coop:sales-export") in html


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_sales_export_csv(shop, coop_a):
    client = Client()
    client.force_login(member_of(coop_a))
    response = client.get(reverse("coop:sales-export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = read_csv(response)
    assert rows[0] == ["日期", "订单号", "商品", "货号", "数量", "单价（元）", "金额（元）", "状态"]
    body = rows[1:]
    # A's sold lines, oldest first; not B's crab, not the cancelled line.
    assert [(r[0], r[2], r[4], r[5], r[6], r[7]) for r in body] == [
        ("2026-08-28", "萝卜礼盒", "1", "60.00", "60.00", "待接单"),
        ("2026-11-22", "沙窝萝卜", "10", "25.00", "250.00", "待接单"),
        ("2026-11-23", "沙窝萝卜", "2", "25.00", "50.00", "待接单"),
        ("2026-11-24", "沙窝萝卜", "1", "25.00", "25.00", "待接单"),
        ("2026-11-24", "萝卜礼盒", "1", "60.00", "60.00", "待接单"),
        ("2026-11-26", "萝卜礼盒", "4", "60.00", "240.00", "待接单"),
    ]
    assert body[2][1] == shop["mon"].number
    assert body[2][3] == shop["radish"].stockrecords.get().partner_sku

    ranged = read_csv(
        client.get(reverse("coop:sales-export"), {"start": "2026-11-23", "end": "2026-11-24"})
    )
    assert [r[0] for r in ranged[1:]] == ["2026-11-23", "2026-11-24", "2026-11-24"]

    bad = client.get(reverse("coop:sales-export"), {"start": "2026-11-24", "end": "2026-11-01"})
    assert bad.status_code == 302 and bad["Location"] == reverse("coop:home")


def test_export_neutralises_spreadsheet_formulas(coop_a, china):
    evil = factories.product('=HYPERLINK("http://x")', price="1.00", partner_obj=coop_a.partner)
    order_of((evil, 1))
    client = Client()
    client.force_login(member_of(coop_a))
    rows = read_csv(client.get(reverse("coop:sales-export")))
    assert rows[1][2] == '\'=HYPERLINK("http://x")'
