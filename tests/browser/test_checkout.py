"""A guest buys 沙窝萝卜 on a phone (360×740), cash on delivery, end to end:
once with JavaScript (the division picker fills the selects) and once
without (the "下一步" buttons narrow the selects)."""

from oscar.core.loading import get_model
from playwright.sync_api import expect

from divisions.models import Division
from tests.browser import flows

Order = get_model("order", "Order")

XINKOU = "辛口镇"


def xinkou_town() -> Division:
    """辛口镇 in 天津市西青区."""
    return Division.objects.get(name=XINKOU, code__startswith="120111")


def assert_order(number: str, allocated_before: int, email: str) -> None:
    order = Order.objects.get(number=number)
    assert order.email == email
    assert order.user is None
    assert order.num_items == 2
    [line] = order.lines.all()
    assert line.product.upc == flows.RADISH_5J_UPC
    assert line.quantity == 2
    address = order.shipping_address
    assert address.division == xinkou_town()
    assert address.last_name == flows.RECIPIENT
    assert address.line1 == flows.DETAIL
    assert (address.state, address.line3, address.line2) == ("天津市", "西青区", XINKOU)
    assert address.phone_number.national_number == int(flows.MOBILE)
    [source] = order.sources.all()
    assert source.source_type.code == "cash-on-delivery"
    assert source.amount_allocated == order.total_incl_tax
    assert flows.allocated(flows.RADISH_5J_UPC) == allocated_before + 2


def checkout_with_division_picker(page, email: str = flows.GUEST_EMAIL) -> str:
    """Home → search → 沙窝萝卜 5斤装 × 2 → basket → guest checkout → address
    with the picker's selects → cash on delivery → order placed. Returns the
    order number shown on the thank-you page."""
    flows.buy_radish(page, quantity=2)
    flows.go_to_basket(page)
    expect(page.get_by_label(f"数量（{flows.RADISH}（5斤装））")).to_have_value("2")
    flows.start_guest_checkout(page, email)

    flows.fill_contact(page)
    # With JavaScript the "下一步" buttons are hidden: picker.js fills the selects.
    expect(page.get_by_role("button", name="下一步：选择城市")).to_be_hidden()
    flows.choose_division_with_js(page)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)

    flows.choose_shipping_if_asked(page)
    flows.pay_cash_on_delivery(page)
    preview = page.get_by_role("main")
    expect(preview).to_contain_text(f"{flows.RECIPIENT}")
    expect(preview).to_contain_text(f"西青区 {XINKOU}")
    expect(preview).to_contain_text(f"{flows.RADISH}（5斤装） × 2")
    expect(preview).to_contain_text("收货时再付款")
    return flows.place_order(page)


def test_guest_checkout_with_division_picker(page):
    allocated_before = flows.allocated(flows.RADISH_5J_UPC)

    number = checkout_with_division_picker(page)

    thank_you = page.get_by_role("main")
    expect(thank_you).to_contain_text("付款方式：货到付款")
    expect(thank_you).to_contain_text(f"确认邮件已发送到 {flows.GUEST_EMAIL}")
    assert_order(number, allocated_before, flows.GUEST_EMAIL)
    assert page.js_errors == []
    assert page.server_errors == []


def test_confirmation_email(page, mailoutbox):
    """The live server runs in this process, so its mail lands in mailoutbox."""
    email = "mail@example.cn"
    number = checkout_with_division_picker(page, email)

    # The buyer gets one confirmation; the cooperative's members get their
    # own new-order notice (cooperatives/notifications.py), never the buyer's.
    to_buyer = [m for m in mailoutbox if email in m.to]
    assert [m.to for m in to_buyer] == [[email]], [m.subject for m in mailoutbox]
    assert all(m.to == [email] or "新订单" in m.subject for m in mailoutbox)
    [message] = to_buyer
    assert number in message.subject
    assert number in message.body
    assert f"{flows.RADISH}（5斤装） × 2" in message.body
    assert "货到付款" in message.body
    assert f"西青区 {XINKOU} {flows.DETAIL}" in message.body


def test_guest_checkout_without_javascript(new_page):
    page = new_page(javascript=False)
    allocated_before = flows.allocated(flows.RADISH_5J_UPC)
    email = "nojs@example.cn"

    flows.buy_radish(page, quantity=2)
    flows.go_to_basket(page)
    flows.start_guest_checkout(page, email)

    flows.fill_contact(page)
    flows.choose_division_without_js(page)
    # Narrowing re-showed the form three times; what was typed is still there.
    expect(page.get_by_label("收货人")).to_have_value(flows.RECIPIENT)
    expect(page.get_by_label("手机号码")).to_have_value(flows.MOBILE)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)

    flows.choose_shipping_if_asked(page)
    flows.pay_cash_on_delivery(page)
    number = flows.place_order(page)

    assert_order(number, allocated_before, email)
    assert page.server_errors == []
