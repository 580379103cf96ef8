"""Search relevance: is the right product in the top 3 for each of the fixed
queries in bench/search_queries.json (issue 9's list of 30)?

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wn_bench
    .venv/bin/python bench/dataset.py --scale full --if-missing
    .venv/bin/python bench/search_relevance.py [--runs 10] [--json PATH]

Each query goes through the /search/ page's own view
(shop.search.views.ProductSearchView, the class Oscar's search app routes
/search/ to) for the ranking, and through Django's test client for the time:
the whole server side (middleware, view, template, the CMS-page hits beside
the products), with the page cache off, one warm-up request, then ``--runs``
timed ones. Exit status 1 when a query misses.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.contrib.sessions.backends.cache import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from oscar.core.loading import get_class, get_model  # noqa: E402

QUERIES_FILE = ROOT / "bench" / "search_queries.json"
TOP = 3
Product = get_model("catalogue", "Product")


def load_queries(path: Path = QUERIES_FILE) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["queries"]


def top_products(query: str, n: int = TOP) -> list:
    """The first ``n`` products the search page lists for ``query``."""
    view = get_class("search.views", "ProductSearchView").as_view()
    request = RequestFactory().get("/search/", {"q": query})
    request.user = AnonymousUser()
    request.session = SessionStore()
    response = view(request)
    ids = [p.pk for p in response.context_data["products"][:n]]
    found = {
        p.pk: p
        for p in Product.objects.filter(pk__in=ids)
        .select_related("origin")
        .prefetch_related("stockrecords__partner", "children__stockrecords__partner")
    }
    return [found[pk] for pk in ids]


def partners(product) -> set[str]:
    names = {sr.partner.name for sr in product.stockrecords.all()}
    for child in product.children.all():
        names.update(sr.partner.name for sr in child.stockrecords.all())
    return names


def is_right(product, expect: dict) -> bool:
    """Whether ``product`` is what ``expect`` asks for (every key must hold)."""
    checks = {
        "upc": lambda v: product.upc == v,
        "title": lambda v: (
            v in product.title or any(v in child.title for child in product.children.all())
        ),
        "cooperative": lambda v: v in partners(product),
        "district": lambda v: bool(product.origin_id) and product.origin_id.startswith(v),
    }
    return all(checks[key](value) for key, value in expect.items())


def time_page(client: Client, query: str, runs: int) -> tuple[list[float], int]:
    url = f"/search/?q={query}"
    response = client.get("/search/", {"q": query})  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get("/search/", {"q": query})
    queries = len(captured)  # now: the next request resets the log
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get("/search/", {"q": query})
        times.append((time.perf_counter() - started) * 1000)
    return times, queries


def evaluate(queries: list[dict], runs: int) -> list[dict]:
    client = Client()
    results = []
    for spec in queries:
        started = time.perf_counter()
        top = top_products(spec["query"])
        rank_ms = (time.perf_counter() - started) * 1000
        hit = next((i + 1 for i, p in enumerate(top) if is_right(p, spec["expect"])), None)
        times, sql = time_page(client, spec["query"], runs) if runs else ([rank_ms], 0)
        times.sort()
        results.append(
            {
                "query": spec["query"],
                "kind": spec.get("kind", ""),
                "expect": spec["expect"],
                "hit_at": hit,
                "top": [f"{p.upc} {p.title}" for p in top],
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(round(len(times) * 0.95) - 1, 0)], 1),
                "sql_queries": sql,
            }
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed page requests per query")
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    # Time fresh renders, not the anonymous page cache; the client's host.
    settings.WANGNONG_PAGE_CACHE_SECONDS = 0
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    results = evaluate(load_queries(args.queries), args.runs)
    hits = sum(1 for r in results if r["hit_at"])
    for r in results:
        mark = f"top{r['hit_at']}" if r["hit_at"] else "MISS"
        print(
            f"{mark:<5} {r['query']:<16} {r['median_ms']:>7.1f} ms p95 {r['p95_ms']:>7.1f} ms "
            f"{r['sql_queries']:>3} SQL | {' / '.join(r['top'])}"
        )
    all_times = sorted(r["median_ms"] for r in results)
    print(
        f"\n{hits}/{len(results)} queries with the right product in the top {TOP}; "
        f"median of medians {statistics.median(all_times):.1f} ms, worst {all_times[-1]:.1f} ms"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"hits": hits, "total": len(results), "results": results},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    return 0 if hits == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
