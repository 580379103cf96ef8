"""Small upload fixtures built in memory: real images, a PDF renamed .jpg and
a decompression bomb (a PNG header claiming 20,000×20,000 pixels)."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color=(29, 94, 54)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def png(name: str = "licence.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", size), content_type="image/png")


def jpeg(name: str = "licence.jpg", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("JPEG", size), content_type="image/jpeg")


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def renamed_pdf(name: str = "licence.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="image/jpeg")


def bomb_bytes(width: int = 20_000, height: int = 20_000) -> bytes:
    """A 1×1 PNG whose IHDR is rewritten to claim ``width``×``height`` (CRC
    fixed up): a few dozen bytes, 400 megapixels if anyone decoded it."""
    data = bytearray(image_bytes("PNG", (1, 1)))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def bomb(name: str = "licence.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, bomb_bytes(), content_type="image/png")
