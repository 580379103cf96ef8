"""The one check every cooperative upload goes through (business licences,
certificate scans, cooperative photos and the portal's product photos).

The type is sniffed from the content with Pillow, never taken from the file
name or the browser's content type, so a PDF renamed ``.jpg`` is refused.
Decompression bombs (a small file that claims 20,000×20,000 pixels) are
refused from the header alone, before any pixel is decoded, and files over
``settings.WANGNONG_MAX_UPLOAD_MB`` (default 10) are refused before Pillow
looks at them at all.

Use :func:`validate_image_upload` directly, :class:`ImageUploadValidator` in
a field's ``validators`` or :class:`ImageUploadField` in a form (it also gives
the stored file the extension of its real format).
"""

import os
import warnings
from typing import IO, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

# More than any phone camera takes (a 48 MP sensor saves 12 MP photos by
# default); decoding 40 MP already needs about 160 MB of memory.
MAX_PIXELS = 40_000_000
DEFAULT_MAX_UPLOAD_MB = 10

# Pillow format name → (extension, MIME type) of the formats we accept.
ACCEPTED_FORMATS = {
    "JPEG": (".jpg", "image/jpeg"),
    "PNG": (".png", "image/png"),
    "WEBP": (".webp", "image/webp"),
}
ACCEPT_ATTR = ",".join(mime for _ext, mime in ACCEPTED_FORMATS.values())

NOT_AN_IMAGE = _("文件不是图片，请上传 JPG、PNG 或 WebP 格式的照片或扫描件。")
UNSUPPORTED_FORMAT = _("不支持 %(format)s 格式的图片，请上传 JPG、PNG 或 WebP 格式。")
TOO_MANY_PIXELS = _(
    "图片尺寸过大（%(width)s×%(height)s 像素），请缩小到 4000 万像素以内（如 6000×6000）后再上传。"
)
TOO_LARGE = _("文件太大（%(size)s MB），请上传不超过 %(limit)s MB 的图片。")
EMPTY_FILE = _("上传的文件是空的，请重新选择。")


def max_upload_bytes() -> int:
    return int(getattr(settings, "WANGNONG_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB) * 1024 * 1024)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def limit_text() -> str:
    """The size limit as people read it: "10" (MB)."""
    return _megabytes(max_upload_bytes()).removesuffix(".0")


def _upload_help() -> str:
    return _("JPG、PNG 或 WebP 格式，不超过 %(limit)s MB。") % {"limit": limit_text()}


# Evaluated when shown, so it follows the setting and the active language.
upload_help = lazy(_upload_help, str)


def _file_size(file: Any) -> int | None:
    size = getattr(file, "size", None)
    if size is not None:
        return size
    try:
        position = file.tell()
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(position)
        return size
    except (AttributeError, OSError):
        return None


def sniff_image(file: IO[bytes] | Any) -> str:
    """Check ``file`` and return its Pillow format name ("JPEG", "PNG" …).

    Raises ValidationError (with a Chinese message) for anything that is not
    an accepted, sane image. The file is left positioned at its start.
    """
    limit = max_upload_bytes()
    size = _file_size(file)
    if size == 0:
        raise ValidationError(EMPTY_FILE, code="empty")
    if size is not None and size > limit:
        raise ValidationError(
            TOO_LARGE,
            code="file_too_large",
            params={"size": _megabytes(size), "limit": limit_text()},
        )
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow only warns up to twice its own limit; any warning is an error here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:  # reads the header only
                width, height = image.size
                frames = getattr(image, "n_frames", 1) or 1
                if width * height * frames > MAX_PIXELS:
                    raise ValidationError(
                        TOO_MANY_PIXELS,
                        code="too_many_pixels",
                        params={"width": width, "height": height},
                    )
                image_format = image.format or ""
                if image_format not in ACCEPTED_FORMATS:
                    raise ValidationError(
                        UNSUPPORTED_FORMAT,
                        code="unsupported_format",
                        params={"format": image_format or "?"},
                    )
                # Structure and checksums, without decoding the pixels.
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("图片尺寸过大，可能是恶意文件，请上传普通照片或扫描件。"), code="too_many_pixels"
        )
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image")
    except Exception:  # noqa: BLE001 - any other parser failure: still not an image we take
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image")
    finally:
        if hasattr(file, "seek"):
            file.seek(0)
    return image_format


def validate_image_upload(file: IO[bytes] | Any) -> None:
    """Raise ValidationError unless ``file`` is an accepted image within the
    size and pixel limits. The file is left positioned at its start."""
    sniff_image(file)


@deconstructible
class ImageUploadValidator:
    """``validators=[ImageUploadValidator()]`` on a model or form field."""

    def __call__(self, value: Any) -> None:
        file = getattr(value, "file", value)
        validate_image_upload(file if file is not None else value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageUploadValidator)

    def __hash__(self) -> int:
        return hash(type(self))


class ImageUploadField(forms.FileField):
    """A file field that only takes images passing :func:`validate_image_upload`.

    The browser is told which types to offer (``accept``); the stored name
    gets the extension of the real format, so a PNG called ``photo.jpg`` is
    saved as ``photo.png`` and served with the right type.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", upload_help())
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        attrs = super().widget_attrs(widget)
        attrs["accept"] = ACCEPT_ATTR
        return attrs

    def to_python(self, data: Any) -> Any:
        uploaded = super().to_python(data)
        if uploaded is None:
            return None
        image_format = sniff_image(uploaded)
        extension, mime = ACCEPTED_FORMATS[image_format]
        stem = os.path.splitext(os.path.basename(uploaded.name or ""))[0] or "image"
        uploaded.name = f"{stem}{extension}"
        uploaded.content_type = mime
        return uploaded
