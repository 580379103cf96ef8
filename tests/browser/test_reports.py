"""Reporting a listing (举报) on a 360 px phone, without JavaScript and
without signing in: the product page's link, a refusal that keeps what was
typed, the thank-you page; the form passes axe and fits the screen."""

from __future__ import annotations

from playwright.sync_api import expect

from cooperatives.models import ListingReport
from shop.catalogue.listing import browsable_products
from tests.browser.conftest import PHONE, axe_violations


def test_anyone_reports_a_listing_on_a_phone_without_javascript(new_page, browser, live_server):
    product = browsable_products().order_by("pk").first()
    page = new_page(javascript=False)
    page.goto(product.get_absolute_url())
    page.get_by_role("link", name="举报", exact=True).click()
    expect(page.get_by_role("heading", name="举报商品")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_label("联系方式（选填）").fill("reporter@example.com")
    page.get_by_label("假冒伪劣").check()
    page.get_by_role("button", name="提交举报").click()
    expect(page.get_by_text("请写明举报理由。")).to_be_visible()
    expect(page.get_by_label("联系方式（选填）")).to_have_value("reporter@example.com")
    expect(page.get_by_label("假冒伪劣")).to_be_checked()
    # axe is injected as a script: a context that bypasses the site's
    # Content-Security-Policy (which refuses inline scripts) runs it.
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, bypass_csp=True)
    try:
        checker = context.new_page()
        checker.goto(page.url)
        assert axe_violations(checker) == []
    finally:
        context.close()

    page.get_by_label("举报理由").fill("包装上的地理标志与实际产地不符")
    page.get_by_role("button", name="提交举报").click()
    expect(page.locator("#report-thanks")).to_be_visible()
    report = ListingReport.objects.get(product=product, contact="reporter@example.com")
    assert report.reporter is None and report.status == ListingReport.Status.OPEN
    assert not page.js_errors and not page.server_errors
