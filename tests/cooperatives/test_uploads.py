"""The one image check every cooperative upload goes through
(cooperatives.uploads): content sniffed with Pillow, decompression bombs
refused from the header, a size limit, and nothing saved when it fails."""

import io
import struct

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse
from oscar.core.loading import get_model
from PIL import Image

from cooperatives.models import Cooperative, Membership
from cooperatives.uploads import (
    MAX_PIXELS,
    ImageUploadField,
    ImageUploadValidator,
    validate_image_upload,
)
from tests.cooperatives import imagefiles
from tests.cooperatives.test_registration import application

Partner = get_model("partner", "Partner")


def message(file) -> str:
    with pytest.raises(ValidationError) as info:
        validate_image_upload(file)
    return info.value.messages[0]


@pytest.mark.parametrize("make", [imagefiles.png, imagefiles.jpeg])
def test_real_small_images_pass(make):
    upload = make()
    assert validate_image_upload(upload) is None
    assert upload.tell() == 0  # left at the start for saving


def test_webp_passes():
    upload = SimpleUploadedFile("a.webp", imagefiles.image_bytes("WEBP"), "image/webp")
    validate_image_upload(upload)


def test_a_pdf_renamed_jpg_is_not_an_image():
    assert message(imagefiles.renamed_pdf()).startswith("文件不是图片")


@pytest.mark.parametrize(
    "content",
    [b"GIF89a" + b"\0" * 20, b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"PK\x03\x04zip", b"\0"],
)
def test_other_non_images_and_broken_files_fail(content):
    text = message(SimpleUploadedFile("x.png", content))
    assert text.startswith("文件不是图片") or "不支持" in text


def test_a_gif_is_an_image_but_not_a_format_we_take():
    upload = SimpleUploadedFile("x.gif", imagefiles.image_bytes("GIF"), "image/gif")
    assert "不支持 GIF 格式" in message(upload)


def test_a_20000_pixel_square_png_is_refused_without_decoding():
    data = imagefiles.bomb_bytes()
    assert len(data) < 100  # a tiny file …
    assert struct.unpack(">II", data[16:24]) == (20_000, 20_000)  # … claiming 400 MP
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))  # Pillow agrees, from the header alone
    text = message(imagefiles.bomb())
    assert "图片尺寸过大" in text


def test_just_over_our_pixel_limit_is_refused_below_pillows_own():
    side = int(MAX_PIXELS**0.5) + 10  # about 41 MP: Pillow alone would not object
    upload = SimpleUploadedFile("big.png", imagefiles.bomb_bytes(side, side), "image/png")
    assert f"{side}×{side}" in message(upload)


def test_files_over_the_size_limit_are_refused(settings):
    settings.WANGNONG_MAX_UPLOAD_MB = 1
    data = imagefiles.image_bytes("PNG", (8, 8)) + b"\0" * (1024 * 1024)
    assert message(SimpleUploadedFile("big.png", data)) == (
        "文件太大（1.0 MB），请上传不超过 1 MB 的图片。"
    )


def test_a_50_mb_upload_is_refused_before_pillow_reads_it(tmp_path):
    upload = TemporaryUploadedFile("huge.jpg", "image/jpeg", 50 * 1024 * 1024, None)
    upload.file.truncate(50 * 1024 * 1024)  # sparse: no 50 MB written
    try:
        assert message(upload) == "文件太大（50.0 MB），请上传不超过 10 MB 的图片。"
    finally:
        upload.close()


def test_empty_file():
    assert "空" in message(SimpleUploadedFile("e.png", b""))


def test_validator_class_for_model_and_form_fields():
    validator = ImageUploadValidator()
    validator(imagefiles.png())
    with pytest.raises(ValidationError):
        validator(imagefiles.renamed_pdf())
    assert validator == ImageUploadValidator()


class PhotoForm(forms.Form):
    photo = ImageUploadField(label="照片")


def test_form_field_takes_the_real_format_as_extension():
    upload = SimpleUploadedFile("photo.jpg", imagefiles.image_bytes("PNG"), "image/jpeg")
    form = PhotoForm(files={"photo": upload})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["photo"].name == "photo.png"
    assert form.cleaned_data["photo"].content_type == "image/png"
    assert 'accept="image/jpeg,image/png,image/webp"' in str(form["photo"])


def test_form_field_errors():
    form = PhotoForm(files={"photo": imagefiles.renamed_pdf()})
    assert not form.is_valid()
    assert form.errors["photo"][0].startswith("文件不是图片")
    form = PhotoForm(files={"photo": imagefiles.bomb()})
    assert not form.is_valid() and "图片尺寸过大" in form.errors["photo"][0]


# --- Nothing half-saved ----------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def rows() -> tuple[int, int, int]:
    return Partner.objects.count(), Cooperative.objects.count(), Membership.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("licence", "expected"),
    [
        (imagefiles.renamed_pdf, "文件不是图片"),
        (imagefiles.bomb, "图片尺寸过大"),
    ],
)
def test_registration_with_a_bad_licence_writes_nothing(
    client, django_user_model, licence, expected, tmp_path
):
    user = django_user_model.objects.create_user("applicant", "a@example.com", "pw-apply-123")
    client.force_login(user)
    before = rows()
    response = client.post(reverse("cooperatives:apply"), application(business_licence=licence()))
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert rows() == before
    assert not any(tmp_path.rglob("*.*"))  # no file left in storage either


@pytest.mark.django_db
def test_registration_with_an_oversized_licence_writes_nothing(client, django_user_model, settings):
    settings.WANGNONG_MAX_UPLOAD_MB = 1
    user = django_user_model.objects.create_user("applicant", "a@example.com", "pw-apply-123")
    client.force_login(user)
    data = imagefiles.image_bytes("JPEG") + b"\0" * (2 * 1024 * 1024)
    before = rows()
    response = client.post(
        reverse("cooperatives:apply"),
        application(business_licence=SimpleUploadedFile("scan.jpg", data, "image/jpeg")),
    )
    html = response.content.decode()
    assert "文件太大" in html and "不超过 1 MB" in html
    assert rows() == before
