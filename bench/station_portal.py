"""Benchmark: the station portal's pages at a busy station — 5,000 residents
and 20,000 assisted orders (target: under 100 ms median server time a page).

Run against a migrated PostgreSQL database (and Redis for the cache, as in
production):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wn_bench
    export REDIS_URL=redis://127.0.0.1:6379/10
    export STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/station_portal.py --residents 5000 --orders 20000 --runs 30 \\
        --write bench/results/station-portal-$(date +%F).md

It makes (or reuses) a station with ``--residents`` residents (each with a
User row, as registration makes them) and ``--orders`` assisted orders spread
over two years (about 27 a day, 800 a month at the default size). Each order
is an Oscar Order with its ShippingAddress and one to three Lines, a
StationOrder, a Parcel per cooperative for station delivery, a cash sale (a
refund too if cancelled) and the audit events the services write; there is a
day close for every past business day; plus a second station with a
tenth of that. Everything is bulk-inserted from a fixed seed, so two runs
build the same data. Then it times requests through Django's test client
(the whole server side: middleware, views, templates; no network) as the
station's staff member: every portal page, after a warm-up request, printing
the median, 95th percentile and SQL queries per request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

from bench.bulk import explicit_timestamps, make_residents, money  # noqa: E402
from cooperatives.models import Cooperative  # noqa: E402
from divisions.models import Division  # noqa: E402
from shop.address.china import ensure_china  # noqa: E402
from shop.address.chinese import copy_division_names  # noqa: E402
from shop.search.indexing import index_product_ids  # noqa: E402
from stations import commission, ordering  # noqa: E402
from stations.models import (  # noqa: E402
    AuditEvent,
    CashEntry,
    DayClose,
    Parcel,
    Resident,
    Station,
    StationOrder,
    StationStaff,
)

User = get_user_model()
Order = get_model("order", "Order")
Line = get_model("order", "Line")
ShippingAddress = get_model("order", "ShippingAddress")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")

SEED = 20261127
STATION_NAME = "基准测试益农信息社"
OTHER_NAME = "基准对照益农信息社"
STAFF = "station-bench"
VILLAGE = "120111102201"  # 西青区辛口镇上辛口村
OTHER_VILLAGE = "120117110201"  # 宁河区七里海镇
PRODUCE = [
    ("沙窝萝卜", "20.00"),
    ("七里海河蟹", "88.00"),
    ("小站稻", "45.00"),
    ("崔庄冬枣", "36.00"),
    ("宝坻大蒜", "18.00"),
    ("青麻叶白菜", "9.90"),
    ("玫瑰香葡萄", "29.00"),
    ("黄板泥鳅", "56.00"),
]
HOME_CHARGE = Decimal("12.00")
SPAN_DAYS = 730


# --- The catalogue ----------------------------------------------------------------------


def catalogue() -> list[StockRecord]:
    """Two cooperatives' products (each produce name in eight sizes), with
    plenty of stock, indexed for search."""
    from stdnum.cn import uscc

    records = list(
        StockRecord.objects.filter(partner__name__startswith="基准合作社").select_related(
            "product", "partner"
        )
    )
    if records:
        return records
    product_class, _ = ProductClass.objects.get_or_create(
        name="蔬菜", defaults={"track_stock": True, "requires_shipping": True}
    )
    partners = []
    for n, prefix in enumerate(("93120111MA0PB0201", "93120117MA0PB0202")):
        name = f"基准合作社{n + 1}"
        partner = Partner.objects.create(name=name, is_selling=True)
        Cooperative.objects.create(
            partner=partner,
            legal_name=name,
            display_name=name,
            credit_code=prefix + uscc.calc_check_digit(prefix),
            entity_type="93",
            legal_representative="张三",
            contact_phone="13800138000",
            division=Division.objects.get(code=prefix[2:8]),
            status=Cooperative.Status.VERIFIED,
        )
        partners.append(partner)
    products = []
    for i in range(len(PRODUCE) * 8):
        title, _price = PRODUCE[i % len(PRODUCE)]
        products.append(
            Product(
                title=f"{title} {i // len(PRODUCE) + 1}号",
                structure=Product.STANDALONE,
                product_class=product_class,
                unit="jin",
                storage_class="ambient",
                is_public=True,
                slug=f"station-bench-{i}",
            )
        )
    Product.objects.bulk_create(products)
    StockRecord.objects.bulk_create(
        StockRecord(
            product=p,
            partner=partners[i % 2],
            partner_sku=f"SB{p.pk}",
            price=Decimal(PRODUCE[i % len(PRODUCE)][1]) + i // len(PRODUCE),
            price_currency="CNY",
            num_in_stock=1_000_000,
            num_allocated=0,
        )
        for i, p in enumerate(products)
    )
    index_product_ids([p.pk for p in products])
    return list(
        StockRecord.objects.filter(partner__in=partners).select_related("product", "partner")
    )


# --- A station and its history ------------------------------------------------------------


def station_with_staff(name: str, village: str, username: str) -> tuple[Station, object]:
    station = Station.objects.filter(name=name).first()
    if station is None:
        station = Station.objects.create(
            name=name,
            village_id=village,
            street_address="村委会东侧 8 号",
            opening_hours="8:00–18:00",
            contact_phone="022-27391234",
            operator="村民委员会",
        )
    user, _ = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.cn"}
    )
    StationStaff.objects.get_or_create(user=user, defaults={"station": station})
    return station, user


def addresses_for(station: Station, people: list[Resident]) -> dict:
    """Template shipping addresses: the station's, and each resident's home."""
    country = ensure_china()[0]
    to_station = ShippingAddress(country=country, last_name="")
    copy_division_names(to_station, station.village_id)
    to_station.line1 = f"{station.name}（{station.street_address}）"
    to_station.phone_number = station.contact_phone
    to_station.notes = "送到服务站，由站点代收"
    return {"station": to_station, "country": country}


def shipping_address(template: dict, resident: Resident, delivery: str) -> ShippingAddress:
    base = template["station"]
    address = ShippingAddress(
        country=template["country"],
        last_name=resident.name,
        line1=base.line1,
        line2=base.line2,
        line3=base.line3,
        line4=base.line4,
        state=base.state,
        division_id=base.division_id,
        phone_number=base.phone_number,
        notes=base.notes,
    )
    if delivery == Resident.Delivery.HOME:
        address.line1 = f"{resident.address_detail}"
        address.division_id = resident.village_id
        address.phone_number = resident.phone or base.phone_number
        address.notes = "站点代购"
    return address


def make_orders(
    station,
    staff,
    people,
    records,
    count: int,
    rng: random.Random,
    serial_base: int,
    end: dt.datetime,
) -> None:
    """``count`` orders from ``end - SPAN_DAYS`` to ``end``, then the cash
    ledger and its daily closes."""
    template = addresses_for(station, people)
    start = end - dt.timedelta(days=SPAN_DAYS)
    step = (end - start) / count
    ledger = []  # (time, kind, amount, station_order_id)
    chunk = 2000
    for first in range(0, count, chunk):
        specs = []
        for i in range(first, min(first + chunk, count)):
            created = (
                start
                + step * i
                + dt.timedelta(seconds=rng.randrange(int(step.total_seconds() * 0.8) or 1))
            )
            resident = rng.choice(people)
            delivery = resident.delivery_preference
            items = rng.sample(records, rng.choice((1, 1, 2, 2, 3)))
            lines = [(r, rng.choice((1, 1, 2, 3))) for r in items]
            goods = sum((r.price * q for r, q in lines), Decimal("0"))
            shipping = HOME_CHARGE if delivery == Resident.Delivery.HOME else Decimal("0.00")
            total = goods + shipping
            age = end - created
            cancelled = rng.random() < 0.03 and age > dt.timedelta(hours=2)
            specs.append(
                {
                    "created": created,
                    "resident": resident,
                    "delivery": delivery,
                    "lines": lines,
                    "goods": goods,
                    "shipping": shipping,
                    "total": total,
                    "cancelled": cancelled,
                    "age": age,
                    "number": f"{timezone.localtime(created):%y%m%d}{serial_base + i:07d}",
                }
            )
        addresses = [shipping_address(template, s["resident"], s["delivery"]) for s in specs]
        ShippingAddress.objects.bulk_create(addresses, batch_size=1000)
        orders = []
        for s, address in zip(specs, addresses, strict=True):
            status = order_status(s)
            s["status"] = status
            orders.append(
                Order(
                    number=s["number"],
                    user_id=s["resident"].user_id,
                    currency="CNY",
                    total_incl_tax=s["total"],
                    total_excl_tax=s["total"],
                    shipping_incl_tax=s["shipping"],
                    shipping_excl_tax=s["shipping"],
                    shipping_address=address,
                    shipping_method="送货上门"
                    if s["delivery"] == Resident.Delivery.HOME
                    else "送到服务站",
                    shipping_code="flat-rate"
                    if s["delivery"] == Resident.Delivery.HOME
                    else "station",
                    status=status,
                    date_placed=s["created"],
                )
            )
        Order.objects.bulk_create(orders, batch_size=1000)
        order_lines = []
        for s, order in zip(specs, orders, strict=True):
            line_status = {
                "cancelled": "cancelled",
                "delivered": "delivered",
                "shipped": "shipped",
            }.get(s["status"], "pending")
            for record, quantity in s["lines"]:
                price = record.price * quantity
                order_lines.append(
                    Line(
                        order=order,
                        partner_id=record.partner_id,
                        partner_name=record.partner.name,
                        partner_sku=record.partner_sku,
                        stockrecord_id=record.pk,
                        product_id=record.product_id,
                        title=record.product.title,
                        quantity=quantity,
                        line_price_incl_tax=price,
                        line_price_excl_tax=price,
                        line_price_before_discounts_incl_tax=price,
                        line_price_before_discounts_excl_tax=price,
                        unit_price_incl_tax=record.price,
                        unit_price_excl_tax=record.price,
                        status=line_status,
                        num_allocated=quantity if line_status == "pending" else 0,
                    )
                )
        Line.objects.bulk_create(order_lines, batch_size=2000)
        station_orders = []
        for s, order in zip(specs, orders, strict=True):
            received = cash_tendered(s["total"], rng)
            station_orders.append(
                StationOrder(
                    order=order,
                    station=station,
                    resident=s["resident"],
                    placed_by=staff,
                    delivery=s["delivery"],
                    goods_total=s["goods"],
                    total=s["total"],
                    cash_received=received,
                    change_given=received - s["total"],
                    pickup_code=f"{rng.randrange(10**6):06d}",
                    commission=commission.commission_for(station, s["goods"]),
                    created_at=s["created"],
                    cancelled_at=s["created"] + dt.timedelta(hours=1) if s["cancelled"] else None,
                    cancelled_by=staff if s["cancelled"] else None,
                    cancel_reason="居民不要了" if s["cancelled"] else "",
                )
            )
        with explicit_timestamps(StationOrder, AuditEvent):
            StationOrder.objects.bulk_create(station_orders, batch_size=1000)
            parcels, events = [], []
            for s, order, so in zip(specs, orders, station_orders, strict=True):
                resident, created = s["resident"], s["created"]
                events += [
                    event(
                        station,
                        staff,
                        resident,
                        order,
                        "order_placed",
                        created,
                        number=order.number,
                    ),
                    event(
                        station,
                        staff,
                        resident,
                        order,
                        "cash_received",
                        created,
                        due=str(s["total"]),
                    ),
                    event(station, staff, resident, order, "receipt_printed", created),
                ]
                ledger.append((created, CashEntry.Kind.SALE, s["total"], so.pk, order.number))
                if s["cancelled"]:
                    ledger.append(
                        (
                            created + dt.timedelta(hours=1),
                            CashEntry.Kind.REFUND,
                            -s["total"],
                            so.pk,
                            "",
                        )
                    )
                    events.append(
                        event(station, staff, resident, order, "order_cancelled", created)
                    )
                if s["delivery"] != Resident.Delivery.STATION:
                    continue
                for partner_id in sorted({r.partner_id for r, _q in s["lines"]}):
                    parcel = parcel_for(station, so, partner_id, s, staff, rng)
                    parcels.append(parcel)
                if parcels[-1].arrived_at:
                    events.append(
                        event(
                            station,
                            staff,
                            resident,
                            order,
                            "parcel_arrived",
                            parcels[-1].arrived_at,
                        )
                    )
                if parcels[-1].handed_over_at:
                    events.append(
                        event(
                            station,
                            staff,
                            resident,
                            order,
                            "handed_over",
                            parcels[-1].handed_over_at,
                        )
                    )
            Parcel.objects.bulk_create(parcels, batch_size=2000)
            AuditEvent.objects.bulk_create(events, batch_size=2000)
        print(f"  {station.name}: {first + len(specs)} orders", flush=True)
    close_days(station, staff, ledger, end)


def order_status(spec) -> str:
    if spec["cancelled"]:
        return "cancelled"
    age = spec["age"]
    if age > dt.timedelta(days=10):
        return "delivered"
    if age > dt.timedelta(days=3):
        return "shipped"
    return "pending"


def parcel_for(station, so, partner_id, spec, staff, rng) -> Parcel:
    created, age = spec["created"], spec["age"]
    parcel = Parcel(station=station, station_order=so, partner_id=partner_id)
    if spec["cancelled"]:
        parcel.status = Parcel.Status.CANCELLED
    elif age > dt.timedelta(days=3):
        parcel.status = Parcel.Status.ARRIVED
        parcel.arrived_at = created + dt.timedelta(days=2, hours=rng.randrange(8))
        parcel.arrived_by = staff
        parcel.notified_at = parcel.arrived_at
        # Most are collected within days; one in a hundred is left waiting.
        if rng.random() > 0.01 and (age > dt.timedelta(days=6) or rng.random() < 0.5):
            parcel.status = Parcel.Status.HANDED_OVER
            parcel.handed_over_at = parcel.arrived_at + dt.timedelta(hours=rng.randrange(1, 72))
            parcel.handed_over_by = staff
    else:
        parcel.status = Parcel.Status.IN_TRANSIT
    return parcel


def event(station, staff, resident, order, action, when, **detail) -> AuditEvent:
    return AuditEvent(
        station=station,
        resident=resident,
        actor=staff,
        action=action,
        order=order,
        detail=detail,
        created_at=when,
    )


def cash_tendered(total: Decimal, rng: random.Random) -> Decimal:
    for note in (Decimal("10"), Decimal("50"), Decimal("100")):
        if rng.random() < 0.4:
            return money((total / note).to_integral_value(rounding="ROUND_CEILING") * note)
    return total


def close_days(station, staff, ledger, end: dt.datetime) -> None:
    """Remit the drawer every Monday; close every business day before today
    (a few with a small shortage); today's entries stay open."""
    ledger.sort()
    by_day = defaultdict(list)
    for entry in ledger:
        by_day[timezone.localtime(entry[0]).date()].append(entry)
    today = timezone.localtime(end).date()
    opening = Decimal("0.00")
    closes, entries = [], []
    rng = random.Random(SEED + station.pk)
    day = min(by_day) if by_day else today
    while day <= today:
        todays = by_day.get(day, [])
        noon = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        if day.weekday() == 0 and opening > 0:
            todays = [(noon, CashEntry.Kind.REMITTANCE, -opening, None, "周一上缴"), *todays]
        receipts = sum((e[2] for e in todays if e[1] == CashEntry.Kind.SALE), Decimal("0"))
        refunds = sum((e[2] for e in todays if e[1] == CashEntry.Kind.REFUND), Decimal("0"))
        remittances = sum((e[2] for e in todays if e[1] == CashEntry.Kind.REMITTANCE), Decimal("0"))
        close = None
        if day < today:
            expected = opening + receipts + refunds + remittances
            counted = expected - (Decimal(rng.randrange(1, 20)) if rng.random() < 0.03 else 0)
            close = DayClose(
                station=station,
                business_date=day,
                opening=opening,
                receipts=receipts,
                refunds=refunds,
                remittances=remittances,
                expected=expected,
                counted=counted,
                difference=counted - expected,
                closed_by=staff,
                closed_at=timezone.make_aware(dt.datetime.combine(day, dt.time(18, 30))),
            )
            closes.append(close)
            opening = counted
        entries += [(e, close) for e in todays]
        day += dt.timedelta(days=1)
    with explicit_timestamps(DayClose, CashEntry):
        DayClose.objects.bulk_create(closes, batch_size=1000)
        CashEntry.objects.bulk_create(
            (
                CashEntry(
                    station=station,
                    kind=kind,
                    amount=amount,
                    station_order_id=so_id,
                    recorded_by=staff,
                    note=note,
                    created_at=when,
                    day_close=close,
                )
                for (when, kind, amount, so_id, note), close in entries
            ),
            batch_size=2000,
        )


def build(residents_n: int, orders_n: int) -> tuple[Station, object, float]:
    """The benchmark station (built once, then reused) and the other one."""
    station, staff = station_with_staff(STATION_NAME, VILLAGE, STAFF)
    have = StationOrder.objects.filter(station=station).count()
    if have:
        if have != orders_n or station.residents.count() != residents_n:
            sys.exit(
                f"{STATION_NAME} already has {have} orders and {station.residents.count()} residents; "
                "use a fresh database for other sizes"
            )
        return station, staff, 0.0
    started = time.perf_counter()
    records = catalogue()
    end = timezone.now() - dt.timedelta(minutes=5)
    rng = random.Random(SEED)
    with transaction.atomic():
        people = make_residents(
            station, staff, residents_n, rng, end - dt.timedelta(days=SPAN_DAYS + 30)
        )
        make_orders(station, staff, people, records, orders_n, rng, 5_000_000, end)
        other, other_staff = station_with_staff(OTHER_NAME, OTHER_VILLAGE, STAFF + "-other")
        others = make_residents(
            other, other_staff, max(residents_n // 10, 1), rng, end - dt.timedelta(days=SPAN_DAYS)
        )
        make_orders(
            other, other_staff, others, records, max(orders_n // 10, 1), rng, 6_000_000, end
        )
    with connection.cursor() as cursor:  # fresh statistics after the bulk load
        cursor.execute("ANALYZE")
    return station, staff, time.perf_counter() - started


# --- Measuring ---------------------------------------------------------------------------


def measure(client: Client, url: str, runs: int) -> tuple[list[float], int]:
    response = client.get(url)  # warm: templates, caches
    assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)  # now: the next request resets the log
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times, queries


def pages(station: Station) -> list[tuple[str, str]]:
    """Every portal page, with typical arguments."""
    busiest = (
        Resident.objects.filter(station=station)
        .exclude(phone="")
        .annotate(n=Count("orders"))
        .order_by("-n", "pk")
        .first()
    )
    basket = ordering.resident_basket(busiest)
    if basket.is_empty:
        for record in StockRecord.objects.filter(partner__name__startswith="基准合作社").order_by(
            "pk"
        )[:3]:
            ordering.add_product(basket, record.product, 1)
    recent = (
        StationOrder.objects.filter(station=station, cancelled_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    name = busiest.name[:2]
    return [
        ("home", "/station/"),
        ("residents", "/station/residents/"),
        (f"residents ?q={name} (name)", f"/station/residents/?q={name}"),
        ("residents ?q=phone (11 digits)", f"/station/residents/?q={busiest.phone}"),
        ("residents ?q=phone (last 4)", f"/station/residents/?q={busiest.phone[-4:]}"),
        (f"resident detail ({busiest.orders.count()} orders)", f"/station/residents/{busiest.pk}/"),
        (
            f"order page ?q=萝卜, basket of {basket.num_lines}",
            f"/station/order/{busiest.pk}/?q=萝卜",
        ),
        ("orders", "/station/orders/"),
        ("orders ?q=name", f"/station/orders/?q={name}"),
        ("order detail", f"/station/orders/{recent.pk}/"),
        ("receipt", f"/station/orders/{recent.pk}/receipt/"),
        ("parcels", "/station/parcels/"),
        ("cash", "/station/cash/"),
        ("commission (this month)", "/station/commission/"),
    ]


def conditions(station: Station, setup_seconds: float) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    month_start, _end = commission.month_bounds(*timezone.localdate().timetuple()[:2])
    return [
        f"- Machine: `{platform.node()}`, `nproc` = {os.cpu_count()}, load average "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min) at the start",
        f"- Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {pg}, "
        f"cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}",
        f"- Dataset: station {station.name}: {station.residents.count():,} residents, "
        f"{StationOrder.objects.filter(station=station).count():,} orders "
        f"({Order.objects.filter(station_order__station=station).count():,} Oscar orders, "
        f"{Line.objects.filter(order__station_order__station=station).count():,} lines), "
        f"{Parcel.objects.filter(station=station).count():,} parcels, "
        f"{CashEntry.objects.filter(station=station).count():,} cash entries, "
        f"{DayClose.objects.filter(station=station).count():,} day closes, "
        f"{AuditEvent.objects.filter(station=station).count():,} audit events; "
        f"this month so far {StationOrder.objects.filter(station=station, created_at__gte=month_start).count():,} "
        f"orders; all stations {StationOrder.objects.count():,} orders, {User.objects.count():,} users",
        f"- Generation: {setup_seconds:.1f} s (bulk inserts, seed {SEED})"
        if setup_seconds
        else "- Generation: reused the data built by an earlier run",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M %Z')}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--target", type=float, default=100.0, help="median ms a page must stay under"
    )
    parser.add_argument("--write", help="write the results as Markdown to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (DATABASE_URL=postgres://…).")

    # The test client's host; no setup_test_environment(): its template
    # instrumentation would slow every render down.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    station, staff, setup = build(args.residents, args.orders)
    lines = conditions(station, setup)
    print("\n".join(lines))

    client = Client()
    client.force_login(staff)
    rows = []
    header = f"{'page':<42} {'queries':>7} {'median ms':>10} {'p95 ms':>8} {'min ms':>7}"
    print("\n" + header)
    for label, url in pages(station):
        times, queries = measure(client, url, args.runs)
        times.sort()
        p95 = times[max(int(round(len(times) * 0.95)) - 1, 0)]
        median = statistics.median(times)
        rows.append((label, url, queries, median, p95, times[0]))
        flag = "" if median < args.target else "  ← over target"
        print(f"{label:<42} {queries:>7} {median:>10.1f} {p95:>8.1f} {times[0]:>7.1f}{flag}")
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    missed = [r[0] for r in rows if r[3] >= args.target]
    print(
        f"target (median < {args.target:.0f} ms): "
        + ("met" if not missed else f"missed by {missed}")
    )

    if args.write:
        out = [
            f"# Station portal: pages at {args.residents:,} residents and {args.orders:,} orders",
            "",
            f"`bench/station_portal.py --residents {args.residents} --orders {args.orders} --runs {args.runs}` — "
            "Django's test client (the whole server side: middleware, view, templates; no network) "
            "signed in as the station's staff member, one warm-up request per page, then "
            f"{args.runs} timed requests.",
            "",
            *lines,
            f"- Load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
            "",
            "| page | SQL queries | median | p95 | min |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {label} (`{url}`) | {q} | {m:.1f} ms | {p:.1f} ms | {lo:.1f} ms |"
                for label, url, q, m, p, lo in rows
            ),
            "",
            f"Target: median under {args.target:.0f} ms for every page — "
            + ("**met**." if not missed else f"**missed** by: {', '.join(missed)}."),
            "",
        ]
        Path(args.write).write_text("\n".join(out), encoding="utf-8")
        print(f"written to {args.write}")


if __name__ == "__main__":
    main()
