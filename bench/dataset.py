"""The city-scale benchmark dataset (issue 9), loaded straight into PostgreSQL.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wn_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/dataset.py [--scale full|small] [--seed 1] [--manifest PATH]
        [--reset] [--if-missing]

Full scale: 20,000 top-level products (standalone and parents; about 30% are
parents with 2–3 variants, so some 35,000 product rows), 1,000 verified
cooperatives over Tianjin's ten rural districts (one of them with 2,000
products, for the portal list), 300 village service stations with staff and
residents, 50,000 customers with a saved Tianjin address, 200,000 past orders
over the last year with lines and shipping addresses, a produce category tree
of 40 categories, product classes, stock records, product photos, the search
index, the CMS home and statistics pages. ``--scale small`` makes about 500
products, 20 cooperatives, 10 stations and 2,000 orders, for tests and
development.

The 38 demo products of shop/catalogue/demo_data.py are in it under their
demo UPCs (their cooperatives are the first few generated ones); the rest is
generated around the same produce. Everything comes from ``--seed``: the
same seed makes the same rows (titles, prices, stock, who ordered what;
timestamps are relative to today). Rows go in with ``bulk_create`` in
batches inside one transaction, so a load is either complete or absent; the
first cooperative's partner code (``bench-<scale>-s<seed>-0000``) marks a
complete load, which ``--if-missing`` checks to exit at once.

It refuses to write into a database that already has a catalogue, unless
``--reset``, which first truncates what it generates (catalogue, partners,
cooperatives, stations, orders, addresses) and deletes the ``bench-`` users.
Then it writes the manifest the load harness reads (bench/load.py; JSON,
default var/bench/dataset.json): URLs, queries and accounts (one password).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import itertools
import json
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.db.models.functions import Coalesce  # noqa: E402
from django.utils import timezone  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402
from stdnum.cn import uscc  # noqa: E402

from bench.bulk import (  # noqa: E402
    copy_insert,
    hashed_password,
    make_residents,
    money,
    person_name,
)
from bench.photo_pool import ensure_pool  # noqa: E402
from cooperatives.models import Cooperative, Membership  # noqa: E402
from divisions.models import Division  # noqa: E402
from shop.address.china import ensure_china  # noqa: E402
from shop.address.chinese import copy_division_names  # noqa: E402
from shop.catalogue import demo_data  # noqa: E402
from shop.catalogue.management.commands.load_demo import (  # noqa: E402
    CHATTY_LOGGERS,
    product_slug,
    quiet_loggers,
)
from stations.coverage import administrative_villages  # noqa: E402
from stations.models import Station, StationStaff  # noqa: E402

User = get_user_model()
Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductClass = get_model("catalogue", "ProductClass")
ProductImage = get_model("catalogue", "ProductImage")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
UserAddress = get_model("address", "UserAddress")
Order = get_model("order", "Order")
Line = get_model("order", "Line")
OrderNumber = get_model("order", "OrderNumber")
ShippingAddress = get_model("order", "ShippingAddress")

PASSWORD = "wangnong-bench"
DEFAULT_MANIFEST = ROOT / "var" / "bench" / "dataset.json"
QUERIES_FILE = ROOT / "bench" / "search_queries.json"
USER_PREFIX = "bench-"
EMAIL_DOMAIN = "bench.wangnong.local"
# The districts with farmland (and administrative villages).
RURAL = {
    "120110": 1,  # 东丽区
    "120111": 3,  # 西青区
    "120112": 2,  # 津南区
    "120113": 2,  # 北辰区
    "120114": 4,  # 武清区
    "120115": 4,  # 宝坻区
    "120116": 2,  # 滨海新区
    "120117": 3,  # 宁河区
    "120118": 3,  # 静海区
    "120119": 4,  # 蓟州区
}
BRANDS = "丰收 绿源 金穗 鑫农 禾丰 润田 福兴 沃土 兴旺 康农 富民 田园 瑞丰 嘉禾 农家 宏达 益民 惠农 硕果 青禾"
BRANDS = BRANDS.split()
TRADES = {
    "蔬菜": "蔬菜种植",
    "水果": "果品",
    "粮油米面": "粮食种植",
    "水产": "水产养殖",
    "干果坚果": "干果",
    "禽蛋肉类": "畜禽养殖",
    "礼盒特产": "农副产品",
}
CLASSES = {
    "蔬菜": "生鲜果蔬",
    "水果": "生鲜果蔬",
    "水产": "生鲜肉禽水产",
    "禽蛋肉类": "生鲜肉禽水产",
}
DEFAULT_CLASS = "农副产品"
# Categories beyond the demo's tree, and produce for them: (label, art,
# category, district, unit, storage, price).
EXTRA_CATEGORIES = {
    "蔬菜": ["菌菇类", "豆类"],
    "水果": ["桃", "苹果", "瓜类"],
    "粮油米面": ["食用油"],
    "水产": ["贝类"],
    "禽蛋肉类": ["牛羊肉"],
    "礼盒特产": ["酱菜腌制"],
}
EXTRA_KINDS = [
    ("香菇", "chestnut", ("蔬菜", "菌菇类"), "120119", "jin", "chilled", "16.80"),
    ("平菇", "cabbage", ("蔬菜", "菌菇类"), "120114", "jin", "chilled", "9.80"),
    ("鲜毛豆", "spinach", ("蔬菜", "豆类"), "120118", "jin", "chilled", "8.80"),
    ("蟠桃", "persimmon", ("水果", "桃"), "120119", "box", "chilled", "49.90"),
    ("红富士苹果", "tomato", ("水果", "苹果"), "120119", "box", "ambient", "45.00"),
    ("小西瓜", "cucumber", ("水果", "瓜类"), "120114", "box", "ambient", "39.90"),
    ("压榨花生油", "honey", ("粮油米面", "食用油"), "120115", "bag", "ambient", "79.00"),
    ("毛蚶", "shrimp", ("水产", "贝类"), "120116", "kg", "chilled", "36.00"),
    ("散养羊肉", "pork", ("禽蛋肉类", "牛羊肉"), "120119", "kg", "frozen", "98.00"),
    ("天津冬菜", "cabbage", ("礼盒特产", "酱菜腌制"), "120118", "carton", "ambient", "18.80"),
    ("黄瓜", "cucumber", ("蔬菜", "茄果瓜类"), "120111", "jin", "ambient", "6.80"),
    ("韭黄", "chives", ("蔬菜", "叶菜类"), "120113", "jin", "chilled", "14.80"),
]
GRADES = ["特级", "一级", "农家", "新鲜", "头茬", "产地直发", "当季", "自产", "优选", "鲜采"]
PACKS = {
    "jin": ["3斤装", "5斤装", "10斤装"],
    "kg": ["1公斤", "2.5公斤", "5公斤"],
    "box": ["小箱", "中箱", "大箱"],
    "bag": ["1袋", "2袋装", "5袋装"],
    "carton": ["单盒", "2盒装", "4盒装"],
}
PACK_FACTOR = (Decimal("1"), Decimal("1.6"), Decimal("3"))
PACK_WEIGHT = {"jin": (1500, 2500, 5000), "kg": (1000, 2500, 5000)}


@dataclass(frozen=True)
class Scale:
    products: int  # top-level: standalone and parents (the demo's 38 included)
    cooperatives: int
    big_cooperative: int  # products of the first one (the portal list target)
    stations: int
    residents_per_station: int
    customers: int
    orders: int
    photos: int


SCALES = {
    "full": Scale(20_000, 1_000, 2_000, 300, 20, 50_000, 200_000, 60),
    "small": Scale(500, 20, 100, 10, 5, 300, 2_000, 12),
}


def marker_code(scale: str, seed: int) -> str:
    return f"bench-{scale}-s{seed}-0000"


class Timer:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.started = time.perf_counter()

    def phase(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.phases[name] = round(now - since, 2)
        print(f"  {name:<28} {now - since:7.1f} s", flush=True)
        return now


# --- Reference data ----------------------------------------------------------------------


@dataclass
class Kind:
    """One kind of produce: what generated products are made of."""

    label: str
    art: str
    categories: list[tuple[str, ...]]
    district: str
    unit: str
    storage: str
    certifications: list[str]
    price: Decimal
    description: str


def produce_kinds(districts: dict[str, str]) -> list[Kind]:
    """The demo's produce and a few more kinds."""
    by_name = {name: code for code, name in districts.items()}
    kinds = []
    for spec in demo_data.PRODUCTS:
        prices = [v["price"] for v in spec.get("variants", [])] or [spec["price"]]
        kinds.append(
            Kind(
                label=spec["label"],
                art=spec["art"],
                categories=[tuple(c) for c in spec["categories"]],
                district=by_name[spec["origin"][0]],
                unit=spec.get("unit") or spec["variants"][0]["unit"],
                storage=spec["storage"],
                certifications=list(spec["certifications"]),
                price=min(prices),
                description=spec["description"],
            )
        )
    for label, art, category, district, unit, storage, price in EXTRA_KINDS:
        kinds.append(
            Kind(
                label=label,
                art=art,
                categories=[category],
                district=district,
                unit=unit,
                storage=storage,
                certifications=[],
                price=Decimal(price),
                description=f"<p>{districts[district]}合作社社员自产的{label}，产地直发。</p>",
            )
        )
    return kinds


def make_categories() -> dict[tuple[str, ...], object]:
    """The produce tree: the demo's seven departments and their sub-categories
    plus a few more, 40 in all (few rows: treebeard's own inserts)."""
    tree = {top: subs + EXTRA_CATEGORIES.get(top, []) for top, subs in demo_data.CATEGORIES.items()}
    result = {}
    for top_name, subs in tree.items():
        top = Category.add_root(name=top_name, slug=product_slug(top_name))
        result[(top_name,)] = top
        for sub_name in subs:
            top = Category.objects.get(pk=top.pk)  # treebeard reads numchild
            result[(top_name, sub_name)] = top.add_child(name=sub_name, slug=product_slug(sub_name))
    return result


def make_product_classes() -> dict[str, object]:
    names = sorted({*CLASSES.values(), DEFAULT_CLASS})
    classes = ProductClass.objects.bulk_create(
        ProductClass(name=n, slug=product_slug(n), track_stock=True, requires_shipping=True)
        for n in names
    )
    return {c.name: c for c in classes}


def tianjin_places() -> tuple[dict[str, str], dict[str, list], dict[str, list]]:
    """District names, towns by district, villages by town (code, name)."""
    districts = dict(
        Division.objects.filter(level=Division.Level.COUNTY, code__in=RURAL).values_list(
            "code", "name"
        )
    )
    towns: dict[str, list] = defaultdict(list)
    streets: dict[str, list] = defaultdict(list)
    for code, name in (
        Division.objects.filter(level=Division.Level.TOWN, code__startswith="12")
        .order_by("code")
        .values_list("code", "name")
    ):
        # Farms are in towns (镇, 乡); a district with none has sub-districts.
        if name.endswith(("镇", "乡")):
            towns[code[:6]].append((code, name))
        elif name.endswith("街道"):
            streets[code[:6]].append((code, name))
    for district, names in streets.items():
        if not towns.get(district):
            towns[district] = names
    villages: dict[str, list] = defaultdict(list)
    for code, name in (
        administrative_villages().order_by("code").values_list("code", "name").iterator()
    ):
        villages[code[:9]].append((code, name))
    return districts, towns, villages


def short(name: str) -> str:
    for suffix in ("街道", "新区", "镇", "乡", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


# --- Cooperatives -------------------------------------------------------------------------


def make_cooperatives(n: int, scale: str, seed: int, rng: random.Random, places, kinds):
    """``n`` verified cooperatives, each with a partner, a manager account
    and two to four kinds of produce (mostly of its own district)."""
    districts, towns, _villages = places
    codes, weights = zip(*RURAL.items(), strict=True)
    by_district = defaultdict(list)
    for k, kind in enumerate(kinds):
        by_district[kind.district].append(k)
    # The demo's cooperatives' districts first, so each demo product has a home.
    demo_districts = [
        next(c for c, name in districts.items() if name == spec["district"])
        for spec in demo_data.COOPERATIVES
    ]
    used: set[tuple[str, str]] = set()
    partners, coops, specialities = [], [], []
    now = timezone.now()
    for i in range(n):
        district = demo_districts[i] if i < len(demo_districts) else rng.choices(codes, weights)[0]
        own = by_district.get(district, [])
        first = rng.choice(own) if own and rng.random() < 0.8 else rng.randrange(len(kinds))
        mine = [first] + rng.sample(range(len(kinds)), rng.randint(1, 3))
        town_code, town_name = rng.choice(towns[district])
        brand = rng.choice(BRANDS)
        while (town_code, brand) in used:
            brand = rng.choice(BRANDS) + rng.choice("兴盛达源")
        used.add((town_code, brand))
        trade = TRADES[kinds[first].categories[0][0]]
        legal = f"天津市{districts[district]}{short(town_name)}{brand}{trade}专业合作社"
        display = f"{short(town_name)}{brand}{trade}合作社"[:40]
        partners.append(Partner(name=legal, code=f"bench-{scale}-s{seed}-{i:04d}", is_selling=True))
        prefix = f"93{district}MA0BN{i:04d}"
        coops.append(
            Cooperative(
                legal_name=legal,
                display_name=display,
                credit_code=prefix + uscc.calc_check_digit(prefix),
                entity_type="93",
                legal_representative=person_name(rng),
                contact_phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
                division_id=town_code,
                address_detail=f"{short(town_name)}农业园区{rng.randrange(1, 60)}号",
                description=f"{districts[district]}{town_name}的农民专业合作社，"
                f"主营{'、'.join(kinds[k].label for k in dict.fromkeys(mine))}。",
                status=Cooperative.Status.VERIFIED,
                status_changed_at=now,
            )
        )
        specialities.append(list(dict.fromkeys(mine)))
    # Partner.code is an AutoSlugField: bulk_create keeps the given codes.
    Partner.objects.bulk_create(partners, batch_size=1000)
    for partner, coop in zip(partners, coops, strict=True):
        coop.partner = partner
    Cooperative.objects.bulk_create(coops, batch_size=1000)
    password = hashed_password(PASSWORD)
    managers = User.objects.bulk_create(
        (
            User(
                username=f"{USER_PREFIX}coop-{i:04d}",
                email=f"coop-{i:04d}@{EMAIL_DOMAIN}",
                first_name=coop.legal_representative,
                password=password,
            )
            for i, coop in enumerate(coops)
        ),
        batch_size=1000,
    )
    Membership.objects.bulk_create(
        (
            Membership(cooperative=coop, user=user, role=Membership.Role.MANAGER)
            for coop, user in zip(coops, managers, strict=True)
        ),
        batch_size=1000,
    )
    return coops, specialities


# --- Products -----------------------------------------------------------------------------


def _record(product_id: int, partner_id: int, sku: str, price, rng: random.Random) -> dict:
    in_stock = rng.random() < 0.92
    return {
        "product_id": product_id,
        "partner_id": partner_id,
        "partner_sku": sku,
        "price": price,
        "price_currency": "CNY",
        "num_in_stock": rng.randint(300, 5000) if in_stock else 0,
        "num_allocated": 0,
        "low_stock_threshold": 10,
    }


def make_products(scale: Scale, rng: random.Random, coops, specialities, kinds, places, refs):
    """The demo's products under their UPCs, then generated ones up to
    ``scale.products`` top-level products; their variants, categories, stock
    records and photos."""
    districts, towns, villages = places
    categories, classes, photos = refs["categories"], refs["classes"], refs["photos"]
    today = timezone.localdate()
    now = timezone.now()
    kind_of_label = {k.label: i for i, k in enumerate(kinds)}
    demo_coop = {spec["code"]: i for i, spec in enumerate(demo_data.COOPERATIVES)}

    # (coop index, kind index, demo spec or None) for each top-level product.
    plan = [(demo_coop[s["partner"]], kind_of_label[s["label"]], s) for s in demo_data.PRODUCTS]
    plan += [(0, rng.choice(specialities[0]), None) for _ in range(scale.big_cooperative)]
    rest = scale.products - len(plan)
    for _ in range(rest):
        c = rng.randrange(1, len(coops))
        plan.append((c, rng.choice(specialities[c]), None))

    tops, children, records, links, images = [], [], [], [], []
    for n, (c, k, spec) in enumerate(plan):
        coop, kind = coops[c], kinds[k]
        town = coop.division_id
        choices = villages.get(town)
        origin = rng.choice(choices)[0] if choices and rng.random() < 0.5 else town
        created = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        if spec is not None:
            title, upc = spec["title"], spec["upc"]
            variants = [
                (v["title"], v["unit"], v["net_weight_g"], v["price"])
                for v in spec.get("variants", [])
            ]
            price = spec.get("price")
            certs, description = list(spec["certifications"]), spec["description"]
            weight = spec.get("net_weight_g")
        else:
            upc = f"BN{n:06d}"
            # A district's own produce often carries its name (宝坻大蒜).
            home = coop.division_id[:6] == kind.district
            place = short(districts[kind.district]) if home and rng.random() < 0.5 else ""
            if place and kind.label.startswith(place):
                place = ""
            packs = PACKS[kind.unit]
            grade = rng.choice(GRADES)
            certs = [c_ for c_ in kind.certifications if rng.random() < 0.7]
            description = kind.description
            if rng.random() < 0.3:
                title = f"{place}{kind.label} {grade}"
                count = rng.choice((2, 3))
                variants = []
                for v in range(count):
                    factor = PACK_FACTOR[v]
                    grams = PACK_WEIGHT.get(kind.unit, (1000, 2000, 4000))[v]
                    variants.append((packs[v], kind.unit, grams, money(kind.price * factor)))
                price, weight = None, None
            else:
                v = rng.randrange(3)
                title = f"{place}{kind.label} {grade} {packs[v]}"
                variants = []
                jitter = Decimal(rng.randrange(80, 131)) / 100
                price = money(kind.price * jitter * PACK_FACTOR[v])
                weight = PACK_WEIGHT.get(kind.unit, (1000, 2000, 4000))[v]
        top = len(tops)  # rows are referred to by position until they have ids
        tops.append(
            {
                "upc": upc,
                "title": title,
                "slug": product_slug(title),
                "structure": Product.PARENT if variants else Product.STANDALONE,
                "product_class_id": classes[CLASSES.get(kind.categories[0][0], DEFAULT_CLASS)].pk,
                "description": description,
                "is_public": True,
                "unit": kind.unit,
                "net_weight_g": None if variants else weight,
                "origin_id": origin,
                "harvest_date": today - dt.timedelta(days=rng.randrange(1, 90)),
                "shelf_life_days": rng.choice((7, 15, 30, 45, 180, 365)),
                "storage_class": kind.storage,
                "certifications": certs,
                "date_created": created,
                "date_updated": created,
            }
        )
        arts = photos.get(kind.art) or next(iter(photos.values()))
        images.append((top, title, arts[n % len(arts)]))
        links += [(top, categories[path].pk) for path in kind.categories]
        if not variants:
            records.append((("top", top), coop.partner_id, upc, price))
        for v, (vtitle, unit, grams, vprice) in enumerate(variants):
            records.append((("child", len(children)), coop.partner_id, f"{upc}-{v + 1}", vprice))
            children.append(
                {
                    "upc": f"{upc}-{v + 1}",
                    "title": vtitle,
                    "slug": product_slug(vtitle),
                    "structure": Product.CHILD,
                    "parent_id": top,  # replaced by the parent's id below
                    "is_public": True,
                    "unit": unit,
                    "net_weight_g": grams,
                    "certifications": [],
                    "date_created": created,
                    "date_updated": created,
                }
            )

    ids = {"top": copy_insert(Product, tops)}
    for child in children:
        child["parent_id"] = ids["top"][child["parent_id"]]
    ids["child"] = copy_insert(Product, children)
    copy_insert(
        ProductCategory, [{"product_id": ids["top"][t], "category_id": c} for t, c in links]
    )
    copy_insert(
        StockRecord,
        [
            _record(ids[which][i], partner_id, sku, price, rng)
            for (which, i), partner_id, sku, price in records
        ],
    )
    copy_insert(
        ProductImage,
        [
            {"product_id": ids["top"][t], "original": name, "caption": title, "display_order": 0}
            for t, title, name in images
        ],
    )
    return len(tops), len(children)


# --- Stations -----------------------------------------------------------------------------


def make_stations(scale: Scale, rng: random.Random, places) -> int:
    """Stations in distinct administrative villages, each with a staff
    account and residents."""
    _districts, _towns, villages = places
    all_villages = sorted(v for town in villages.values() for v in town)
    chosen = rng.sample(all_villages, scale.stations)
    password = hashed_password(PASSWORD)
    stations = Station.objects.bulk_create(
        Station(
            name=name.replace("村民委员会", "村").replace("村委会", "村") + "益农信息社",
            village_id=code,
            street_address="村委会东侧",
            opening_hours="8:00–18:00",
            contact_phone=f"022-{rng.randrange(10**7, 10**8)}",
            operator="村民委员会",
        )
        for code, name in chosen
    )
    staff = User.objects.bulk_create(
        User(
            username=f"{USER_PREFIX}station-{i:03d}",
            email=f"station-{i:03d}@{EMAIL_DOMAIN}",
            first_name=person_name(rng),
            password=password,
        )
        for i in range(len(stations))
    )
    StationStaff.objects.bulk_create(
        StationStaff(user=u, station=s) for u, s in zip(staff, stations, strict=True)
    )
    start = timezone.now() - dt.timedelta(days=400)
    for station, user in zip(stations, staff, strict=True):
        make_residents(
            station,
            user,
            scale.residents_per_station,
            rng,
            start,
            span_days=730,
            username=USER_PREFIX + "r{station}-{i:03d}",
        )
    return len(stations)


# --- Customers and orders -----------------------------------------------------------------


def address_fields(code: str) -> dict:
    """Oscar's address lines for a division code (names copied once per code)."""
    holder = ShippingAddress()
    copy_division_names(holder, code)
    return {
        "division_id": code,
        "state": holder.state,
        "line4": holder.line4,
        "line3": holder.line3,
        "line2": holder.line2,
    }


def make_customers(scale: Scale, rng: random.Random, places) -> list[tuple[int, dict]]:
    """Customers with one default shipping address each (COPY: the table is
    large); returns (user id, address fields) for the order generator."""
    _districts, _towns, villages = places
    country = ensure_china()[0]
    codes = sorted(v[0] for town in villages.values() for v in town)
    lines_by_code: dict[str, dict] = {}
    password = hashed_password(PASSWORD)
    joined = timezone.now() - dt.timedelta(days=400)
    # One instance computes Oscar's search text and hash for every address.
    scratch = UserAddress(country=country)
    result = []
    chunk = 10000
    for first in range(0, scale.customers, chunk):
        users, addresses = [], []
        for i in range(first, min(first + chunk, scale.customers)):
            name = person_name(rng)
            users.append(
                {
                    "username": f"{USER_PREFIX}u{i:05d}",
                    "email": f"u{i:05d}@{EMAIL_DOMAIN}",
                    "first_name": name,
                    "password": password,
                    "is_active": True,
                    "date_joined": joined + dt.timedelta(seconds=rng.randrange(360 * 86400)),
                }
            )
            code = rng.choice(codes)
            if code not in lines_by_code:
                lines_by_code[code] = address_fields(code)
            fields = {
                **lines_by_code[code],
                "last_name": name,
                "line1": f"{rng.randrange(1, 30)}排{rng.randrange(1, 40)}号",
                "phone_number": f"+861{rng.choice('3578')}{rng.randrange(10**9):09d}",
            }
            for key, value in fields.items():
                setattr(scratch, key, value)
            scratch._update_search_text()
            # Orders' shipping addresses copy these lines: the same search text.
            fields["search_text"] = scratch.search_text
            addresses.append({**fields, "hash": scratch.generate_hash()})
        user_ids = copy_insert(User, users)
        rows = []
        for user_id, fields in zip(user_ids, addresses, strict=True):
            hash_ = fields.pop("hash")
            rows.append(
                {
                    **fields,
                    "user_id": user_id,
                    "country_id": country.pk,
                    "hash": hash_,
                    "is_default_for_shipping": True,
                    "is_default_for_billing": True,
                    "num_orders_as_shipping_address": 0,
                    "num_orders_as_billing_address": 0,
                    "date_created": timezone.now(),
                }
            )
            result.append((user_id, fields))
        copy_insert(UserAddress, rows)
    return result


def order_status(age: dt.timedelta, rng: random.Random) -> str:
    if rng.random() < 0.03:
        return "cancelled"
    if age > dt.timedelta(days=10):
        return "refunded" if rng.random() < 0.005 else "delivered"
    if age > dt.timedelta(days=3):
        return "shipped"
    if age > dt.timedelta(days=1):
        return "processing"
    return "pending"


LINE_STATUS = {
    "cancelled": "cancelled",
    "refunded": "refunded",
    "delivered": "delivered",
    "shipped": "shipped",
    "processing": "accepted",
    "pending": "pending",
}


def make_orders(scale: Scale, rng: random.Random, customers) -> int:
    """Past orders over the last year, oldest first, numbered as checkout
    numbers them (shop/order/utils.py: YYMMDD + a serial from OrderNumber)."""
    country = ensure_china()[0]
    records = list(
        StockRecord.objects.filter(num_in_stock__gt=0)
        .order_by("pk")
        .values_list("pk", "partner_id", "partner__name", "partner_sku", "price", "product_id")
    )
    titles = {}
    for pk, title, parent_title, upc in Product.objects.values_list(
        "pk", "title", "parent__title", "upc"
    ):
        titles[pk] = (f"{parent_title}（{title}）" if parent_title else title, upc)
    # Popular products sell more: a few hundred take a good share of the lines.
    weights = [1 + 30 * (rng.random() < 0.02) for _ in records]
    cumulative = list(itertools.accumulate(weights))  # what choices() would redo per call
    zone = timezone.get_current_timezone()
    end = timezone.now() - dt.timedelta(minutes=10)
    start = end - dt.timedelta(days=365)
    step = (end - start) / scale.orders
    chunk = 5000
    for first in range(0, scale.orders, chunk):
        specs = []
        for i in range(first, min(first + chunk, scale.orders)):
            placed = start + step * i + dt.timedelta(seconds=rng.random() * step.total_seconds())
            user_id, fields = customers[rng.randrange(len(customers))]
            items = {
                r[0]: r
                for r in rng.choices(
                    records, cum_weights=cumulative, k=rng.choice((1, 1, 1, 2, 2, 3))
                )
            }
            lines = [(r, rng.choice((1, 1, 1, 2, 3))) for r in items.values()]
            status = order_status(end - placed, rng)
            specs.append((placed, user_id, fields, lines, status))
        numbers = copy_insert(OrderNumber, [{"issued_at": spec[0]} for spec in specs])
        addresses = copy_insert(
            ShippingAddress, [{**spec[2], "country_id": country.pk} for spec in specs]
        )
        orders = []
        for (placed, user_id, _f, lines, status), serial, address_id in zip(
            specs, numbers, addresses, strict=True
        ):
            goods = sum((r[4] * q for r, q in lines), Decimal("0"))
            shipping = Decimal("0.00") if goods >= 99 else Decimal("10.00")
            orders.append(
                {
                    "number": f"{placed.astimezone(zone):%y%m%d}{serial:07d}",
                    "site_id": settings.SITE_ID,
                    "user_id": user_id,
                    "currency": "CNY",
                    "total_incl_tax": goods + shipping,
                    "total_excl_tax": goods + shipping,
                    "shipping_incl_tax": shipping,
                    "shipping_excl_tax": shipping,
                    "shipping_address_id": address_id,
                    "shipping_method": "快递配送",
                    "shipping_code": "carrier",
                    "status": status,
                    "date_placed": placed,
                }
            )
        order_ids = copy_insert(Order, orders)
        order_lines = []
        for order_id, (_p, _u, _f, lines, status) in zip(order_ids, specs, strict=True):
            for (pk, partner_id, partner_name, sku, price, product_id), quantity in lines:
                total = price * quantity
                title, upc = titles[product_id]
                order_lines.append(
                    {
                        "order_id": order_id,
                        "partner_id": partner_id,
                        "partner_name": partner_name,
                        "partner_sku": sku,
                        "stockrecord_id": pk,
                        "product_id": product_id,
                        "title": title,
                        "upc": upc,
                        "quantity": quantity,
                        "line_price_incl_tax": total,
                        "line_price_excl_tax": total,
                        "line_price_before_discounts_incl_tax": total,
                        "line_price_before_discounts_excl_tax": total,
                        "unit_price_incl_tax": price,
                        "unit_price_excl_tax": price,
                        "status": LINE_STATUS[status],
                        "num_allocated": quantity if status in ("pending", "processing") else 0,
                    }
                )
        copy_insert(Line, order_lines)
        if (first + chunk) % 50000 == 0:
            print(f"    {first + chunk:,} orders", flush=True)
    # What open orders hold, as checkout's allocation would have left it.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE partner_stockrecord s SET num_allocated = a.n FROM ("
            " SELECT stockrecord_id, SUM(num_allocated) AS n FROM order_line"
            " WHERE num_allocated > 0 GROUP BY stockrecord_id) a"
            " WHERE s.id = a.stockrecord_id"
        )
    return scale.orders


# --- CMS, search, statistics --------------------------------------------------------------


def setup_pages() -> None:
    """The home page with product and category blocks and the programme's
    sections (statistics page included), as load_demo makes them; the home
    page's blocks point at this catalogue."""
    from cms.demo import home_intro, setup_cms
    from cms.models import HomePage

    featured = list(
        Product.objects.filter(upc__in=demo_data.FEATURED_UPCS).values_list("pk", flat=True)
    )
    tops = list(Category.objects.filter(depth=1).order_by("path").values_list("pk", flat=True))
    home = HomePage.objects.first()
    setup_cms(featured_product_ids=featured, category_ids=tops)
    if home is not None:  # made before this catalogue: point its blocks at it
        home.intro = home_intro(featured, tops)
        home.save_revision().publish()


def add_carriers() -> None:
    """load_demo's carriers and rate cards: checkout and the stations'
    assisted orders need a carrier serving the address. Hand-off is a Celery
    task, which the load run queues and no worker takes, so the simulator
    address they point at is never called."""
    from logistics.demo import configure_carriers

    configure_carriers()


def compute_statistics() -> None:
    from cms import statistics

    statistics.compute_snapshot()


# --- Reset and the marker ------------------------------------------------------------------

# Tables whose rows this generator makes; TRUNCATE … CASCADE also empties what
# hangs off them (variants' baskets lines, reviews, station orders …).
TRUNCATE = [
    "order_line",
    "order_order",
    "order_shippingaddress",
    "order_ordernumber",
    "address_useraddress",
    "search_productsearchdocument",
    "catalogue_productimage",
    "catalogue_productcategory",
    "partner_stockrecord",
    "catalogue_product",
    "catalogue_category",
    "catalogue_productclass",
    "cooperatives_membership",
    "cooperatives_cooperative",
    "partner_partner",
    "stations_resident",
    "stations_stationstaff",
    "stations_station",
]


def reset() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TRUNCATE)} RESTART IDENTITY CASCADE")
        User.objects.filter(username__startswith=USER_PREFIX).delete()


def loaded(scale: str, seed: int) -> bool:
    return Partner.objects.filter(code=marker_code(scale, seed)).exists()


def catalogue_is_empty() -> bool:
    return not (Product.objects.exists() or Partner.objects.exists() or Order.objects.exists())


# --- Manifest -----------------------------------------------------------------------------


def in_stock_top_level():
    """Top-level products a buyer can add to the basket."""
    stocked = Q(stockrecords__num_in_stock__gt=0) | Q(children__stockrecords__num_in_stock__gt=0)
    return Product.objects.filter(parent__isnull=True, is_public=True).filter(stocked).distinct()


def spread(items: list, n: int) -> list:
    """``n`` items spread evenly over ``items``."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def manifest(scale: str, seed: int, timer: Timer | None) -> dict:
    from cms.models import StatisticsPage

    queries = json.loads(QUERIES_FILE.read_text(encoding="utf-8"))["queries"]
    # A category page lists its sub-categories' products too.
    stocked = {
        c.path for c in Category.objects.annotate(n=Count("product")).filter(n__gt=0).only("path")
    }
    categories = [
        c
        for c in Category.objects.order_by("path")
        if any(path.startswith(c.path) for path in stocked)
    ]
    products = spread(list(in_stock_top_level().order_by("upc").only("pk", "slug", "upc")), 200)
    customers = (
        User.objects.filter(username__startswith=f"{USER_PREFIX}u", addresses__isnull=False)
        .order_by("username")
        .values("username", "email", "addresses__pk")[:100]
    )
    coops = list(
        Cooperative.objects.filter(partner__code__startswith=f"bench-{scale}-s{seed}-")
        .order_by("partner__code")
        .values("pk", "display_name", "partner_id")[:20]
    )
    top_level = (  # top-level products each lists in its portal
        StockRecord.objects.filter(partner_id__in=[c["partner_id"] for c in coops])
        .annotate(top=Coalesce("product__parent_id", "product_id"))
        .values("partner_id")
        .annotate(n=Count("top", distinct=True))
    )
    counted = {row["partner_id"]: row["n"] for row in top_level}
    for coop in coops:
        coop["products"] = counted.get(coop["partner_id"], 0)
    managers = {
        m["cooperative_id"]: m
        for m in Membership.objects.filter(
            cooperative_id__in=[c["pk"] for c in coops], role=Membership.Role.MANAGER
        ).values("cooperative_id", "user__username", "user__email")
    }
    stations = list(
        Station.objects.annotate(residents_n=Count("residents"))
        .filter(residents_n__gt=0)
        .order_by("pk")
        .values("pk", "name", "residents_n")[:20]
    )
    staff = {
        s["station_id"]: s
        for s in StationStaff.objects.filter(station_id__in=[s["pk"] for s in stations]).values(
            "station_id", "user__username", "user__email"
        )
    }
    stats_page = StatisticsPage.objects.live().first()
    stats_url = None
    if stats_page is not None:
        stats_url = stats_page.get_url()
        if stats_url and "://" in stats_url:
            stats_url = "/" + stats_url.split("://", 1)[1].split("/", 1)[1]
    counts = {
        "top_level_products": Product.objects.filter(parent__isnull=True).count(),
        "variants": Product.objects.filter(parent__isnull=False).count(),
        "parents": Product.objects.filter(structure=Product.PARENT).count(),
        "stock_records": StockRecord.objects.count(),
        "categories": Category.objects.count(),
        "product_classes": ProductClass.objects.count(),
        "product_images": ProductImage.objects.count(),
        "cooperatives": Cooperative.objects.count(),
        "stations": Station.objects.count(),
        "residents": Station.objects.aggregate(n=Count("residents"))["n"],
        "customers": User.objects.filter(username__startswith=f"{USER_PREFIX}u").count(),
        "users": User.objects.count(),
        "orders": Order.objects.count(),
        "order_lines": Line.objects.count(),
        "search_documents": Product.objects.filter(search_document__isnull=False).count(),
    }
    return {
        "scale": scale,
        "seed": seed,
        "database": connection.settings_dict["NAME"],
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "timings_s": timer.phases if timer else None,
        "checksum": checksum(),
        "counts": counts,
        "password": PASSWORD,
        "login": {
            "url": "/accounts/login/",
            "note": "Oscar's login form takes the e-mail address, not the username",
            "fields": {"email": "login-username", "password": "login-password"},
            "submit": "login_submit",
        },
        "home_url": "/",
        "category_urls": [c.get_absolute_url() for c in categories],
        "product_urls": [p.get_absolute_url() for p in products],
        "search_queries": [q["query"] for q in queries],
        "customers": [
            {"username": c["username"], "email": c["email"], "address_id": c["addresses__pk"]}
            for c in customers
        ],
        "coop_managers": [
            {
                "username": managers[c["pk"]]["user__username"],
                "email": managers[c["pk"]]["user__email"],
                "cooperative": c["display_name"],
                "partner_id": c["partner_id"],
                "products": c["products"],
            }
            for c in coops
            if c["pk"] in managers
        ],
        "station_staff": [
            {
                "username": staff[s["pk"]]["user__username"],
                "email": staff[s["pk"]]["user__email"],
                "station": s["name"],
                "residents": s["residents_n"],
            }
            for s in stations
            if s["pk"] in staff
        ],
        "statistics_url": stats_url,
    }


def checksum() -> str:
    """A digest of what the seed decides (not of ids or timestamps): product
    titles, prices and stock, cooperatives, and who ordered how much of what."""
    digest = hashlib.sha256()
    for row in StockRecord.objects.order_by("partner_sku").values_list(
        "partner_sku", "product__title", "price", "num_in_stock", "partner__name"
    ):
        digest.update(repr(row).encode())
    for row in (
        Line.objects.order_by("order__number", "partner_sku")
        .values_list("order__user__username", "partner_sku", "quantity", "status")
        .iterator(chunk_size=20000)
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()[:16]


def manifest_matches(path: Path, scale: str, seed: int) -> bool:
    """Whether ``path`` is this database's manifest of this load (its URLs
    carry this database's primary keys)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (data.get("scale"), data.get("seed"), data.get("database")) == (
        scale,
        seed,
        connection.settings_dict["NAME"],
    )


def write_manifest(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"manifest: {path}")


# --- The load ------------------------------------------------------------------------------


def build(scale_name: str, seed: int, *, photos: int | None = None) -> Timer:
    """Load the dataset (one transaction) and return the per-phase timings."""
    scale = SCALES[scale_name]
    timer = Timer()
    # Millions of short-lived rows: the cyclic collector would keep rescanning them.
    gc.disable()
    try:
        _load(scale, scale_name, seed, photos, timer)
    finally:
        gc.enable()
    timer.phases["total"] = round(time.perf_counter() - timer.started, 2)
    return timer


def _load(scale: Scale, scale_name: str, seed: int, photos: int | None, timer: Timer) -> None:
    from shop.search.indexing import rebuild_index

    t = timer.started
    places = tianjin_places()
    kinds = produce_kinds(places[0])
    art_labels = list(dict.fromkeys((k.art, k.label) for k in kinds))
    pool = ensure_pool(art_labels[: photos or scale.photos], photos or scale.photos)
    t = timer.phase("photos", t)
    with transaction.atomic():
        refs = {"categories": make_categories(), "classes": make_product_classes(), "photos": pool}
        coops, specialities = make_cooperatives(
            scale.cooperatives, scale_name, seed, random.Random(f"{seed}-coops"), places, kinds
        )
        t = timer.phase("categories, cooperatives", t)
        make_products(
            scale, random.Random(f"{seed}-products"), coops, specialities, kinds, places, refs
        )
        t = timer.phase("products", t)
        make_stations(scale, random.Random(f"{seed}-stations"), places)
        t = timer.phase("stations, residents", t)
        customers = make_customers(scale, random.Random(f"{seed}-customers"), places)
        t = timer.phase("customers, addresses", t)
        make_orders(scale, random.Random(f"{seed}-orders"), customers)
        t = timer.phase("orders", t)
        rebuild_index(batch_size=1000)
        t = timer.phase("search index", t)
        setup_pages()
        t = timer.phase("cms pages", t)
        add_carriers()
        t = timer.phase("carriers", t)
    with connection.cursor() as cursor:  # fresh planner statistics after the bulk load
        cursor.execute(f"ANALYZE {', '.join([*TRUNCATE, User._meta.db_table])}")
    t = timer.phase("analyze", t)
    compute_statistics()
    timer.phase("statistics snapshot", t)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument(
        "--reset", action="store_true", help="truncate what the generator makes first"
    )
    parser.add_argument(
        "--if-missing",
        action="store_true",
        help="exit 0 at once when this scale and seed are already loaded",
    )
    parser.add_argument("--photos", type=int, help="photo pool size (default: the scale's)")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (DATABASE_URL=postgres://…).")
    if args.if_missing and loaded(args.scale, args.seed):
        print(f"dataset {args.scale} seed {args.seed} already loaded")
        add_carriers()  # idempotent; a dataset loaded before carriers were part of it
        if not manifest_matches(args.manifest, args.scale, args.seed):
            write_manifest(args.manifest, manifest(args.scale, args.seed, None))
        return 0
    if not catalogue_is_empty():
        if not args.reset:
            sys.exit(
                "The database already has products, partners or orders; "
                "use --reset to truncate them (or --if-missing to reuse a loaded dataset)."
            )
        started = time.perf_counter()
        reset()
        print(f"  {'reset':<28} {time.perf_counter() - started:7.1f} s")
    print(f"loading {args.scale} dataset, seed {args.seed}, {asdict(SCALES[args.scale])}")
    with quiet_loggers(CHATTY_LOGGERS):
        timer = build(args.scale, args.seed, photos=args.photos)
    data = manifest(args.scale, args.seed, timer)
    print(json.dumps(data["counts"], ensure_ascii=False))
    print(f"total {timer.phases['total']:.1f} s, checksum {data['checksum']}")
    write_manifest(args.manifest, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
