"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server. Never downloads a browser (scripts/ensure-browser.sh installs
Debian's chromium and fonts-noto-cjk).

The demo shop is loaded once for the whole browser package (``shop``) rather
than once per test: pytest-django's live server normally makes every test
transactional, and flushing the database after each test (then reloading the
divisions on post_migrate and the demo) costs about six seconds a test. Every
test gets its own browser context, so its own session and basket; tests that
count stock or orders compare before and after. The database is flushed again
when the last browser test is done, so the rest of the suite finds it as
pytest-django leaves it.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# refuses to run under a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from bench.chromium import CHROMIUM, CHROMIUM_ARGS, PHONE  # noqa: E402

# Assertions wait as long as actions (the context's 20 s), not Playwright's
# 5 s: on a loaded two-core CI machine a page's script (the division
# picker's fetch) can take longer than 5 s to fill a field.
expect.set_options(timeout=20_000)

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp/wangnong-browser"))
DEMO_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"  # fast, tests only


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the item, for screenshots on failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/ensure-browser.sh")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _flush_database():
    """What pytest-django does after a transactional test: empty every table,
    then post_migrate puts back what migrations provide (divisions, the
    Wagtail root, content types)."""
    call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="package")
def shop(django_db_setup, django_db_blocker):
    """The demo shop (without photos, for speed), loaded once for the package."""
    with django_db_blocker.unblock():
        Order = get_model("order", "Order")
        Product = get_model("catalogue", "Product")
        if Order.objects.exists() or Product.objects.exists():
            _flush_database()  # left over from an interrupted run
        with override_settings(PASSWORD_HASHERS=[DEMO_HASHER]):
            call_command("load_demo", "--no-images", verbosity=0)
    yield
    with django_db_blocker.unblock():
        _flush_database()


@pytest.fixture(autouse=True)
def _live_server_helper(request, django_db_blocker):
    """Replaces pytest-django's helper of the same name for browser tests: the
    database is the package's demo shop (``shop``) instead of a fresh
    transactional database per test. The test and the server thread may use
    it for the test's duration."""
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("shop")
    live_server = request.getfixturevalue("live_server")
    live_server._live_server_modified_settings.enable()
    # The demo's passwords were hashed with the fast test hasher (see
    # ``shop``); list it last so the demo accounts can sign in as they do
    # after `make run`, while new passwords use the normal hasher.
    hashers = [*settings.PASSWORD_HASHERS, DEMO_HASHER]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=hashers):
        yield
    live_server._live_server_modified_settings.disable()


@pytest.fixture
def new_page(browser, live_server, request):
    """Factory: a page in a fresh context (own cookies, so own session and
    basket), phone-sized (360×740) unless given a ``viewport`` (then a
    desktop/tablet browser), Chinese, JavaScript on unless told.

    Each page records JavaScript errors (``page.js_errors``) and responses
    with a 5xx status (``page.server_errors``). If the test fails, a
    screenshot of each page is saved under SCREENSHOTS.
    """
    contexts = []

    def make(*, javascript: bool = True, locale: str = "zh-CN", viewport: dict | None = None):
        context = browser.new_context(
            viewport=viewport or PHONE,
            base_url=live_server.url,
            locale=locale,
            is_mobile=viewport is None,
            has_touch=True,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        pg = context.new_page()
        pg.js_errors = []
        pg.server_errors = []
        pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
        pg.on(
            "response",
            lambda r: r.status >= 500 and pg.server_errors.append(f"{r.status} {r.url}"),
        )
        return pg

    yield make

    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for n, context in enumerate(contexts):
        if failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            for m, pg in enumerate(context.pages):
                path = SCREENSHOTS / f"{name}-{n}-{m}.png"
                try:
                    pg.screenshot(path=str(path), full_page=True)
                    print(f"screenshot: {path} ({pg.url})")
                except Exception as exc:  # noqa: BLE001 - best effort only
                    print(f"no screenshot of {pg.url}: {exc}")
        context.close()


@pytest.fixture
def page(new_page):
    """A phone-sized page (360×740) in a fresh context, Chinese, with JavaScript."""
    return new_page()


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the current page; return violations of the given impacts."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} missing: run `make browser-deps` (npm install axe-core)")
    # Through the DevTools protocol, not an inline <script> tag: the
    # Content-Security-Policy (no 'unsafe-inline') would refuse the tag.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in violations
        if v["impact"] in impacts
    ]
