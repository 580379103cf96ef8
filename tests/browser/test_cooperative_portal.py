"""The cooperative portal on a phone (360×740): a member adds a product with
a photo from the file chooser and finds it on the storefront; a manager
invites someone by e-mail, who registers, joins through the link and edits
stock — without JavaScript, since the portal is plain HTML forms.

Each test makes its own verified cooperative, so the demo's stock and the
other browser tests are not touched.
"""

import io
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from oscar.core.loading import get_model
from PIL import Image
from playwright.sync_api import Page, expect

from cooperatives.models import Cooperative, Membership
from divisions.models import Division
from tests.cooperatives.conftest import valid_code
from tests.cooperatives.photos import phone_jpeg_bytes

Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

PASSWORD = "pw-coop-portal-1"


@pytest.fixture
def watched(new_page):
    """Pages whose test fails on any 5xx response or JavaScript error."""
    pages = []

    def make(**kwargs) -> Page:
        pg = new_page(**kwargs)
        pages.append(pg)
        return pg

    yield make
    assert [e for pg in pages for e in pg.server_errors] == []
    assert [e for pg in pages for e in pg.js_errors] == []


def new_cooperative(role: str = Membership.Role.MANAGER) -> tuple[Cooperative, str, str]:
    """A fresh verified cooperative with one person of ``role``; returns it,
    that person's e-mail and a tag unique to this test."""
    tag = uuid.uuid4().hex[:6].upper()
    partner = Partner.objects.create(name=f"门户测试合作社 {tag}", is_selling=True)
    digits = str(int(tag, 16) % 10000).zfill(4)
    coop = Cooperative.objects.create(
        partner=partner,
        legal_name=partner.name,
        display_name=partner.name[:20],
        credit_code=valid_code(f"93120111MA05P{digits}"),
        entity_type="93",
        legal_representative="王五",
        contact_phone="13800138000",
        division=Division.objects.get(code="120111"),
        status=Cooperative.Status.VERIFIED,
    )
    email = f"portal-{tag.lower()}@example.cn"
    user = get_user_model().objects.create_user(f"portal-{tag.lower()}", email, PASSWORD)
    Membership.objects.create(cooperative=coop, user=user, role=role)
    return coop, email, tag


def sign_in(page: Page, email: str, next_url: str = "/coop/products/") -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("邮箱|邮件")).fill(email)
    form.get_by_label("密码").fill(PASSWORD)
    form.get_by_role("button", name="登录").click()


def test_add_a_product_with_a_photo_and_see_it_on_the_storefront(watched):
    coop, email, tag = new_cooperative(Membership.Role.MEMBER)
    title = f"门户测试西红柿 {tag}"
    page = watched()
    sign_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("商品")
    page.get_by_role("link", name="添加商品").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("添加商品")

    # A photo straight from a phone: 2000×1000, EXIF with GPS, "rotate 90°".
    page.get_by_label("商品照片").set_input_files(
        files=[{"name": "IMG_20260915.jpg", "mimeType": "image/jpeg", "buffer": phone_jpeg_bytes()}]
    )
    page.get_by_label("商品名称").fill(title)
    page.get_by_label("所属分类").select_option(label="蔬菜 > 根茎类")
    page.get_by_label("价格（元）", exact=True).fill("8.80")
    page.get_by_label("销售单位").select_option(label="斤")
    page.get_by_label("库存", exact=True).fill("30")
    page.get_by_label("净重（克）", exact=True).fill("500")
    page.get_by_role("radio", name="冷藏").check()
    page.get_by_role("button", name="保存商品").click()

    expect(page.get_by_role("status").filter(has_text="已添加")).to_contain_text(title)
    row = page.get_by_role("article", name=title)
    expect(row.get_by_text("已上架")).to_be_visible()
    product = Product.objects.get(title=title)
    record = StockRecord.objects.get(product=product)
    assert record.partner_id == coop.partner_id and record.num_in_stock == 30
    image = product.images.get()
    assert image.original.name.endswith(".wn.jpg")  # the photo task ran
    with default_storage.open(image.original.name) as fh:
        clean = Image.open(io.BytesIO(fh.read()))
    assert not clean.getexif() and clean.size == (800, 1600)  # no GPS, upright

    # On the storefront: the product page, with the photo, and in search.
    row.get_by_role("link", name="在网店查看").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    photo = page.get_by_role("img", name=re.compile(re.escape(title)))
    expect(photo.first).to_have_attribute("src", re.compile(r"\.webp$"))
    assert photo.first.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.get_by_text("¥8.80").first).to_be_visible()
    page.goto("/search/?q=" + title.split()[0])
    expect(page.get_by_role("link", name=title)).to_be_visible()


def test_bad_price_and_stock_are_explained_and_nothing_is_saved(watched):
    _coop, email, tag = new_cooperative(Membership.Role.MEMBER)
    title = f"门户测试坏价格 {tag}"
    page = watched()
    sign_in(page, email, "/coop/products/new/")
    page.get_by_label("商品名称").fill(title)
    page.get_by_label("所属分类").select_option(label="蔬菜 > 根茎类")
    page.get_by_label("价格（元）", exact=True).fill("0")
    page.get_by_label("销售单位").select_option(label="斤")
    page.get_by_label("库存", exact=True).fill("-3")
    page.get_by_role("button", name="保存商品").click()

    expect(page.get_by_role("alert").first).to_contain_text("商品没有保存")
    expect(page.get_by_label("价格（元）", exact=True)).to_have_accessible_description(
        re.compile("价格必须大于 0")
    )
    expect(page.get_by_label("库存", exact=True)).to_have_accessible_description(
        re.compile("库存不能小于 0")
    )
    expect(page.get_by_label("商品名称")).to_have_value(title)
    expect(page.get_by_label("库存", exact=True)).to_have_value("-3")
    assert not Product.objects.filter(title=title).exists()


def test_a_manager_invites_a_member_who_then_edits_stock(watched):
    from cooperatives import listings
    from cooperatives.listings import ListingData

    coop, manager_email, tag = new_cooperative(Membership.Role.MANAGER)
    title = f"门户测试白菜 {tag}"
    listings.create_listing(
        coop, ListingData(title=title, category="蔬菜 > 根茎类", unit="斤", price="3.50", stock=12)
    )
    invitee = f"newcomer-{tag.lower()}@example.cn"

    manager = watched()
    sign_in(manager, manager_email, "/coop/members/")
    expect(manager.get_by_role("heading", level=1)).to_have_text("成员")
    manager.get_by_role("link", name="邀请成员").click()
    manager.get_by_label("电子邮箱").fill(invitee)
    manager.get_by_role("radio", name="社员").check()
    manager.get_by_role("button", name="发送邀请").click()
    expect(manager.get_by_role("status").filter(has_text="已创建邀请")).to_be_visible()
    link = manager.get_by_label("邀请链接（可复制后发给对方）").input_value()
    assert "/coop/members/join/" in link

    # The invited person, on their own phone, without JavaScript.
    person = watched(javascript=False)
    person.goto(link)
    expect(person.get_by_role("heading", level=1)).to_have_text("登录或注册")
    form = person.locator("#register_form")
    form.get_by_label("电子邮件地址").fill(invitee)
    form.get_by_label("密码", exact=True).fill("Wn-newcomer-2026!")
    form.get_by_label("确认密码").fill("Wn-newcomer-2026!")
    form.get_by_role("button", name="注册").click()
    expect(person.get_by_role("heading", level=1)).to_contain_text("加入")
    person.get_by_role("button", name="接受邀请，加入").click()
    expect(person.get_by_role("status").filter(has_text="欢迎加入")).to_be_visible()
    membership = Membership.objects.get(user__email=invitee)
    assert membership.cooperative == coop and membership.role == Membership.Role.MEMBER

    person.get_by_role("link", name="商品", exact=True).click()
    row_form = person.get_by_role("form", name=f"{title}：价格和库存")
    expect(row_form.get_by_label("库存")).to_have_value("12")
    row_form.get_by_label("库存").fill("-1")
    row_form.get_by_role("button", name="保存").click()
    expect(person.get_by_role("alert").first).to_contain_text("没有保存")
    row_form = person.get_by_role("form", name=f"{title}：价格和库存")
    expect(row_form.get_by_label("库存")).to_have_value("-1")
    expect(row_form.get_by_label("库存")).to_have_accessible_description(
        re.compile("库存不能小于 0")
    )
    row_form.get_by_label("库存").fill("40")
    row_form.get_by_role("button", name="保存").click()
    expect(person.get_by_role("status").filter(has_text="已更新")).to_contain_text("库存 40")
    record = StockRecord.objects.get(product__title=title)
    assert record.num_in_stock == 40

    # The manager sees the new member; the invitation is used up.
    manager.goto("/coop/members/")
    expect(manager.get_by_role("heading", name=invitee)).to_be_visible()
    expect(manager.get_by_text("没有待接受的邀请。")).to_be_visible()


def test_portal_pages_have_no_serious_accessibility_problems(watched):
    from datetime import timedelta

    from django.utils import timezone

    from cooperatives import listings
    from cooperatives.listings import ListingData, VariantData
    from cooperatives.portal import members
    from tests.browser.conftest import axe_violations

    coop, email, tag = new_cooperative(Membership.Role.MANAGER)
    product = listings.create_listing(
        coop,
        ListingData(
            title=f"门户测试葡萄 {tag}",
            category="蔬菜 > 根茎类",
            unit="斤",
            price="12.00",
            stock=5,
            presale=True,
            presale_ships_on=timezone.localdate() + timedelta(days=30),
        ),
    )
    parent = listings.create_listing(
        coop,
        ListingData(
            title=f"门户测试礼盒 {tag}",
            category="蔬菜 > 根茎类",
            unit="箱",
            variants=[VariantData("5斤装", "25", 4), VariantData("10斤装", "45", 0)],
        ),
    )
    members.create_invitation(coop, by=None, phone="13800001234")
    page = watched()
    sign_in(page, email)
    found = {}
    for url in [
        "/coop/products/",
        "/coop/products/new/",
        f"/coop/products/{product.pk}/",
        f"/coop/products/{parent.pk}/",
        f"/coop/products/{product.pk}/variants/new/",
        "/coop/members/",
        "/coop/members/invite/",
    ]:
        page.goto(url)
        found[url] = axe_violations(page)
    # A list row with errors, too.
    page.goto("/coop/products/")
    row_form = page.get_by_role("form", name=f"门户测试葡萄 {tag}：价格和库存")
    row_form.get_by_label("库存").fill("-1")
    row_form.get_by_role("button", name="保存").click()
    found["list with an error"] = axe_violations(page)
    assert not any(found.values()), found
