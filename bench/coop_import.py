"""Benchmark: a cooperative imports 5,000 product rows (target: under 60 s).

Run against a migrated PostgreSQL database, with a Celery worker when a
broker is configured (otherwise the task runs eagerly, in this process):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wn_import_bench
    export CELERY_BROKER_URL=redis://127.0.0.1:6379/11 REDIS_URL=redis://127.0.0.1:6379/11
    .venv/bin/python manage.py migrate
    .venv/bin/celery -A config worker -l warning -c 2 &
    .venv/bin/python bench/coop_import.py --rows 5000

Each run makes a fresh cooperative, builds an XLSX the way a member would
upload it (4/5 standalone products, 1/5 variants of two-variant products, 1 %
bad rows), checks it as the upload view does, queues the job and polls it
like the progress page. Then it uploads the same file again (nothing to
change) and once more with every price changed (every row an update).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

from cooperatives import imports  # noqa: E402
from cooperatives.import_tasks import run_import  # noqa: E402
from cooperatives.models import Cooperative, ImportJob  # noqa: E402
from divisions.models import Division  # noqa: E402

Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

CATEGORIES = {"蔬菜": ["根茎类", "叶菜类"], "水果": ["葡萄", "枣"]}
NAMES = ["沙窝萝卜", "青麻叶白菜", "玫瑰香葡萄", "崔庄冬枣", "宝坻大蒜", "小站稻", "黄板泥鳅"]


def ensure_categories() -> None:
    for root_name, children in CATEGORIES.items():
        root = Category.get_root_nodes().filter(name=root_name).first() or Category.add_root(
            name=root_name
        )
        for child in children:
            if not root.get_children().filter(name=child).exists():
                root.add_child(name=child)


def make_cooperative() -> Cooperative:
    from stdnum.cn import uscc

    n = Cooperative.objects.count() + 1
    while True:
        prefix = f"93120111MA0B{n:05d}"
        code = prefix + uscc.calc_check_digit(prefix)
        if not Cooperative.objects.filter(credit_code=code).exists():
            break
        n += 1
    partner = Partner.objects.create(name=f"基准测试合作社 {n}", is_selling=True)
    return Cooperative.objects.create(
        partner=partner,
        legal_name=partner.name,
        display_name=partner.name,
        credit_code=code,
        entity_type="93",
        legal_representative="张三",
        contact_phone="13800138000",
        division=Division.objects.get(code="120111"),
        status=Cooperative.Status.VERIFIED,
    )


def build_rows(count: int, price_bump: Decimal = Decimal(0)) -> list[dict]:
    rows = []
    categories = ["蔬菜 > 根茎类", "蔬菜 > 叶菜类", "水果 > 葡萄", "水果 > 枣"]
    n = 0
    while len(rows) < count:
        n += 1
        name = f"{NAMES[n % len(NAMES)]} {n} 号"
        base = {
            "title": name,
            "category": categories[n % len(categories)],
            "unit": "箱" if n % 2 else "斤",
            "harvest_date": "2025-10-08",
            "storage_class": ["常温", "冷藏", "冷冻"][n % 3],
            "description": f"{name}，产地直发。\n\n霜降后采收，皮薄肉脆。",
            "is_public": "是",
            "presale": "否",
        }
        price = Decimal(10 + n % 90) + Decimal("0.90") + price_bump
        if n % 100 == 0:  # 1 % bad rows: a zero price
            rows.append({**base, "sku": f"B-{n:05d}", "price": Decimal(0), "stock": 5})
        elif n % 5 == 0 and len(rows) + 2 <= count:  # a product with two variants
            for suffix, weight, extra in (("5J", 2500, 0), ("10J", 5000, 30)):
                rows.append(
                    {
                        **base,
                        "sku": f"P-{n:05d}-{suffix}",
                        "price": price + extra,
                        "stock": 100 + n % 50,
                        "net_weight_g": weight,
                        "parent_sku": f"P-{n:05d}",
                        "variant_title": f"{weight // 500}斤装",
                    }
                )
        else:
            rows.append(
                {
                    **base,
                    "sku": f"S-{n:05d}",
                    "price": price,
                    "stock": n % 500,
                    "net_weight_g": 500 * (1 + n % 10),
                }
            )
    return rows[:count]


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far (Linux)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def run_job(coop: Cooperative, data: bytes, name: str) -> dict:
    """What the upload view and the progress page do, timed."""
    busy0, total0 = cpu_jiffies()
    started = time.monotonic()
    sheet = imports.read_sheet(data, name)  # the upload view's check
    checked = time.monotonic()
    job = ImportJob(cooperative=coop, original_name=name, total_rows=len(sheet.rows))
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    queued = time.monotonic()
    run_import.delay(job.pk)
    samples = []
    while True:
        job.refresh_from_db()
        samples.append(job.processed_rows)
        if job.is_finished:
            break
        time.sleep(0.5)
    done = time.monotonic()
    busy1, total1 = cpu_jiffies()
    return {
        "cpu_busy": (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0,
        "load": os.getloadavg()[0],
        "job": job,
        "check_s": checked - started,
        "run_s": done - queued,
        "total_s": done - started,
        "progress_steps": len(set(samples)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()

    mode = "eager (in this process)" if settings.CELERY_TASK_ALWAYS_EAGER else "Celery worker"
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; tasks: {mode}")
    ensure_categories()
    Product = get_model("catalogue", "Product")
    print(f"products already in the database: {Product.objects.count()}")
    coop = make_cooperative()
    rows = build_rows(args.rows)
    started = time.monotonic()
    xlsx = imports.write_xlsx(rows)
    print(
        f"built a {len(xlsx) / 1024:.0f} KB XLSX of {len(rows)} rows in {time.monotonic() - started:.1f} s"
    )

    runs = [
        ("first import (creates)", xlsx),
        ("same file again (unchanged)", xlsx),
        ("every price changed (updates)", imports.write_xlsx(build_rows(args.rows, Decimal(1)))),
    ]
    print()
    print(
        "| run | rows | created | updated | unchanged | bad rows | check (s) | import (s) "
        "| total (s) | rows/s | progress steps seen | machine CPU busy | load (1 min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, data in runs:
        result = run_job(coop, data, "bench.xlsx")
        job = result["job"]
        unchanged = job.processed_rows - job.created_count - job.updated_count - job.error_count
        print(
            f"| {label} | {job.total_rows} | {job.created_count} | {job.updated_count} | {unchanged} "
            f"| {job.error_count} | {result['check_s']:.1f} | {result['run_s']:.1f} "
            f"| {result['total_s']:.1f} | {job.total_rows / result['total_s']:.0f} "
            f"| {result['progress_steps']} | {result['cpu_busy']:.0%} | {result['load']:.1f} |"
        )
        if job.status != ImportJob.Status.DONE:
            print(f"job {job.pk} {job.status}: {job.message}")
    export_started = time.monotonic()
    exported = imports.write_xlsx(imports.export_rows(coop))
    print()
    print(
        f"export of {StockRecord.objects.filter(partner=coop.partner).count()} stock records "
        f"to XLSX ({len(exported) / 1024:.0f} KB): {time.monotonic() - export_started:.1f} s"
    )


if __name__ == "__main__":
    main()
