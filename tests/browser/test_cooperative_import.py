"""A cooperative member uploads a product file with good and bad rows on a
phone (360×740): the progress bar moves while a background worker imports,
the bad rows are listed with their row numbers and reasons, the good rows
land. Without JavaScript the page refreshes itself until the import is done.

The worker is simulated by a thread in the test process (the live server's
database is the test database, which a separate Celery worker would not
see), and each row is slowed a little so the bar has time to be seen moving.
"""

import re
import threading
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from oscar.core.loading import get_model
from playwright.sync_api import Page, expect

from cooperatives import import_tasks
from cooperatives.models import Cooperative, ImportJob, Membership
from divisions.models import Division
from tests.cooperatives.conftest import valid_code

Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

PASSWORD = "pw-coop-import-1"
FILE_LABEL = "商品表格（CSV 或 XLSX）"
HEADER = "商品编码,商品名称,分类,单位,价格（元）,库存,储运温层,上架"
BAD = {
    4: ("价格必须大于 0", "{p}-B1,导入测试萝卜乙,根茎类,斤,0,10,常温,否"),
    7: ("单位“颗”不认识", "{p}-B2,导入测试白菜乙,叶菜类,颗,3.00,10,常温,否"),
    10: ("没有“苹果类”这个分类", "{p}-B3,导入测试苹果,苹果类,斤,6.00,10,常温,否"),
}


def member_of_new_cooperative() -> tuple[Cooperative, str, str]:
    """A fresh verified cooperative (so the demo's stock is not touched), a
    member's e-mail and a SKU prefix unique to this test."""
    tag = uuid.uuid4().hex[:6].upper()
    partner = Partner.objects.create(name=f"导入测试合作社 {tag}", is_selling=True)
    digits = str(int(tag, 16) % 10000).zfill(4)
    coop = Cooperative.objects.create(
        partner=partner,
        legal_name=partner.name,
        display_name=partner.name[:20],
        credit_code=valid_code(f"93120111MA05C{digits}"),
        entity_type="93",
        legal_representative="李四",
        contact_phone="13800138000",
        division=Division.objects.get(code="120111"),
        status=Cooperative.Status.VERIFIED,
    )
    email = f"importer-{tag.lower()}@example.cn"
    user = get_user_model().objects.create_user(f"importer-{tag.lower()}", email, PASSWORD)
    Membership.objects.create(cooperative=coop, user=user, role=Membership.Role.MEMBER)
    return coop, email, f"T{tag}"


def product_file(prefix: str) -> bytes:
    """Twelve data rows (rows 2–13); rows 4, 7 and 10 are bad."""
    lines = [HEADER]
    good = 0
    for row in range(2, 14):
        if row in BAD:
            lines.append(BAD[row][1].format(p=prefix))
        else:
            good += 1
            lines.append(
                f"{prefix}-{good:02d},导入测试萝卜 {good} 号,蔬菜 > 根茎类,斤,{good}.50,{good},冷藏,否"
            )
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


@pytest.fixture
def slow_worker(monkeypatch):
    """Run each import in a background thread, as a Celery worker would,
    taking a quarter of a second per row."""
    threads = []
    real_upsert = import_tasks.upsert_listing_by_sku

    def slow_upsert(cooperative, data):
        time.sleep(0.25)
        return real_upsert(cooperative, data)

    def work(job_id: int) -> None:
        try:
            import_tasks.run_import.apply(args=[job_id])
        finally:
            connection.close()

    def start_import(job) -> None:
        def start() -> None:
            thread = threading.Thread(target=work, args=[job.pk], daemon=True)
            threads.append(thread)
            thread.start()

        transaction.on_commit(start)

    monkeypatch.setattr(import_tasks, "upsert_listing_by_sku", slow_upsert)
    monkeypatch.setattr("cooperatives.portal.imports.start_import", start_import)
    yield
    for thread in threads:
        thread.join(timeout=60)


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/?next=/coop/imports/")
    form = page.locator("#login_form")
    form.get_by_label(re.compile("邮箱|邮件")).fill(email)
    form.get_by_label("密码").fill(PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("批量导入和导出商品")


def upload(page: Page, data: bytes, name: str = "商品.csv") -> None:
    page.get_by_label(FILE_LABEL).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="上传并导入").click()


def watch_progress(page: Page, timeout: float = 60) -> list[tuple[str, str]]:
    """(value, max) of the progress bar, sampled until the import is done."""
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            bar = page.locator("progress#import-progress")
            sample = (
                bar.get_attribute("value", timeout=2000),
                bar.get_attribute("max", timeout=2000),
            )
            if sample[0] is not None and (not seen or seen[-1] != sample):
                seen.append(sample)
            if page.get_by_text("导入完成。").is_visible():
                break
        except Exception:  # noqa: BLE001 - the page may be reloading
            pass
        time.sleep(0.15)
    return seen


def expect_bad_rows_listed(page: Page) -> None:
    table = page.get_by_role("table").filter(has_text="行号")
    for row, (reason, _line) in BAD.items():
        line = table.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=f"第 {row} 行")
        )
        expect(line).to_contain_text(reason)
    expect(page.get_by_role("heading", name="出错的行（3 行）")).to_be_visible()


def test_import_shows_progress_and_bad_rows(new_page, slow_worker):
    coop, email, prefix = member_of_new_cooperative()
    page = new_page()
    sign_in(page, email)
    upload(page, product_file(prefix))

    expect(page.get_by_role("heading", level=1)).to_have_text("导入 商品.csv")
    seen = watch_progress(page)
    values = {value for value, _max in seen}
    assert len(values) >= 2, f"the bar never moved: {seen}"
    expect(page.get_by_text("导入完成。")).to_be_visible()
    bar = page.locator("progress#import-progress")
    expect(bar).to_have_attribute("value", "12")
    expect(bar).to_have_attribute("max", "12")
    expect(page.locator("#count-created")).to_have_text("9")
    expect(page.locator("#count-errors")).to_have_text("3")
    expect_bad_rows_listed(page)
    assert StockRecord.objects.filter(partner=coop.partner).count() == 9
    assert page.js_errors == [] and page.server_errors == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Uploading the same file again updates; nothing is duplicated.
    page.get_by_role("link", name="再上传一个文件").click()
    upload(page, product_file(prefix))
    expect(page.get_by_text("导入完成。")).to_be_visible(timeout=60_000)
    expect(page.locator("#count-created")).to_have_text("0")
    expect(page.locator("#count-unchanged")).to_have_text("9")
    assert StockRecord.objects.filter(partner=coop.partner).count() == 9


def test_import_without_javascript_refreshes_until_done(new_page, slow_worker):
    coop, email, prefix = member_of_new_cooperative()
    page = new_page(javascript=False)
    sign_in(page, email)
    upload(page, product_file(prefix))

    seen = watch_progress(page)
    # The first page showed the import unfinished; refreshes brought it to the end.
    assert seen and seen[0][0] != "12", f"no refreshing seen: {seen}"
    expect(page.get_by_text("导入完成。")).to_be_visible()
    expect(page.locator("progress#import-progress")).to_have_attribute("value", "12")
    expect_bad_rows_listed(page)
    job = ImportJob.objects.filter(cooperative=coop).get()
    assert (job.status, job.created_count, job.error_count) == ("done", 9, 3)
    assert page.server_errors == []


def test_file_without_required_columns_is_refused(new_page):
    coop, email, prefix = member_of_new_cooperative()
    page = new_page()
    sign_in(page, email)
    upload(page, f"商品编码,商品名称\n{prefix}-1,萝卜\n".encode())

    expect(page.get_by_role("alert")).to_contain_text(
        "缺少必填的列：分类、单位、价格（元）、库存。"
    )
    expect(page.get_by_label(FILE_LABEL)).to_have_attribute("aria-invalid", "true")
    assert not ImportJob.objects.filter(cooperative=coop).exists()
    assert page.server_errors == []
