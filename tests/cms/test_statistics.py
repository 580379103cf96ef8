"""The coverage and sales statistics (cms/statistics.py): a fixture of
stations, cooperatives, orders, certificates and training sessions in three
districts; the expected figures are worked out here in plain Python over the
fixture objects and compared with what the statistics page shows and what
its CSV says (which must agree with each other). Also: a snapshot still
being written is never shown, the page costs the same queries for one order
as for many, and a computation that fails or runs while orders are placed
never leaves a half-written snapshot."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import threading
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model
from wagtail.models import Page, Site

from cms import statistics
from cms.models import (
    Certificate,
    CoursePage,
    DistrictFigures,
    StatisticsPage,
    StatsSnapshot,
    TrainingSession,
)
from cooperatives.models import Cooperative, Membership
from divisions.models import Division
from stations.models import Station, StationStaff
from tests import factories

User = get_user_model()
Order = get_model("order", "Order")
Line = get_model("order", "Line")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 15, 12, 0, tzinfo=SH)
XIQING, NINGHE, JIZHOU = "120111", "120117", "120119"
COUNTERS = [key for key, _label in statistics.COLUMNS[2:]]

_numbers = itertools.count(1)


def at(*args) -> dt.datetime:
    """A moment on the Shanghai clock."""
    return dt.datetime(*args, tzinfo=SH)


# --- Building the fixture ----------------------------------------------------------------


def administrative_villages(district: str, n: int) -> list[str]:
    return list(
        Division.objects.filter(
            level=Division.Level.VILLAGE, code__startswith=district, name__endswith="村委会"
        )
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


def urban_community(district: str) -> str:
    return (
        Division.objects.filter(
            level=Division.Level.VILLAGE, code__startswith=district, name__endswith="居委会"
        )
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )


def station(village: str, *, active: bool = True) -> Station:
    return Station.objects.create(
        name=f"益农信息社 {next(_numbers)}",
        village_id=village,
        street_address="村委会东侧",
        contact_phone="022-27391234",
        operator="村民委员会",
        status=Station.Status.ACTIVE if active else Station.Status.SUSPENDED,
    )


def cooperative(
    division: str, *, status: str = Cooperative.Status.VERIFIED, selling: bool = True
) -> Cooperative:
    n = next(_numbers)
    partner = Partner.objects.create(name=f"统计测试合作社{n}", is_selling=selling)
    return Cooperative.objects.create(
        partner=partner,
        legal_name=f"统计测试合作社{n}",
        display_name=f"合作社{n}",
        credit_code=f"93{n:016d}",
        entity_type="93",
        legal_representative="张三",
        contact_phone="13800138000",
        division_id=division,
        status=status,
    )


@dataclass
class PlacedLine:
    partner: Partner
    price: Decimal
    status: str


@dataclass
class PlacedOrder:
    order: object
    when: dt.datetime
    status: str
    lines: list[PlacedLine]


def place(when: dt.datetime, *lines: tuple, status: str = "pending") -> PlacedOrder:
    """An order placed at ``when`` with lines (partner, price, line status),
    written directly (the statistics read orders, they do not place them)."""
    total = sum((Decimal(price) for _p, price, _s in lines), Decimal(0))
    order = Order.objects.create(
        number=f"S{next(_numbers):09d}",
        currency="CNY",
        total_incl_tax=total,
        total_excl_tax=total,
        status=status,
        date_placed=when,
    )
    placed = []
    for partner, price, line_status in lines:
        price = Decimal(price)
        Line.objects.create(
            order=order,
            partner=partner,
            partner_name=partner.name,
            partner_sku=f"L{next(_numbers)}",
            title="沙窝萝卜",
            quantity=1,
            line_price_incl_tax=price,
            line_price_excl_tax=price,
            line_price_before_discounts_incl_tax=price,
            line_price_before_discounts_excl_tax=price,
            status=line_status,
            num_allocated=0,
        )
        placed.append(PlacedLine(partner, price, line_status))
    return PlacedOrder(order, when, status, placed)


def user(name: str):
    return User.objects.create_user(name, f"{name}@example.com", "pw-stats-123")


def course() -> CoursePage:
    root = Page.get_first_root_node()
    return root.add_child(
        instance=CoursePage(
            title="如何拍好农产品照片", slug=f"photo-{next(_numbers)}", intro="拍照"
        )
    )


def certificate(learner, course_page, when: dt.datetime) -> Certificate:
    return Certificate.objects.create(
        code=f"C{next(_numbers):08d}",
        user=learner,
        course=course_page,
        name=learner.username,
        course_title=course_page.title,
        issued_at=when,
    )


def statistics_page() -> StatisticsPage:
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        home = Page.get_first_root_node().add_child(instance=Page(title="首页", slug="home"))
        site = Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True
        )
    return site.root_page.add_child(
        instance=StatisticsPage(title="覆盖和销售统计", slug=f"statistics-{next(_numbers)}")
    )


@dataclass
class World:
    stations: list[Station]
    cooperatives: list[Cooperative]
    orders: list[PlacedOrder]
    certificates: list[Certificate]
    sessions: list[TrainingSession]
    plain_partner: Partner


@pytest.fixture
def world(db) -> World:
    xq = administrative_villages(XIQING, 4)
    nh = administrative_villages(NINGHE, 2)
    jz = administrative_villages(JIZHOU, 2)
    stations = [
        station(xq[0]),
        station(xq[0]),  # a second active station: the village counts once
        station(xq[1]),
        station(xq[1], active=False),
        station(xq[2], active=False),  # suspended only: not covered
        station(urban_community(XIQING)),  # a 居委会 is not an administrative village
        station(nh[0]),
        station(jz[0], active=False),
    ]
    vegetables = factories.product_class("蔬菜")

    xq_town = xq[0][:9]
    coop_a1 = cooperative(xq_town)  # verified, a public product
    factories.product("沙窝萝卜", partner_obj=coop_a1.partner, product_class_obj=vegetables)
    coop_a2 = cooperative(xq[3])  # verified, but nothing listed publicly
    factories.product(
        "辛口小枣", partner_obj=coop_a2.partner, product_class_obj=vegetables, is_public=False
    )
    factories.parent_product(
        "辛口黄桃",
        [("5斤装", "30.00", 5)],
        partner_obj=coop_a2.partner,
        product_class_obj=vegetables,
        is_public=False,
    )
    coop_a3 = cooperative(xq[3], status=Cooperative.Status.APPLIED, selling=False)
    factories.product("西青西红柿", partner_obj=coop_a3.partner, product_class_obj=vegetables)
    coop_b1 = cooperative(nh[1])  # verified, a public variant
    factories.parent_product(
        "七里海河蟹",
        [("4两装", "88.00", 3), ("6两装", "128.00", 0)],
        partner_obj=coop_b1.partner,
        product_class_obj=vegetables,
    )
    coop_b2 = cooperative(nh[1], status=Cooperative.Status.SUSPENDED, selling=False)
    factories.product("宁河大米", partner_obj=coop_b2.partner, product_class_obj=vegetables)
    coop_c1 = cooperative(jz[1])  # verified, a public product sold out today
    factories.product(
        "盘山磨盘柿", partner_obj=coop_c1.partner, product_class_obj=vegetables, stock=0
    )
    plain = factories.partner("没有合作社的卖家")

    a1, a3, b1, c1 = coop_a1.partner, coop_a3.partner, coop_b1.partner, coop_c1.partner
    orders = [
        # Two districts in one order: once in each, once in the city.
        place(at(2026, 11, 14, 9), (a1, "40.00", "delivered"), (b1, "30.00", "shipped")),
        # Just after midnight on the 1st in Shanghai (still October in UTC):
        # this month. The cancelled line is left out.
        place(at(2026, 11, 1, 0, 30), (a1, "15.50", "pending"), (a1, "99.00", "cancelled")),
        # Just before midnight: last month, this year.
        place(at(2026, 10, 31, 23, 30), (c1, "12.34", "delivered")),
        # A cancelled order, even with a line not marked cancelled.
        place(at(2026, 11, 3, 10), (a1, "50.00", "pending"), status="cancelled"),
        # Refunded in full: nothing left to count.
        place(at(2026, 11, 5, 10), (b1, "25.00", "refunded"), status="refunded"),
        # Last year, by a few minutes (Shanghai).
        place(at(2025, 12, 31, 23, 50), (a1, "100.00", "delivered")),
        place(at(2026, 1, 1, 0, 10), (b1, "8.80", "delivered")),
        # A seller without a cooperative: only the cooperative's line counts.
        place(at(2026, 11, 10, 8), (plain, "60.00", "accepted"), (c1, "5.00", "accepted")),
        # After the snapshot's time: not yet.
        place(at(2026, 11, 15, 12, 30), (a1, "70.00", "pending")),
        # A cooperative that was not verified then and is not now: its sales
        # still happened.
        place(at(2026, 6, 1, 10), (a3, "11.00", "delivered")),
        place(at(2026, 11, 2, 10), (a1, "3.20", "packed"), (a1, "6.80", "accepted")),
    ]

    the_course = course()
    member, staff_b, consumer, both, late = (
        user(n) for n in ("member-a", "staff-b", "consumer", "member-c", "late")
    )
    Membership.objects.create(cooperative=coop_a1, user=member)
    StationStaff.objects.create(user=staff_b, station=stations[6])
    Membership.objects.create(cooperative=coop_c1, user=both)
    StationStaff.objects.create(user=both, station=stations[0])  # membership wins
    Membership.objects.create(cooperative=coop_a1, user=late)
    certificates = [
        certificate(member, the_course, at(2026, 3, 1, 10)),
        certificate(staff_b, the_course, at(2025, 7, 1, 10)),
        certificate(consumer, the_course, at(2026, 11, 15, 11)),
        certificate(both, the_course, at(2026, 5, 1, 10)),
        certificate(late, the_course, at(2026, 11, 16, 9)),  # after the snapshot
    ]
    recorder = user("recorder")
    sessions = [
        TrainingSession.objects.create(
            station=s, course=the_course, held_on=day, attendees=n, recorded_by=recorder
        )
        for s, day, n in [
            (stations[0], dt.date(2026, 3, 1), 12),
            (stations[0], dt.date(2026, 11, 15), 8),
            (stations[6], dt.date(2026, 11, 10), 30),
            (stations[7], dt.date(2025, 6, 1), 5),  # a station since suspended
            (stations[6], dt.date(2026, 11, 20), 40),  # not held yet
        ]
    ]
    return World(
        stations,
        [coop_a1, coop_a2, coop_a3, coop_b1, coop_b2, coop_c1],
        orders,
        certificates,
        sessions,
        plain,
    )


# --- The expected figures, worked out in plain Python -------------------------------------


def expected_figures(world: World) -> dict[str, dict[str, Decimal | int | None]]:
    """Every district's figures and the city's ("12"), from the rules in
    plain words: not through cms.statistics."""
    districts = {d.code: d.name for d in Division.objects.filter(level=Division.Level.COUNTY)}
    districts = {code: name for code, name in districts.items() if code.startswith("12")}
    figures = {code: dict.fromkeys(COUNTERS, 0) for code in [*districts, statistics.CITY_CODE]}
    for row in figures.values():
        row["sales_month"] = row["sales_year"] = Decimal("0.00")

    # Villages: every administrative village (村委会, not 居委会).
    covered_villages = {s.village_id for s in world.stations if s.status == "active"}
    for village in Division.objects.filter(level=Division.Level.VILLAGE):
        if village.code.startswith("12") and village.is_administrative_village:
            for code in (village.code[:6], "12"):
                figures[code]["villages"] += 1
                figures[code]["villages_with_station"] += village.code in covered_villages

    for coop in world.cooperatives:
        coop.refresh_from_db()
        records = StockRecord.objects.filter(partner=coop.partner).select_related("product__parent")
        listed = any(
            r.product.is_public and (r.product.parent is None or r.product.parent.is_public)
            for r in records
        )
        if coop.status == "verified" and coop.partner.is_selling and listed:
            for code in (coop.division_id[:6], "12"):
                figures[code]["cooperatives_selling"] += 1

    district_of_partner = {c.partner_id: c.division_id[:6] for c in world.cooperatives}
    for placed in world.orders:
        local = placed.when.astimezone(SH)
        if placed.when > NOW or local.year != NOW.year or placed.status == "cancelled":
            continue
        this_month = local.month == NOW.month
        counted = defaultdict(Decimal)
        for line in placed.lines:
            district = district_of_partner.get(line.partner.pk)
            if district and line.status not in ("cancelled", "refunded"):
                counted[district] += line.price
        for district, amount in counted.items():
            figures[district]["orders_year"] += 1
            figures[district]["sales_year"] += amount
            if this_month:
                figures[district]["orders_month"] += 1
                figures[district]["sales_month"] += amount
        if counted:
            figures["12"]["orders_year"] += 1
            figures["12"]["sales_year"] += sum(counted.values())
            if this_month:
                figures["12"]["orders_month"] += 1
                figures["12"]["sales_month"] += sum(counted.values())

    for cert in world.certificates:
        if cert.issued_at > NOW:
            continue
        figures["12"]["course_completions"] += 1
        membership = Membership.objects.filter(user=cert.user).first()
        staff = StationStaff.objects.filter(user=cert.user).first()
        if membership:
            figures[membership.cooperative.division_id[:6]]["course_completions"] += 1
        elif staff:
            figures[staff.station.village_id[:6]]["course_completions"] += 1

    for session in world.sessions:
        if session.held_on > NOW.date():
            continue
        for code in (session.station.village_id[:6], "12"):
            figures[code]["training_sessions"] += 1
            figures[code]["session_attendees"] += session.attendees

    for row in figures.values():
        row["coverage_percent"] = (
            (Decimal(row["villages_with_station"]) * 100 / row["villages"]).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            if row["villages"]
            else None
        )
    return figures


# --- Reading the page and the CSV ----------------------------------------------------------


def number(text: str) -> Decimal | None:
    """ "1,234" / "¥1,234.50" / "27.0%" → Decimal; a dash (no villages) → None."""
    cleaned = text.replace(",", "").replace("¥", "").replace("%", "").strip()
    if not cleaned or not any(ch.isdigit() for ch in cleaned):
        return None
    return Decimal(cleaned)


def page_table(html: str) -> tuple[list[str], dict[str, list[str]]]:
    soup = BeautifulSoup(html, "html.parser")
    table = soup.select_one("#stats-table")
    assert table is not None, "no statistics table on the page"
    assert table.caption is not None and table.caption.get_text(strip=True)
    headers = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    assert all(th.get("scope") == "col" for th in table.select("thead th"))
    rows = {}
    for tr in [*table.select("tbody tr"), *table.select("tfoot tr")]:
        cells = tr.find_all(["th", "td"])
        assert cells[1].name == "th" and cells[1].get("scope") == "row"
        rows[cells[0].get_text(strip=True)] = [c.get_text(" ", strip=True) for c in cells]
    return headers, rows


def csv_table(content: bytes) -> tuple[list[str], dict[str, list[str]]]:
    assert content.startswith("\ufeff".encode()), "the CSV starts with a byte-order mark"
    reader = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return reader[0], {row[0]: row for row in reader[1:]}


def as_figures(cells: list[str]) -> dict[str, Decimal | None]:
    keys = [key for key, _label in statistics.COLUMNS]
    return {key: number(cell) for key, cell in zip(keys[2:], cells[2:], strict=False)}


def comparable(expected: dict) -> dict[str, Decimal | None]:
    return {k: None if v is None else Decimal(v) for k, v in expected.items()}


# --- Tests ----------------------------------------------------------------------------------


@pytest.fixture
def page(world) -> StatisticsPage:
    return statistics_page()


def test_the_page_and_the_csv_show_the_independently_computed_figures(world, page, client):
    snapshot = statistics.compute_snapshot(now=NOW)
    expected = expected_figures(world)

    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    headers, shown = page_table(html)
    assert headers == [str(label) for _key, label in statistics.COLUMNS]
    districts = [c for c in expected if c != "12"]
    assert len(districts) == 16
    assert set(shown) == set(expected)
    for code, cells in shown.items():
        assert as_figures(cells) == comparable(expected[code]), code

    # A few figures by hand, so the Python above cannot be wrong the same way.
    assert expected[XIQING]["villages_with_station"] == 2  # the 居委会 and suspended ones: no
    assert expected[XIQING]["cooperatives_selling"] == 1
    assert expected[NINGHE]["cooperatives_selling"] == 1  # through a public variant
    assert expected[JIZHOU]["cooperatives_selling"] == 1  # sold out, still listed
    assert expected[XIQING]["orders_month"] == 3
    assert expected[XIQING]["sales_month"] == Decimal("65.50")
    assert expected[XIQING]["orders_year"] == 4
    assert expected[NINGHE]["orders_year"] == 2
    assert expected["12"]["orders_month"] == 4  # the two-district order counts once
    assert expected["12"]["sales_year"] == Decimal("132.64")
    assert expected["12"]["course_completions"] == 4
    assert expected[XIQING]["course_completions"] == 1
    assert expected[JIZHOU]["course_completions"] == 1
    assert expected["12"]["session_attendees"] == 55
    assert shown["120101"][4].startswith("—")  # 和平区: no administrative villages

    # The summary and "as of" time.
    soup = BeautifulSoup(html, "html.parser")
    as_of = soup.select_one(".stats-asof time")
    assert dt.datetime.fromisoformat(as_of["datetime"]) == NOW
    assert "2026年11月15日" in as_of.get_text()
    assert snapshot.month_start == dt.date(2026, 11, 1)
    assert snapshot.year_start == dt.date(2026, 1, 1)
    charts = soup.select("svg[role=img]")
    assert len(charts) == 4
    for svg in charts:
        title, desc = svg.find("title"), svg.find("desc")
        assert title.get_text(strip=True) and desc.get_text(strip=True)
        assert svg["aria-labelledby"] == f"{title['id']} {desc['id']}"
    assert 'src="http' not in html  # nothing fetched from elsewhere

    # The CSV: the same figures, in Chinese, with the time and the periods.
    response = client.get(reverse("statistics-csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    csv_headers, rows = csv_table(response.content)
    assert csv_headers[: len(headers)] == headers
    assert csv_headers[len(headers) :] == ["本月起始日", "本年起始日", "数据截至"]
    assert list(rows) == ["12", *sorted(districts)]
    for code, cells in rows.items():
        assert as_figures(cells[: len(headers)]) == as_figures(shown[code]), code
        assert cells[1] == shown[code][1]
        assert cells[-3:] == ["2026-11-01", "2026-01-01", "2026-11-15T12:00:00+08:00"]
    assert rows[XIQING][7] == "65.50"  # yuan, two decimals
    assert rows["120101"][4] == ""  # no villages, no coverage


def test_no_snapshot_yet_says_so(page, client):
    response = client.get(page.url)
    assert response.status_code == 200
    assert "统计数据正在生成" in response.content.decode()
    assert 'id="stats-table"' not in response.content.decode()
    response = client.get(reverse("statistics-csv"))
    assert response.status_code == 503
    assert response["Retry-After"]


def test_a_snapshot_in_progress_is_never_shown(world, page, client):
    done = statistics.compute_snapshot(now=NOW)
    # A newer computation under way: its rows are there, not yet complete.
    running = StatsSnapshot.objects.create(
        month_start=dt.date(2026, 11, 1), year_start=dt.date(2026, 1, 1)
    )
    DistrictFigures.objects.create(snapshot=running, code="12", name="天津市", orders_year=999)
    running.computed_at = NOW + dt.timedelta(hours=1)  # even if it says it finished later
    running.save()

    figures = statistics.latest()
    assert figures.snapshot == done
    _headers, shown = page_table(client.get(page.url).content.decode())
    assert number(shown["12"][8]) == 7  # orders this year, not 999
    _headers, rows = csv_table(client.get(reverse("statistics-csv")).content)
    assert rows["12"][8] == "7"


def test_the_latest_complete_snapshot_is_shown(world, page, client):
    statistics.compute_snapshot(now=NOW - dt.timedelta(days=10))
    latest = statistics.compute_snapshot(now=NOW)
    assert statistics.latest().snapshot == latest
    _headers, shown = page_table(client.get(page.url).content.decode())
    assert number(shown["12"][6]) == 4


def test_a_failure_midway_leaves_no_complete_snapshot(world, page, client, monkeypatch):
    before = statistics.compute_snapshot(now=NOW - dt.timedelta(days=1))

    def explode(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(statistics, "prune", explode)  # after the rows are written
    with pytest.raises(RuntimeError):
        statistics.compute_snapshot(now=NOW)
    failed = StatsSnapshot.objects.exclude(pk=before.pk).get()
    assert not failed.complete and failed.computed_at is None
    assert not failed.rows.exists()  # the rows were rolled back with the flag
    assert statistics.latest().snapshot == before
    assert StatsSnapshot.objects.filter(complete=True).count() == 1


def test_the_page_costs_the_same_queries_for_one_order_and_many(db, client):
    page = statistics_page()
    coop = cooperative(administrative_villages(XIQING, 1)[0])
    place(at(2026, 11, 2, 10), (coop.partner, "20.00", "delivered"))
    statistics.compute_snapshot(now=NOW)
    client.get(page.url)  # warm up
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page.url)
    one = len(captured)
    assert number(page_table(response.content.decode())[1][XIQING][6]) == 1

    for i in range(60):
        place(at(2026, 11, 3, 10, i % 60), (coop.partner, "10.00", "delivered"))
    statistics.compute_snapshot(now=NOW)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page.url)
    many = len(captured)
    assert number(page_table(response.content.decode())[1][XIQING][6]) == 61
    assert many == one
    # The figures themselves: one query, snapshot and rows together.
    with CaptureQueriesContext(connection) as fetch:
        assert statistics.latest() is not None
    assert len(fetch) == 1


def test_computing_takes_a_constant_number_of_queries(world):
    statistics.compute_snapshot(now=NOW)
    with CaptureQueriesContext(connection) as few:
        statistics.compute_snapshot(now=NOW)
    for i in range(30):
        place(at(2026, 11, 4, 10, i), (world.cooperatives[0].partner, "1.00", "pending"))
        station(administrative_villages(NINGHE, 40)[i + 2])
    with CaptureQueriesContext(connection) as more:
        statistics.compute_snapshot(now=NOW)
    assert len(more) == len(few) <= 20


def test_old_snapshots_are_pruned(db, monkeypatch):
    monkeypatch.setattr(statistics, "KEEP_SNAPSHOTS", 3)
    stale = StatsSnapshot.objects.create(
        month_start=dt.date(2026, 11, 1), year_start=dt.date(2026, 1, 1)
    )
    StatsSnapshot.objects.filter(pk=stale.pk).update(started_at=NOW - dt.timedelta(days=2))
    made = [statistics.compute_snapshot(now=NOW + dt.timedelta(minutes=i)) for i in range(5)]
    assert list(StatsSnapshot.objects.order_by("pk")) == made[-3:]
    assert DistrictFigures.objects.count() == 3 * 17


def test_the_task_the_beat_entry_and_the_command(db):
    from cms.tasks import compute_statistics

    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "cms.compute_statistics"
    )
    assert float(entry["schedule"]) <= 1800
    snapshot_id = compute_statistics.delay().get()
    assert StatsSnapshot.objects.get(pk=snapshot_id).complete
    out = io.StringIO()
    call_command("compute_statistics", stdout=out)
    assert "统计快照" in out.getvalue()
    assert StatsSnapshot.objects.filter(complete=True).count() == 2
    city = statistics.latest().city
    # Every administrative village of Tianjin, as Division tells one.
    assert city.villages == sum(
        d.is_administrative_village
        for d in Division.objects.filter(level=Division.Level.VILLAGE, code__startswith="12")
    )
    assert city.villages > 3000


@pytest.mark.django_db(transaction=True)
def test_computing_while_orders_are_placed(client):
    """Orders committed from another connection while snapshots are
    computed: nothing fails, every snapshot is complete, and each counts
    between the orders committed before it started and all of them."""
    coop = cooperative(administrative_villages(XIQING, 1)[0])
    stop = threading.Event()
    placed: list[int] = []
    errors: list[BaseException] = []

    def place_orders():
        try:
            while not stop.is_set() and len(placed) < 400:
                with transaction.atomic():
                    place(
                        dt.datetime.now(SH) - dt.timedelta(seconds=1),
                        (coop.partner, "2.00", "pending"),
                    )
                placed.append(1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=place_orders)
    worker.start()
    counts = []
    try:
        for _ in range(5):
            before = len(placed)
            snapshot = statistics.compute_snapshot()
            after = len(placed)
            orders = snapshot.rows.get(code="12").orders_year
            counts.append(orders)
            assert before <= orders <= after + 1
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not errors, errors
    assert StatsSnapshot.objects.filter(complete=False).count() == 0
    assert counts == sorted(counts)
    final = statistics.compute_snapshot()
    assert final.rows.get(code="12").orders_year == len(placed)
    assert final.rows.get(code=XIQING).sales_year == 200 * len(placed)


def test_load_demo_leaves_a_snapshot_to_show(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", "--no-images", stdout=io.StringIO())
    figures = statistics.latest()
    assert figures is not None
    # The demo's cooperatives are verified and list products; its stations
    # cover villages.
    assert figures.city.cooperatives_selling > 0
    assert figures.city.villages_with_station > 0
    assert len(figures.districts) == 16
