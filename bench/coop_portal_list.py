"""Benchmark: the cooperative portal's product list with 2,000 products
(target: a constant number of SQL queries and under 150 ms median server time).

Run against a migrated PostgreSQL database (and Redis for the cache, as in
production, so sorl's thumbnail lookups are cache hits):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wn_portal_bench
    export REDIS_URL=redis://127.0.0.1:6379/13
    export STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/coop_portal_list.py --products 2000 --runs 50

It makes (or reuses) a cooperative with ``--products`` products — four in
five standalone, one in five a parent with two variants, half with a photo —
then times requests through Django's test client (the whole server side:
middleware, views, templates; no network) as the cooperative's manager: the
first page, a page in the middle and a search. It prints the median, 90th
percentile and SQL queries per request.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
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
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402
from PIL import Image  # noqa: E402

from cooperatives import listings  # noqa: E402
from cooperatives.models import Cooperative, Membership  # noqa: E402
from divisions.models import Division  # noqa: E402

Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

COOP_NAME = "门户基准测试合作社"
NAMES = ["沙窝萝卜", "青麻叶白菜", "玫瑰香葡萄", "崔庄冬枣", "宝坻大蒜", "小站稻", "黄板泥鳅"]


def cooperative() -> tuple[Cooperative, object]:
    from stdnum.cn import uscc

    coop = Cooperative.objects.filter(legal_name=COOP_NAME).first()
    if coop is None:
        prefix = "93120111MA0PB0001"
        partner = Partner.objects.create(name=COOP_NAME, is_selling=True)
        coop = Cooperative.objects.create(
            partner=partner,
            legal_name=COOP_NAME,
            display_name=COOP_NAME,
            credit_code=prefix + uscc.calc_check_digit(prefix),
            entity_type="93",
            legal_representative="张三",
            contact_phone="13800138000",
            division=Division.objects.get(code="120111"),
            status=Cooperative.Status.VERIFIED,
        )
    user, _ = get_user_model().objects.get_or_create(
        username="portal-bench", defaults={"email": "portal-bench@example.cn"}
    )
    Membership.objects.get_or_create(
        user=user, defaults={"cooperative": coop, "role": Membership.Role.MANAGER}
    )
    return coop, user


def photo_names(n: int = 12) -> list[str]:
    """A dozen real photos in storage, shared round-robin by the products."""
    from django.core.files.storage import default_storage

    names = []
    for i in range(n):
        name = f"images/products/bench/portal-{i}.wn.jpg"
        if not default_storage.exists(name):
            out = io.BytesIO()
            Image.new("RGB", (1200, 900), (40 + 15 * i, 120, 60)).save(out, "JPEG", quality=80)
            name = default_storage.save(name, ContentFile(out.getvalue()))
        names.append(name)
    return names


@transaction.atomic
def grow(coop: Cooperative, target: int) -> None:
    """Bulk-create products until the cooperative has ``target`` of them."""
    have = listings.products_of(coop).count()
    if have >= target:
        return
    category = Category.objects.filter(name="根茎类").first() or Category.add_root(name="根茎类")
    product_class = listings.product_class()
    photos = photo_names()
    parents, standalone = [], []
    for i in range(have, target):
        fields = {
            "title": f"{NAMES[i % len(NAMES)]} {i:05d}",
            "product_class": product_class,
            "unit": "jin",
            "storage_class": "ambient",
            "origin_id": coop.division_id,
            "is_public": i % 7 != 0,
            "slug": f"bench-{i}",
        }
        if i % 5 == 4:
            parents.append(
                Product(structure=Product.PARENT, upc=listings.parent_upc(coop, f"P{i}"), **fields)
            )
        else:
            standalone.append(Product(structure=Product.STANDALONE, **fields))
    Product.objects.bulk_create(parents + standalone, batch_size=500)
    children = []
    for parent in parents:
        for label in ("5斤装", "10斤装"):
            children.append(Product(structure=Product.CHILD, parent=parent, title=label))
    Product.objects.bulk_create(children, batch_size=500)
    records = [
        StockRecord(
            product=p,
            partner_id=coop.partner_id,
            partner_sku=f"B{p.pk}",
            price=Decimal("9.90") + p.pk % 50,
            price_currency="CNY",
            num_in_stock=p.pk % 40,
        )
        for p in standalone + children
    ]
    StockRecord.objects.bulk_create(records, batch_size=500)
    ProductCategory.objects.bulk_create(
        [ProductCategory(product=p, category=category) for p in parents + standalone],
        batch_size=500,
    )
    ProductImage.objects.bulk_create(
        [
            ProductImage(product=p, original=photos[n % len(photos)], display_order=0)
            for n, p in enumerate(parents + standalone)
            if n % 2 == 0
        ],
        batch_size=500,
    )


def measure(client: Client, url: str, runs: int) -> tuple[list[float], int, int]:
    response = client.get(url)  # warm: templates, thumbnails, caches
    assert response.status_code == 200, response.status_code
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
    ):
        response = client.get(url)
    rows = response.content.decode().count('class="basket-line portal-row"')
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return times, len(queries), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    # The test client's host; no setup_test_environment(): its template
    # instrumentation would slow every render down.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    coop, user = cooperative()
    started = time.perf_counter()
    grow(coop, args.products)
    with connection.cursor() as cursor:  # fresh statistics after the bulk load
        cursor.execute("ANALYZE catalogue_product, partner_stockrecord, catalogue_productimage")
    total = listings.products_of(coop).count()
    print(f"cooperative with {total} products (set-up {time.perf_counter() - started:.1f} s)")
    print(
        f"{platform.node()} · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f} · "
        f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )
    print(f"database: {connection.vendor} {getattr(connection, 'pg_version', '')}")

    client = Client()
    client.force_login(user)
    middle = max(1, total // 50 // 2)
    cases = [
        ("first page", "/coop/products/"),
        (f"page {middle}", f"/coop/products/?page={middle}"),
        ("search 萝卜", "/coop/products/?q=萝卜"),
    ]
    print(
        f"\n{'request':<14} {'rows':>4} {'queries':>7} {'median ms':>10} {'p90 ms':>8} {'min ms':>7}"
    )
    for label, url in cases:
        times, queries, rows = measure(client, url, args.runs)
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(
            f"{label:<14} {rows:>4} {queries:>7} {statistics.median(times):>10.1f} "
            f"{p90:>8.1f} {times[0]:>7.1f}"
        )


if __name__ == "__main__":
    main()
