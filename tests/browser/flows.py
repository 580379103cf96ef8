"""Steps a shopper takes, shared by the browser tests. Everything is found the
way a person finds it: by label, role and visible name."""

import re

from oscar.core.loading import get_model
from playwright.sync_api import Page, expect

StockRecord = get_model("partner", "StockRecord")

RADISH = "沙窝萝卜 西青辛口产地直发"  # the demo's parent product (5斤装 / 10斤装)
RADISH_5J_UPC = "WN-XQ-001-5J"
GIFT_BOX = "沙窝萝卜精品礼盒 8根装"  # a standalone product
GIFT_BOX_UPC = "WN-XQ-002"

GUEST_EMAIL = "buyer@example.cn"
RECIPIENT = "张秀兰"
MOBILE = "13812345678"
DETAIL = "小沙沃村 3 排 12 号"


def stockrecord(upc: str):
    return StockRecord.objects.get(product__upc=upc)


def allocated(upc: str) -> int:
    """Units of a product allocated to orders (Oscar stores none as NULL)."""
    return stockrecord(upc).num_allocated or 0


def search(page: Page, query: str, form: str = "全站搜索", button: str = "搜索") -> None:
    """Type a query in the site-wide search box and submit it."""
    box = page.get_by_role("search", name=form)
    box.get_by_role("searchbox").fill(query)
    box.get_by_role("button", name=button).click()


def open_product(page: Page, title: str) -> None:
    """From home, search for the product and open it from the results."""
    page.goto("/")
    search(page, title.split()[0])
    page.get_by_role("link", name=title, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def add_to_basket(page: Page, quantity: int | str = 1, variant: str | None = None) -> None:
    """On a product page: choose the variant (by its name, e.g. "5斤装"), the
    quantity, and press 加入购物车."""
    if variant:
        page.get_by_role("radio", name=re.compile(f"（{re.escape(variant)}）")).check()
    page.get_by_label("数量").fill(str(quantity))
    page.get_by_role("button", name="加入购物车").click()


def buy_radish(page: Page, quantity: int = 2) -> None:
    """Put `quantity` boxes of 沙窝萝卜 5斤装 in the basket (from home, via search)."""
    open_product(page, RADISH)
    add_to_basket(page, quantity, variant="5斤装")
    title = f"{RADISH}（5斤装）"
    added = f"已将 {quantity} 份{title}加入购物车。" if quantity > 1 else f"已将{title}加入购物车。"
    expect(page.get_by_role("status").filter(has_text="加入购物车")).to_contain_text(added)


def go_to_basket(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^购物车")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("购物车")


def start_guest_checkout(page: Page, email: str = GUEST_EMAIL) -> None:
    """From the basket: 去结算, then check out as a guest with an e-mail."""
    page.get_by_role("link", name="去结算").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("开始结算")
    page.get_by_label("电子邮箱").fill(email)
    page.get_by_role("radio", name=re.compile("直接下单")).check()
    page.get_by_role("button", name="继续", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("收货地址")


def address_form(page: Page):
    return page.locator("form").filter(has=page.get_by_label("收货人"))


def fill_contact(page: Page, recipient: str = RECIPIENT, mobile: str = MOBILE) -> None:
    page.get_by_label("收货人").fill(recipient)
    page.get_by_label("手机号码").fill(mobile)


def expect_tianjin_city_chosen(page: Page) -> None:
    """天津市 has one city-level division, 市辖区 (code 1201), chosen for the
    buyer and shown under the municipality's name."""
    city = page.get_by_label("城市")
    expect(city).to_have_value("1201")
    expect(city.locator("option:checked")).to_have_text("天津市")


def choose_division_with_js(page: Page, county: str = "西青区", town: str = "辛口镇") -> None:
    """Pick 天津市 → (its 市辖区, chosen for us) → county → town; picker.js fills
    each select as the one above changes."""
    page.get_by_label("省份").select_option(label="天津市")
    expect_tianjin_city_chosen(page)
    county_select = page.get_by_label("区县")
    expect(county_select.get_by_role("option", name=county)).to_be_attached()
    county_select.select_option(label=county)
    town_select = page.get_by_label("乡镇/街道")
    expect(town_select.get_by_role("option", name=town)).to_be_attached()
    town_select.select_option(label=town)


def narrow(page: Page, step: str) -> None:
    """Press a no-JavaScript "下一步：…" button, e.g. narrow(page, "选择城市")."""
    page.get_by_role("button", name=f"下一步：{step}").click()


def choose_division_without_js(page: Page, county: str = "西青区", town: str = "辛口镇") -> None:
    """The same choice with the "下一步" buttons: each press re-shows the form
    with the next level's choices (天津市's only city, 市辖区, is chosen for us)."""
    page.get_by_label("省份").select_option(label="天津市")
    narrow(page, "选择城市")
    expect_tianjin_city_chosen(page)
    narrow(page, "选择区县")
    page.get_by_label("区县").select_option(label=county)
    narrow(page, "选择乡镇")
    page.get_by_label("乡镇/街道").select_option(label=town)


def submit_address(page: Page) -> None:
    address_form(page).get_by_role("button", name="继续", exact=True).click()


def choose_shipping_if_asked(page: Page) -> None:
    """The shipping-method step is skipped when there is only one method."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("配送方式|付款方式"))
    if heading.inner_text().strip() == "配送方式":
        page.get_by_role("button", name="继续", exact=True).click()
    expect(heading).to_have_text("付款方式")


def pay_cash_on_delivery(page: Page) -> None:
    page.get_by_role("radio", name=re.compile("^货到付款")).check()
    page.get_by_role("button", name="继续，确认订单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("确认订单")


def place_order(page: Page) -> str:
    """Press 提交订单 on the preview; return the number the thank-you page shows."""
    page.get_by_role("button", name="提交订单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("订单已提交，谢谢！")
    number = page.get_by_role("region", name="您的订单号").inner_text()
    match = re.search(r"\b\d{13}\b", number)
    assert match, f"no order number on the thank-you page: {number!r}"
    return match.group()
