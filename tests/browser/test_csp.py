"""The Content-Security-Policy (no 'unsafe-inline' for scripts) breaks no
page: across the storefront, checkout and the online pay page, the buyer's
account, the cooperative application, the cooperative and station portals,
Oscar's dashboard and Wagtail's admin, Chromium reports no CSP violation
(``securitypolicyviolation`` events, recorded from the first script of every
document, and CSP console errors) and the pages' scripts still run."""

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from oscar.core.loading import get_model
from playwright.sync_api import Page, expect

from cooperatives.models import ImportJob, Membership
from stations import cash
from stations.models import DayClose, StationOrder, StationStaff
from tests.browser import flows
from tests.browser.test_cooperative_orders import buy_radish_as_guest, cooperative_member
from tests.stripe_fixtures import new_simulator, point_settings_at

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")

TABLET = {"width": 1024, "height": 768}
ADMIN_EMAIL = "admin@wangnong.local"
ADMIN_PASSWORD = "wangnong-admin"
STATION_PASSWORD = "wangnong-station"
PASSWORD = "pw-csp-browser-1"

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var el = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 160) : "";
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                    + (e.sourceFile || "") + ":" + (e.lineNumber || 0) + " "
                    + (e.sample || "") + " " + el);
});
"""


def watch(page: Page) -> Page:
    """Record CSP violations on every document the page loads."""
    page.csp_console = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda msg: (
            "Content Security Policy" in msg.text
            and page.csp_console.append(f"{page.url}: {msg.text}")
        ),
    )
    return page


def violations(page: Page) -> list[str]:
    found = page.evaluate("window.__csp || []")
    return [f"{page.url}: {v}" for v in found] + page.csp_console


def visit(page: Page, url: str, seen: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, (url, response and response.status)
    page.wait_for_load_state("networkidle")
    assert "script-src" in response.headers.get("content-security-policy", ""), url
    seen.extend(violations(page))


def collect(page: Page, seen: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    seen.extend(violations(page))


def sign_in(page: Page, email: str, password: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("电子邮件|邮箱")).fill(email)
    form.get_by_label("密码").fill(password)
    form.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


@pytest.fixture
def stripe_server(live_server, settings):
    sim = new_simulator(webhook_url=live_server.url + "/payments/stripe/webhook/")
    point_settings_at(settings, sim)
    yield sim
    sim.stop()


def test_storefront_checkout_and_pay_page(new_page, stripe_server):
    page = watch(new_page())
    seen: list[str] = []
    visit(page, "/", seen)
    visit(page, "/catalogue/", seen)
    category = Category.objects.filter(depth=1).first()
    visit(page, category.get_absolute_url(), seen)
    visit(page, "/search/?q=萝卜", seen)
    flows.buy_radish(page, quantity=1)  # the product page, adding to the basket
    collect(page, seen)
    flows.go_to_basket(page)
    collect(page, seen)
    flows.start_guest_checkout(page)
    # The address form's division picker is script: it still works.
    flows.fill_contact(page)
    flows.choose_division_with_js(page)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    collect(page, seen)
    flows.submit_address(page)
    flows.choose_shipping_if_asked(page)
    collect(page, seen)
    page.get_by_role("radio", name=re.compile("^微信支付")).check()
    page.get_by_role("button", name="继续，确认订单").click()
    collect(page, seen)
    page.get_by_role("button", name="提交订单").click()
    expect(page.get_by_role("img", name=re.compile("微信支付二维码"))).to_be_visible()
    # The status poll (static/js/pay-poll.js) runs: it asks the status URL.
    with page.expect_request(re.compile(r"format=json")):
        pass
    collect(page, seen)
    assert seen == [], "\n".join(seen)
    assert page.js_errors == [] and page.server_errors == []


def test_buyer_account_and_cooperative_application(new_page):
    tag = uuid.uuid4().hex[:8]
    email = f"csp-buyer-{tag}@example.cn"
    get_user_model().objects.create_user(f"csp-buyer-{tag}", email, PASSWORD)
    page = watch(new_page())
    seen: list[str] = []
    sign_in(page, email, PASSWORD, "/accounts/")
    collect(page, seen)
    visit(page, "/accounts/orders/", seen)
    visit(page, "/accounts/addresses/", seen)
    visit(page, reverse("cooperatives:apply"), seen)
    assert seen == [], "\n".join(seen)
    assert page.js_errors == [] and page.server_errors == []


def test_cooperative_portal(new_page):
    coop, email = cooperative_member(flows.RADISH_5J_UPC)
    Membership.objects.filter(user__email=email).update(role=Membership.Role.MANAGER)
    shopper = new_page(javascript=False)
    buy_radish_as_guest(shopper)
    job = ImportJob.objects.filter(cooperative=coop).first()
    page = watch(new_page())
    seen: list[str] = []
    sign_in(page, email, PASSWORD, "/coop/orders/")
    collect(page, seen)
    visit(page, "/coop/", seen)
    visit(page, reverse("coop:packing-list"), seen)
    visit(page, reverse("coop:imports"), seen)
    if job is not None:
        visit(page, reverse("coop:import-detail", args=[job.pk]), seen)
    visit(page, reverse("coop:batches"), seen)
    assert seen == [], "\n".join(seen)
    assert page.js_errors == [] and page.server_errors == []


def test_station_portal(new_page):
    so = StationOrder.objects.select_related("station", "order").first()
    assert so is not None, "the demo places one station order"
    station = so.station
    staff = station.staff.select_related("user").first().user
    page = watch(new_page(viewport=TABLET))
    seen: list[str] = []
    sign_in(page, staff.email, STATION_PASSWORD, "/station/")
    collect(page, seen)
    visit(page, reverse("station:order-start"), seen)
    visit(page, reverse("station:order-detail", args=[so.pk]), seen)
    visit(page, reverse("station:order-receipt", args=[so.pk]), seen)
    visit(page, reverse("station:cash"), seen)
    visit(page, reverse("station:parcel-handover"), seen)
    visit(page, reverse("station:parcel-arrival"), seen)
    visit(page, reverse("station:parcels"), seen)
    assert seen == [], "\n".join(seen)
    assert page.js_errors == [] and page.server_errors == []

    # A day close's page, at another demo station (test_station.py expects
    # the order's station to have exactly the close it makes itself).
    other = (
        StationStaff.objects.filter(is_active=True, user__email__endswith="@wangnong.local")
        .exclude(station=station)
        .select_related("station", "user")
        .first()
    )
    assert other is not None, "the demo has more than one station"
    close = DayClose.objects.filter(station=other.station).first() or cash.close_day(
        other.station, other.user, Decimal("0"), note="CSP test"
    )
    second = watch(new_page(viewport=TABLET))
    sign_in(second, other.user.email, STATION_PASSWORD, "/station/")
    visit(second, reverse("station:cash-close", args=[close.pk]), seen)
    assert seen == [], "\n".join(seen)
    assert second.js_errors == [] and second.server_errors == []


def test_dashboard_and_wagtail_admin(new_page):
    page = watch(new_page(viewport=TABLET))
    seen: list[str] = []
    page.goto("/dashboard/login/")
    page.get_by_label("用户名").fill(ADMIN_EMAIL)
    page.get_by_label("密码").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name=re.compile("登[录陆]")).click()
    collect(page, seen)
    visit(page, "/dashboard/", seen)
    # Oscar's dashboard scripts (jQuery, now from our static files, and the
    # nonce-carrying page-load script) ran: oscar.dashboard exists.
    assert page.evaluate("typeof window.oscar === 'object' && !!window.oscar.dashboard")
    product = Product.objects.filter(parent__isnull=True).first()
    visit(page, f"/dashboard/catalogue/products/{product.pk}/", seen)
    order = Order.objects.first()
    if order is not None:
        visit(page, f"/dashboard/orders/{order.number}/", seen)
    visit(page, "/cms-admin/", seen)
    Page_ = get_model("wagtailcore", "Page")
    home = Page_.objects.filter(depth=2).first()
    visit(page, f"/cms-admin/pages/{home.pk}/edit/", seen)
    assert seen == [], "\n".join(seen)
    assert page.js_errors == [] and page.server_errors == []
