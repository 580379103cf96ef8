"""axe-core finds no serious or critical accessibility violations on the
storefront and on every checkout step, at phone size (360×740)."""

import json
import re

import pytest
from oscar.core.loading import get_model
from playwright.sync_api import Page, expect

from tests.browser import flows
from tests.browser.conftest import axe_violations

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")


def report(found: dict[str, list[dict]]) -> str:
    """Violations by page, readable in the assertion message."""
    return "serious or critical axe-core violations:\n" + "\n".join(
        f"--- {where}:\n" + "\n".join(json.dumps(v, ensure_ascii=False) for v in violations)
        for where, violations in found.items()
        if violations
    )


def check(page: Page, where: str, found: dict[str, list[dict]]) -> None:
    found[f"{where} ({page.url})"] = axe_violations(page)


STOREFRONT = {
    "home": lambda: "/",
    "category": lambda: Category.objects.get(name="根茎类").get_absolute_url(),
    "product with variants": lambda: Product.objects.get(upc="WN-XQ-001").get_absolute_url(),
    "standalone product": lambda: Product.objects.get(upc=flows.GIFT_BOX_UPC).get_absolute_url(),
}


@pytest.mark.parametrize("where", list(STOREFRONT))
def test_storefront_page(page, where):
    page.goto(STOREFRONT[where]())
    expect(page.get_by_role("heading", level=1)).to_be_attached()
    found: dict[str, list[dict]] = {}
    check(page, where, found)
    assert not any(found.values()), report(found)


def test_basket_with_items(page):
    flows.buy_radish(page, quantity=2)
    flows.open_product(page, flows.GIFT_BOX)
    flows.add_to_basket(page, 1)
    flows.go_to_basket(page)
    expect(page.get_by_role("link", name="去结算")).to_be_visible()
    found: dict[str, list[dict]] = {}
    check(page, "basket", found)
    assert not any(found.values()), report(found)


def test_checkout_steps(page):
    """Every step a guest goes through, including the address form showing
    errors; all violations are reported together at the end."""
    found: dict[str, list[dict]] = {}
    flows.buy_radish(page, quantity=2)
    flows.go_to_basket(page)

    page.get_by_role("link", name="去结算").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("开始结算")
    check(page, "gateway", found)
    page.get_by_label("电子邮箱").fill(flows.GUEST_EMAIL)
    page.get_by_role("radio", name="直接下单（游客结算）", exact=False).check()
    page.get_by_role("button", name="继续", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("收货地址")
    check(page, "shipping address", found)
    flows.fill_contact(page, mobile="12345")
    flows.choose_division_with_js(page)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)
    expect(page.get_by_label("手机号码")).to_have_attribute("aria-invalid", "true")
    check(page, "shipping address with an error", found)
    page.get_by_label("手机号码").fill(flows.MOBILE)
    flows.submit_address(page)

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("配送方式|付款方式"))
    if heading.inner_text().strip() == "配送方式":  # skipped while there is one method
        check(page, "shipping method", found)
    flows.choose_shipping_if_asked(page)
    check(page, "payment method", found)
    flows.pay_cash_on_delivery(page)
    check(page, "preview", found)
    flows.place_order(page)
    check(page, "thank you", found)

    assert not any(found.values()), report(found)


def test_axe_finds_what_it_should(page):
    """The checks above can fail: an unnamed button is a critical violation."""
    page.goto("/")
    page.get_by_role("main").evaluate("main => main.append(document.createElement('button'))")
    assert "button-name" in [v["id"] for v in axe_violations(page)]


@pytest.mark.parametrize("path", ["/", "/basket/", "/search/?q=萝卜"])
def test_english_pages_fit_a_phone_and_pass_axe(new_page, path):
    """The header in English (longer labels, the 中文 switch) still fits
    360 px and its language button keeps its contrast."""
    page = new_page()
    page.goto("/")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="中文")).to_be_visible()
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^en"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    found: dict[str, list[dict]] = {}
    check(page, f"{path} in English", found)
    assert not any(found.values()), report(found)
