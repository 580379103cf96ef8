"""The stored XSS probe set never runs in the browser (issue 8, Done means).

tests/xss_plant.py puts tests/xss_payloads.py's probes (≥ 20 payloads) in
product titles and descriptions (the portal's listing service and HTML from
Oscar's dashboard), an approved review and its author's name, a
cooperative's profile, a complaint and the cooperative's reply, a harvest
batch and a news article (title, intro, rich text typed in Wagtail's
editor). Chromium then opens every page that shows them — public pages,
search with payloads as the query, the buyer's order and complaint pages,
the cooperative portal and staff's dashboard — with an init script that
records any ``window.__xss_<n>`` marker and any alert/confirm/prompt, and a
dialog handler. Nothing may fire with the Content-Security-Policy ignored
(Playwright's bypass_csp): escaping is the defence, the policy only the
second line, which tests/browser/test_csp.py checks.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.xss_payloads import INIT_SCRIPT, READ_HITS, executable_probes
from tests.xss_plant import PASSWORD, plant

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 360, "height": 740}
ADMIN_EMAIL = "admin@wangnong.local"
ADMIN_PASSWORD = "wangnong-admin"


def _watch(page: Page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.add_init_script(INIT_SCRIPT)
    page.csp_reports = []
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and page.csp_reports.append(msg.text),
    )
    return dialogs


def _visit_all(page: Page, urls: list[str], dialogs: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        page.wait_for_load_state("load")
        # Hover and focus what shows probe text, for handlers that need it.
        for element in page.get_by_text(re.compile("探针|__xss_")).all()[:20]:
            try:
                element.hover(timeout=1000)
            except Exception:  # noqa: BLE001 - hidden or covered: nothing to hover
                pass
        page.wait_for_timeout(150)
        hits = page.evaluate(READ_HITS) + dialogs[:]
        dialogs.clear()
        problems = executable_probes(page.content())  # the DOM after scripts ran
        if hits or problems:
            found[url] = hits + problems
    return found


def _sign_in(page: Page, email: str, password: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("电子邮件|邮箱")).fill(email)
    form.get_by_label("密码").fill(password)
    form.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(next_url.split("?")[0])))


def _pages(new_page, browser, live_server, contexts: list, *, bypass_csp: bool, **kwargs) -> Page:
    """A page as conftest's ``new_page`` makes it; with ``bypass_csp`` one whose
    browser ignores the Content-Security-Policy (as if none were sent)."""
    if not bypass_csp:
        return new_page(**kwargs)
    context = browser.new_context(
        viewport=kwargs.get("viewport") or PHONE,
        base_url=live_server.url,
        locale="zh-CN",
        bypass_csp=True,
    )
    context.set_default_timeout(20_000)
    contexts.append(context)
    page = context.new_page()
    page.server_errors = []
    page.on("response", lambda r: r.status >= 500 and page.server_errors.append(r.url))
    return page


def test_no_probe_ever_runs(new_page, browser, live_server):
    planted = plant()
    contexts: list = []
    try:
        # With the Content-Security-Policy ignored: escaping must be the
        # defence on its own (tests/browser/test_csp.py checks the policy is
        # in force and violated nowhere). One pass keeps the suite short.
        _check_every_page(new_page, browser, live_server, contexts, planted, bypass_csp=True)
    finally:
        for context in contexts:
            context.close()


def _check_every_page(new_page, browser, live_server, contexts, planted, bypass_csp) -> None:
    def make(**kwargs) -> Page:
        return _pages(new_page, browser, live_server, contexts, bypass_csp=bypass_csp, **kwargs)

    public = make()
    dialogs = _watch(public)
    first = public.goto(planted.public[0])
    csp = None if bypass_csp else first.headers.get("content-security-policy")
    print(f"Content-Security-Policy in force: {csp or 'none'}")
    found = _visit_all(public, planted.public, dialogs)

    buyer = make()
    dialogs = _watch(buyer)
    _sign_in(buyer, planted.buyer.email, PASSWORD, planted.buyer_pages[0])
    found |= _visit_all(buyer, planted.buyer_pages + planted.public[:3], dialogs)

    manager = make()
    dialogs = _watch(manager)
    _sign_in(manager, planted.manager.email, PASSWORD, planted.manager_pages[0])
    found |= _visit_all(manager, planted.manager_pages, dialogs)

    staff = make(viewport=TABLET)
    dialogs = _watch(staff)
    staff.goto("/dashboard/login/")
    staff.get_by_label("用户名").fill(ADMIN_EMAIL)
    staff.get_by_label("密码").fill(ADMIN_PASSWORD)
    staff.get_by_role("button", name=re.compile("登[录陆]")).click()
    staff.wait_for_url(re.compile("/dashboard/"))
    found |= _visit_all(staff, planted.staff_pages, dialogs)

    assert not found, (f"CSP bypassed: {bypass_csp}", found)
    # The probes were on the pages, as text (so the test looked at something).
    public.goto(planted.public[0])
    assert "window.__xss_1=1" in public.locator("main").inner_text()
    for pg in (public, buyer, manager, staff):
        assert not pg.server_errors, pg.server_errors
        if pg.csp_reports:  # a blocked inline script would mean escaping failed
            print("CSP reports:", pg.csp_reports)
        assert not [r for r in pg.csp_reports if "__xss_" in r]


def test_the_watch_catches_a_probe_that_runs(new_page):
    """The init script, the dialog handler and the DOM check can fail."""
    page = new_page()
    dialogs = _watch(page)
    page.set_content('<img src=x onerror="window.__xss_2=1"><script>alert(7)</script>')
    page.wait_for_timeout(200)
    hits = page.evaluate(READ_HITS) + dialogs  # set_content's document may keep a real alert
    assert "__xss_2" in hits
    assert any("7" in hit for hit in hits if "alert" in hit)
    assert executable_probes(page.content())
