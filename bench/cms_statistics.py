"""Benchmark: the coverage and sales statistics at full size — 100,000 orders
and every administrative village of Tianjin (targets: the snapshot task
under 30 s; the statistics page under 50 ms median server time, with the
same number of SQL queries whatever the number of orders).

Run against a migrated PostgreSQL database (the migrations load the
divisions, villages included) and Redis for the cache, as in production:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangnong_bench
    export REDIS_URL=redis://127.0.0.1:6379/10
    export STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/cms_statistics.py --orders 100000 \\
        --write bench/results/cms-statistics-$(date +%F).md

It makes (or reuses) 50 cooperatives in the ten districts with villages
(45 verified and selling with listed products, 5 not), a station in 45% of
the administrative villages (and suspended ones in a few more), ``--orders``
orders from 1 January this year until now with one to three lines each
from cooperatives of one or more districts (3% cancelled, 2% of lines
refunded), 3,000 certificates (some learners cooperative members or station
staff) and 2,000 offline training sessions. Everything is bulk-inserted from
a fixed seed, so two runs build the same data.

Then it times ``cms.statistics.compute_snapshot`` (``--computes`` runs) and
requests to a StatisticsPage through Django's test client (the whole server
side: middleware, Wagtail's page serving, template; no network), counting
the SQL queries per request: once over a snapshot with no orders in it (as
of 2000-01-01, before any order) and once over the snapshot of all of them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics as stats
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402
from wagtail.models import Page, Site  # noqa: E402

from cms import statistics  # noqa: E402
from cms.models import (  # noqa: E402
    Certificate,
    CoursePage,
    StatisticsPage,
    StatsSnapshot,
    TrainingSession,
)
from cooperatives.models import Cooperative, Membership  # noqa: E402
from divisions.models import Division  # noqa: E402
from stations.coverage import administrative_villages  # noqa: E402
from stations.models import Station, StationStaff  # noqa: E402

User = get_user_model()
Order = get_model("order", "Order")
Line = get_model("order", "Line")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")

SEED = 20261127
PREFIX = "统计基准"
# The ten districts with administrative villages.
RURAL = ["120110", "120111", "120112", "120113", "120114", "120115", "120116", "120117"]
RURAL += ["120118", "120119"]
COOPS_PER_DISTRICT = 5
PRODUCE = [("沙窝萝卜", "20.00"), ("小站稻", "45.00"), ("七里海河蟹", "88.00"), ("冬枣", "36.00")]
STATION_SHARE = 0.45
CERTIFICATES = 3000
SESSIONS = 2000
EARLY = dt.datetime(2000, 1, 1, tzinfo=statistics.CALENDAR_ZONE)


# --- Data ---------------------------------------------------------------------------------


def cooperatives(rng: random.Random) -> list[StockRecord]:
    """Fifty cooperatives with two products each; the stock records."""
    records = list(
        StockRecord.objects.filter(partner__name__startswith=PREFIX).select_related("partner")
    )
    if records:
        return records
    product_class, _ = ProductClass.objects.get_or_create(
        name="蔬菜", defaults={"track_stock": True, "requires_shipping": True}
    )
    towns = {}
    for district in RURAL:
        towns[district] = list(
            Division.objects.filter(level=Division.Level.TOWN, code__startswith=district)
            .order_by("code")
            .values_list("code", flat=True)[:COOPS_PER_DISTRICT]
        )
    partners, coops = [], []
    for district in RURAL:
        for i in range(COOPS_PER_DISTRICT):
            n = len(partners)
            verified = n % 10 != 9  # one in ten not (yet) verified
            partner = Partner(name=f"{PREFIX}合作社{n + 1:02d}", is_selling=verified)
            partners.append(partner)
            coops.append(
                Cooperative(
                    legal_name=partner.name,
                    display_name=partner.name,
                    credit_code=f"93{district}{n:010d}",
                    entity_type="93",
                    legal_representative="张三",
                    contact_phone="13800138000",
                    division_id=towns[district][i % len(towns[district])],
                    status=Cooperative.Status.VERIFIED if verified else Cooperative.Status.APPLIED,
                )
            )
    Partner.objects.bulk_create(partners)
    for partner, coop in zip(partners, coops, strict=True):
        coop.partner = partner
    Cooperative.objects.bulk_create(coops)
    products = []
    for n, partner in enumerate(partners):
        for k in range(2):
            title, _price = PRODUCE[(n + k) % len(PRODUCE)]
            products.append(
                Product(
                    title=f"{title}（{partner.name}）",
                    structure=Product.STANDALONE,
                    product_class=product_class,
                    is_public=True,
                    slug=f"stats-bench-{n}-{k}",
                )
            )
    Product.objects.bulk_create(products)
    StockRecord.objects.bulk_create(
        StockRecord(
            product=p,
            partner=partners[i // 2],
            partner_sku=f"STB{p.pk}",
            price=Decimal(PRODUCE[i % len(PRODUCE)][1]),
            price_currency="CNY",
            num_in_stock=rng.choice((0, 50, 500)),
            num_allocated=0,
        )
        for i, p in enumerate(products)
    )
    return list(
        StockRecord.objects.filter(partner__name__startswith=PREFIX).select_related("partner")
    )


def stations(rng: random.Random) -> list[Station]:
    made = list(Station.objects.filter(name__startswith=PREFIX))
    if made:
        return made
    villages = list(administrative_villages().order_by("code").values_list("code", flat=True))
    rng.shuffle(villages)
    active = int(len(villages) * STATION_SHARE)
    rows = [
        Station(
            name=f"{PREFIX}益农信息社{i:04d}",
            village_id=code,
            street_address="村委会东侧",
            contact_phone="022-27391234",
            operator="村民委员会",
            status=Station.Status.ACTIVE if i < active else Station.Status.SUSPENDED,
        )
        for i, code in enumerate(villages[: active + 150])
    ]
    return Station.objects.bulk_create(rows, batch_size=2000)


def orders(records: list[StockRecord], count: int, rng: random.Random, end: dt.datetime) -> None:
    """``count`` orders from 1 January to ``end``: all of them this year, so
    the year's figures aggregate every one."""
    start = dt.datetime(end.year, 1, 1, tzinfo=statistics.CALENDAR_ZONE)
    span = (end - start).total_seconds()
    chunk = 5000
    for first in range(0, count, chunk):
        specs, made = [], []
        for i in range(first, min(first + chunk, count)):
            when = start + dt.timedelta(seconds=span * (i + rng.random()) / count)
            lines = [
                (r, rng.choice((1, 1, 2, 3))) for r in rng.sample(records, rng.choice((1, 1, 2, 3)))
            ]
            cancelled = rng.random() < 0.03
            total = sum((r.price * q for r, q in lines), Decimal(0))
            age = end - when
            status = (
                "cancelled"
                if cancelled
                else "delivered"
                if age > dt.timedelta(days=10)
                else "shipped"
                if age > dt.timedelta(days=3)
                else "pending"
            )
            specs.append((lines, status))
            made.append(
                Order(
                    number=f"ST{i + 1:09d}",
                    currency="CNY",
                    total_incl_tax=total,
                    total_excl_tax=total,
                    status=status,
                    date_placed=when,
                )
            )
        Order.objects.bulk_create(made, batch_size=2000)
        lines = []
        for order, (items, status) in zip(made, specs, strict=True):
            for record, quantity in items:
                price = record.price * quantity
                line_status = status
                if status == "delivered" and rng.random() < 0.02:
                    line_status = "refunded"
                lines.append(
                    Line(
                        order=order,
                        partner_id=record.partner_id,
                        partner_name=record.partner.name,
                        partner_sku=record.partner_sku,
                        stockrecord_id=record.pk,
                        product_id=record.product_id,
                        title="农产品",
                        quantity=quantity,
                        line_price_incl_tax=price,
                        line_price_excl_tax=price,
                        line_price_before_discounts_incl_tax=price,
                        line_price_before_discounts_excl_tax=price,
                        unit_price_incl_tax=record.price,
                        unit_price_excl_tax=record.price,
                        status=line_status,
                        num_allocated=0,
                    )
                )
        Line.objects.bulk_create(lines, batch_size=4000)
        print(f"  {first + len(made):,} orders", flush=True)


def training(all_stations: list[Station], rng: random.Random, end: dt.datetime) -> None:
    """Certificates (a tenth of the learners cooperative members, a tenth
    station staff) and offline sessions."""
    root = Page.get_first_root_node()
    course = root.add_child(
        instance=CoursePage(title="如何拍好农产品照片", slug="stats-bench-course", intro="拍照")
    )
    users = User.objects.bulk_create(
        (
            User(username=f"stats-bench-{i:05d}", password="!bench", is_active=True)
            for i in range(CERTIFICATES)
        ),
        batch_size=2000,
    )
    coops = list(Cooperative.objects.filter(partner__name__startswith=PREFIX))
    Membership.objects.bulk_create(
        Membership(cooperative=rng.choice(coops), user=u) for u in users[: CERTIFICATES // 10]
    )
    StationStaff.objects.bulk_create(
        StationStaff(station=rng.choice(all_stations), user=u)
        for u in users[CERTIFICATES // 10 : CERTIFICATES // 5]
    )
    start = end - dt.timedelta(days=600)
    Certificate.objects.bulk_create(
        (
            Certificate(
                code=f"SB{i:08d}",
                user=u,
                course=course,
                name=u.username,
                course_title=course.title,
                issued_at=start + dt.timedelta(seconds=rng.randrange(600 * 86400)),
            )
            for i, u in enumerate(users)
        ),
        batch_size=2000,
    )
    TrainingSession.objects.bulk_create(
        (
            TrainingSession(
                station=rng.choice(all_stations),
                course=course,
                held_on=(start + dt.timedelta(days=rng.randrange(600))).date(),
                attendees=rng.randrange(5, 60),
                recorded_by=users[0],
            )
            for _ in range(SESSIONS)
        ),
        batch_size=2000,
    )


def build(count: int) -> float:
    """The benchmark's data (built once, then reused); seconds taken."""
    have = Order.objects.filter(number__startswith="ST").count()
    if have:
        if have != count:
            sys.exit(f"{have} benchmark orders exist; use a fresh database for other sizes")
        return 0.0
    started = time.perf_counter()
    rng = random.Random(SEED)
    end = timezone.now() - dt.timedelta(minutes=5)
    with transaction.atomic():
        records = cooperatives(rng)
        all_stations = stations(rng)
        orders(records, count, rng, end)
        training(all_stations, rng, end)
    with connection.cursor() as cursor:  # fresh planner statistics after the bulk load
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def statistics_page() -> StatisticsPage:
    page = StatisticsPage.objects.filter(slug="statistics-bench").first()
    if page:
        return page
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    return site.root_page.add_child(
        instance=StatisticsPage(title="覆盖和销售统计", slug="statistics-bench")
    )


# --- Measuring ------------------------------------------------------------------------------


def page_times(client: Client, url: str, runs: int) -> tuple[list[float], list[float], int, str]:
    """Wall-clock and this process's CPU milliseconds per request, the
    queries of one request and its HTML. (The CPU time leaves out the
    database server's, but also the waiting for a core on a busy machine.)"""
    response = client.get(url)  # warm: templates, caches
    assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = len(captured)  # now: the next request's connection resets the log
    html = response.content.decode()
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    return times, cpu, queries, html


def conditions(setup: float) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    load = os.getloadavg()
    return [
        f"- Machine: `{platform.node()}`, `nproc` = {os.cpu_count()} (shared with other work "
        f"running at the same time), load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
        "(1/5/15 min) at the start",
        f"- Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg}, "
        f"cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}",
        f"- Dataset: {Order.objects.filter(number__startswith='ST').count():,} benchmark orders "
        f"({Order.objects.count():,} orders and {Line.objects.count():,} lines in the database), "
        f"{Cooperative.objects.count():,} cooperatives, "
        f"{administrative_villages().count():,} administrative villages, "
        f"{Station.objects.count():,} stations "
        f"({Station.objects.filter(status=Station.Status.ACTIVE).count():,} active), "
        f"{Certificate.objects.count():,} certificates, "
        f"{TrainingSession.objects.count():,} training sessions",
        f"- Generation: {setup:.1f} s (bulk inserts, seed {SEED})"
        if setup
        else "- Generation: reused the data built by an earlier run",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M %Z')}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--computes", type=int, default=3)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--compute-target", type=float, default=30.0, help="seconds")
    parser.add_argument("--page-target", type=float, default=50.0, help="median ms")
    parser.add_argument("--write", help="write the results as Markdown to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (DATABASE_URL=postgres://…).")
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    setup = build(args.orders)
    lines = conditions(setup)
    print("\n".join(lines))
    page = statistics_page()
    url = page.url
    client = Client()

    # A snapshot with no orders in it (as of 2000-01-01) …
    StatsSnapshot.objects.all().delete()
    statistics.compute_snapshot(now=EARLY)
    small_times, small_cpu, small_queries, _html = page_times(client, url, args.runs)

    # … then the real ones: the task's work, timed.
    durations, task_queries = [], []
    for _ in range(args.computes):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            snapshot = statistics.compute_snapshot()
            durations.append(time.perf_counter() - started)
        task_queries.append(len(captured))
        print(f"compute_snapshot: {durations[-1]:.2f} s, {task_queries[-1]} queries")
    city = snapshot.rows.get(code=statistics.CITY_CODE)
    large_times, large_cpu, large_queries, html = page_times(client, url, args.runs)
    assert "stats-table" in html and str(city.orders_year) in html.replace(",", "")

    def summary(times: list[float]) -> tuple[float, float, float]:
        times = sorted(times)
        return stats.median(times), times[max(round(len(times) * 0.95) - 1, 0)], times[0]

    small, large = summary(small_times), summary(large_times)
    compute_median = stats.median(durations)
    load = os.getloadavg()
    compute_ok = max(durations) < args.compute_target
    page_ok = large[0] < args.page_target and small[0] < args.page_target
    queries_ok = small_queries == large_queries
    small_cpu_median, large_cpu_median = stats.median(small_cpu), stats.median(large_cpu)
    print(
        f"page, snapshot without orders: {small_queries} queries, median {small[0]:.1f} ms, "
        f"p95 {small[1]:.1f} ms, CPU median {small_cpu_median:.1f} ms\n"
        f"page, snapshot of {city.orders_year:,} orders this year: {large_queries} queries, "
        f"median {large[0]:.1f} ms, p95 {large[1]:.1f} ms, CPU median {large_cpu_median:.1f} ms\n"
        f"load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}\n"
        f"targets: compute < {args.compute_target:.0f} s {'met' if compute_ok else 'MISSED'}; "
        f"page median < {args.page_target:.0f} ms {'met' if page_ok else 'MISSED'}; "
        f"constant queries {'yes' if queries_ok else 'NO'}"
    )

    if args.write:
        out = [
            f"# Coverage and sales statistics at {args.orders:,} orders",
            "",
            f"`bench/cms_statistics.py --orders {args.orders} --computes {args.computes} "
            f"--runs {args.runs}` — `cms.statistics.compute_snapshot` (what the periodic task "
            "`cms.compute_statistics` runs) timed end to end, and the statistics page "
            "requested through Django's test client (the whole server side: middleware, "
            "Wagtail's page serving, template and SVG charts; no network), one warm-up "
            f"request, then {args.runs} timed requests.",
            "",
            *lines,
            f"- Load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
            "",
            "## The snapshot task",
            "",
            "| run | time | SQL queries |",
            "|---:|---:|---:|",
            *(
                f"| {i + 1} | {d:.2f} s | {q} |"
                for i, (d, q) in enumerate(zip(durations, task_queries, strict=True))
            ),
            "",
            f"Median {compute_median:.2f} s. The latest snapshot: {city.villages_with_station:,} "
            f"of {city.villages:,} administrative villages covered, "
            f"{city.cooperatives_selling} cooperatives selling, {city.orders_year:,} orders "
            f"(¥{Decimal(city.sales_year) / 100:,.2f}) this year, {city.orders_month:,} this "
            f"month, {city.course_completions:,} certificates, {city.training_sessions:,} "
            "sessions.",
            "",
            f"Target: under {args.compute_target:.0f} s — "
            + ("**met**." if compute_ok else "**missed**."),
            "",
            "## The statistics page",
            "",
            "| snapshot | SQL queries | median | p95 | min | CPU median (this process) |",
            "|---|---:|---:|---:|---:|---:|",
            f"| no orders (as of 2000-01-01) | {small_queries} | {small[0]:.1f} ms | "
            f"{small[1]:.1f} ms | {small[2]:.1f} ms | {small_cpu_median:.1f} ms |",
            f"| all {args.orders:,} orders | {large_queries} | {large[0]:.1f} ms | "
            f"{large[1]:.1f} ms | {large[2]:.1f} ms | {large_cpu_median:.1f} ms |",
            "",
            f"Target: median under {args.page_target:.0f} ms — "
            + ("**met**" if page_ok else "**missed**")
            + "; the same number of queries for both — "
            + ("**yes**." if queries_ok else "**no**."),
            "",
        ]
        Path(args.write).write_text("\n".join(out), encoding="utf-8")
        print(f"written to {args.write}")
    if not (compute_ok and page_ok and queries_ok):
        sys.exit(1)


if __name__ == "__main__":
    main()
