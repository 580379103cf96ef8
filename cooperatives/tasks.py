"""Background work for cooperatives.

``process_product_image`` turns a photo uploaded from a farmer's phone into
what the site serves:

1. the original is opened (JPEG, PNG, WebP, HEIC …), turned upright by its
   EXIF orientation, converted to sRGB, scaled down to at most 1600 px and
   saved as a clean JPEG **with no EXIF or other metadata** (phones embed the
   GPS position of the farm). It replaces ``ProductImage.original`` and the
   uploaded file is deleted; the JPEG is the fallback for anything that
   cannot show WebP;
2. the WebP renditions the storefront uses are generated through
   sorl-thumbnail with exactly the options the templates pass to
   ``{% oscar_thumbnail %}`` (cards 480/240 px, detail page 800/400 px,
   ``THUMBNAIL_FORMAT = "WEBP"``), so the first shopper to see the product
   gets them from the thumbnail store instead of waiting for a resize. We use
   sorl rather than extra fields: the templates already ask sorl for these
   sizes, and sorl's key-value store is shared by every web host.

The task is idempotent: a cleaned original is recognised by its name
(``….wn.jpg``) and only its renditions are (re)generated; if two runs race,
the row is locked and the loser throws its copy away. Storage errors (disk,
S3) are retried with back-off; a file that turns out not to be an image is
logged and its row removed (uploads are validated before they get here).
"""

from __future__ import annotations

import io
import logging
import posixpath
import uuid

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import transaction
from oscar.core.loading import get_model
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from config import page_cache

try:  # iPhones upload HEIC; pillow-heif teaches Pillow to read it.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - optional
    pass

logger = logging.getLogger(__name__)

ProductImage = get_model("catalogue", "ProductImage")

MAX_SIDE = 1600
JPEG_QUALITY = 85
CLEAN_SUFFIX = ".wn.jpg"
MAX_PIXELS = 50_000_000  # about 8000 × 6000: above any phone camera
# (geometry, options) exactly as templates/oscar/catalogue/detail.html and
# templates/oscar/catalogue/partials/product.html ask for them.
SITE_RENDITIONS: tuple[tuple[str, dict], ...] = tuple(
    (size, {"crop": "center", "upscale": False})
    for size in ("720x720", "360x360", "320x320", "160x160")
)


class BadImage(Exception):
    """The stored file cannot be read as an image (never retried)."""


def _transient_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, ConnectionError, TimeoutError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    except ImportError:  # pragma: no cover - S3 support not installed
        pass
    return tuple(errors)


TRANSIENT_ERRORS = _transient_errors()


def clean_image_bytes(data: bytes) -> bytes:
    """The photo as an upright sRGB JPEG of at most MAX_SIDE px, with no
    metadata. Raises BadImage for anything Pillow cannot decode safely."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise BadImage(f"too many pixels: {im.width}×{im.height}")
            im.seek(0)
            im = ImageOps.exif_transpose(im)  # upright first: the tag goes below
            icc = im.info.get("icc_profile")
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                im = Image.new("RGB", rgba.size, (255, 255, 255))
                im.paste(rgba, mask=rgba.getchannel("A"))
            elif im.mode != "RGB":
                im = im.convert("RGB")
            if icc:
                try:
                    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                    im = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"))
                except (ImageCms.PyCMSError, OSError, ValueError):
                    pass  # a broken profile: keep the pixels as they are
            im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            # A fresh image carries no info dict: no EXIF, XMP, ICC or comments.
            clean = Image.new("RGB", im.size)
            clean.paste(im)
            out = io.BytesIO()
            clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
            return out.getvalue()
    except BadImage:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise BadImage(str(exc)) from exc
    except OSError as exc:  # truncated or corrupt data, not a storage error
        raise BadImage(str(exc)) from exc


def generate_renditions(field_file) -> list[str]:
    """Make sure sorl has every WebP rendition the site shows; returns their names."""
    from sorl.thumbnail import get_thumbnail

    return [get_thumbnail(field_file, size, **opts).name for size, opts in SITE_RENDITIONS]


def _clean_name(old_name: str) -> str:
    folder = posixpath.dirname(old_name)
    return posixpath.join(folder, f"{uuid.uuid4().hex}{CLEAN_SUFFIX}")


def _forget(storage, name: str) -> None:
    """Delete a stored file with its sorl thumbnails (best effort)."""
    from sorl.thumbnail import delete as sorl_delete
    from sorl.thumbnail.images import ImageFile

    try:
        sorl_delete(ImageFile(name, storage=storage))  # thumbnails, then the file
    except Exception:  # noqa: BLE001 - cleanup must never fail the task
        logger.warning("could not delete %s and its thumbnails", name, exc_info=True)
    try:
        storage.delete(name)  # if sorl could not (a no-op when it is gone)
    except Exception:  # noqa: BLE001
        logger.warning("could not delete %s", name, exc_info=True)


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def process_product_image(self, image_id: int) -> str:
    """Clean and resize one ProductImage; see the module docstring."""
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:
        return "missing"
    storage = image.original.storage
    old_name = image.original.name
    if old_name.endswith(CLEAN_SUFFIX):
        generate_renditions(image.original)
        return "already clean"

    with storage.open(old_name, "rb") as fh:
        data = fh.read()
    try:
        clean = clean_image_bytes(data)
    except BadImage as exc:
        logger.warning("product image %s is not a usable image (%s); removed", image_id, exc)
        with transaction.atomic():
            row = ProductImage.objects.select_for_update().filter(pk=image_id).first()
            if row is not None and row.original.name == old_name:
                row.delete()
        return "rejected"

    new_name = storage.save(_clean_name(old_name), ContentFile(clean))
    with transaction.atomic():
        row = ProductImage.objects.select_for_update().filter(pk=image_id).first()
        if row is None or row.original.name != old_name:
            # Deleted meanwhile, or another run got there first.
            transaction.on_commit(lambda: _forget(storage, new_name))
            return "superseded"
        ProductImage.objects.filter(pk=image_id).update(original=new_name)
        page_cache.site_changed()  # an update() sends no signal
        # The upload (with its EXIF) goes once the new name is committed.
        transaction.on_commit(lambda: _forget(storage, old_name))
    row.original.name = new_name
    generate_renditions(row.original)
    return "cleaned"
