"""Phone-like photos for listing tests: JPEGs that carry the EXIF a farmer's
phone writes (GPS position, camera make, orientation)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

GPS = {1: "N", 2: (39.0, 5.0, 0.0), 3: "E", 4: (117.0, 12.0, 0.0)}


def phone_jpeg_bytes(size=(2000, 1000), orientation: int = 6, color=(200, 40, 40)) -> bytes:
    """A landscape JPEG tagged "rotate 90° clockwise to view" (orientation 6,
    how phones store portrait shots) with a GPS position and camera make."""
    image = Image.new("RGB", size, color)
    # A marker in the top-left corner, to check the rotation was applied.
    image.paste((0, 0, 255), (0, 0, size[0] // 10, size[1] // 10))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def phone_photo(name: str = "IMG_20260915_101010.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, phone_jpeg_bytes(**kwargs), content_type="image/jpeg")


def small_jpeg(name: str = "photo.jpg", size=(64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")
