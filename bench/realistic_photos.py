"""Give every product a real photograph, for page-weight measurements.

The demo's product pictures (shop/catalogue/demo_images.py) are flat
illustrations: smooth gradients and shapes compress to a fraction of what a
photo of vegetables on a market stall does, so the listing-thumbnail sizes
bench/page_weight.py reports for them would flatter the site. This replaces
each product's primary image with an 800×800 JPEG (quality 85, as a phone
camera photo re-saved by an upload) cut from a real photograph.

The photographs come from ``--photos DIR`` (every *.jpg in it, used in turn);
by default from the landscape photographs Wagtail ships with its tests
(wagtail/images/tests/image_files/landscape_*.jpg, 600×450 camera photos),
which are in every install of this project and need no network. Their
square centre (450×450) is scaled to 800×800.

Usage, against the database the measured server uses::

    .venv/bin/python bench/realistic_photos.py            # every product
    .venv/bin/python bench/realistic_photos.py --limit 40

Thumbnails are made again on the next page view (new file names).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SIZE = 800
JPEG_QUALITY = 85


def default_photo_dir() -> Path:
    import wagtail

    return Path(wagtail.__file__).parent / "images" / "tests" / "image_files"


def photo_sources(directory: Path) -> list[Path]:
    paths = sorted(p for p in directory.glob("*.jp*g") if p.stat().st_size > 20_000)
    if not paths:
        raise SystemExit(f"no JPEG photographs (over 20 KB) in {directory}")
    return paths


def square_jpeg(path: Path, variant: int = 0) -> bytes:
    """An 800×800 JPEG of ``path``'s square centre; ``variant`` mirrors and
    shifts the crop so neighbouring products do not share one picture."""
    from PIL import Image, ImageOps

    with Image.open(path) as source:
        image = ImageOps.exif_transpose(source).convert("RGB")
    side = min(image.size)
    slack_x, slack_y = image.width - side, image.height - side
    shift = (variant % 3) / 2  # left / centre / right of the spare width
    left, top = int(slack_x * shift), int(slack_y * shift)
    image = image.crop((left, top, left + side, top + side))
    if variant // 3 % 2:
        image = ImageOps.mirror(image)
    image = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def use_photos(products: Iterable, photos: list[Path]) -> int:
    """Replace each product's first image (or add one) with a photograph."""
    from django.core.files.base import ContentFile
    from oscar.core.loading import get_model
    from sorl.thumbnail import delete as sorl_delete

    ProductImage = get_model("catalogue", "ProductImage")
    done = 0
    for n, product in enumerate(products):
        data = square_jpeg(photos[n % len(photos)], variant=n // len(photos))
        image = product.images.order_by("display_order", "pk").first()
        if image is None:
            image = ProductImage(product=product, caption=product.get_title(), display_order=0)
        elif image.original:
            # The file, its thumbnails and sorl's records of them: sorl knows
            # a source by its name, so a new file under an old name would
            # keep showing the old thumbnails.
            sorl_delete(image.original)
        digest = hashlib.sha1(data).hexdigest()[:10]
        name = f"{(product.upc or str(product.pk)).lower()}-{digest}.jpg"
        image.original.save(name, ContentFile(data), save=False)
        image.save()
        done += 1
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=None, help="a folder of JPEG photos")
    parser.add_argument("--limit", type=int, default=None, help="at most this many products")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    photos = photo_sources(args.photos or default_photo_dir())
    products = Product.objects.filter(parent__isnull=True).order_by("pk")
    if args.limit:
        products = products[: args.limit]
    done = use_photos(products, photos)
    print(f"{done} products now show photographs from {len(photos)} source photos.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
