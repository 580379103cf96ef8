"""Guards for the storefront's page weight (issue 9: at most 50 KB without
photos and 150 KB with a 20-product listing's photos on a first visit over
Slow 3G; bench/page_weight.py measures it in a browser).

Checked here without a browser, on the HTML Django renders:

* public pages link one stylesheet (two where a page has its own), no web
  fonts, no script that blocks rendering, nothing from another host;
* listing photos are WebP thumbnails of 160 and 320 px with ``srcset``,
  ``sizes``, ``width``/``height`` (no layout shift), the first screen's two
  loaded at once with high priority and the rest lazily; the product photo
  likewise; the renditions the templates ask for are the ones made on upload;
* a listing thumbnail of a detailed photograph stays under 6 KB;
* pages are gzipped, and small once gzipped; photos are not gzipped again;
* the CSS is kept minified and small, with no font files.
"""

from __future__ import annotations

import gzip
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import wagtail
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from oscar.core.loading import get_model
from PIL import Image

from config.compression import TextGZipMiddleware
from cooperatives.tasks import SITE_RENDITIONS
from tests.bulk_catalogue import CatalogueBuilder

ROOT = Path(settings.BASE_DIR)
CSS_DIR = ROOT / "static" / "css"
PRODUCTS = 24  # more than a listing page (20), so there is a second page
LISTING_WIDTHS = {"160w", "320w"}
EAGER_CARDS = 2
# A detailed real photograph (rain forest and a waterfall, 600×450) that
# ships with Wagtail: a harder case than most produce photos.
DETAILED_PHOTO = Path(wagtail.__file__).parent / "images/tests/image_files/landscape_1.jpg"
THUMBNAIL_LIMIT = 6_000
# Gzipped HTML, bytes. Measured with bench-like data: catalogue ~6.5 KB, home
# ~6 KB, product ~4.5 KB.
GZIPPED_HTML_LIMIT = {"home": 12_000, "catalogue": 12_000, "category": 12_000, "product": 9_000}
SITE_CSS_GZIPPED_LIMIT = 6_000

ProductImage = get_model("catalogue", "ProductImage")


class Elements(HTMLParser):
    """The <link>, <script>, <style> and product-card <img> elements of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[dict] = []
        self.scripts: list[dict] = []
        self.images: list[dict] = []
        self.card_images: list[dict] = []
        self.style_blocks: list[str] = []
        self._in_card = 0
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "link":
            self.links.append(attrs)
        elif tag == "script":
            self.scripts.append(attrs)
        elif tag == "style":
            self._in_style = True
            self.style_blocks.append("")
        elif tag == "article" and "product-card" in attrs.get("class", "").split():
            self._in_card += 1
        elif tag == "img":
            self.images.append(attrs)
            if self._in_card:
                self.card_images.append(attrs)

    def handle_endtag(self, tag):
        if tag == "article" and self._in_card:
            self._in_card -= 1
        elif tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style_blocks[-1] += data


def elements(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def detailed_photo_bytes(size: int = 800) -> bytes:
    """The detailed photograph as an 800×800 JPEG, as a cooperative uploads."""
    with Image.open(DETAILED_PHOTO) as source:
        side = min(source.size)
        square = source.convert("RGB").crop((0, 0, side, side))
    out = io.BytesIO()
    square.resize((size, size), Image.Resampling.LANCZOS).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """A catalogue of PRODUCTS products with photos and a home page with a
    hero and featured products, built once; rolled back at the end."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            WANGNONG_PAGE_CACHE_SECONDS=0,
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        ),
        transaction.atomic(),
    ):
        from django.core.cache import cache
        from sorl.thumbnail import get_thumbnail

        from cms.models import HomePage
        from tests.cms import pages_helpers as cms

        cache.clear()

        shop = CatalogueBuilder.create()
        shop.grow(PRODUCTS)
        # One product shows the detailed photograph (the others' small JPEGs
        # keep the module fast).
        photo = shop.products[0].images.get(display_order=0)
        photo.original.save("detailed.jpg", ContentFile(detailed_photo_bytes()), save=True)
        home = cms.home_page()
        home = HomePage.objects.get(pk=home.pk)
        home.intro = [
            {"type": "hero", "value": {"heading": "网农", "text": "好货", "image": cms.image().pk}},
            {
                "type": "featured_products",
                "value": {"heading": "精选", "products": [p.pk for p in shop.products[:6]]},
            },
            {"type": "latest_products", "value": {"heading": "最新", "count": 8}},
        ]
        home.save_revision().publish()
        pages = {
            "home": "/",
            "catalogue": reverse("catalogue:index"),
            "category": shop.categories[0].get_absolute_url(),
            "product": shop.products[0].get_absolute_url(),
            "search": reverse("search:search") + "?q=蔬菜",
            "basket": reverse("basket:summary"),
        }
        client = Client()
        html: dict[str, str] = {}
        gzipped: dict[str, tuple[str, bytes]] = {}
        for name, url in pages.items():
            response = client.get(url)
            assert response.status_code == 200, (name, url, response.status_code)
            html[name] = response.content.decode()
            response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
            gzipped[name] = (response.get("Content-Encoding", ""), response.content)
        thumbnail = get_thumbnail(photo.original, "160x160", crop="center", upscale=False).read()
        transaction.set_rollback(True)
    cache.clear()  # sorl's thumbnail records for the rolled-back images
    return {"html": html, "gzipped": gzipped, "thumbnail": thumbnail}


# --- CSS, JS, fonts ----------------------------------------------------------------


@pytest.mark.parametrize("page", ["home", "catalogue", "category", "product", "search", "basket"])
def test_public_pages_link_little_css_and_no_blocking_script(site, page):
    found = elements(site["html"][page])
    sheets = [link["href"] for link in found.links if "stylesheet" in link.get("rel", "").split()]
    assert len(sheets) <= 2, sheets
    assert any(re.search(r"/css/site(\.[0-9a-f]+)?\.css$", href) for href in sheets), sheets
    for href in sheets:
        assert href.startswith(settings.STATIC_URL), f"{page}: stylesheet from elsewhere: {href}"
    scripts = [s for s in found.scripts if s.get("src")]
    assert len(scripts) <= 1, f"{page}: {[s['src'] for s in scripts]}"
    for script in scripts:
        assert script["src"].startswith(settings.STATIC_URL), script["src"]
        assert "defer" in script or "async" in script or script.get("type") == "module", script
    fonts = [
        link
        for link in found.links
        if link.get("as") == "font" or re.search(r"\.(woff2?|ttf|otf|eot)\b", link.get("href", ""))
    ]
    assert fonts == []
    assert not any("@font-face" in block or "@import" in block for block in found.style_blocks)


def test_browse_pages_load_no_script_at_all(site):
    for page in ("home", "catalogue", "category", "product", "search"):
        assert [s for s in elements(site["html"][page]).scripts if s.get("src")] == [], page


def css_files() -> list[Path]:
    return sorted(CSS_DIR.glob("*.css"))


@pytest.mark.parametrize("path", css_files(), ids=lambda p: p.name)
def test_css_is_minified_without_fonts(path):
    """Hand-minified: one rule a line, never a declaration on a line of its
    own; no web fonts (system fonts only) and no @import (one more request)."""
    text = path.read_text(encoding="utf-8")
    declaration_alone = re.compile(r"^\s*-?[a-z][a-z-]*\s*:[^{}]*;?\s*$")
    loose = [line for line in text.splitlines() if declaration_alone.match(line)]
    assert loose == [], f"{path.name}: unminified lines {loose[:3]}"
    assert "@font-face" not in text and "@import" not in text
    assert not re.search(r"url\([^)]*\.(woff2?|ttf|otf|eot)", text)


def test_site_css_is_small_once_compressed():
    data = (CSS_DIR / "site.css").read_bytes()
    assert len(gzip.compress(data, 9)) <= SITE_CSS_GZIPPED_LIMIT


# --- Photos -----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["catalogue", "category", "search", "home"])
def test_listing_photos_are_sized_webp_and_lazy_below_the_first_screen(site, page):
    cards = elements(site["html"][page]).card_images
    assert len(cards) >= 6, f"{page}: {len(cards)} product photos"
    for n, img in enumerate(cards):
        assert img.get("width") and img.get("height"), img
        assert img.get("alt"), img
        assert img.get("sizes"), img
        widths = {part.split()[-1] for part in img.get("srcset", "").split(",") if part.strip()}
        assert widths == LISTING_WIDTHS, img
        assert all(url.split()[0].endswith(".webp") for url in img["srcset"].split(",")), img[
            "srcset"
        ]
        if n < EAGER_CARDS:
            assert img.get("fetchpriority") == "high" and "loading" not in img, (n, img)
        elif page != "home":
            assert img.get("loading") == "lazy" and "fetchpriority" not in img, (n, img)
    if page == "home":  # the latest-products block, below the featured one
        assert all(img.get("loading") == "lazy" for img in cards[6:]), cards[6:]


def test_product_photo_is_sized_and_loads_first(site):
    found = elements(site["html"]["product"])
    photos = [img for img in found.images if ".webp" in img.get("src", "")]
    assert photos, found.images
    first = photos[0]
    assert first.get("width") and first.get("height")
    assert first.get("fetchpriority") == "high" and "loading" not in first
    widths = {part.split()[-1] for part in first["srcset"].split(",")}
    assert widths == {"360w", "720w"}


def test_home_hero_has_a_phone_sized_rendition(site):
    hero = [
        img for img in elements(site["html"]["home"]).images if img.get("fetchpriority") == "high"
    ]
    srcsets = [img.get("srcset", "") for img in hero]
    assert any("480w" in s and "1200w" in s for s in srcsets), srcsets


def template_thumbnail_sizes() -> set[str]:
    sizes = set()
    for name in ("oscar/catalogue/partials/product.html", "oscar/catalogue/detail.html"):
        text = (ROOT / "templates" / name).read_text(encoding="utf-8")
        for match in re.finditer(r'oscar_thumbnail \S+ "(\d+x\d+)" ([^%]*?) as ', text):
            assert match.group(2).split() == ['crop="center"', "upscale=False"], match.group(0)
            sizes.add(match.group(1))
    return sizes


def test_storefront_renditions_are_made_on_upload():
    """cooperatives/tasks.py makes, after an upload, every thumbnail the
    listing and product templates ask for, so no buyer waits for one."""
    made = {size for size, options in SITE_RENDITIONS}
    assert template_thumbnail_sizes() <= made
    assert all(opts == {"crop": "center", "upscale": False} for _, opts in SITE_RENDITIONS)


def test_listing_thumbnail_of_a_detailed_photo_is_a_small_webp(site):
    data = site["thumbnail"]
    with Image.open(io.BytesIO(data)) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("WEBP", (160, 160))
    assert len(data) < THUMBNAIL_LIMIT, f"{len(data)} bytes"


# --- Compression --------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(GZIPPED_HTML_LIMIT))
def test_pages_are_gzipped_and_small(site, page):
    encoding, body = site["gzipped"][page]
    assert encoding == "gzip"
    assert gzip.decompress(body).decode().count("</html>") == 1
    assert len(body) <= GZIPPED_HTML_LIMIT[page], f"{page}: {len(body)} bytes gzipped"


def test_photos_and_other_binary_responses_are_not_gzipped_again():
    middleware = TextGZipMiddleware(lambda request: None)
    request = RequestFactory().get("/media/x.webp", HTTP_ACCEPT_ENCODING="gzip")
    photo = HttpResponse(b"RIFF" + bytes(range(256)) * 4, content_type="image/webp")
    assert not middleware.process_response(request, photo).has_header("Content-Encoding")
    page = HttpResponse("<p>网农</p>" * 100, content_type="text/html; charset=utf-8")
    assert middleware.process_response(request, page)["Content-Encoding"] == "gzip"


def test_static_files_can_be_served_brotli_compressed_and_cached():
    """whitenoise writes .br files at collectstatic only if brotli imports;
    hashed names get its ten-year immutable caching, so a long max-age for
    plain names would only serve stale files."""
    import brotli  # noqa: F401

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
    assert settings.WHITENOISE_MAX_AGE <= 3600
