"""Product photos: the Celery task strips EXIF (phones embed GPS), turns the
photo upright, resizes it, keeps a clean JPEG as the fallback and makes the
WebP renditions the storefront uses; it is idempotent and retries storage
errors. Uploads that are not images, or are decompression bombs, are refused
with a clear message before anything is stored."""

import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from oscar.core.loading import get_model
from PIL import Image

from cooperatives import listings, tasks
from cooperatives.listings import ListingData
from tests import factories
from tests.cooperatives.imagefiles import bomb_bytes, renamed_pdf
from tests.cooperatives.photos import phone_jpeg_bytes, phone_photo

pytestmark = pytest.mark.django_db

ProductImage = get_model("catalogue", "ProductImage")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def product(coop_a):
    factories.category("蔬菜").add_child(name="根茎类")
    return listings.create_listing(
        coop_a,
        ListingData(
            title="沙窝萝卜", category="根茎类", unit="斤", price=Decimal("6.5"), stock=100
        ),
    )


def raw_image(product, data: bytes, name: str = "upload.jpg") -> ProductImage:
    """A ProductImage as the portal stores it before the task has run."""
    image = ProductImage(product=product, display_order=product.images.count())
    image.original.save(name, ContentFile(data), save=True)
    return image


def test_exif_is_stripped_orientation_applied_and_size_limited(
    product, django_capture_on_commit_callbacks
):
    image = raw_image(product, phone_jpeg_bytes(size=(4000, 2000), orientation=6))
    uploaded = image.original.name
    assert Image.open(default_storage.open(uploaded)).getexif()  # GPS and all

    with django_capture_on_commit_callbacks(execute=True):  # as in a worker
        assert tasks.process_product_image(image.pk) == "cleaned"
    image.refresh_from_db()
    assert image.original.name.endswith(".wn.jpg")
    assert not default_storage.exists(uploaded)  # the file with the GPS position is gone
    with default_storage.open(image.original.name) as fh:
        data = fh.read()
    clean = Image.open(io.BytesIO(data))
    assert clean.format == "JPEG"
    assert not clean.getexif() and "exif" not in clean.info and "icc_profile" not in clean.info
    assert b"Xiaomi" not in data
    # Orientation 6 means "rotate 90° clockwise": the 4000×2000 photo is a
    # portrait 1000×2000 scaled to fit 1600 px; the blue marker that was
    # top-left is now top-right.
    assert clean.size == (800, 1600)
    r, g, b = clean.convert("RGB").getpixel((clean.width - 10, 10))
    assert b > 200 and r < 60


def test_webp_renditions_for_the_storefront_sizes(product):
    from sorl.thumbnail import get_thumbnail

    image = raw_image(product, phone_jpeg_bytes(size=(1200, 900), orientation=1))
    tasks.process_product_image(image.pk)
    image.refresh_from_db()
    for size, options in tasks.SITE_RENDITIONS:
        thumb = get_thumbnail(image.original, size, **options)  # what the templates ask for
        assert thumb.name.endswith(".webp")
        assert default_storage.exists(thumb.name)
        rendered = Image.open(default_storage.open(thumb.name))
        assert rendered.format == "WEBP" and not rendered.getexif()
        assert max(rendered.size) <= int(size.split("x")[0])


def test_task_is_idempotent(product):
    image = raw_image(product, phone_jpeg_bytes())
    assert tasks.process_product_image(image.pk) == "cleaned"
    image.refresh_from_db()
    name = image.original.name
    assert tasks.process_product_image(image.pk) == "already clean"
    image.refresh_from_db()
    assert image.original.name == name and default_storage.exists(name)
    assert tasks.process_product_image(999_999) == "missing"


def test_png_with_transparency_becomes_a_jpeg(product):
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (255, 0, 0, 0)).save(out, "PNG")
    image = raw_image(product, out.getvalue(), "shot.png")
    tasks.process_product_image(image.pk)
    image.refresh_from_db()
    clean = Image.open(default_storage.open(image.original.name))
    assert clean.format == "JPEG" and clean.mode == "RGB"
    assert clean.getpixel((5, 5)) == (255, 255, 255)  # transparent → white, not black


def test_a_stored_file_that_is_not_an_image_is_removed(product):
    image = raw_image(product, b"%PDF-1.4 not a photo", "fake.jpg")
    assert tasks.process_product_image(image.pk) == "rejected"
    assert not ProductImage.objects.filter(pk=image.pk).exists()


def test_storage_errors_are_retried(product):
    image = raw_image(product, phone_jpeg_bytes(size=(400, 300)))
    real_open = default_storage.open
    calls = {"n": 0}

    def flaky_open(name, mode="rb"):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("storage hiccup")
        return real_open(name, mode)

    with mock.patch.object(type(default_storage._wrapped), "open", side_effect=flaky_open):
        # throw=False: as a worker runs it, retrying instead of raising.
        result = tasks.process_product_image.apply(args=[image.pk], throw=False)
    assert result.get() == "cleaned"
    assert calls["n"] >= 2


def test_task_runs_after_the_upload_is_committed(
    member_client, coop_a, product, django_capture_on_commit_callbacks
):
    url = reverse("coop:product-edit", kwargs={"pk": product.pk})
    data = {
        "title": product.title,
        "category": product.categories.get().pk,
        "unit": "jin",
        "price": "6.50",
        "stock": "100",
        "storage_class": "ambient",
        "photos": [phone_photo()],
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = member_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    image = product.images.get()
    # Stored under a random name (not IMG_20260915_101010.jpg) until cleaned.
    assert "IMG_" not in image.original.name
    for callback in callbacks:
        callback()
    image.refresh_from_db()
    assert image.original.name.endswith(".wn.jpg")
    assert not Image.open(default_storage.open(image.original.name)).getexif()


@pytest.mark.parametrize(
    "upload, message",
    [
        (lambda: renamed_pdf("IMG_0001.jpg"), "文件不是图片"),
        (
            lambda: SimpleUploadedFile("bomb.png", bomb_bytes(), content_type="image/png"),
            "图片尺寸过大",
        ),
        (lambda: SimpleUploadedFile("empty.jpg", b"", content_type="image/jpeg"), "空文件"),
    ],
    ids=["not-an-image", "decompression-bomb", "empty"],
)
def test_bad_uploads_are_refused_with_a_clear_message(member_client, product, upload, message):
    url = reverse("coop:product-edit", kwargs={"pk": product.pk})
    data = {
        "title": "沙窝萝卜（改名）",
        "category": product.categories.get().pk,
        "unit": "jin",
        "price": "6.50",
        "stock": "100",
        "storage_class": "ambient",
        "photos": [upload()],
    }
    response = member_client.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    product.refresh_from_db()
    assert product.title == "沙窝萝卜"  # nothing half-saved
    assert not product.images.exists()


def test_service_refuses_bad_files_too(coop_a, product):
    with pytest.raises(Exception) as exc:
        listings.add_photos(coop_a, product, [renamed_pdf()])
    assert "文件不是图片" in str(exc.value)
    assert not product.images.exists()


def test_too_many_photos(coop_a, product):
    from tests.cooperatives.photos import small_jpeg

    with pytest.raises(Exception, match="最多 9 张照片"):
        listings.add_photos(coop_a, product, [small_jpeg(f"{i}.jpg") for i in range(10)])
    assert not product.images.exists()
