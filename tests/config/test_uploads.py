"""config/uploads.py, the one upload validator, and every path that stores an
upload: cooperative photos, licences, certificates and inspection reports,
portal product photos, complaint photos, Oscar's dashboard product and
category images, Wagtail images (single and multiple upload) and documents
(videos included), product imports, and how media is served.

Each path gets the same hostile set: a JPEG/HTML polyglot (a real JPEG with
HTML in a COM segment, in EXIF and appended after the end), an SVG renamed
.png, HTML renamed .pdf/.png, a pixel bomb, an oversized file, and a good
file whose GPS EXIF must be gone once stored.

PDF decision: PDFs that carry JavaScript (``/JavaScript``, ``/JS``, also
written with ``#xx`` name escapes), ``/Launch``, ``/RichMedia`` or ``/XFA``
are refused; a plain ``/OpenAction`` (often just "open at page 1, fit
width") is allowed, since without JavaScript or Launch it cannot run code.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import reverse
from oscar.core.loading import get_class, get_model
from PIL import ExifTags, Image

from config import uploads
from cooperatives import listings
from cooperatives.forms import CertificationForm, PhotoForm, RegistrationForm
from cooperatives.portal.batches import InspectionForm
from cooperatives.portal.imports import UploadForm
from tests import factories
from tests.cooperatives import imagefiles
from tests.cooperatives.conftest import make_cooperative

SCRIPT = b"<html><script>alert(1)</script></html>"
GPS = {1: "N", 2: (39.0, 5.0, 0.0), 3: "E", 4: (117.0, 12.0, 0.0)}

ProductImage = get_model("catalogue", "ProductImage")
Category = get_model("catalogue", "Category")


# --- Files ------------------------------------------------------------------------------


def gps_jpeg_bytes(size=(64, 48)) -> bytes:
    """A JPEG with a GPS position and camera make in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def polyglot_bytes() -> bytes:
    """A real JPEG that is also an HTML page: the script in a COM segment, in
    the EXIF (ImageDescription) and appended after the image's end."""
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = SCRIPT.decode()
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (29, 94, 54)).save(
        out, "JPEG", exif=exif.tobytes(), comment=SCRIPT, quality=90
    )
    data = out.getvalue() + SCRIPT
    assert data.count(b"<script>") == 3
    with Image.open(io.BytesIO(data)) as im:  # and Pillow reads it as a JPEG
        assert im.format == "JPEG"
    return data


def polyglot(name="photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, polyglot_bytes(), "image/jpeg")


def gps_jpeg(name="photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, gps_jpeg_bytes(), "image/jpeg")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def svg_png(name="logo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, SVG, "image/png")


def html_as(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xef\xbb\xbf  \n<!DOCTYPE html>" + SCRIPT, "application/pdf")


def oversized_png(name="big.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, imagefiles.image_bytes("PNG") + b"\0" * (1024 * 1024), "image/png"
    )


PDF = imagefiles.PDF


def pdf_with(extra: bytes) -> bytes:
    return PDF.replace(b"/Type/Catalog", b"/Type/Catalog" + extra)


def ooxml_bytes(kind: str, macro: bool = False) -> bytes:
    main = {
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    }[kind]
    if macro:
        main = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/content-types"><Override PartName="/main.xml" ContentType="{main}"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("main.xml", "<x/>")
    return out.getvalue()


MP4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\0" * 64
WEBM = b"\x1a\x45\xdf\xa3" + b"\0" * 64


def stored_bytes(field_file) -> bytes:
    field_file.open("rb")
    try:
        return field_file.read()
    finally:
        field_file.close()


def assert_clean_image(data: bytes) -> None:
    """No script anywhere, no EXIF/comment, and still a decodable image."""
    assert b"<script" not in data.lower() and b"<html" not in data.lower()
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert not im.getexif()
        assert ExifTags.IFD.GPSInfo not in im.getexif()
        assert "comment" not in im.info and "exif" not in im.info


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def coop_product(carriers):
    """A verified cooperative and one of its products."""
    coop = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    product = factories.product("沙窝萝卜", partner_obj=coop.partner)
    return coop, product


# --- validate_image ---------------------------------------------------------------------


def test_the_polyglot_comes_out_as_a_clean_jpeg():
    clean = uploads.validate_image(polyglot())
    assert clean.name == "photo.jpg" and clean.content_type == "image/jpeg"
    assert_clean_image(clean.read())


def test_gps_exif_is_gone_and_the_name_follows_the_real_format():
    clean = uploads.validate_image(SimpleUploadedFile("a.jpg", imagefiles.image_bytes("PNG")))
    assert clean.name == "a.png" and clean.image_format == "PNG"
    clean = uploads.validate_image(gps_jpeg())
    assert_clean_image(clean.read())
    assert uploads.validate_image(clean) is clean  # not encoded twice


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (svg_png, "文件不是图片"),
        (lambda: html_as("x.png"), "文件不是图片"),
        (imagefiles.bomb, "图片尺寸过大"),
        (oversized_png, "文件太大"),
        (lambda: SimpleUploadedFile("e.png", b""), "空"),
        # a JPEG cut off half way passes the header check but not decoding
        (lambda: SimpleUploadedFile("t.jpg", gps_jpeg_bytes((400, 300))[:600]), "文件不是图片"),
    ],
)
def test_refusals(settings, make, message):
    settings.WANGNONG_MAX_UPLOAD_MB = 1
    with pytest.raises(ValidationError) as exc:
        uploads.validate_image(make())
    assert len(exc.value.messages) == 1 and message in exc.value.messages[0]


def test_transparency_and_webp_survive():
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (10, 20, 30, 0)).save(out, "PNG")
    clean = uploads.validate_image(SimpleUploadedFile("t.png", out.getvalue()))
    with Image.open(clean) as im:
        assert im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0
    webp = uploads.validate_image(SimpleUploadedFile("w", imagefiles.image_bytes("WEBP")))
    assert webp.name == "w.webp"


@pytest.mark.skipif(not uploads.HEIF_READABLE, reason="pillow-heif not installed")
def test_heic_is_stored_as_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, "HEIF")
    clean = uploads.validate_image(SimpleUploadedFile("IMG_1.heic", out.getvalue()))
    assert clean.name == "IMG_1.jpg" and clean.image_format == "JPEG"


# --- validate_document ------------------------------------------------------------------


def doc_error(name: str, data: bytes, kinds=uploads.DOCUMENT_KINDS) -> str:
    with pytest.raises(ValidationError) as exc:
        uploads.validate_document(SimpleUploadedFile(name, data), kinds)
    assert len(exc.value.messages) == 1
    return exc.value.messages[0]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.pdf", PDF),
        ("a.pdf", pdf_with(b"/OpenAction[3 0 R/Fit]")),
        ("a.xlsx", ooxml_bytes("xlsx")),
        ("a.docx", ooxml_bytes("docx")),
        ("a.csv", "名称,价格\n沙窝萝卜,20\n".encode()),
        ("a.csv", "名称,价格\n沙窝萝卜,20\n".encode("gb18030")),
        ("a.txt", b"\xef\xbb\xbfplain text, 1 < 2"),
        ("a.mp4", MP4),
        ("a.webm", WEBM),
    ],
)
def test_good_documents_pass(name, data):
    assert uploads.validate_document(SimpleUploadedFile(name, data), uploads.DOCUMENT_KINDS)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.pdf", b"<!doctype html>" + SCRIPT, "网页或脚本"),
        ("a.pdf", b"\xef\xbb\xbf\r\n  <HTML><body>hi", "网页或脚本"),
        ("a.pdf", SVG, "网页或脚本"),
        ("a.txt", "<html>".encode("utf-16"), "网页或脚本"),
        ("a.csv", b"name\n<script>alert(1)</script>\n", "网页或脚本"),
        ("a.pdf", imagefiles.image_bytes("PNG"), "不符"),
        ("a.pdf", pdf_with(b"/OpenAction<</S/JavaScript/JS(alert(1))>>"), "JavaScript"),
        ("a.pdf", pdf_with(b"/AA<</O<</S/J#61vaScript/J#53 (app.alert(1))>>>>"), "JavaScript"),
        ("a.pdf", pdf_with(b"/OpenAction<</S/Launch/F(calc.exe)>>"), "JavaScript"),
        ("a.xlsx", ooxml_bytes("docx"), "不符"),
        ("a.xlsx", ooxml_bytes("xlsx", macro=True), "宏"),
        ("a.docx", PDF, "不符"),
        ("a.csv", b"a,b\n\xff\xfe\xfa\x00", "不符"),
        ("a.txt", bytes([0x81, 0x20, 0xFF]), "编码"),
        ("a.mp4", PDF, "不符"),
        ("a.webm", MP4, "不符"),
        ("a.html", b"hello", "不支持这种文件"),
        ("a.svg", SVG, "不支持这种文件"),
        ("a.pdf", b"", "空"),
    ],
)
def test_bad_documents_are_refused(name, data, message):
    assert message in doc_error(name, data)


def test_kinds_and_size_limits(settings):
    assert "PDF" in doc_error("a.csv", b"a,b\n", kinds=("pdf",))
    settings.WANGNONG_MAX_DOCUMENT_MB = 0.001
    assert "文件太大" in doc_error("a.pdf", PDF + b"%" * 2048)
    settings.WANGNONG_MAX_VIDEO_MB = 0.0001
    assert "文件太大" in doc_error("a.mp4", MP4 + b"\0" * 2048)


def test_zip_bombs_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", ooxml_bytes("xlsx"))
        archive.writestr("xl/huge.xml", b"\0" * (uploads.MAX_UNPACK_RATIO * 200_000))
    assert "不符" in doc_error("a.xlsx", out.getvalue())


# --- Every path -------------------------------------------------------------------------


def test_every_file_field_is_accounted_for():
    """Each FileField/ImageField of our apps and of the Oscar and Wagtail
    models people upload to, with the path that validates it. A new upload
    field fails this test until its path is wired and listed here."""
    covered = {
        "cooperatives.Cooperative.business_licence": "RegistrationForm (ImageUploadField)",
        "cooperatives.CooperativePhoto.image": "PhotoForm (ImageUploadField)",
        "cooperatives.Certification.document": "CertificationForm (ImageUploadField)",
        "cooperatives.ImportJob.file": "portal UploadForm (markup, OOXML check)",
        "cooperatives.BatchInspection.report": "InspectionForm (ImageUploadField)",
        "cooperatives.ComplaintPhoto.image": "complaints.open_complaint (validate_image)",
        "catalogue.ProductImage.original": "listings.add_photos, dashboard ProductImageForm",
        "catalogue.Category.image": "dashboard CategoryForm",
        "wagtailimages.Image.file": "cms.upload_forms.ImageForm",
        "wagtaildocs.Document.file": "cms.upload_forms.DocumentForm",
    }
    # Written by us, never uploaded as such (renditions, staff-only Oscar
    # screens that keep no file, Wagtail's own temporary upload rows).
    generated = {
        "wagtailimages.Rendition.file",
        "wagtailadmin.UploadedFile.file",  # holds only files our forms passed
        "wagtailusers.UserProfile.avatar",  # staff avatars (Wagtail resizes them)
        "offer.RangeProductFileUpload.filepath",  # a path string, not a file field
    }
    ours = ("cooperatives", "stations", "logistics", "cms", "shop", "divisions", "config")
    found = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.FileField):
                continue
            key = f"{model._meta.app_label}.{model.__name__}.{field.name}"
            if model.__module__.startswith(ours) or key in covered:
                found.add(key)
    unknown = found - set(covered) - generated
    assert not unknown, f"upload fields without a validated path: {sorted(unknown)}"
    assert set(covered) <= found


@pytest.mark.parametrize(
    ("form_class", "field"),
    [
        (RegistrationForm, "business_licence"),
        (PhotoForm, "image"),
        (CertificationForm, "document"),
        (InspectionForm, "report"),
    ],
)
def test_cooperative_forms_clean_or_refuse(form_class, field):
    image_field = form_class.base_fields[field]
    assert isinstance(image_field, uploads.ImageUploadField)
    assert_clean_image(image_field.clean(polyglot()).read())
    assert_clean_image(image_field.clean(gps_jpeg()).read())
    for bad in (svg_png(), html_as("x.png"), imagefiles.bomb()):
        with pytest.raises(ValidationError):
            image_field.clean(bad)


@pytest.mark.django_db
def test_portal_product_photos_are_stored_clean(coop_product):
    cooperative, product = coop_product
    images = listings.add_photos(cooperative, product, [polyglot(), gps_jpeg("b.jpg")])
    for image in images:
        image.refresh_from_db()
        assert_clean_image(stored_bytes(image.original))
    with pytest.raises(ValidationError) as exc:
        listings.add_photos(cooperative, product, [svg_png()])
    assert "logo.png：文件不是图片" in exc.value.messages[0]


@pytest.mark.django_db
def test_dashboard_product_image_form(coop_product):
    _coop, product = coop_product
    form_class = get_class("dashboard.catalogue.forms", "ProductImageForm")

    def form(n: int, upload):
        prefix = f"images-{n}"
        data = {f"{prefix}-product": product.pk, f"{prefix}-display_order": n}
        return form_class(data=data, files={f"{prefix}-original": upload}, prefix=prefix)

    good = form(0, polyglot())
    assert good.is_valid(), good.errors
    image = good.save()
    assert_clean_image(stored_bytes(image.original))
    for bad in (svg_png(), imagefiles.bomb(), html_as("x.jpg")):
        refused = form(1, bad)  # Django's ImageField or ours refuses it
        assert not refused.is_valid()
        assert len(refused.errors["original"]) == 1 and "图片" in refused.errors["original"][0]
    assert product.images.count() == 1


@pytest.mark.django_db
def test_dashboard_category_image_form():
    form_class = get_class("dashboard.catalogue.forms", "CategoryForm")
    data = {"name": "蔬菜", "is_public": "on", "treebeard_position": "first-child"}
    form = form_class(data={**data}, files={"image": svg_png()})
    assert not form.is_valid() and "文件不是图片" in form.errors["image"][0]
    assert form.data["name"] == "蔬菜"
    form = form_class(data=data, files={"image": polyglot()})
    assert form.is_valid(), form.errors
    category = form.save()
    assert_clean_image(stored_bytes(category.image))


@pytest.mark.django_db
def test_import_upload_refuses_html_and_macros():
    form = UploadForm(files={"file": SimpleUploadedFile("p.csv", b"\xef\xbb\xbf" + SCRIPT)})
    assert not form.is_valid() and "网页或脚本" in form.errors["file"][0]
    form = UploadForm(files={"file": SimpleUploadedFile("p.xlsx", ooxml_bytes("xlsx", True))})
    assert not form.is_valid()


# --- Wagtail ----------------------------------------------------------------------------


@pytest.fixture
def editor(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "e@example.com", "pw")
    client.force_login(user)
    return client


def root_collection_id() -> int:
    from wagtail.models import Collection  # noqa: PLC0415

    return Collection.get_first_root_node().pk


@pytest.mark.django_db
def test_wagtail_image_upload(editor, settings):
    from wagtail.images import get_image_model  # noqa: PLC0415

    settings.WANGNONG_MAX_UPLOAD_MB = 1

    Img = get_image_model()
    url = reverse("wagtailimages:add")
    for bad, message in (
        (svg_png(), "文件不是图片"),
        (html_as("x.png"), "文件不是图片"),
        (imagefiles.bomb(), "图片尺寸过大"),
        (oversized_png(), "文件太大"),
        (SimpleUploadedFile("t.jpg", gps_jpeg_bytes((400, 300))[:600]), "文件不是图片"),
    ):
        response = editor.post(
            url, {"title": "坏图", "file": bad, "collection": root_collection_id()}
        )
        assert response.status_code == 200, bad.name  # the form again, with the error
        errors = response.context["form"].errors["file"]
        assert len(errors) == 1 and message in errors[0], errors
        assert 'value="坏图"' in response.content.decode()  # the title kept
    assert not Img.objects.exists()
    response = editor.post(
        url, {"title": "合作社", "file": polyglot(), "collection": root_collection_id()}
    )
    assert response.status_code == 302
    image = Img.objects.get()
    assert image.file.name.endswith(".jpg")
    assert_clean_image(stored_bytes(image.file))
    assert image.file_size == image.file.size and image.width == 64


@pytest.mark.django_db
def test_wagtail_multiple_image_upload(editor):
    from wagtail.images import get_image_model  # noqa: PLC0415

    url = reverse("wagtailimages:add_multiple")
    response = editor.post(url, {"files[]": svg_png(), "collection": root_collection_id()})
    assert response.json()["success"] is False
    assert not get_image_model().objects.exists()
    response = editor.post(url, {"files[]": polyglot(), "collection": root_collection_id()})
    assert response.json()["success"] is True
    assert_clean_image(stored_bytes(get_image_model().objects.get().file))


@pytest.mark.django_db
def test_wagtail_documents_and_videos(editor, client):
    from wagtail.documents import get_document_model  # noqa: PLC0415

    Doc = get_document_model()
    url = reverse("wagtaildocs:add")

    def post(name: str, data: bytes):
        return editor.post(
            url,
            {
                "title": "材料",
                "file": SimpleUploadedFile(name, data),
                "collection": root_collection_id(),
            },
        )

    for name, data, message in (
        ("x.pdf", b"<!DOCTYPE html>" + SCRIPT, "网页或脚本"),
        ("x.pdf", pdf_with(b"/OpenAction<</S/JavaScript/JS(alert(1))>>"), "JavaScript"),
        ("x.txt", SVG, "网页或脚本"),
        ("x.mp4", PDF, "不符"),
        ("x.docx", ooxml_bytes("xlsx"), "不符"),
    ):
        response = post(name, data)
        assert response.status_code == 200
        assert message in response.content.decode(), name
    assert not Doc.objects.exists()
    assert post("x.pdf", PDF).status_code == 302
    assert post("x.mp4", MP4).status_code == 302
    assert post("x.docx", ooxml_bytes("docx")).status_code == 302
    response = editor.post(
        reverse("wagtaildocs:add_multiple"),
        {"files[]": SimpleUploadedFile("y.pdf", b"<html>" + SCRIPT)},
    )
    assert response.json()["success"] is False
    assert Doc.objects.count() == 3

    # Served with nosniff; an Office file as an attachment, never inline.
    docx = Doc.objects.get(file__endswith=".docx")
    response = client.get(reverse("wagtaildocs_serve", args=(docx.id, docx.filename)))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")


def test_responses_carry_nosniff(settings):
    """Every Django response (the media view with SERVE_MEDIA and DEBUG,
    Wagtail's document view above) gets nosniff from SecurityMiddleware.
    In production media comes from the web server or S3 (docs/deployment)."""
    assert settings.SECURE_CONTENT_TYPE_NOSNIFF is True
    assert "django.middleware.security.SecurityMiddleware" in settings.MIDDLEWARE
