"""Bulk product import and export in the cooperative portal: every bad row is
reported with its row number and reason while the good rows land, re-imports
update instead of duplicating, broken files are refused whole with one clear
message, and an export re-imported changes nothing."""

import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from oscar.core.loading import get_model

from cooperatives import import_tasks, imports
from cooperatives.listings import ListingData, upsert_listing_by_sku
from cooperatives.models import ImportJob
from tests import factories
from tests.cooperatives.conftest import manager_of

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

HEADER = "商品编码,商品名称,分类,单位,价格（元）,库存,净重（克）,储运温层,上架"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def categories(db):
    veg = factories.category("蔬菜")
    factories.category("根茎类", veg)
    factories.category("叶菜类", veg)
    fruit = factories.category("水果")
    factories.category("葡萄", fruit)


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def upload(client, data: bytes, name: str = "商品.csv"):
    url = reverse("coop:imports")
    return client.post(url, {"file": SimpleUploadedFile(name, data)})


def run_upload(client, django_capture_on_commit_callbacks, data: bytes, name: str = "商品.csv"):
    """Upload and run the import (eagerly, as with no broker); return the job."""
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, data, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    assert response["Location"] == reverse("coop:import-detail", kwargs={"pk": job.pk})
    return job


def coop_stock(coop):
    return StockRecord.objects.filter(partner_id=coop.partner_id)


def errors_by_row(job) -> dict[int, str]:
    return {e["row"]: "；".join(e["errors"]) for e in job.error_rows}


MIXED = [
    "LB-001,沙窝萝卜 5斤装,蔬菜 > 根茎类,箱,39.90,100,2500,常温,是",  # row 2: good
    "LB-002,沙窝萝卜 10斤装,蔬菜 > 根茎类,箱,0,50,5000,常温,是",  # row 3: price 0
    "BC-001,天津青麻叶白菜,叶菜类,公斤,3.5,200,,冷藏,是",  # row 4: good (category by name)
    "BC-002,白菜心,叶菜类,颗,4.00,abc,,常温,是",  # row 5: unknown unit, stock not a number
    "PT-001,玫瑰香葡萄,水果 > 葡萄,斤,15,30,500,冷冻,否",  # row 6: good
    "PT-002,巨峰葡萄,水果 > 苹果,斤,12,30,500,常温,是",  # row 7: no such category
    ",没有编码的商品,蔬菜,斤,1,1,,,",  # row 8: no SKU
]


def test_good_rows_land_and_each_bad_row_is_reported(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks
):
    job = run_upload(manager_client, django_capture_on_commit_callbacks, csv_bytes(*MIXED))
    job.refresh_from_db()

    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows) == (7, 7)
    assert (job.created_count, job.updated_count) == (3, 0)
    errors = errors_by_row(job)
    assert sorted(errors) == [3, 5, 7, 8]
    assert "价格必须大于 0" in errors[3]
    assert "单位“颗”不认识" in errors[5] and "库存“abc”不是数字" in errors[5]
    assert "水果 > 苹果" in errors[7]
    assert "商品编码不能为空" in errors[8]

    skus = set(coop_stock(coop_a).values_list("partner_sku", flat=True))
    assert skus == {"LB-001", "BC-001", "PT-001"}
    grape = coop_stock(coop_a).get(partner_sku="PT-001")
    assert grape.price == Decimal("15.00") and grape.num_in_stock == 30
    assert grape.product.storage_class == "frozen" and grape.product.is_public is False
    assert grape.product.unit == "jin" and grape.product.net_weight_g == 500

    # The page shows every bad row with its number and reason.
    page = manager_client.get(reverse("coop:import-detail", kwargs={"pk": job.pk}))
    html = page.content.decode()
    for row in (3, 5, 7, 8):
        assert f"第 {row} 行" in html
    assert "价格必须大于 0" in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing
    assert "<progress" in html and f'value="{job.total_rows}"' in html


def test_reimport_updates_instead_of_duplicating(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks
):
    first = csv_bytes(*MIXED[:1], MIXED[2])
    run_upload(manager_client, django_capture_on_commit_callbacks, first)
    products = Product.objects.count()

    changed = csv_bytes(
        "LB-001,沙窝萝卜 5斤装（新货）,蔬菜 > 根茎类,箱,42.00,80,2500,常温,是", MIXED[2]
    )
    job = run_upload(manager_client, django_capture_on_commit_callbacks, changed)
    job.refresh_from_db()
    assert (job.created_count, job.updated_count, job.error_count) == (0, 1, 0)
    assert "未变化 1" in job.message
    assert Product.objects.count() == products
    record = coop_stock(coop_a).get(partner_sku="LB-001")
    assert (record.price, record.num_in_stock) == (Decimal("42.00"), 80)
    assert record.product.title == "沙窝萝卜 5斤装（新货）"


def test_missing_columns_are_listed_and_nothing_is_imported(manager_client, coop_a, categories):
    data = csv_bytes("LB-001,沙窝萝卜,箱,100", header="商品编码,商品名称,单位,库存")
    response = upload(manager_client, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "缺少必填的列：分类、价格（元）。" in html
    assert 'role="alert"' in html
    assert not ImportJob.objects.exists()
    assert not coop_stock(coop_a).exists()


def xlsx_bytes(rows: list[list], merge: list[str] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for ref in merge:
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_HEADER = ["商品编码", "商品名称", "分类", "单位", "价格（元）", "库存"]


def test_merged_data_cells_fail_those_rows_only(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks
):
    data = xlsx_bytes(
        [
            XLSX_HEADER,
            ["LB-001", "沙窝萝卜", "根茎类", "箱", 39.9, 10],
            ["BC-001", "白菜", "叶菜类", "公斤", 3.5, 10],
            ["BC-002", None, "叶菜类", "公斤", 4, 10],
            ["BC-003", None, "叶菜类", "公斤", 4.5, 10],
            ["PT-001", "葡萄", "葡萄", "斤", 15, 30],
        ],
        merge=["B3:B5"],
    )
    job = run_upload(manager_client, django_capture_on_commit_callbacks, data, "商品.xlsx")
    job.refresh_from_db()
    errors = errors_by_row(job)
    assert sorted(errors) == [3, 4, 5]
    assert "第 3–5 行有合并单元格（B3:B5），请取消合并" in errors[4]
    assert set(coop_stock(coop_a).values_list("partner_sku", flat=True)) == {"LB-001", "PT-001"}


def test_merged_header_refuses_the_file(manager_client, coop_a, categories):
    data = xlsx_bytes(
        [
            ["商品编码", "商品名称", None, "单位", "价格（元）", "库存"],
            ["LB-001", "萝卜", "根茎类", "箱", 1, 1],
        ],
        merge=["B1:C1"],
    )
    response = upload(manager_client, data, "商品.xlsx")
    assert "表头（第 1 行）有合并单元格（B1:C1），请取消合并后再上传。" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_title_row_above_the_header_is_allowed(coop_a, categories):
    data = xlsx_bytes(
        [["沙窝合作社商品表"], XLSX_HEADER, ["LB-001", "沙窝萝卜", "根茎类", "箱", 39.9, 10]],
        merge=["A1:F1"],
    )
    sheet = imports.read_sheet(data, "x.xlsx")
    assert sheet.header_row == 2
    assert [r.number for r in sheet.rows] == [3]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks, encoding
):
    data = csv_bytes(
        "LB-001,沙窝萝卜·霜降后采收,蔬菜 > 根茎类,箱,39.90,100,2500,常温,是", encoding=encoding
    )
    job = run_upload(manager_client, django_capture_on_commit_callbacks, data)
    job.refresh_from_db()
    assert job.error_rows == [] and job.created_count == 1
    assert coop_stock(coop_a).get().product.title == "沙窝萝卜·霜降后采收"


def test_oversize_upload_gets_a_clear_message(manager_client, coop_a):
    """A 50 MB upload: the form comes back with a message (no 400/413/500),
    the file is not kept and no job is created."""
    data = b"a" * (50 * 1024 * 1024)
    response = upload(manager_client, data, "大文件.csv")
    assert response.status_code == 200
    html = response.content.decode()
    assert "文件太大（约 50 MB），一次最多上传 10 MB。" in html
    assert not ImportJob.objects.exists()


def test_size_limit_is_a_setting(manager_client, coop_a, settings):
    settings.WANGNONG_MAX_IMPORT_MB = 0.5
    response = upload(manager_client, csv_bytes(*MIXED * 2000))
    assert "一次最多上传 0.5 MB。" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", "只支持 .xlsx 和 .csv 文件。"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "旧版 Excel（.xls）"),
        (b"PK\x03\x04broken", "broken.xlsx", "XLSX 文件已损坏"),
        (b"", "empty.csv", "上传的文件是空的，请重新选择。"),
        (HEADER.encode() + b"\n", "only-header.csv", "表头下面没有商品"),
    ],
)
def test_files_that_cannot_be_imported(manager_client, coop_a, data, name, message):
    response = upload(manager_client, data, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_duplicate_sku_in_a_file(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks
):
    data = csv_bytes(MIXED[0], MIXED[2], "LB-001,又一个萝卜,根茎类,箱,10,1,,,")
    job = run_upload(manager_client, django_capture_on_commit_callbacks, data)
    job.refresh_from_db()
    assert errors_by_row(job) == {4: "商品编码“LB-001”与第 2 行重复，这一行没有导入。"}
    assert coop_stock(coop_a).get(partner_sku="LB-001").product.title == "沙窝萝卜 5斤装"


def test_variants_by_parent_sku_in_any_order(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks
):
    header = "商品编码,商品名称,分类,单位,价格（元）,库存,净重（克）,父商品编码,规格名称"
    data = csv_bytes(
        "SW-10J,沙窝萝卜,根茎类,箱,69.90,140,5000,SW,10斤装",
        "SW-5J,沙窝萝卜,根茎类,箱,39.90,260,2500,SW,5斤装",
        header=header,
    )
    job = run_upload(manager_client, django_capture_on_commit_callbacks, data)
    job.refresh_from_db()
    assert job.error_rows == [] and job.created_count == 2
    parent = Product.objects.get(structure=Product.PARENT)
    assert sorted(parent.children.values_list("title", flat=True)) == ["10斤装", "5斤装"]


def make_catalogue(coop):
    """A standalone product and a product with two variants, through the
    listing service (as the portal's forms would)."""
    upsert_listing_by_sku(
        coop,
        ListingData(
            sku="GIFT-8",
            title="沙窝萝卜精品礼盒 =8根装",  # would be a formula if written carelessly
            category="根茎类",
            unit="盒",
            price=Decimal("88.00"),
            stock=60,
            net_weight_g=4000,
            storage_class="常温",
            description="精选八根。\n\n独立网套、礼盒包装。",
        ),
    )
    for sku, title, price, stock in (
        ("SW-5J", "5斤装", "39.90", 260),
        ("SW-10J", "10斤装", "69.90", 140),
    ):
        upsert_listing_by_sku(
            coop,
            ListingData(
                sku=sku,
                title="沙窝萝卜 西青辛口产地直发",
                category="蔬菜 > 根茎类",
                unit="箱",
                price=Decimal(price),
                stock=stock,
                storage_class="冷藏",
                parent_sku="SW",
                variant_title=title,
            ),
        )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_reimport_changes_nothing(
    manager_client, coop_a, coop_b, categories, django_capture_on_commit_callbacks, fmt
):
    make_catalogue(coop_a)
    upsert_listing_by_sku(
        coop_b,
        ListingData(
            sku="HX-1", title="七里海河蟹", category="根茎类", unit="斤", price=Decimal(1), stock=1
        ),
    )
    response = manager_client.get(reverse("coop:export"), {"format": fmt})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    exported = response.content
    sheet = imports.read_sheet(exported, f"export.{fmt}")
    assert sorted(r.cells["sku"] for r in sheet.rows) == [
        "GIFT-8",
        "SW-10J",
        "SW-5J",
    ]  # not coop B's
    before = {r.pk: (r.price, r.num_in_stock, r.product.date_updated) for r in coop_stock(coop_a)}

    job = run_upload(manager_client, django_capture_on_commit_callbacks, exported, f"export.{fmt}")
    job.refresh_from_db()
    assert job.error_rows == []
    assert (job.created_count, job.updated_count) == (0, 0)
    assert "未变化 3" in job.message
    after = {r.pk: (r.price, r.num_in_stock, r.product.date_updated) for r in coop_stock(coop_a)}
    assert after == before
    again = manager_client.get(reverse("coop:export"), {"format": "csv"}).content
    first_csv = imports.write_csv(imports.export_rows(coop_a))
    assert again == first_csv


def test_export_keeps_text_as_text(manager_client, coop_a, categories):
    make_catalogue(coop_a)
    xlsx = manager_client.get(reverse("coop:export"), {"format": "xlsx"}).content
    sheet = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "沙窝萝卜精品礼盒 =8根装" in titles
    csv_text = manager_client.get(reverse("coop:export"), {"format": "csv"}).content
    assert csv_text.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    assert "商品编码,商品名称,分类,单位,价格（元）,库存" in csv_text.decode("utf-8-sig")


def test_partial_columns_keep_the_other_fields(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks
):
    make_catalogue(coop_a)
    data = csv_bytes(
        "GIFT-8,沙窝萝卜精品礼盒 =8根装,根茎类,盒,98.00,30",
        header="商品编码,商品名称,分类,单位,价格（元）,库存",
    )
    job = run_upload(manager_client, django_capture_on_commit_callbacks, data)
    job.refresh_from_db()
    assert job.error_rows == [] and job.updated_count == 1
    record = coop_stock(coop_a).get(partner_sku="GIFT-8")
    assert (record.price, record.num_in_stock) == (Decimal("98.00"), 30)
    assert record.product.net_weight_g == 4000  # not in the file: kept
    assert "独立网套" in record.product.description


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_download(manager_client, coop_a, fmt):
    response = manager_client.get(reverse("coop:import-template"), {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"] == imports.CONTENT_TYPES[fmt]
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = imports.read_sheet(response.content, f"t.{fmt}")
    assert sheet.has_all_columns
    assert len(sheet.rows) == 1 and sheet.rows[0].cells["sku"] == "LB-001"
    data = imports.to_listing(sheet.rows[0])
    assert data.price == Decimal("39.90") and data.unit == "box"


def rows_job(coop, user, data: bytes, name: str = "p.csv") -> ImportJob:
    job = ImportJob(cooperative=coop, uploaded_by=user, original_name=name)
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    return job


def test_progress_advances_while_rows_are_imported(coop_a, categories):
    lines = [f"R-{n:03d},萝卜 {n},根茎类,斤,{n}.50,{n},,常温,是" for n in range(1, 41)]
    job = rows_job(coop_a, manager_of(coop_a), csv_bytes(*lines))
    seen = []
    real = import_tasks.upsert_listing_by_sku

    def watching(cooperative, data):
        seen.append(ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk))
        return real(cooperative, data)

    with mock.patch.object(import_tasks, "upsert_listing_by_sku", watching):
        assert import_tasks.run_import.apply(args=[job.pk]).get() == ImportJob.Status.DONE
    job.refresh_from_db()
    assert job.processed_rows == job.total_rows == 40
    assert len(set(seen)) >= 10  # committed in small batches, not all at the end
    assert seen == sorted(seen)
    assert job.started_at and job.finished_at and job.started_at <= job.finished_at


def test_crash_mid_import_resumes_without_duplicates(coop_a, categories):
    lines = [f"R-{n:03d},萝卜 {n},根茎类,斤,{n}.50,{n},,常温,是" for n in range(1, 41)]
    job = rows_job(coop_a, manager_of(coop_a), csv_bytes(*lines))
    real = import_tasks.upsert_listing_by_sku
    calls = {"n": 0}

    def flaky(cooperative, data):
        calls["n"] += 1
        if calls["n"] == 25:
            raise OperationalError("server closed the connection unexpectedly")
        return real(cooperative, data)

    with mock.patch.object(import_tasks, "upsert_listing_by_sku", flaky):
        with pytest.raises(OperationalError):
            import_tasks._coordinate(import_tasks._claim(job.pk))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert 0 < job.processed_rows < 25  # the batch in flight was rolled back whole
    assert coop_stock(coop_a).count() == job.processed_rows

    # The broker delivers the task again (acks_late): it resumes.
    assert import_tasks.run_import.apply(args=[job.pk]).get() == ImportJob.Status.DONE
    job.refresh_from_db()
    assert (job.processed_rows, job.created_count, job.error_count) == (40, 40, 0)
    assert coop_stock(coop_a).count() == 40

    # A finished job is never run again.
    assert import_tasks.run_import.apply(args=[job.pk]).get() == "skipped"


def test_broken_file_in_the_worker_fails_the_job(coop_a):
    job = rows_job(coop_a, manager_of(coop_a), b"\x00\x01\x02", "x.csv")
    assert import_tasks.run_import.apply(args=[job.pk]).get() == ImportJob.Status.FAILED
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "只支持" in job.message


def test_status_json_and_running_page(manager_client, coop_a):
    job = rows_job(coop_a, manager_of(coop_a), csv_bytes(MIXED[0]))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, total_rows=10, processed_rows=4
    )
    status = manager_client.get(reverse("coop:import-status", kwargs={"pk": job.pk})).json()
    assert status["processed_rows"] == 4 and status["percent"] == 40
    assert status["finished"] is False and status["status_label"] == "导入中"
    html = manager_client.get(reverse("coop:import-detail", kwargs={"pk": job.pk})).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'value="4"' in html and 'max="10"' in html


def test_another_cooperatives_job_is_404(client, coop_a, coop_b):
    job = rows_job(coop_b, manager_of(coop_b), csv_bytes(MIXED[0]))
    client.force_login(manager_of(coop_a))
    for name in ("coop:import-detail", "coop:import-status"):
        assert client.get(reverse(name, kwargs={"pk": job.pk})).status_code == 404
    page = client.get(reverse("coop:imports")).content.decode()
    assert job.original_name not in page


def test_portal_pages_need_a_membership(client, coop_a, django_user_model):
    url = reverse("coop:imports")
    assert client.get(url).status_code == 302  # to the login page
    outsider = django_user_model.objects.create_user("outsider", "o@example.com", "pw-123456")
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("coop:export")).status_code == 404


def test_member_sees_the_upload_form(member_client, coop_a):
    html = member_client.get(reverse("coop:imports")).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert reverse("coop:import-template") in html and reverse("coop:export") in html


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"price": "-3"}, "价格必须大于 0。"),
        ({"price": "3.333"}, "价格最多保留两位小数"),
        ({"price": "三元"}, "价格“三元”不是数字。"),
        ({"stock": "1.5"}, "库存必须是整数。"),
        ({"harvest_date": "去年秋天"}, "采收日期“去年秋天”不是有效的日期"),
        ({"storage_class": "冰镇"}, "储运温层“冰镇”不认识，请填写：常温、冷藏、冷冻。"),
        ({"certifications": "绿色食品、祖传"}, "认证“祖传”不认识"),
        ({"is_public": "也许"}, "上架只能填“是”或“否”。"),
    ],
)
def test_cell_checks(cells, message):
    row = imports.SheetRow(9, {"sku": "A-1", "title": "萝卜", **cells})
    with pytest.raises(imports.RowError) as exc:
        imports.to_listing(row)
    assert any(message in m for m in exc.value.messages)
    assert message in imports.row_message(9, exc.value.messages[0]) or exc.value.messages


def test_cell_conversions():
    row = imports.SheetRow(
        2,
        {
            "sku": 1001.0,  # a number in Excel
            "price": "¥１２.５",
            "stock": 7.0,
            "harvest_date": "2025年11月8日",
            "certifications": "绿色食品，地理标志",
            "presale": "是",
            "presale_ships_on": "2099/6/20",
            "unit": "千克",
        },
    )
    data = imports.to_listing(row)
    assert data.sku == "1001" and data.price == Decimal("12.50") and data.stock == 7
    assert str(data.harvest_date) == "2025-11-08" and str(data.presale_ships_on) == "2099-06-20"
    assert data.certifications == ["green_food", "geo_indication"] and data.presale is True
    assert data.unit == "kg"


def test_price_and_stock_only_changes_take_the_short_path(
    manager_client, coop_a, categories, django_capture_on_commit_callbacks
):
    make_catalogue(coop_a)
    exported = imports.export_rows(coop_a)
    for row in exported:
        row["price"] += 1
        row["stock"] += 5
    record = coop_stock(coop_a).get(partner_sku="SW-5J")
    record.num_allocated = 300  # more than the 265 the file says
    record.save()
    with mock.patch.object(
        import_tasks, "upsert_listing_by_sku", side_effect=AssertionError("full upsert")
    ):
        job = run_upload(
            manager_client, django_capture_on_commit_callbacks, imports.write_csv(exported)
        )
    job.refresh_from_db()
    assert job.updated_count == 2
    assert list(errors_by_row(job).values()) == [
        "已有 300 件被未发货的订单占用，库存不能少于 300。"
    ]
    gift = coop_stock(coop_a).get(partner_sku="GIFT-8")
    assert (gift.price, gift.num_in_stock) == (Decimal("89.00"), 65)


def test_lanes_keep_a_products_variants_together():
    def row(number, sku, parent=""):
        return imports.SheetRow(number, {"sku": sku, "parent_sku": parent})

    rows = [
        row(2, "A"),
        row(3, "V1", "P"),
        row(4, "B"),
        row(5, "V2", "P"),
        row(6, "P"),  # a row for the parent SKU itself joins its variants
        row(7, "", ""),
    ]
    units = import_tasks._units(rows)
    assert [[r.number for r in unit] for unit in units] == [[2], [6, 3, 5], [4], [7]]


def test_two_lanes_import_everything_once(coop_a, categories):
    lines = []
    for n in range(1, 31):
        lines.append(f"S-{n:03d},萝卜 {n},根茎类,斤,{n}.50,{n},,常温,是,,")
        lines.append(f"V-{n:03d}-5,礼盒 {n},根茎类,箱,{n}.90,{n},,常温,是,P-{n:03d},5斤装")
        lines.append(f"V-{n:03d}-10,礼盒 {n},根茎类,箱,{n + 1}.90,{n},,常温,是,P-{n:03d},10斤装")
    header = HEADER + ",父商品编码,规格名称"
    job = rows_job(coop_a, manager_of(coop_a), csv_bytes(*lines, header=header))
    job = import_tasks._claim(job.pk)
    assert import_tasks._coordinate(job, lanes=2) == ImportJob.Status.DONE
    job.refresh_from_db()
    lanes = job.lane_progress
    assert lanes["lanes"] == 2 and lanes["0"] + lanes["1"] == 90
    assert min(lanes["0"], lanes["1"]) >= 40  # shared out evenly
    assert (job.processed_rows, job.created_count, job.error_count) == (90, 90, 0)
    assert coop_stock(coop_a).count() == 90
    assert Product.objects.filter(structure=Product.PARENT).count() == 30
    # Both lanes' tasks delivered again: nothing to do.
    assert import_tasks.run_import_lane.apply(args=[job.pk, 1]).get() == "skipped"


def test_small_files_and_in_process_runs_use_one_lane(settings):
    assert import_tasks.lane_count(5000) == 1  # no broker in tests: eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert import_tasks.lane_count(5000) == 2
    assert import_tasks.lane_count(150) == 1
    settings.WANGNONG_IMPORT_LANES = 3
    assert import_tasks.lane_count(5000) == 3


def test_text_that_looks_like_a_formula_stays_text():
    row = {
        **imports.EXAMPLE_ROW,
        "sku": "=A1",
        "title": '=HYPERLINK("http://x")',
        "description": "-5 度保存",
    }
    cell = load_workbook(io.BytesIO(imports.write_xlsx([row]))).worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value == row["title"]
    csv_data = imports.write_csv([row])
    assert b"'=HYPERLINK" in csv_data
    for data, name in ((csv_data, "x.csv"), (imports.write_xlsx([row]), "x.xlsx")):
        cells = imports.read_sheet(data, name).rows[0].cells
        assert imports.cell_text(cells["sku"]) == "=A1"
        assert imports.cell_text(cells["title"]) == row["title"]
        assert imports.cell_text(cells["description"]) == "-5 度保存"


def test_upload_needs_the_csrf_token(coop_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager_of(coop_a))
    response = upload(client, csv_bytes(MIXED[0]))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()
