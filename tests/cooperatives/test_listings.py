"""Listings from a phone: the listings service (also used by bulk import) and
the portal's product pages — create with photos and variants, inline
price/stock, publish, pre-sale, bad input — and the list's query count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from cooperatives import listings
from cooperatives.listings import ListingData, VariantData
from cooperatives.models import Certification
from cooperatives.portal.listings import PER_PAGE
from shop.catalogue.listing import browsable_products
from tests import factories
from tests.cooperatives.conftest import manager_of
from tests.cooperatives.photos import small_jpeg

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def roots(db):
    vegetables = factories.category("蔬菜")
    fruit = factories.category("水果")
    return {
        "vegetables": vegetables,
        "roots": vegetables.add_child(name="根茎类"),
        "fruit": fruit,
        "grapes": fruit.add_child(name="葡萄"),
    }


@pytest.fixture
def green_food(coop_a):
    today = timezone.localdate()
    Certification.objects.create(
        cooperative=coop_a,
        type="green_food",
        number="LB-45-2301",
        issuer="中国绿色食品发展中心",
        expires_on=today + timedelta(days=365),
    )
    Certification.objects.create(
        cooperative=coop_a,
        type="organic",
        number="OR-1",
        issuer="某认证机构",
        expires_on=today - timedelta(days=1),  # expired yesterday
    )


def radish(**overrides) -> ListingData:
    fields = {
        "title": "沙窝萝卜",
        "category": "蔬菜 > 根茎类",
        "unit": "斤",
        "price": Decimal("6.50"),
        "stock": 120,
        "net_weight_g": 500,
        "storage_class": "常温",
        "description": "脆甜多汁。\n\n<script>alert(1)</script>",
    }
    fields.update(overrides)
    return ListingData(**fields)


def counts() -> tuple[int, int, int]:
    return Product.objects.count(), StockRecord.objects.count(), ProductImage.objects.count()


# --- Service ---------------------------------------------------------------------


def test_create_standalone_listing(coop_a, roots):
    product = listings.create_listing(coop_a, radish(sku="XQ-001"))
    record = product.stockrecords.get()
    assert record.partner == coop_a.partner
    assert record.partner_sku == "XQ-001"
    assert (record.price, record.num_in_stock, record.price_currency) == (
        Decimal("6.50"),
        120,
        "CNY",
    )
    assert product.product_class.name == "农产品"
    assert product.product_class.track_stock and product.product_class.requires_shipping
    assert list(product.categories.all()) == [roots["roots"]]
    assert product.unit == "jin" and product.storage_class == "ambient"
    assert product.origin_id == coop_a.division_id
    # What a farmer types is escaped: the storefront renders descriptions as HTML.
    assert "<script>" not in product.description and "&lt;script&gt;" in product.description
    assert listings.html_to_description(product.description).startswith("脆甜多汁。\n\n<script>")
    assert product in browsable_products()
    assert listings.products_of(coop_a).filter(pk=product.pk).exists()


def test_create_with_variants(coop_a, roots):
    data = radish(
        variants=[
            VariantData("5斤装", Decimal("25"), 40, 2500),
            VariantData("10斤装", Decimal("45.00"), 10, 5000),
        ]
    )
    product = listings.create_listing(coop_a, data)
    assert product.is_parent and not product.stockrecords.exists()
    children = list(product.children.order_by("pk"))
    assert [c.get_title() for c in children] == ["沙窝萝卜（5斤装）", "沙窝萝卜（10斤装）"]
    assert [c.stockrecords.get().price for c in children] == [Decimal("25.00"), Decimal("45.00")]
    assert all(c.stockrecords.get().partner == coop_a.partner for c in children)
    assert listings.sku_of(product).startswith("WN")
    assert product in browsable_products()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"price": Decimal("0")}, "price", "价格必须大于 0。"),
        ({"price": Decimal("-3")}, "price", "价格必须大于 0。"),
        ({"price": "abc"}, "price", "价格必须是数字"),
        ({"price": Decimal("1.234")}, "price", "最多保留两位小数"),
        ({"price": None}, "price", "请填写价格。"),
        ({"stock": -1}, "stock", "库存不能小于 0。"),
        ({"stock": "3.5"}, "stock", "库存必须是整数。"),
        ({"title": "  "}, "title", "请填写商品名称。"),
        ({"category": "菌菇"}, "category", "没有“菌菇”这个分类。"),
        ({"unit": "吨"}, "unit", "销售单位只能是：斤、公斤、箱、袋、盒。"),
        ({"storage_class": "恒温"}, "storage_class", "储运温层只能是：常温、冷藏、冷冻。"),
        ({"net_weight_g": 0}, "net_weight_g", "净重必须大于 0 克。"),
        ({"presale": True}, "presale_ships_on", "预售商品请填写预计发货日期。"),
        (
            {"harvest_date": timezone.localdate() + timedelta(days=3)},
            "harvest_date",
            "采收日期不能晚于今天",
        ),
        ({"certifications": ["organic"]}, "certifications", "没有有效的“有机产品”证书"),
        ({"certifications": ["pollution_free"]}, "certifications", "没有有效的“无公害农产品”证书"),
        ({"certifications": ["火星认证"]}, "certifications", "不认识的认证：火星认证。"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(
    coop_a, roots, green_food, overrides, field, message
):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        listings.create_listing(coop_a, radish(**overrides))
    assert message in " ".join(exc.value.message_dict[field])
    assert counts() == before


def test_several_errors_are_reported_together(coop_a, roots):
    with pytest.raises(ValidationError) as exc:
        listings.create_listing(coop_a, radish(price=Decimal("0"), stock=-5, title=""))
    assert set(exc.value.message_dict) == {"price", "stock", "title"}


def test_bad_variant_saves_nothing(coop_a, roots):
    before = counts()
    data = radish(
        variants=[VariantData("5斤装", Decimal("25"), 40), VariantData("10斤装", Decimal("-1"), 3)]
    )
    with pytest.raises(ValidationError) as exc:
        listings.create_listing(coop_a, data)
    assert "规格 2：价格必须大于 0。" in exc.value.message_dict["variants"]
    assert counts() == before


def test_certifications_held_are_accepted_by_code_or_label(coop_a, roots, green_food):
    product = listings.create_listing(coop_a, radish(certifications=["绿色食品"]))
    assert product.certifications == ["green_food"]
    assert product.get_certification_labels() == ["绿色食品"]


def test_category_by_name_and_ambiguity(coop_a, roots):
    assert listings.resolve_category("葡萄") == roots["grapes"]
    assert listings.resolve_category("水果 > 葡萄") == roots["grapes"]
    roots["vegetables"].add_child(name="葡萄")  # now two categories called 葡萄
    with pytest.raises(ValidationError, match="请写完整路径"):
        listings.resolve_category("葡萄")
    assert listings.resolve_category("水果>葡萄") == roots["grapes"]


def test_presale(coop_a, roots):
    ships = timezone.localdate() + timedelta(days=30)
    product = listings.create_listing(
        coop_a,
        radish(presale=True, presale_ships_on=ships, harvest_date=ships - timedelta(days=2)),
    )
    assert product.is_presale and product.presale_ships_on == ships
    with pytest.raises(ValidationError, match="不能早于今天"):
        listings.update_listing(
            coop_a,
            product,
            radish(presale=True, presale_ships_on=timezone.localdate() - timedelta(days=1)),
        )


def test_sku_is_unique_per_cooperative_only(coop_a, coop_b, roots):
    listings.create_listing(coop_a, radish(sku="R-1"))
    with pytest.raises(ValidationError, match="已被“沙窝萝卜”使用"):
        listings.create_listing(coop_a, radish(sku="R-1", title="另一种萝卜"))
    listings.create_listing(coop_b, radish(sku="R-1"))  # another cooperative may use it


def test_set_stock_and_price(coop_a, roots):
    product = listings.create_listing(coop_a, radish())
    record = product.stockrecords.get()
    listings.set_stock_and_price(record, "7.80", "30")
    record.refresh_from_db()
    assert (record.price, record.num_in_stock) == (Decimal("7.80"), 30)
    for price, stock, message in [("0", "5", "价格必须大于 0。"), ("7", "-1", "库存不能小于 0。")]:
        with pytest.raises(ValidationError, match=message):
            listings.set_stock_and_price(record, price, stock)
    record.refresh_from_db()
    assert (record.price, record.num_in_stock) == (Decimal("7.80"), 30)
    StockRecord.objects.filter(pk=record.pk).update(num_allocated=12)
    with pytest.raises(ValidationError, match="已有 12 件被未发货的订单占用，库存不能少于 12"):
        listings.set_stock_and_price(record, "7.80", "11")
    listings.set_stock_and_price(record, "7.80", "12")


def test_add_variant_turns_a_standalone_product_into_a_parent(coop_a, roots):
    product = listings.create_listing(coop_a, radish(sku="R-9"))
    record = product.stockrecords.get()
    child = listings.add_variant(
        coop_a, product, VariantData("10斤装", Decimal("45"), 8, 5000), existing_title="1斤装"
    )
    product.refresh_from_db()
    assert product.is_parent and not product.stockrecords.exists()
    first = product.children.get(title="1斤装")
    record.refresh_from_db()
    assert record.product == first and record.num_in_stock == 120  # stock moved along
    assert child.parent == product and child.stockrecords.get().price == Decimal("45.00")
    assert listings.sku_of(product) == "R-9"  # imports still find it by its old SKU
    with pytest.raises(ValidationError, match="已有名为“10斤装”的规格"):
        listings.add_variant(coop_a, product, VariantData("10斤装", Decimal("1"), 1))


def test_services_refuse_another_cooperatives_product(coop_a, coop_b, roots):
    product = listings.create_listing(coop_b, radish())
    with pytest.raises(ValidationError, match="不是本合作社的商品"):
        listings.update_listing(coop_a, product, radish(title="改掉"))
    with pytest.raises(ValidationError):
        listings.set_public(coop_a, product, False)
    product.refresh_from_db()
    assert product.title == "沙窝萝卜" and product.is_public


# --- upsert_listing_by_sku (bulk import) ------------------------------------------


def test_upsert_creates_then_updates(coop_a, roots):
    product, created = listings.upsert_listing_by_sku(coop_a, radish(sku="R-1"))
    assert created
    again, created = listings.upsert_listing_by_sku(
        coop_a, radish(sku="R-1", price=Decimal("8"), stock=5, title="沙窝萝卜（新）")
    )
    assert not created and again.pk == product.pk
    record = again.stockrecords.get()
    assert (again.title, record.price, record.num_in_stock) == (
        "沙窝萝卜（新）",
        Decimal("8.00"),
        5,
    )


def test_upsert_variant_rows(coop_a, roots):
    five, created = listings.upsert_listing_by_sku(
        coop_a, radish(sku="R-5", parent_sku="R", variant_title="5斤装", price=Decimal("25"))
    )
    assert created and five.is_child
    ten, created = listings.upsert_listing_by_sku(
        coop_a, radish(sku="R-10", parent_sku="R", variant_title="10斤装", price=Decimal("45"))
    )
    assert created and ten.parent_id == five.parent_id
    parent = five.parent
    assert listings.sku_of(parent) == "R"
    same, created = listings.upsert_listing_by_sku(
        coop_a,
        radish(sku="R-5", parent_sku="R", variant_title="5斤装", price=Decimal("26"), stock=3),
    )
    assert not created and same.pk == five.pk
    assert same.stockrecords.get().price == Decimal("26.00")
    assert parent.children.count() == 2
    # A variant SKU without its parent, or a parent SKU used as a row SKU.
    with pytest.raises(ValidationError, match="请填写所属商品编码"):
        listings.upsert_listing_by_sku(coop_a, radish(sku="R-5"))
    with pytest.raises(ValidationError, match="请按规格逐行填写"):
        listings.upsert_listing_by_sku(coop_a, radish(sku="R"))


def test_upsert_bad_row_saves_nothing(coop_a, roots):
    before = counts()
    with pytest.raises(ValidationError):
        listings.upsert_listing_by_sku(
            coop_a, radish(sku="R-5", parent_sku="R", variant_title="5斤装", stock=-2)
        )
    assert counts() == before


# --- Portal pages -------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "title": "沙窝萝卜",
        "category": "",
        "price": "6.50",
        "unit": "jin",
        "stock": "120",
        "net_weight_g": "500",
        "storage_class": "ambient",
        "harvest_date": "",
        "presale_ships_on": "",
        "description": "脆甜",
        "sku": "",
        "is_public": "on",
    }
    data.update(overrides)
    return data


def test_member_creates_a_product_with_a_photo_and_it_is_on_the_storefront(
    member_client, coop_a, roots, django_capture_on_commit_callbacks
):
    url = reverse("coop:product-create")
    assert member_client.get(url).status_code == 200
    data = form_data(category=roots["roots"].pk, photos=[small_jpeg()])
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    product = listings.products_of(coop_a).get()
    image = product.images.get()
    assert image.original.name.endswith(".wn.jpg")  # processed by the photo task
    page = member_client.get(product.get_absolute_url())
    assert page.status_code == 200 and "沙窝萝卜" in page.content.decode()
    listing = member_client.get(reverse("catalogue:index")).content.decode()
    assert "沙窝萝卜" in listing


def test_create_form_keeps_input_and_saves_nothing_on_error(member_client, coop_a, roots):
    before = counts()
    response = member_client.post(
        reverse("coop:product-create"),
        form_data(category=roots["roots"].pk, price="0", stock="-4", title="七里海河蟹"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "价格必须大于 0。" in html and "库存不能小于 0。" in html
    assert 'value="七里海河蟹"' in html and 'value="-4"' in html and 'value="0"' in html
    assert counts() == before


def test_create_form_refuses_a_file_that_is_not_an_image(member_client, coop_a, roots):
    from tests.cooperatives.imagefiles import renamed_pdf

    before = counts()
    response = member_client.post(
        reverse("coop:product-create"),
        form_data(category=roots["roots"].pk, photos=[renamed_pdf("IMG_1.jpg")]),
    )
    assert response.status_code == 200
    assert "文件不是图片" in response.content.decode()
    assert counts() == before


def test_create_form_with_variants(member_client, coop_a, roots):
    data = form_data(
        category=roots["roots"].pk,
        price="",
        stock="",
        v1_title="5斤装",
        v1_price="25",
        v1_stock="40",
        v1_net_weight_g="2500",
        v2_title="10斤装",
        v2_price="45",
        v2_stock="10",
    )
    response = member_client.post(reverse("coop:product-create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    product = listings.products_of(coop_a).get()
    assert sorted(product.children.values_list("title", flat=True)) == ["10斤装", "5斤装"]


def test_certifications_offered_are_the_cooperatives_own(member_client, coop_a, roots, green_food):
    html = member_client.get(reverse("coop:product-create")).content.decode()
    assert 'value="green_food"' in html
    assert 'value="organic"' not in html  # expired
    assert 'value="geo_indication"' not in html


def test_inline_stock_and_price(member_client, coop_a, roots):
    product = listings.create_listing(coop_a, radish())
    record = product.stockrecords.get()
    url = reverse("coop:stock-update", kwargs={"pk": record.pk})
    prefix = f"sr{record.pk}"
    response = member_client.post(
        url, {f"{prefix}-price": "7.20", f"{prefix}-stock": "33", "page": "1"}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.price, record.num_in_stock) == (Decimal("7.20"), 33)

    response = member_client.post(url, {f"{prefix}-price": "-1", f"{prefix}-stock": "-2"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "价格必须大于 0。" in html and "库存不能小于 0。" in html
    assert 'value="-2"' in html  # what was typed stays in the row
    record.refresh_from_db()
    assert (record.price, record.num_in_stock) == (Decimal("7.20"), 33)
    assert member_client.get(url).status_code == 405


def test_publish_toggle(member_client, coop_a, roots):
    product = listings.create_listing(coop_a, radish())
    url = reverse("coop:product-publish", kwargs={"pk": product.pk})
    assert member_client.post(url).status_code == 302
    product.refresh_from_db()
    assert not product.is_public and product not in browsable_products()
    member_client.post(url, {"action": "publish"})
    member_client.post(url, {"action": "publish"})  # a double tap stays published
    product.refresh_from_db()
    assert product.is_public


def test_edit_product_and_photos(member_client, coop_a, roots, django_capture_on_commit_callbacks):
    product = listings.create_listing(coop_a, radish())
    url = reverse("coop:product-edit", kwargs={"pk": product.pk})
    html = member_client.get(url).content.decode()
    assert 'value="6.50"' in html and "脆甜多汁" in html
    ships = (timezone.localdate() + timedelta(days=20)).isoformat()
    data = form_data(
        category=roots["roots"].pk,
        title="沙窝萝卜 预售",
        presale="on",
        presale_ships_on=ships,
        photos=[small_jpeg("a.jpg"), small_jpeg("b.jpg")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert product.title == "沙窝萝卜 预售" and product.is_presale
    assert product.images.count() == 2
    card = member_client.get(reverse("catalogue:index")).content.decode()
    assert "预售，预计" in card
    detail = member_client.get(product.get_absolute_url()).content.decode()
    assert "预售，预计" in detail and "发货" in detail
    image = product.images.first()
    delete = reverse("coop:product-image-delete", kwargs={"pk": image.pk})
    assert member_client.post(delete).status_code == 302
    assert product.images.count() == 1


def test_variant_pages(member_client, coop_a, roots):
    product = listings.create_listing(coop_a, radish())
    url = reverse("coop:variant-create", kwargs={"pk": product.pk})
    assert "现有规格的名称" in member_client.get(url).content.decode()
    response = member_client.post(
        url,
        {
            "existing_title": "1斤装",
            "variant_title": "10斤装",
            "price": "45",
            "stock": "8",
            "is_public": "on",
        },
    )
    assert response.status_code == 302
    child = product.children.get(title="10斤装")
    edit = reverse("coop:variant-edit", kwargs={"pk": child.pk})
    response = member_client.post(
        edit, {"variant_title": "10斤装", "price": "0", "stock": "8", "is_public": "on"}
    )
    assert response.status_code == 200 and "价格必须大于 0。" in response.content.decode()
    response = member_client.post(
        edit, {"variant_title": "10斤礼盒", "price": "48", "stock": "8", "is_public": "on"}
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.title == "10斤礼盒" and child.stockrecords.get().price == Decimal("48.00")


def test_list_shows_only_own_products_and_searches(member_client, coop_a, coop_b, roots):
    listings.create_listing(coop_a, radish(title="红心萝卜", sku="A-1"))
    listings.create_listing(coop_b, radish(title="七里海河蟹", sku="B-1"))
    url = reverse("coop:products")
    html = member_client.get(url).content.decode()
    assert "红心萝卜" in html and "七里海河蟹" not in html
    assert "红心萝卜" in member_client.get(url, {"q": "A-1"}).content.decode()
    found = member_client.get(url, {"q": "B-1"}).content.decode()
    assert "红心萝卜" not in found and "七里海河蟹" not in found


def test_non_members_are_kept_out(client, coop_a):
    url = reverse("coop:products")
    assert client.get(url).status_code == 302  # to the login page
    outsider = factories.partner("无关合作社")  # noqa: F841 - a partner alone is no membership
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("shopper", "s@example.com", "pw"))
    assert client.get(url).status_code == 404


# --- Query count -----------------------------------------------------------------------


def grow(coop, to: int, roots) -> None:
    """Products until the cooperative has ``to``: standalone ones and parents
    with two variants, some with a photo, some pre-sale."""
    have = listings.products_of(coop).count()
    for i in range(have, to):
        data = radish(title=f"萝卜{i}", sku=f"Q-{i}", description="")
        if i % 3 == 2:
            data.variants = [
                VariantData("小份", Decimal("10"), 5),
                VariantData("大份", Decimal("18"), 0),
            ]
        if i % 4 == 1:
            data.presale = True
            data.presale_ships_on = timezone.localdate() + timedelta(days=10)
        product = listings.create_listing(coop, data)
        if i % 2 == 0:
            image = ProductImage(product=product, display_order=0)
            image.original.save(f"q{i}.jpg", small_jpeg(), save=True)


def list_queries(client, expected: int) -> int:
    url = reverse("coop:products")
    client.get(url)  # warm the thumbnail store and the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["rows"]) == expected
    return len(ctx.captured_queries)


def test_product_list_query_count_is_constant(client, coop_a, roots):
    client.force_login(manager_of(coop_a))
    grow(coop_a, 5, roots)
    few = list_queries(client, 5)
    grow(coop_a, 55, roots)
    many = list_queries(client, PER_PAGE)  # a full page
    assert many == few, f"{few} queries for 5 products, {many} for a page of {PER_PAGE}"
    # 6 for the list itself (count, products, photos, stock records,
    # variants, their stock records); the rest is the site's chrome
    # (session, user, membership, basket, category menu, Wagtail site).
    assert few <= 20, few
    print(f"\nportal product list: {few} SQL queries per page")


def test_product_list_counts_in_the_page_query(client, coop_a, roots):
    """The total comes with the page (COUNT(*) OVER ()), not from a COUNT of
    its own over the same join; pages past the end still show the last one."""
    client.force_login(manager_of(coop_a))
    grow(coop_a, 55, roots)
    url = reverse("coop:products")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.context["total"] == 55
    counts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert counts == [], counts
    last = client.get(url, {"page": "9"})  # past the end: the last page, as get_page does
    pages, rest = divmod(55, PER_PAGE)
    assert last.context["page_obj"].number == pages + bool(rest)
    assert len(last.context["rows"]) == (rest or PER_PAGE)


def test_paginate_matches_get_page(coop_a, roots):
    from django.core.paginator import Paginator

    from cooperatives.portal.listings import paginate

    grow(coop_a, 7, roots)
    products = listings.portal_list(coop_a)
    for number in (None, "", "abc", "2.0", "0", "-1", "1", "2", "3", "4", "99"):
        expected = Paginator(products, 3).get_page(number)
        paginator, page = paginate(products, number, 3)
        assert (page.number, paginator.count, paginator.num_pages) == (
            expected.number,
            expected.paginator.count,
            expected.paginator.num_pages,
        ), number
        assert [p.pk for p in page] == [p.pk for p in expected], number
    paginator, page = paginate(Product.objects.none(), "1", 3)
    assert (paginator.count, page.number, list(page)) == (0, 1, [])


def test_portal_list_is_products_of(coop_a, coop_b, roots):
    grow(coop_a, 6, roots)
    listings.create_listing(coop_b, radish(title="别社的", sku="B-9"))
    assert set(listings.portal_list(coop_a).values_list("pk", flat=True)) == set(
        listings.products_of(coop_a).values_list("pk", flat=True)
    )


def test_row_inputs_are_what_the_stock_form_gives(coop_a, roots):
    from cooperatives.portal.listings import STOCK_INPUTS, RowInput, StockForm

    record = listings.create_listing(coop_a, radish()).stockrecords.get()
    form = StockForm(
        prefix=f"sr{record.pk}", initial={"price": record.price, "stock": record.num_in_stock}
    )
    labels = {name: str(StockForm.base_fields[name].label) for name, _mode in STOCK_INPUTS}
    fast, slow = RowInput.for_record(record, labels), RowInput.from_bound(form)
    for a, b in zip(fast, slow, strict=True):
        assert (a.auto_id, a.html_name, str(a.label), a.value, a.inputmode) == (
            b.auto_id,
            b.html_name,
            str(b.label),
            b.value,
            b.inputmode,
        )
        assert not a.errors and not b.errors


def test_list_thumbnails_are_the_template_tags(client, coop_a, roots):
    """One cache lookup for the page's photos gives the URLs {% oscar_thumbnail %} gives."""
    from django.template import Context, Template

    from cooperatives.portal.thumbnails import thumbnail_urls

    client.force_login(manager_of(coop_a))
    grow(coop_a, 4, roots)
    images = list(ProductImage.objects.filter(product__in=listings.products_of(coop_a)))
    assert images
    first = thumbnail_urls([i.original for i in images], "240x240", crop="center", upscale=False)
    from unittest import mock

    from sorl.thumbnail import default

    with mock.patch.object(default.kvstore.cache, "get", side_effect=AssertionError("one by one")):
        again = thumbnail_urls(
            [i.original for i in images], "240x240", crop="center", upscale=False
        )
    tag = Template(
        '{% load image_tags %}{% oscar_thumbnail f "240x240" crop="center" upscale=False as t %}'
        "{{ t.url }}"
    )
    expected = [tag.render(Context({"f": i.original})) for i in images]
    assert first == again == expected and all(expected)
    html = client.get(reverse("coop:products")).content.decode()
    assert all(f'src="{url}"' in html for url in expected)
