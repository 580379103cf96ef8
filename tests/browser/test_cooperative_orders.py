"""A cooperative receives an order and packs it, on a phone (360×740): a
shopper buys 沙窝萝卜 through the storefront, a member of the cooperative
signs in, finds the line under 订单, accepts it, marks it packed and opens
the packing list."""

import re
import uuid

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from cooperatives.models import Cooperative, Membership
from divisions.models import Division
from tests.browser import flows
from tests.cooperatives.conftest import valid_code

PASSWORD = "pw-coop-browser-1"


def cooperative_member(upc: str) -> tuple[Cooperative, str]:
    """The cooperative selling ``upc`` (made if the demo has none) and a new
    member's e-mail (password PASSWORD)."""
    partner = flows.stockrecord(upc).partner
    coop = Cooperative.objects.filter(partner=partner).first()
    if coop is None:
        coop = Cooperative.objects.create(
            partner=partner,
            legal_name=partner.name,
            display_name=partner.name[:20],
            credit_code=valid_code("93120111MA05B0001"),
            entity_type="93",
            legal_representative="张三",
            contact_phone="13800138000",
            division=Division.objects.get(code="120111"),
            status=Cooperative.Status.VERIFIED,
        )
    tag = uuid.uuid4().hex[:8]
    email = f"packer-{tag}@example.cn"
    user = get_user_model().objects.create_user(f"packer-{tag}", email, PASSWORD)
    Membership.objects.create(cooperative=coop, user=user, role=Membership.Role.MEMBER)
    return coop, email


def buy_radish_as_guest(page) -> str:
    """Storefront → 沙窝萝卜 5斤装 × 2 → guest checkout, cash on delivery
    (without JavaScript: the address form's "下一步" buttons)."""
    flows.buy_radish(page, quantity=2)
    flows.go_to_basket(page)
    flows.start_guest_checkout(page)
    flows.fill_contact(page)
    flows.choose_division_without_js(page)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)
    flows.choose_shipping_if_asked(page)
    flows.pay_cash_on_delivery(page)
    return flows.place_order(page)


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/?next=/coop/orders/")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("电子邮件|邮箱")).fill(email)
    form.get_by_label("密码").fill(password)
    form.get_by_role("button", name="登录").click()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_cooperative_receives_an_order_and_marks_it_packed(new_page):
    coop, email = cooperative_member(flows.RADISH_5J_UPC)
    shopper = new_page(javascript=False)
    number = buy_radish_as_guest(shopper)

    member = new_page()
    sign_in(member, email)
    expect(member).to_have_url(re.compile(r"/coop/orders/$"))
    expect(member.get_by_role("heading", level=1)).to_have_text("订单")
    assert fits_the_phone(member)

    # The new order's line, among whatever else the cooperative has sold.
    title = f"{flows.RADISH}（5斤装）"
    item = member.get_by_role("listitem").filter(has_text=number)
    expect(item).to_contain_text("待接单")
    item.get_by_role("link", name=title).click()

    main = member.get_by_role("main")
    expect(member.get_by_role("heading", level=1)).to_have_text(title)
    expect(main).to_contain_text(number)
    delivery = member.get_by_role("region", name="收货信息")
    expect(delivery).to_contain_text(flows.RECIPIENT)
    expect(delivery).to_contain_text("138****5678")
    expect(delivery).to_contain_text(flows.DETAIL)
    expect(delivery).to_contain_text("西青区")
    expect(main).not_to_contain_text(flows.MOBILE)
    expect(main).not_to_contain_text(flows.GUEST_EMAIL)
    assert fits_the_phone(member)

    member.get_by_role("button", name="接单").click()
    expect(member.get_by_role("status").filter(has_text="已改为")).to_contain_text("已接单")
    member.get_by_role("button", name="标记为已打包").click()
    expect(member.get_by_role("status").filter(has_text="已改为")).to_contain_text("已打包")
    expect(member.locator("#line-status")).to_have_text("已打包")
    expect(member.get_by_role("button", name="标记为已交寄")).to_be_visible()
    expect(member.get_by_role("region", name="处理记录")).to_contain_text("已接单 → 已打包")

    member.get_by_role("link", name="打印这笔订单的装箱单").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("装箱单")
    order = member.get_by_role("region", name=re.compile(f"订单 {number}"))
    expect(order).to_contain_text(flows.RECIPIENT)
    expect(order).to_contain_text(flows.DETAIL)
    expect(order.get_by_role("row").filter(has_text=title)).to_contain_text("2")
    # JavaScript shows the print button (without it, the browser's menu prints).
    expect(member.get_by_role("button", name="打印")).to_be_visible()
    assert fits_the_phone(member)

    line = coop.partner.order_lines.get(order__number=number)
    assert line.status == "packed"
    assert [e.to_status for e in line.fulfilment_events.all()] == ["accepted", "packed"]
    for page in (shopper, member):
        assert page.js_errors == []
        assert page.server_errors == []
