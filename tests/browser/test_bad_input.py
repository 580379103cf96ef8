"""Bad input in a real browser: each mistake gets a clear message (in Chinese,
or in English once the buyer switches language), the form keeps what was
typed, and the server never answers with a 5xx."""

import re

import pytest
from playwright.sync_api import Page, expect

from divisions.models import Division
from tests.browser import flows

LONG_QUERY = "沙窝萝卜" * 500  # 2,000 characters; the limit is 100


@pytest.fixture
def watched(new_page):
    """A page whose test fails on any 5xx response, with or without JavaScript."""
    pages = []

    def make(**kwargs) -> Page:
        pg = new_page(**kwargs)
        pages.append(pg)
        return pg

    yield make
    errors = [e for pg in pages for e in pg.server_errors]
    assert errors == [], f"server errors: {errors}"


def available(upc: str) -> int:
    record = flows.stockrecord(upc)
    return record.num_in_stock - (record.num_allocated or 0)


def to_address_form(page: Page) -> None:
    flows.buy_radish(page, quantity=1)
    flows.go_to_basket(page)
    flows.start_guest_checkout(page)


def test_invalid_mobile_number(watched):
    page = watched()
    to_address_form(page)
    flows.fill_contact(page, mobile="12345")
    flows.choose_division_with_js(page)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("收货地址")
    expect(page.get_by_role("alert").first).to_have_text(
        "地址还有需要修改的地方，请查看下面的提示。"
    )
    expect(page.get_by_label("手机号码")).to_have_accessible_description(
        re.compile("请输入正确的 11 位手机号码")
    )
    # Everything typed or chosen is still there.
    expect(page.get_by_label("手机号码")).to_have_value("12345")
    expect(page.get_by_label("收货人")).to_have_value(flows.RECIPIENT)
    expect(page.get_by_label("详细地址")).to_have_value(flows.DETAIL)
    expect(page.get_by_label("省份").locator("option:checked")).to_have_text("天津市")
    expect(page.get_by_label("区县").locator("option:checked")).to_have_text("西青区")
    expect(page.get_by_label("乡镇/街道").locator("option:checked")).to_have_text("辛口镇")


def test_county_outside_the_chosen_city(watched):
    """Without JavaScript: narrow to 天津市's counties, then send a Beijing
    county in the county select (as a stale or tampered form would)."""
    page = watched(javascript=False)
    to_address_form(page)
    flows.fill_contact(page)
    page.get_by_label("省份").select_option(label="天津市")
    flows.narrow(page, "选择城市")
    flows.expect_tianjin_city_chosen(page)
    flows.narrow(page, "选择区县")
    county = page.get_by_label("区县")
    expect(county.get_by_role("option", name="西青区")).to_be_attached()  # page re-shown
    chaoyang = Division.objects.get(name="朝阳区", code__startswith="11")
    county.evaluate(
        """(select, code) => {
            select.add(new Option("朝阳区", code));
            select.value = code;
        }""",
        chaoyang.code,
    )
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("收货地址")
    expect(page.get_by_role("alert").first).to_have_text(
        "地址还有需要修改的地方，请查看下面的提示。"
    )
    expect(page.get_by_label("区县")).to_have_accessible_description(
        re.compile("所选区县不属于所选城市，请重新选择")
    )
    expect(page.get_by_label("收货人")).to_have_value(flows.RECIPIENT)
    expect(page.get_by_label("手机号码")).to_have_value(flows.MOBILE)
    expect(page.get_by_label("详细地址")).to_have_value(flows.DETAIL)
    expect(page.get_by_label("省份").locator("option:checked")).to_have_text("天津市")
    # The county select offers 天津市's counties again, not the Beijing one.
    expect(county.get_by_role("option", name="西青区")).to_be_attached()
    expect(county.get_by_role("option", name="朝阳区")).to_have_count(0)


def test_quantity_above_stock_on_the_product_page(watched):
    page = watched()
    stock = available(flows.GIFT_BOX_UPC)
    flows.open_product(page, flows.GIFT_BOX)
    flows.add_to_basket(page, stock + 1)

    expect(page.get_by_role("heading", level=1)).to_have_text(flows.GIFT_BOX)
    form = page.locator("form").filter(has=page.get_by_role("button", name="加入购物车"))
    expect(form.get_by_role("alert")).to_have_text(f"最多可以购买{stock}")
    expect(page.get_by_label("数量")).to_have_value(str(stock + 1))
    expect(page.get_by_role("link", name=re.compile("^购物车")).first).to_have_text(
        re.compile(r"^\s*购物车\s*0\s*件商品\s*$")
    )


def basket_with_gift_box(page: Page):
    """One gift box in the basket; returns the basket line's quantity box."""
    flows.open_product(page, flows.GIFT_BOX)
    flows.add_to_basket(page, 1)
    flows.go_to_basket(page)
    return page.get_by_label(f"数量（{flows.GIFT_BOX}）")


def test_quantity_above_stock_in_the_basket(watched):
    page = watched()
    quantity = basket_with_gift_box(page)
    stock = available(flows.GIFT_BOX_UPC)
    quantity.fill(str(stock + 1))
    page.get_by_role("button", name="更新").click()

    expect(page.get_by_role("alert").first).to_have_text(
        "您的购物车出现了一些问题。请更正以下所有校验错误。"
    )
    message = f"库存只剩 {stock} 件，购物车里这件商品的数量超过了库存。"
    expect(page.get_by_role("alert").filter(has_text="库存")).to_have_text(message)
    expect(quantity).to_have_accessible_description(re.compile(re.escape(message)))
    expect(quantity).to_have_value(str(stock + 1))
    expect(page.get_by_role("link", name=re.compile("^购物车")).first).to_contain_text("1")


def test_quantity_not_a_number_in_the_basket(watched):
    page = watched()
    quantity = basket_with_gift_box(page)
    quantity.evaluate("input => { input.type = 'text'; }")  # as an old phone browser would
    quantity.fill("abc")
    page.get_by_role("button", name="更新").click()

    expect(page.get_by_role("alert").first).to_have_text(
        "您的购物车出现了一些问题。请更正以下所有校验错误。"
    )
    expect(quantity).to_have_accessible_description(re.compile("输入整数。"))
    # The page sends back what was typed; a number input shows "abc" as empty.
    expect(quantity).to_have_attribute("value", "abc")


def test_checkout_with_an_empty_basket(watched):
    page = watched()
    page.goto("/checkout/")
    expect(page).to_have_url(re.compile(r"/basket/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("购物车")
    expect(page.get_by_role("alert")).to_have_text("在结算之前您需要添加一些物品到购物篮")
    expect(page.get_by_text("购物车是空的。")).to_be_visible()


def test_search_query_too_long(watched):
    page = watched()
    page.goto("/")
    flows.search(page, LONG_QUERY)

    expect(page.get_by_role("alert")).to_have_text("搜索词太长了（最多 100 个字），请缩短后再试。")
    expect(page.get_by_role("search", name="修改搜索词").get_by_role("searchbox")).to_have_value(
        LONG_QUERY
    )


def test_error_message_in_english(watched):
    """The footer's language switcher turns the site, messages included, to English."""
    page = watched()
    page.goto("/")
    footer = page.get_by_role("contentinfo")
    footer.get_by_label("语言 / Language").select_option("en")
    footer.get_by_role("button", name="切换").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    flows.search(page, LONG_QUERY, form="Site search", button="Search")
    message = page.get_by_role("alert")
    expect(message).to_have_text(re.compile(r"search is too long.*\b100\b", re.IGNORECASE))
    expect(message).not_to_have_text(re.compile("[\u4e00-\u9fff]"))  # no Chinese left
