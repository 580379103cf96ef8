"""Moved to :mod:`config.uploads`, the one upload validator every app uses
(images: content sniffed, size and pixel limits, bombs refused, re-encoded
so EXIF and appended payloads are gone; documents: content checked against
the extension, HTML/SVG/script refused). Re-exported here for the callers
and tests that import it from its old home."""

from config.uploads import (  # noqa: F401
    ACCEPT_ATTR,
    ACCEPTED_FORMATS,
    DEFAULT_MAX_UPLOAD_MB,
    EMPTY_FILE,
    MAX_PIXELS,
    NOT_AN_IMAGE,
    TOO_LARGE,
    TOO_MANY_PIXELS,
    UNSUPPORTED_FORMAT,
    CleanImage,
    ImageUploadField,
    ImageUploadValidator,
    limit_text,
    max_upload_bytes,
    sniff_image,
    upload_help,
    validate_document,
    validate_image,
    validate_image_upload,
)
