"""The one check every upload goes through, in every app.

Images (cooperative licences and photos, product photos from the portal and
Oscar's dashboard, category images, complaint photos, inspection reports,
Wagtail images): :func:`validate_image`. The type is sniffed from the content
with Pillow, never taken from the file name or the browser's content type;
files over ``settings.WANGNONG_MAX_UPLOAD_MB`` are refused before Pillow
looks at them, decompression bombs from the header alone; then the image is
decoded completely and **encoded again** from its pixels only, so EXIF (the
GPS position of the farm), XMP, comments and anything appended or embedded
(a JPEG/HTML polyglot) are gone from what is stored. HEIC (iPhone) is taken
and stored as JPEG.

Everything else (Wagtail documents and videos, product imports):
:func:`validate_document` with the kinds a place accepts ("pdf", "xlsx",
"docx", "csv", "txt", "mp4", "webm"). The content must be what the
extension says; anything that looks like HTML, SVG or script in its first
kilobytes is refused (browsers that sniff would run it); PDFs with
JavaScript (``/JavaScript``, ``/JS``) or a launch action are refused;
Office files must be OOXML zips with the right main part and no macros.

Every refusal is a ValidationError with one Chinese message.
"""

from __future__ import annotations

import io
import os
import re
import warnings
import zipfile
from typing import IO, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.deconstruct import deconstructible
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps

try:  # iPhones upload HEIC; pillow-heif teaches Pillow to read it.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_READABLE = True
except ImportError:  # pragma: no cover - optional
    HEIF_READABLE = False

# More than any phone camera takes (a 48 MP sensor saves 12 MP photos by
# default); decoding 40 MP already needs about 160 MB of memory.
MAX_PIXELS = 40_000_000
DEFAULT_MAX_UPLOAD_MB = 10
DEFAULT_MAX_DOCUMENT_MB = 20
DEFAULT_MAX_VIDEO_MB = 500
JPEG_QUALITY = 90

# Pillow format name → (extension, MIME type) of what is stored.
ACCEPTED_FORMATS = {
    "JPEG": (".jpg", "image/jpeg"),
    "PNG": (".png", "image/png"),
    "WEBP": (".webp", "image/webp"),
}
# Read, then stored in another format (see ACCEPTED_FORMATS for the result).
CONVERTED_FORMATS = {"HEIF": "JPEG"} if HEIF_READABLE else {}
# The file picker offers JPEG, PNG and WebP; iOS converts HEIC photos to
# JPEG for such a picker, and a HEIC that still arrives is converted here.
ACCEPT_ATTR = ",".join(mime for _ext, mime in ACCEPTED_FORMATS.values())

NOT_AN_IMAGE = _("文件不是图片，请上传 JPG、PNG 或 WebP 格式的照片或扫描件。")
UNSUPPORTED_FORMAT = _("不支持 %(format)s 格式的图片，请上传 JPG、PNG 或 WebP 格式。")
TOO_MANY_PIXELS = _(
    "图片尺寸过大（%(width)s×%(height)s 像素），请缩小到 4000 万像素以内（如 6000×6000）后再上传。"
)
TOO_LARGE = _("文件太大（%(size)s MB），请上传不超过 %(limit)s MB 的图片。")
EMPTY_FILE = _("上传的文件是空的，请重新选择。")
BOMB = _("图片尺寸过大，可能是恶意文件，请上传普通照片或扫描件。")


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


def _rewind(file: Any) -> None:
    if hasattr(file, "seek"):
        file.seek(0)


def sniff_image(file: IO[bytes] | Any) -> str:
    """Check ``file`` from its header and return its Pillow format name
    ("JPEG", "PNG" …; "HEIF" for an iPhone photo).

    Raises ValidationError (with a Chinese message) for anything that is not
    an accepted, sane image. The file is left positioned at its start. This
    does not decode the pixels nor remove metadata: use :func:`validate_image`
    for what is stored.
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
    _rewind(file)
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
                if image_format not in ACCEPTED_FORMATS and image_format not in CONVERTED_FORMATS:
                    raise ValidationError(
                        UNSUPPORTED_FORMAT,
                        code="unsupported_format",
                        params={"format": image_format or "?"},
                    )
                # Structure and checksums, without decoding the pixels.
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(BOMB, code="too_many_pixels")
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - any parser failure: not an image we take
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image")
    finally:
        _rewind(file)
    return image_format


def _pixels_only(image: Image.Image) -> Image.Image:
    """A fresh image with the pixels of ``image`` (upright, sRGB) and no info
    dict: no EXIF, XMP, ICC profile, comments or text chunks survive."""
    image = ImageOps.exif_transpose(image)  # upright first: the tag goes below
    icc = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if has_alpha else "RGB")
    if icc and not has_alpha:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def clean_image_bytes(file: IO[bytes] | Any) -> tuple[bytes, str]:
    """Validate ``file`` and return (re-encoded bytes, stored Pillow format)."""
    source_format = sniff_image(file)
    stored_format = CONVERTED_FORMATS.get(source_format, source_format)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                image.seek(0)  # the first frame of an animation only
                image.load()  # every pixel decoded: a truncated file fails here
                clean = _pixels_only(image)
        out = io.BytesIO()
        if stored_format == "JPEG":
            if clean.mode != "RGB":
                clean = clean.convert("RGB")
            clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        elif stored_format == "PNG":
            clean.save(out, "PNG", optimize=True)
        else:
            clean.save(out, "WEBP", quality=JPEG_QUALITY)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(BOMB, code="too_many_pixels")
    except Exception:  # noqa: BLE001 - a file that does not decode is not an image
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image")
    finally:
        _rewind(file)
    data = out.getvalue()
    if looks_like_markup(data):  # cannot happen for pixels we encoded; belt and braces
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image")
    return data, stored_format


class CleanImage(SimpleUploadedFile):
    """An image :func:`validate_image` re-encoded: safe to store as it is."""

    wangnong_clean = True

    def __init__(self, name: str, content: bytes, image_format: str) -> None:
        extension, mime = ACCEPTED_FORMATS[image_format]
        stem = os.path.splitext(os.path.basename(name or ""))[0] or "image"
        super().__init__(f"{stem}{extension}", content, mime)
        self.image_format = image_format


def validate_image(file: IO[bytes] | Any) -> CleanImage:
    """Check ``file`` and return the image to store instead of it.

    Raises ValidationError (one Chinese message) for anything that is not an
    accepted image within the size and pixel limits, or does not decode. The
    result has only the pixels (re-encoded as JPEG, PNG or WebP, the name's
    extension set to match), so metadata and appended payloads are gone.
    A file this function returned is returned unchanged.
    """
    if getattr(file, "wangnong_clean", False):
        _rewind(file)
        return file
    data, stored_format = clean_image_bytes(file)
    return CleanImage(getattr(file, "name", "") or "image", data, stored_format)


def validate_image_upload(file: IO[bytes] | Any) -> None:
    """Raise ValidationError unless ``file`` is an accepted image within the
    size and pixel limits that decodes completely. The file is left
    positioned at its start (and unchanged: store :func:`validate_image`'s
    result to drop metadata)."""
    clean_image_bytes(file)


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
    """A file field that only takes images passing :func:`validate_image`,
    and gives the form the re-encoded image (its name's extension that of
    the real format: a PNG called ``photo.jpg`` becomes ``photo.png``)."""

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
        return validate_image(uploaded)


# --- Documents ------------------------------------------------------------------

DOCUMENT_KINDS = ("pdf", "xlsx", "docx", "csv", "txt", "mp4", "webm")
# What the name may end in for each kind.
DOCUMENT_EXTENSIONS = {
    "pdf": ("pdf",),
    "xlsx": ("xlsx",),
    "docx": ("docx",),
    "csv": ("csv",),
    "txt": ("txt",),
    "mp4": ("mp4", "m4v"),
    "webm": ("webm",),
}
VIDEO_KINDS = ("mp4", "webm")
# How much of the start is searched for markup a browser would render.
SNIFF_BYTES = 4096
_MARKUP = re.compile(
    rb"<\s*(?:html|script|svg|!doctype|iframe|object|embed|body|head|meta|"
    rb"\?xml-stylesheet|x:script|xsl:)",
    re.IGNORECASE,
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|RichMedia|XFA)(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_OOXML_MAIN = {
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
}
# A zip may not unpack to more than this (zip bombs), nor this many times its size.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_UNPACK_RATIO = 200

NOT_ALLOWED_KIND = _("不支持这种文件，请上传 %(kinds)s 文件。")
CONTENT_MISMATCH = _("文件内容与扩展名“.%(ext)s”不符（可能改过扩展名或已损坏），请上传原始文件。")
MARKUP_REFUSED = _("文件里含有网页或脚本内容（HTML、SVG、script），出于安全原因不能上传。")
PDF_SCRIPT_REFUSED = _(
    "PDF 文件含有脚本或自动操作（JavaScript），出于安全原因不能上传，请另存为普通 PDF。"
)
MACRO_REFUSED = _("文件含有宏，出于安全原因不能上传，请另存为不含宏的 .xlsx 或 .docx 文件。")
TEXT_ENCODING = _("文本文件无法识别编码，请保存为 UTF-8 或 GB18030（GBK）编码。")
DOCUMENT_TOO_LARGE = _("文件太大（%(size)s MB），请上传不超过 %(limit)s MB 的文件。")


def max_document_bytes(kind: str) -> int:
    if kind in VIDEO_KINDS:
        mb = getattr(settings, "WANGNONG_MAX_VIDEO_MB", DEFAULT_MAX_VIDEO_MB)
    else:
        mb = getattr(settings, "WANGNONG_MAX_DOCUMENT_MB", DEFAULT_MAX_DOCUMENT_MB)
    return int(mb * 1024 * 1024)


def looks_like_markup(data: bytes) -> bool:
    """True if ``data`` has HTML/SVG/script tags where a browser sniffing the
    content would find them (its first KBs, after any BOM or whitespace, in
    any case, also as UTF-16)."""
    head = data[:SNIFF_BYTES]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if _MARKUP.search(head):
        return True
    if head[1:2] == b"\0" or head[:1] == b"\0":  # UTF-16 text: look at it without the NULs
        return bool(_MARKUP.search(head.replace(b"\0", b"")))
    return False


def _kind_label(kinds: tuple[str, ...]) -> str:
    return "、".join(k.upper() for k in kinds)


def _read_all(file: Any) -> bytes:
    _rewind(file)
    try:
        return file.read()
    finally:
        _rewind(file)


def _check_pdf(data: bytes) -> None:
    if not data.lstrip(b"\t\r\n ").startswith(b"%PDF-"):
        raise ValidationError(CONTENT_MISMATCH, code="mismatch", params={"ext": "pdf"})
    names = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    if _PDF_ACTIVE.search(names):
        raise ValidationError(PDF_SCRIPT_REFUSED, code="pdf_script")


def check_ooxml(data: bytes, kind: str) -> None:
    """Refuse a zip that is not an OOXML ``kind`` ("xlsx", "docx") file, has
    macros or unpacks to too much."""
    mismatch = ValidationError(CONTENT_MISMATCH, code="mismatch", params={"ext": kind})
    if not data.startswith(b"PK\x03\x04"):
        raise mismatch
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_UNPACK_RATIO * max(len(data), 1):
                raise mismatch
            names = {info.filename.lower() for info in infos}
            if "[content_types].xml" not in names:
                raise mismatch
            types = archive.read("[Content_Types].xml")
    except ValidationError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError):
        raise mismatch
    if any(n.endswith("vbaproject.bin") for n in names) or b"macroenabled" in types.lower():
        raise ValidationError(MACRO_REFUSED, code="macro")
    if _OOXML_MAIN[kind] not in types:
        raise mismatch


def _check_text(data: bytes, kind: str) -> None:
    if b"\0" in data:
        raise ValidationError(CONTENT_MISMATCH, code="mismatch", params={"ext": kind})
    body = data.removeprefix(b"\xef\xbb\xbf")
    for encoding in ("utf-8", "gb18030"):
        try:
            body.decode(encoding)
            return
        except UnicodeDecodeError:
            continue
    raise ValidationError(TEXT_ENCODING, code="encoding")


def _check_video(data: bytes, kind: str) -> None:
    ok = data[4:8] == b"ftyp" if kind == "mp4" else data[:4] == b"\x1a\x45\xdf\xa3"
    if not ok:
        raise ValidationError(CONTENT_MISMATCH, code="mismatch", params={"ext": kind})


def document_kind(name: str, kinds: tuple[str, ...] | list[str]) -> str:
    """The kind ``name``'s extension claims, if it is one of ``kinds``."""
    extension = os.path.splitext(name or "")[1].lower().lstrip(".")
    for kind in kinds:
        if extension in DOCUMENT_EXTENSIONS[kind]:
            return kind
    raise ValidationError(
        NOT_ALLOWED_KIND, code="kind", params={"kinds": _kind_label(tuple(kinds))}
    )


def validate_document(file: IO[bytes] | Any, kinds: tuple[str, ...] | list[str]) -> str:
    """Check a non-image upload and return its kind ("pdf", "csv" …).

    ``kinds`` are the kinds this place accepts; the file's name says which it
    claims and its content must agree. Raises ValidationError with one
    Chinese message. The file is left positioned at its start.
    """
    kinds = tuple(kinds)
    unknown = set(kinds) - set(DOCUMENT_KINDS)
    if unknown:
        raise ValueError(f"unknown document kinds: {sorted(unknown)}")
    kind = document_kind(getattr(file, "name", ""), kinds)
    size = _file_size(file)
    if size == 0:
        raise ValidationError(EMPTY_FILE, code="empty")
    limit = max_document_bytes(kind)
    if size is not None and size > limit:
        raise ValidationError(
            DOCUMENT_TOO_LARGE,
            code="file_too_large",
            params={"size": _megabytes(size), "limit": _megabytes(limit).removesuffix(".0")},
        )
    if kind in VIDEO_KINDS:
        _rewind(file)
        data = file.read(SNIFF_BYTES)  # a video is not read whole into memory
        _rewind(file)
    else:
        data = _read_all(file)
    if not data:
        raise ValidationError(EMPTY_FILE, code="empty")
    if looks_like_markup(data):
        raise ValidationError(MARKUP_REFUSED, code="markup")
    if kind == "pdf":
        _check_pdf(data)
    elif kind in _OOXML_MAIN:
        check_ooxml(data, kind)
    elif kind in ("csv", "txt"):
        _check_text(data, kind)
    else:
        _check_video(data, kind)
    return kind


@deconstructible
class DocumentUploadValidator:
    """``validators=[DocumentUploadValidator(("pdf",))]`` on a field."""

    def __init__(self, kinds: tuple[str, ...] | list[str]) -> None:
        self.kinds = tuple(kinds)

    def __call__(self, value: Any) -> None:
        validate_document(value, self.kinds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DocumentUploadValidator) and other.kinds == self.kinds

    def __hash__(self) -> int:
        return hash((type(self), self.kinds))
