"""``manage.py load_demo``: the demo cooperatives, produce, pages and admin."""

import datetime
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site as DjangoSite
from django.core.management import call_command
from oscar.core.loading import get_model
from PIL import Image
from wagtail.models import Page, Site

from cms.blocks import HomeStreamBlock
from cms.demo import split_domain
from cms.models import HomePage, StandardPage
from divisions.models import Division
from shop.catalogue import demo_data
from shop.catalogue.management.commands.load_demo import harvest_date
from shop.catalogue.produce import Certification, StorageClass

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Country = get_model("address", "Country")

DEMO_CODES = [c["code"] for c in demo_data.COOPERATIVES]


def load_demo(*args) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(fast_passwords):
    return load_demo("--no-images")


def district_of(division: Division) -> Division:
    return Division.objects.get(code=division.code[:6], level=Division.Level.COUNTY)


def partner_products(partner):
    """Top-level products a cooperative sells (a variant counts as its parent)."""
    products = {}
    for sr in StockRecord.objects.filter(partner=partner).select_related("product__parent"):
        top = sr.product.parent or sr.product
        products[top.pk] = top
    return list(products.values())


def model_counts() -> dict[str, int]:
    labels = [
        "catalogue.Product",
        "catalogue.ProductClass",
        "catalogue.ProductCategory",
        "catalogue.ProductImage",
        "catalogue.Category",
        "partner.Partner",
        "partner.PartnerAddress",
        "partner.StockRecord",
        "address.Country",
        "search.ProductSearchDocument",
        "wagtailcore.Page",
        "wagtailcore.Revision",
        "wagtailcore.Site",
        "sites.Site",
        "auth.User",
    ]
    return {label: apps.get_model(label).objects.count() for label in labels}


def test_cooperatives_sell_produce_from_their_tianjin_district(demo):
    partners = Partner.objects.filter(code__in=DEMO_CODES)
    assert partners.count() >= 6
    districts = set()
    for partner in partners:
        assert "专业合作社" in partner.name
        address = partner.addresses.get()
        assert address.country.iso_3166_1_a2 == "CN"
        products = partner_products(partner)
        assert products, partner.name
        for product in products:
            origin = product.origin
            assert origin is not None and origin.code.startswith("12"), product.title
            district = district_of(origin)
            assert district.parent.parent.name == "天津市"
            # Each cooperative sells the produce of its own district.
            assert district.name == address.line3, (partner.name, product.title)
            districts.add(district.name)
    assert len(districts) >= 6


def test_browsable_catalogue(demo):
    products = Product.objects.browsable().filter(upc__startswith="WN-")
    assert products.count() >= 30
    certs = set(Certification.values)
    today = datetime.date.today()
    for product in products:
        assert product.product_class.name == "农产品"
        assert product.product_class.track_stock and product.product_class.requires_shipping
        assert product.categories.exists(), product.title
        assert product.storage_class in StorageClass.values
        assert set(product.certifications) <= certs
        assert product.harvest_date <= today + datetime.timedelta(days=1)
        assert product.shelf_life_days > 0
        assert product.unit
        sellable = [product] if not product.is_parent else list(product.children.all())
        for item in sellable:
            assert item.get_net_weight_g() > 0, item.title
            record = item.stockrecords.get()
            assert record.price > Decimal("0") and record.price_currency == "CNY"
            assert 20 <= record.num_in_stock <= 500
            assert record.partner_sku
    # Live produce travels chilled; some items are frozen.
    assert Product.objects.get(title__contains="七里海河蟹").storage_class == "chilled"
    assert Product.objects.get(title__contains="黄板泥鳅").storage_class == "chilled"
    assert Product.objects.filter(upc__startswith="WN-", storage_class="frozen").exists()
    # A few are low on stock, so the dashboard has something to flag.
    low = [sr for sr in StockRecord.objects.all() if sr.is_below_threshold]
    assert 1 <= len(low) <= 5
    # The category tree is in Chinese with Unicode slugs.
    top = Category.get_root_nodes()
    assert {"蔬菜", "水果", "粮油米面", "水产", "干果坚果", "禽蛋肉类"} <= {c.name for c in top}
    assert Category.objects.get(depth=1, name="蔬菜").slug == "蔬菜"


def test_geographical_indications(demo):
    radish = Product.objects.get(title__contains="沙窝萝卜", structure=Product.PARENT)
    assert district_of(radish.origin).name == "西青区"
    partner = radish.children.first().stockrecords.get().partner
    assert partner.code == "tj-xiqing-shawo"
    assert partner.addresses.get().line3 == "西青区"
    assert Certification.GEO_INDICATION in radish.certifications

    expected = {
        "WN-BH-001": ("茶淀玫瑰香葡萄", "滨海新区"),
        "WN-JN-001": ("小站稻", "津南区"),
        "WN-BD-001": ("宝坻黄板泥鳅", "宝坻区"),
        "WN-BS-001": ("宝坻大蒜", "宝坻区"),
        "WN-NH-001": ("七里海河蟹", "宁河区"),
        "WN-JZ-001": ("盘山磨盘柿", "蓟州区"),
        "WN-JX-001": ("黄花山核桃", "蓟州区"),
        "WN-BH-002": ("崔庄冬枣", "滨海新区"),
    }
    for upc, (name, district) in expected.items():
        product = Product.objects.get(upc=upc)
        assert name in product.title
        assert district_of(product.origin).name == district, name
        assert Certification.GEO_INDICATION in product.certifications, name


def test_variants_are_oscar_parent_and_child_products(demo):
    parents = Product.objects.filter(upc__startswith="WN-", structure=Product.PARENT)
    assert parents.count() >= 3
    for parent in parents:
        assert parent.product_class is not None
        assert not parent.stockrecords.exists()
        parent.full_clean()
        children = list(parent.children.all())
        assert len(children) >= 2
        prices = set()
        for child in children:
            child.full_clean()
            assert child.structure == Product.CHILD and child.product_class is None
            assert not child.categories.exists()
            assert child.get_origin() == parent.origin
            prices.add(child.stockrecords.get().price)
        assert len(prices) == len(children)
    titles = set(
        Product.objects.filter(parent__title__contains="沙窝萝卜").values_list("title", flat=True)
    )
    assert titles == {"5斤装", "10斤装"}


def test_idempotent_and_keeps_edits(demo):
    before = model_counts()
    record = StockRecord.objects.get(partner_sku="XQ-SW-5J")
    record.price = Decimal("42.00")
    record.save()

    output = load_demo("--no-images")

    assert model_counts() == before
    assert "Nothing to do" in output
    record.refresh_from_db()
    assert record.price == Decimal("42.00")


def test_search_index_covers_the_catalogue(demo):
    from shop.search.models import ProductSearchDocument

    top_level = Product.objects.filter(parent__isnull=True)
    assert ProductSearchDocument.objects.count() == top_level.count()
    doc = ProductSearchDocument.objects.get(product__upc="WN-XQ-001")
    assert doc.title_terms and doc.body_terms


def test_sites_and_wagtail_home_page(demo):
    hostname, port = split_domain(settings.SITE_DOMAIN)
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == (hostname, port)
    home = site.root_page.specific
    assert isinstance(home, HomePage)
    assert home.title == "网农 — 天津农产品" and home.slug == "home" and home.live
    assert home.latest_revision is not None
    assert not Page.objects.filter(title="Welcome to your new Wagtail site!").exists()

    blocks = {block.block_type: block.value for block in home.intro}
    assert set(blocks) == {
        "hero",
        "featured_products",
        "category_grid",
        "featured_courses",
        "latest_products",
    }
    assert blocks["hero"]["link_url"] == "/catalogue/"
    featured = list(blocks["featured_products"]["products"])
    assert len(featured) == 6 and all(isinstance(p, Product) for p in featured)
    assert {c.depth for c in blocks["category_grid"]["categories"]} == {1}
    assert blocks["latest_products"]["count"] == 8
    HomeStreamBlock().clean(home.intro)  # valid as an editor would save it

    about = StandardPage.objects.child_of(home).get(slug="about")
    assert about.title == "关于网农" and about.live

    django_site = DjangoSite.objects.get(pk=settings.SITE_ID)
    assert (django_site.domain, django_site.name) == (settings.SITE_DOMAIN, settings.SITE_NAME)
    assert Country.objects.get(iso_3166_1_a2="CN").is_shipping_country


def test_admin_user(demo):
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.is_active
    assert admin.email == "admin@wangnong.local"
    assert admin.check_password("wangnong-admin")


def test_existing_admin_password_is_never_reset(fast_passwords):
    user = get_user_model().objects.create_user("admin", "ops@example.com", "s3cret-local")
    load_demo("--no-images")
    user.refresh_from_db()
    assert user.check_password("s3cret-local")
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_product_photos(fast_passwords, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    load_demo()
    products = Product.objects.filter(upc__in=[p["upc"] for p in demo_data.PRODUCTS])
    images = ProductImage.objects.filter(product__in=products)
    assert images.count() == products.count() == len(demo_data.PRODUCTS)
    image = images.get(product__upc="WN-XQ-001")
    assert image.original.name.endswith(".jpg")
    with Image.open(image.original.path) as photo:
        assert photo.format == "JPEG" and photo.size == (800, 800)
    # A variant shows its parent's photo.
    child = Product.objects.get(upc="WN-XQ-001-5J")
    assert child.primary_image().pk == image.pk

    load_demo()
    assert ProductImage.objects.filter(product__in=products).count() == products.count()


def test_harvest_dates_follow_the_season():
    today = datetime.date(2026, 3, 1)
    assert harvest_date((10, 18), today) == datetime.date(2025, 10, 18)
    assert harvest_date((2, 1), today) == datetime.date(2026, 2, 1)
    assert harvest_date(2, today) == datetime.date(2026, 2, 27)


def test_split_domain():
    assert split_domain("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert split_domain("shop.example.cn") == ("shop.example.cn", 80)
    assert split_domain("[::1]:8000") == ("::1", 8000)


def test_photo_without_a_cjk_font(monkeypatch):
    from shop.catalogue import demo_images

    monkeypatch.setattr(demo_images, "_font_face", lambda: None)
    data = demo_images.render("radish", label="沙窝萝卜", subtitle="天津", gi=True)
    with Image.open(io.BytesIO(data)) as photo:
        assert photo.format == "JPEG" and photo.size == (800, 800)
