"""A pool of product photos for the benchmark catalogue.

Each is the demo's produce drawing (shop/catalogue/demo_images.py) with the
grain and softness of a phone photo added, saved as an 800x800 JPEG of about
60–120 KB, the size a cooperative uploads. Many products share one file: the
point is realistic bytes for thumbnailing and page weight, not variety.
"""

from __future__ import annotations

import io
import random

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageFilter

from shop.catalogue import demo_images

FOLDER = "images/products/bench"


def photo(art: str, label: str, variant: int) -> bytes:
    """One photo of ``art``: drawn, lightly blurred, with sensor noise."""
    seed = f"{art}-{variant}"
    drawn = Image.open(io.BytesIO(demo_images.render(art, label=label, seed=seed)))
    drawn = drawn.convert("RGB").filter(ImageFilter.GaussianBlur(0.6))
    rng = random.Random(seed)
    noise = Image.effect_noise(drawn.size, 28 + rng.randrange(10)).convert("RGB")
    shot = Image.blend(drawn, noise, 0.09)
    out = io.BytesIO()
    shot.save(out, "JPEG", quality=86, optimize=True, progressive=True)
    return out.getvalue()


def ensure_pool(kinds: list[tuple[str, str]], size: int) -> dict[str, list[str]]:
    """At least one photo per (art, label) in ``kinds``, ``size`` in all,
    written to the media storage when missing; returns art → storage names."""
    pool: dict[str, list[str]] = {}
    for n in range(max(size, len(kinds))):
        art, label = kinds[n % len(kinds)]
        variant = n // len(kinds)
        name = f"{FOLDER}/{art}-{variant}.jpg"
        if not default_storage.exists(name):
            saved = default_storage.save(name, ContentFile(photo(art, label, variant)))
            if saved != name:  # a concurrent writer won the name: use ours anyway
                name = saved
        pool.setdefault(art, []).append(name)
    return pool
