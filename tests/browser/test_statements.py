"""The issue's demo check, on a phone (360×740): the demo's 沙窝萝卜合作社
manager signs in, finds the settlement statements for its delivered demo
orders (shop/payment/demo.py, loaded with the demo shop), opens one and
downloads its PDF; the pages have no serious accessibility violations and
work without JavaScript."""

import re

from playwright.sync_api import expect

from cooperatives.models import Cooperative
from shop.catalogue.management.commands.load_demo import COOP_PASSWORD
from shop.payment import demo, settlement
from tests.browser.conftest import axe_violations


def test_a_demo_cooperative_downloads_its_statement_pdf(new_page):
    coop = Cooperative.objects.get(partner__code=demo.PARTNER_CODE)
    paid = settlement.cooperative_statements(coop.partner).filter(status="paid").get()
    # The demo's own manager (other browser tests may add managers later).
    email = coop.memberships.filter(role="manager").order_by("pk").first().user.email

    page = new_page(javascript=False)
    page.goto("/accounts/login/?next=/coop/")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("邮箱|邮件")).fill(email)
    form.get_by_label("密码").fill(COOP_PASSWORD)
    form.get_by_role("button", name="登录").click()

    page.get_by_role("navigation", name="合作社后台").get_by_role("link", name="结算").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("结算")
    expect(page.locator("#balance-payable")).not_to_have_text("¥0.00")
    found = {"list": axe_violations_without_js(page)}

    page.get_by_role("link", name=paid.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(paid.number)
    expect(page.get_by_text(paid.bank_reference)).to_be_visible()
    found["detail"] = axe_violations_without_js(page)
    # Nothing is wider than the phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the statement page is {width}px wide"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载 PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{paid.number}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
    assert not any(found.values()), found
    assert page.server_errors == []


def axe_violations_without_js(page):
    """axe-core needs JavaScript: check the same page in a context with it."""
    context = page.context.browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        base_url=re.match(r"https?://[^/]+", page.url).group(0),
        storage_state=page.context.storage_state(),
    )
    try:
        other = context.new_page()
        other.goto(page.url)
        return axe_violations(other)
    finally:
        context.close()
