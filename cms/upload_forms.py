"""Wagtail's image and document forms with config.uploads' one validator.

Set as ``WAGTAILIMAGES_IMAGE_FORM_BASE`` and ``WAGTAILDOCS_DOCUMENT_FORM_BASE``,
so the single upload, the multiple upload and the edit forms of the CMS admin
all use them. An image is re-encoded (EXIF, comments and anything appended
are gone) before Wagtail stores it; a document must be what its extension
says and may not be HTML, SVG or a PDF with JavaScript.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from wagtail.documents.forms import BaseDocumentForm
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm

from config.uploads import DOCUMENT_KINDS, validate_document, validate_image


class ValidatedImageField(WagtailImageField):
    """Wagtail's image field, with our validator first: it gives the Chinese
    message, and Wagtail's own checks (which crash on some truncated JPEGs)
    only ever see the re-encoded image."""

    def to_python(self, data):
        if isinstance(data, UploadedFile):
            data = validate_image(data)
        return super().to_python(data)


class ImageForm(BaseImageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("file")
        if isinstance(field, WagtailImageField):  # keeps its limits and help text
            field.__class__ = ValidatedImageField


def document_kinds() -> tuple[str, ...]:
    """The kinds Wagtail's WAGTAILDOCS_EXTENSIONS allows (m4v counts as mp4)."""
    extensions = {e.lower() for e in getattr(settings, "WAGTAILDOCS_EXTENSIONS", None) or ()}
    extensions |= {"mp4"} if "m4v" in extensions else set()
    return tuple(kind for kind in DOCUMENT_KINDS if kind in extensions)


class DocumentForm(BaseDocumentForm):
    def clean_file(self):
        file = self.cleaned_data.get("file")
        if not file or "file" not in self.changed_data:
            return file
        validate_document(file, document_kinds())
        return file
