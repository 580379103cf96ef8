"""A new cooperative applies and is approved, on a phone (360×740).

A person without an account opens /cooperatives/apply/, registers, fills in
the application (a wrong check character in the credit code first: a clear
message and everything typed kept), picks the village with the division
picker, uploads the business licence photo and submits. Platform staff sign
in to Oscar's dashboard, open 合作社审核, look at the application and its
licence, and approve it. The applicant comes back and sees 已认证."""

import io
import json
import re
import uuid

from django.contrib.auth import get_user_model
from PIL import Image
from playwright.sync_api import Page, expect
from stdnum.cn import uscc

from cooperatives.models import Cooperative, Membership
from tests.browser.conftest import axe_violations

PASSWORD = "Nongmin-2026-apply"


def licence_png() -> dict:
    image = Image.new("RGB", (600, 420), (250, 246, 236))
    out = io.BytesIO()
    image.save(out, "PNG")
    return {"name": "营业执照.png", "mimeType": "image/png", "buffer": out.getvalue()}


def new_code() -> str:
    """A well-formed, unused 93 code (the browser package shares one database)."""
    prefix = f"93120111MA{uuid.uuid4().int % 10**7:07d}"
    return prefix + uscc.calc_check_digit(prefix)


def wrong_check_character(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def register(page: Page, email: str) -> None:
    """From Oscar's login page: the 注册新账户 form."""
    form = page.locator("#register_form")
    form.get_by_label("电子邮件地址").fill(email)
    form.get_by_label("密码", exact=True).fill(PASSWORD)
    form.get_by_label("确认密码").fill(PASSWORD)
    form.get_by_role("button", name="注册").click()


def choose_village(page: Page) -> None:
    """天津市 → (市辖区, chosen for us) → 西青区 → 辛口镇 → 上辛口村委会; picker.js
    fills each select as the one above changes."""
    page.get_by_label("省份").select_option(label="天津市")
    expect(page.get_by_label("城市")).to_have_value("1201")
    county = page.get_by_label("区县")
    expect(county.get_by_role("option", name="西青区")).to_be_attached()
    county.select_option(label="西青区")
    town = page.get_by_label("乡镇/街道")
    expect(town.get_by_role("option", name="辛口镇")).to_be_attached()
    town.select_option(label="辛口镇")
    village = page.get_by_label("村/社区")
    expect(village.get_by_role("option", name="上辛口村委会")).to_be_attached()
    village.select_option(label="上辛口村委会")


def test_apply_as_a_new_cooperative_and_be_approved(new_page):
    tag = uuid.uuid4().hex[:6]
    email = f"coop-{tag}@example.cn"
    code = new_code()
    legal_name = f"天津市西青区辛口镇上辛口村{tag}蔬菜种植专业合作社"
    display_name = f"上辛口蔬菜{tag}"

    # --- The applicant: register, then apply ------------------------------------
    page = new_page()
    page.goto("/cooperatives/apply/")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录或注册")
    register(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("合作社入驻申请")

    page.get_by_label("法定名称").fill(legal_name)
    page.get_by_label("简称").fill(display_name)
    page.get_by_label("统一社会信用代码").fill(wrong_check_character(code).lower())
    page.get_by_label("法定代表人").fill("李春生")
    page.get_by_label("联系电话").fill("022-2739 1234")
    choose_village(page)
    page.get_by_label("详细地址").fill("上辛口村东 12 号")
    page.get_by_label("合作社简介").fill("种植沙窝萝卜和黄瓜。")
    page.get_by_label("营业执照照片").set_input_files(licence_png())
    page.get_by_role("button", name="提交申请").click()

    # A wrong check character: a clear message, nothing saved, everything kept.
    expect(page.get_by_role("alert").first).to_contain_text("申请还有需要修改的地方")
    code_box = page.get_by_label("统一社会信用代码")
    expect(code_box).to_have_accessible_description(re.compile("最后一位校验码不正确"))
    expect(code_box).to_have_value(wrong_check_character(code).lower())
    expect(page.get_by_label("法定名称")).to_have_value(legal_name)
    expect(page.get_by_label("村/社区").locator("option:checked")).to_have_text("上辛口村委会")
    expect(page.get_by_role("alert").first).to_contain_text("请重新选择营业执照照片")
    assert not Cooperative.objects.filter(legal_name=legal_name).exists()
    violations = axe_violations(page)
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)

    code_box.fill(code.lower())
    page.get_by_label("营业执照照片").set_input_files(licence_png())
    page.get_by_role("button", name="提交申请").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("申请已提交")
    expect(page.get_by_text("农民专业合作社（93）")).to_be_visible()
    coop = Cooperative.objects.get(credit_code=code)
    assert coop.status == Cooperative.Status.APPLIED
    assert coop.division_id == "120111102201"
    assert not coop.partner.is_selling
    assert Membership.objects.get(user__email=email).cooperative == coop

    page.get_by_role("link", name="查看申请进度").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("入驻申请进度")
    expect(page.get_by_text("正在等待平台审核")).to_be_visible()

    # --- Platform staff: the review queue in Oscar's dashboard ---------------------
    reviewer = f"reviewer-{tag}"
    get_user_model().objects.create_user(
        reviewer, f"{reviewer}@example.cn", PASSWORD, is_staff=True
    )
    staff = new_page()
    staff.goto("/dashboard/cooperatives/")
    expect(staff).to_have_url(re.compile("/dashboard/login/"))
    staff.get_by_label("用户名").fill(reviewer)
    staff.get_by_label("密码").fill(PASSWORD)
    staff.get_by_label("密码").press("Enter")
    expect(staff.get_by_role("heading", level=1)).to_have_text("合作社审核")
    staff.get_by_role("link", name=legal_name).click()

    expect(staff.get_by_role("heading", level=1)).to_have_text(legal_name)
    expect(staff.get_by_text(code)).to_be_visible()
    licence = staff.get_by_role("img", name=f"{legal_name}的营业执照")
    expect(licence).to_be_visible()
    assert licence.evaluate("img => img.naturalWidth") == 600  # the uploaded photo loads
    staff.get_by_role("button", name="通过审核").click()
    expect(staff.get_by_role("alert").filter(has_text="已通过")).to_be_visible()
    coop.refresh_from_db()
    assert coop.status == Cooperative.Status.VERIFIED
    assert coop.partner.is_selling

    # --- The applicant comes back ---------------------------------------------------
    page.reload()
    expect(page.get_by_text("已通过审核，可以在合作社后台上架商品了。")).to_be_visible()
    page.get_by_role("link", name="查看合作社主页").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(display_name)
    expect(page.get_by_text("天津市 西青区 辛口镇 上辛口村委会")).to_be_visible()

    for pg in (page, staff):
        assert pg.server_errors == [], pg.server_errors
        assert pg.js_errors == [], pg.js_errors
