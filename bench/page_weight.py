"""Page weight and paint time on a cheap phone over Slow 3G (issue 9).

Loads storefront pages in headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright; no browser is ever downloaded) against a running
server, each page in a fresh browser context (so an empty cache) with a
360×740 phone viewport, under Chrome DevTools network emulation: 400 kbit/s
(50,000 B/s) down and up, 400 ms latency. For each page it records the bytes
actually transferred (CDP ``Network.loadingFinished`` ``encodedDataLength``:
compressed body plus headers) by kind — HTML, CSS, JS, images, fonts, other —
the request count, and paint times (first contentful paint and largest
contentful paint, the "main content painted" time).

Every page is loaded twice:

* ``no_photos``: product photos blocked (``Network.setBlockedURLs``), so the
  bytes are the page itself — HTML, CSS, JS, icons, fonts;
* ``photos``: photos allowed. ``first_view`` is what has loaded when the page
  settles (lazy images below the fold are not fetched); then the page is
  scrolled to the bottom and ``all_photos`` is everything, e.g. the photos of
  a 20-product listing. Each photo is listed with its size.

Targets (issue 9): at most 50 KB without photos; at most 150 KB with the
photos of a 20-product listing, each listing thumbnail a WebP under 6 KB;
main content painted within 3 s. KB here is 1,000 bytes.

Usage (a server must be running, e.g. the load harness's gunicorn)::

    .venv/bin/python bench/page_weight.py --base-url http://127.0.0.1:8000 \\
        --json bench/results/page-weight.json

Without ``--url`` the pages are found from the site itself: home ``/``, the
catalogue (all products, 20 a page), the first category in the category
menu, the first product in the catalogue, and checkout. Checkout is measured
as the step a buyer with one product in the basket reaches from
``/checkout/``: as a guest (the gateway's "checkout as a guest" with an
e-mail) unless ``--customer EMAIL:PASSWORD`` signs in a customer first; the
basket and session are made in a separate, unthrottled context whose
cookies (only) are carried into the measured one.

From Python (bench/load.py)::

    from bench.page_weight import measure
    result = measure("http://127.0.0.1:8000")   # dict, see measure()
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.chromium import CHROMIUM, CHROMIUM_ARGS, PHONE  # noqa: E402

# Chrome DevTools' "Slow 3G" as issue 9 defines it: 400 kbit/s, 400 ms.
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
KB = 1000
TARGETS = {
    "no_photos_bytes": 50 * KB,
    "listing_with_photos_bytes": 150 * KB,
    "thumbnail_bytes": 6 * KB,
    "main_content_ms": 3000,
}
# Product photos: sorl thumbnails and originals under MEDIA_URL.
DEFAULT_PHOTO_PATTERNS = ("*/media/*",)
LISTING_PAGES = ("home", "catalogue", "category")
KINDS = ("html", "css", "js", "images", "fonts", "other")
GUEST_EMAIL = "page-weight@example.cn"

PAINT_JS = """
async () => {
    const out = {fcp: null, lcp: null, lcp_element: null, lcp_url: null};
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    if (fcp) out.fcp = fcp.startTime;
    const entries = [];
    const po = new PerformanceObserver((list) => entries.push(...list.getEntries()));
    po.observe({type: "largest-contentful-paint", buffered: true});
    await new Promise((resolve) => setTimeout(resolve, 100));
    entries.push(...po.takeRecords());
    po.disconnect();
    const last = entries[entries.length - 1];
    if (last) {
        out.lcp = last.startTime;
        out.lcp_url = last.url || null;
        const el = last.element;
        if (el) out.lcp_element = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
    }
    const nav = performance.getEntriesByType("navigation")[0];
    if (nav) {
        out.dom_content_loaded = nav.domContentLoadedEventEnd;
        out.load = nav.loadEventEnd;
    }
    return out;
}
"""

SCROLL_JS = """
async () => {
    const step = Math.max(200, window.innerHeight * 0.8);
    for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
        window.scrollTo(0, y);
        await new Promise((resolve) => setTimeout(resolve, 150));
    }
    window.scrollTo(0, document.documentElement.scrollHeight);
}
"""


# --- Finding the pages --------------------------------------------------------


def _get(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return response.read().decode("utf-8", "replace")


def discover_urls(base_url: str) -> dict[str, str]:
    """home, catalogue, the first category in the menu, the first product
    of the catalogue, and checkout (paths)."""
    html = _get(urljoin(base_url, "/catalogue/"))
    urls = {"home": "/", "catalogue": "/catalogue/"}
    category = re.search(r'href="(/catalogue/category/[^"]+)"', html) or re.search(
        r'href="(/catalogue/category/[^"]+)"', _get(base_url)
    )
    if category:
        urls["category"] = category.group(1)
    product = re.search(r'<article class="product-card">.*?href="(/catalogue/[^"]+)"', html, re.S)
    if product:
        urls["product"] = product.group(1)
    urls["checkout"] = "/checkout/"
    return urls


# --- One page load ------------------------------------------------------------


def _kind(resource_type: str, mime: str) -> str:
    mime = (mime or "").lower()
    if resource_type == "Document" or mime == "text/html":
        return "html"
    if resource_type == "Stylesheet" or mime == "text/css":
        return "css"
    if resource_type == "Script" or "javascript" in mime:
        return "js"
    if resource_type == "Image" or mime.startswith("image/"):
        return "images"
    if resource_type == "Font" or mime.startswith("font/") or "font" in mime:
        return "fonts"
    return "other"


def _glob_to_regex(pattern: str) -> re.Pattern:
    return re.compile("^" + ".*".join(map(re.escape, pattern.split("*"))) + "$")


class _Recorder:
    """Collects one page's requests from CDP Network events."""

    def __init__(self, cdp, photo_patterns: Iterable[str]):
        self.requests: dict[str, dict] = {}
        self.photo_res = [_glob_to_regex(p) for p in photo_patterns]
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def is_photo(self, url: str) -> bool:
        return any(r.match(url) for r in self.photo_res)

    def _sent(self, event: dict) -> None:
        rid = event["requestId"]
        previous = self.requests.get(rid)
        redirect = event.get("redirectResponse")
        if previous is not None and redirect is not None:
            # A redirect reuses the request id: keep the 3xx as its own entry.
            previous.update(
                status=redirect.get("status"),
                bytes=int(redirect.get("encodedDataLength") or 0),
                done=True,
            )
            self.requests[f"{rid}:{len(self.requests)}"] = previous
        url = event["request"]["url"]
        self.requests[rid] = {
            "url": url,
            "type": event.get("type") or "Other",
            "mime": "",
            "status": None,
            "bytes": 0,
            "done": False,
            "failed": None,
            "photo": self.is_photo(url),
        }

    def _response(self, event: dict) -> None:
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            response = event["response"]
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            entry["mime"] = response.get("mimeType", "")
            entry["status"] = response.get("status")
            entry["encoding"] = headers.get("content-encoding", "")
            # The file's own size (Content-Length), without the headers.
            length = headers.get("content-length", "")
            entry["body"] = int(length) if length.isdigit() else None
            entry["type"] = event.get("type") or entry["type"]

    def _finished(self, event: dict) -> None:
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["bytes"] = int(event.get("encodedDataLength") or 0)
            entry["done"] = True

    def _failed(self, event: dict) -> None:
        entry = self.requests.get(event["requestId"])
        if entry is not None:
            entry["failed"] = event.get("blockedReason") or event.get("errorText") or "failed"
            entry["done"] = True

    def summary(self) -> dict:
        by_kind = {kind: 0 for kind in KINDS}
        count_by_kind = {kind: 0 for kind in KINDS}
        photos = []
        total = count = 0
        for entry in self.requests.values():
            if entry["failed"] and not entry["bytes"]:
                continue
            kind = _kind(entry["type"], entry["mime"])
            by_kind[kind] += entry["bytes"]
            count_by_kind[kind] += 1
            total += entry["bytes"]
            count += 1
            if entry["photo"]:
                photos.append(
                    {
                        "url": entry["url"],
                        "bytes": entry["bytes"],
                        "body": entry.get("body"),
                        "mime": entry["mime"],
                    }
                )
        return {
            "bytes": total,
            "requests": count,
            "bytes_by_kind": by_kind,
            "requests_by_kind": count_by_kind,
            "photo_bytes": sum(p["bytes"] for p in photos),
            "photos": photos,
        }


def _settle(page, timeout_ms: int) -> None:
    try:
        page.wait_for_load_state("networkidle", timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - a page that never goes idle is still measured
        pass


def _load(
    browser,
    url: str,
    *,
    block_photos: bool,
    scroll: bool,
    photo_patterns: Iterable[str],
    storage_state: dict | None,
    network: Mapping,
    device_scale_factor: float,
    timeout_ms: int,
) -> dict:
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=device_scale_factor,
        locale="zh-CN",
        storage_state=storage_state,
    )
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        cdp.send("Network.emulateNetworkConditions", dict(network))
        if block_photos:
            cdp.send("Network.setBlockedURLs", {"urls": list(photo_patterns)})
        recorder = _Recorder(cdp, photo_patterns)
        started = time.monotonic()
        response = page.goto(url, wait_until="load", timeout=timeout_ms)
        _settle(page, timeout_ms)
        paint = page.evaluate(PAINT_JS)
        first_view = recorder.summary()
        result = {
            "url": url,
            "final_url": page.url,
            "status": response.status if response else None,
            "seconds_to_settle": round(time.monotonic() - started, 2),
            "fcp_ms": _round(paint.get("fcp")),
            "lcp_ms": _round(paint.get("lcp")),
            "lcp_element": paint.get("lcp_element"),
            "lcp_url": paint.get("lcp_url"),
            "dom_content_loaded_ms": _round(paint.get("dom_content_loaded")),
            "load_ms": _round(paint.get("load")),
            "first_view": first_view,
        }
        if scroll:
            page.evaluate(SCROLL_JS)
            _settle(page, timeout_ms)
            result["all_photos"] = recorder.summary()
        html = next(
            (e for e in recorder.requests.values() if e["type"] == "Document" and e["done"]),
            None,
        )
        result["html_encoding"] = (html or {}).get("encoding", "")
        return result
    finally:
        context.close()


def _round(value) -> float | None:
    return None if value is None else round(float(value))


# --- Checkout session -----------------------------------------------------------


def checkout_session(
    browser,
    base_url: str,
    product_path: str,
    customer: tuple[str, str] | None = None,
    timeout_ms: int = 60_000,
) -> tuple[dict, str]:
    """Put one product in a basket and go to checkout, unthrottled, as a guest
    or as ``customer`` (e-mail, password). Returns (Playwright storage state
    with the cookies, the checkout page's URL)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    context.set_default_timeout(timeout_ms)
    try:
        page = context.new_page()
        page.goto(urljoin(base_url, product_path))
        page.locator("#add_to_basket_form [type=submit]").first.click()
        page.wait_for_load_state("load")
        page.goto(urljoin(base_url, "/checkout/"))
        if page.locator("input[name=options]").count():
            if customer:
                page.fill("input[name=username]", customer[0])
                page.check("input[name=options][value=existing]")
                page.fill("input[name=password]", customer[1])
            else:
                page.fill("input[name=username]", GUEST_EMAIL)
                page.check("input[name=options][value=anonymous]")
            page.locator("form:has(input[name=options]) [type=submit]").first.click()
            page.wait_for_load_state("load")
        if (
            "/checkout/" not in urlsplit(page.url).path
            or page.locator("input[name=options]").count()
        ):
            raise RuntimeError(f"checkout could not be started (at {page.url})")
        return context.storage_state(), page.url
    finally:
        context.close()


# --- The whole measurement --------------------------------------------------------


def measure(
    base_url: str,
    urls: Mapping[str, str] | None = None,
    *,
    customer: tuple[str, str] | None = None,
    photo_patterns: Iterable[str] = DEFAULT_PHOTO_PATTERNS,
    listing_pages: Iterable[str] = LISTING_PAGES,
    network: Mapping = SLOW_3G,
    device_scale_factor: float = 1,
    timeout_ms: int = 120_000,
) -> dict:
    """Measure every page of ``urls`` (name → path or absolute URL; by default
    discover_urls()); the page named ``checkout`` is measured with a basket
    (see checkout_session). Returns a JSON-ready dict: ``pages`` (name →
    ``no_photos`` and ``photos`` loads), ``checks`` (each target, the worst
    value and whether it is met) and the settings used."""
    from playwright.sync_api import sync_playwright

    base_url = base_url.rstrip("/") + "/"
    urls = dict(urls or discover_urls(base_url))
    photo_patterns = tuple(photo_patterns)
    listing_pages = tuple(listing_pages)
    pages: dict[str, dict] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for name, path in urls.items():
                state = None
                url = urljoin(base_url, path)
                if name == "checkout":
                    state, url = checkout_session(
                        browser,
                        base_url,
                        urls.get("product") or discover_urls(base_url)["product"],
                        customer,
                        timeout_ms,
                    )
                common = {
                    "photo_patterns": photo_patterns,
                    "storage_state": state,
                    "network": network,
                    "device_scale_factor": device_scale_factor,
                    "timeout_ms": timeout_ms,
                }
                pages[name] = {
                    "no_photos": _load(browser, url, block_photos=True, scroll=False, **common),
                    "photos": _load(browser, url, block_photos=False, scroll=True, **common),
                }
                if name == "checkout":
                    pages[name]["as"] = f"customer {customer[0]}" if customer else "guest"
        finally:
            browser.close()
    return {
        "base_url": base_url,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "viewport": PHONE,
        "device_scale_factor": device_scale_factor,
        "network": dict(network),
        "targets": TARGETS,
        "pages": pages,
        "checks": checks(pages, listing_pages),
    }


def checks(pages: Mapping[str, dict], listing_pages: Iterable[str] = LISTING_PAGES) -> list[dict]:
    """Each target of issue 9 against the measured pages: the worst value."""
    result = []

    def check(name: str, target: int, values: dict[str, float | None]) -> None:
        known = {k: v for k, v in values.items() if v is not None}
        worst_page = max(known, key=known.get) if known else None
        worst = known.get(worst_page) if worst_page else None
        result.append(
            {
                "name": name,
                "limit": target,
                "value": worst,
                "page": worst_page,
                "values": values,
                "met": worst is not None and worst <= target,
            }
        )

    public = {n: p for n, p in pages.items() if n != "checkout"}
    check(
        "bytes without photos",
        TARGETS["no_photos_bytes"],
        {n: p["no_photos"]["first_view"]["bytes"] for n, p in pages.items()},
    )
    listings = {n: p for n, p in pages.items() if n in listing_pages}
    check(
        "bytes with all listing photos",
        TARGETS["listing_with_photos_bytes"],
        {n: p["photos"]["all_photos"]["bytes"] for n, p in listings.items()},
    )
    thumbs = {
        n: max(
            (ph.get("body") or ph["bytes"] for ph in p["photos"]["all_photos"]["photos"]),
            default=None,
        )
        for n, p in listings.items()
    }
    check("largest listing thumbnail file bytes", TARGETS["thumbnail_bytes"], thumbs)
    not_webp = sorted(
        {
            ph["url"]
            for p in listings.values()
            for ph in p["photos"]["all_photos"]["photos"]
            if ph["mime"] != "image/webp"
        }
    )
    result.append(
        {
            "name": "listing thumbnails that are not WebP",
            "limit": 0,
            "value": len(not_webp),
            "not_webp": not_webp,
            "met": not not_webp,
        }
    )
    check(
        "main content painted (LCP) ms",
        TARGETS["main_content_ms"],
        {n: p["photos"]["lcp_ms"] for n, p in public.items()},
    )
    return result


# --- Output -----------------------------------------------------------------------


def _kb(n: float | None) -> str:
    return "—" if n is None else f"{n / KB:.1f}"


def table(result: Mapping) -> str:
    """A Markdown table of the result."""
    lines = [
        f"Page weight at {result['viewport']['width']}×{result['viewport']['height']} "
        f"(DPR {result['device_scale_factor']}), Slow 3G "
        f"({result['network']['downloadThroughput'] * 8 // 1000} kbit/s, "
        f"{result['network']['latency']} ms), empty cache. KB = 1,000 bytes.",
        "",
        "| page | no photos KB | req | HTML | CSS | JS | img | fonts | other | FCP ms | "
        "first view KB | all photos KB | photos | largest photo file KB | LCP ms | LCP element |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, page in result["pages"].items():
        bare, full = page["no_photos"], page["photos"]
        kinds = bare["first_view"]["bytes_by_kind"]
        photos = full["all_photos"]["photos"]
        label = name + (f" ({page['as']})" if "as" in page else "")
        lines.append(
            "| "
            + " | ".join(
                [
                    label,
                    _kb(bare["first_view"]["bytes"]),
                    str(bare["first_view"]["requests"]),
                    *(_kb(kinds[k]) for k in KINDS),
                    str(bare["fcp_ms"]),
                    _kb(full["first_view"]["bytes"]),
                    _kb(full["all_photos"]["bytes"]),
                    str(len(photos)),
                    _kb(max((p.get("body") or p["bytes"] for p in photos), default=None)),
                    str(full["lcp_ms"]),
                    str(full["lcp_element"] or "—"),
                ]
            )
            + " |"
        )
    lines += ["", "| check | limit | worst | page | met |", "|---|---|---|---|---|"]
    for c in result["checks"]:
        lines.append(
            f"| {c['name']} | {c['limit']} | {c['value']} | {c.get('page') or ''} | "
            f"{'yes' if c['met'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a page to measure (repeatable); default: home, catalogue, category, product, checkout",
    )
    parser.add_argument("--customer", metavar="EMAIL:PASSWORD", help="check out signed in")
    parser.add_argument("--photo-pattern", action="append", default=[], metavar="GLOB")
    parser.add_argument("--dpr", type=float, default=1, help="device pixel ratio (default 1)")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the table as Markdown")
    args = parser.parse_args(argv)
    urls = dict(item.split("=", 1) for item in args.url) or None
    customer = tuple(args.customer.split(":", 1)) if args.customer else None
    result = measure(
        args.base_url,
        urls,
        customer=customer,
        photo_patterns=args.photo_pattern or DEFAULT_PHOTO_PATTERNS,
        device_scale_factor=args.dpr,
    )
    text = table(result)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text + "\n")
    return 0 if all(c["met"] for c in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
