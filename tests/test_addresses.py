"""Chinese delivery addresses: the division picker, mobile numbers, checkout
(with and without JavaScript) and the account's address book."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from oscar.core.loading import get_model

from divisions import services
from divisions.forms import normalise_mobile
from divisions.models import Division
from shop.address.forms import UserAddressForm
from shop.checkout.forms import ShippingAddressForm
from tests import factories

pytestmark = pytest.mark.django_db

Country = get_model("address", "Country")
UserAddress = get_model("address", "UserAddress")
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

# Real NBS codes (checked against divisions/data).
TIANJIN, TIANJIN_CITY, XIQING, XINKOU = "12", "1201", "120111", "120111102"
HEPING, QUANYECHANG = "120101", "120101001"
HEBEI, SHIJIAZHUANG, CHANG_AN, JIANBEI = "13", "1301", "130102", "130102001"

DIVISIONS = [
    (TIANJIN, "天津市", 1, None),
    (TIANJIN_CITY, "市辖区", 2, TIANJIN),
    (HEPING, "和平区", 3, TIANJIN_CITY),
    (QUANYECHANG, "劝业场街道", 4, HEPING),
    (XIQING, "西青区", 3, TIANJIN_CITY),
    (XINKOU, "辛口镇", 4, XIQING),
    (HEBEI, "河北省", 1, None),
    (SHIJIAZHUANG, "石家庄市", 2, HEBEI),
    (CHANG_AN, "长安区", 3, SHIJIAZHUANG),
    (JIANBEI, "建北街道", 4, CHANG_AN),
]


@pytest.fixture(autouse=True)
def divisions():
    """The divisions these tests use (the full table is normally loaded after
    migrate; this keeps the tests independent of that)."""
    for code, name, level, parent in DIVISIONS:
        Division.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent_id": parent}
        )
    services.clear_caches()
    yield
    services.clear_caches()


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Pages render {% static %}; without collectstatic there is no manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def china():
    return factories.china()


def address_data(**overrides: str) -> dict[str, str]:
    data = {
        "last_name": "王小农",
        "phone_number": "138 1234 5678",
        "province": TIANJIN,
        "city": TIANJIN_CITY,
        "county": XIQING,
        "town": XINKOU,
        "line1": "水高庄村 8 号",
        "postcode": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def messages(form) -> list[str]:
    return [str(m) for errors in form.errors.values() for m in errors]


# --- Mobile numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "8613812345678",
        "0086 138 1234 5678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_numbers_are_normalised(raw):
    assert normalise_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    ["12345", "2381234567", "1381234567a", "12812345678", "138123456789", "", "+1 1381234567"],
)
def test_invalid_mobile_numbers_are_refused(raw):
    assert normalise_mobile(raw) is None


# --- The form ----------------------------------------------------------------


def test_valid_tianjin_address(china):
    form = ShippingAddressForm(data=address_data(phone_number="+86 138-1234-5678"))
    assert form.is_valid(), form.errors
    address = form.instance
    assert address.division_id == XINKOU
    assert address.country == china
    assert (address.state, address.line4, address.line3, address.line2) == (
        "天津市",
        "",  # 市辖区 is a placeholder, not a city name
        "西青区",
        "辛口镇",
    )
    assert address.line1 == "水高庄村 8 号"
    assert address.first_name == "" and address.last_name == "王小农"
    assert str(address.phone_number) == "+8613812345678"
    assert address.region_text == "天津市 西青区 辛口镇"


def test_town_is_optional(china):
    form = ShippingAddressForm(data=address_data(town=""))
    assert form.is_valid(), form.errors
    assert form.instance.division_id == XIQING
    assert form.instance.line2 == ""


def test_province_level_names_for_an_ordinary_city(china):
    form = ShippingAddressForm(
        data=address_data(province=HEBEI, city=SHIJIAZHUANG, county=CHANG_AN, town=JIANBEI)
    )
    assert form.is_valid(), form.errors
    assert form.instance.line4 == "石家庄市"
    assert form.instance.region_text == "河北省 石家庄市 长安区 建北街道"


@pytest.mark.parametrize("phone", ["12345", "2381234567", "1381234567a"])
def test_invalid_phone_is_refused_in_chinese(china, phone):
    form = ShippingAddressForm(data=address_data(phone_number=phone))
    assert not form.is_valid()
    assert form.errors["phone_number"] == ["请输入正确的 11 位手机号码"]
    # Everything typed is shown again.
    html = str(form["phone_number"]) + str(form["line1"])
    assert phone in html and "水高庄村 8 号" in html


def test_county_in_another_city_is_refused(china):
    form = ShippingAddressForm(data=address_data(county=CHANG_AN, town=""))
    assert not form.is_valid()
    assert form.errors["county"] == ["所选区县不属于所选城市，请重新选择"]
    assert set(form.errors) == {"county"}
    assert 'value="王小农"' in str(form["last_name"])


def test_city_in_another_province_is_refused(china):
    form = ShippingAddressForm(data=address_data(city=SHIJIAZHUANG, county=XIQING))
    assert not form.is_valid()
    assert form.errors["city"] == ["所选城市不属于所选省份，请重新选择"]


def test_town_not_in_county_is_refused(china):
    form = ShippingAddressForm(data=address_data(town=QUANYECHANG))
    assert not form.is_valid()
    assert form.errors["town"] == ["所选乡镇/街道不属于所选区县，请重新选择"]


def test_missing_fields_get_chinese_messages(china):
    form = ShippingAddressForm(data=address_data(line1="", last_name="", county="", town=""))
    assert not form.is_valid()
    assert form.errors["line1"] == ["请填写详细地址（街道、门牌号等）"]
    assert form.errors["last_name"] == ["请填写收货人姓名"]
    assert form.errors["county"] == ["请选择区县"]


def test_bad_postcode(china):
    form = ShippingAddressForm(data=address_data(postcode="3001"))
    assert not form.is_valid()
    assert form.errors["postcode"] == ["邮政编码应为 6 位数字"]
    assert ShippingAddressForm(data=address_data(postcode="300380")).is_valid()


def test_missing_country_is_a_form_error_not_a_crash():
    Country.objects.filter(iso_3166_1_a2="CN").delete()
    form = ShippingAddressForm(data=address_data())
    assert not form.is_valid()
    assert "收货国家" in form.non_field_errors()[0]


def test_narrowing_validates_and_saves_nothing(china):
    form = ShippingAddressForm(data={"province": TIANJIN, "_narrow": "province", "line1": "x"})
    assert not form.is_valid()
    assert not form.errors
    # The municipality's only city level is chosen for the buyer, so the
    # county select is already filled.
    assert form["city"].value() == TIANJIN_CITY
    assert '<option value="1201" selected>天津市</option>' in str(form["city"])
    assert "西青区" in str(form["county"])
    assert "辛口镇" not in str(form["town"])


def test_unbound_form_starts_from_the_stored_division(china):
    form = ShippingAddressForm(initial={"division_id": XINKOU, "phone_number": "+86 138 1234 5678"})
    assert [form[n].value() for n in ("province", "city", "county", "town")] == [
        TIANJIN,
        TIANJIN_CITY,
        XIQING,
        XINKOU,
    ]
    assert form["phone_number"].value() == "13812345678"
    assert '<option value="120111102" selected>辛口镇</option>' in str(form["town"])


# --- The JSON the picker script reads -----------------------------------------


def test_children_json(client):
    response = client.get(reverse("divisions:children", kwargs={"code": TIANJIN}))
    assert response.status_code == 200
    assert "max-age=86400" in response["Cache-Control"]
    assert response.json() == {"children": [{"code": "1201", "name": "市辖区", "label": "天津市"}]}

    towns = client.get(reverse("divisions:children", kwargs={"code": XIQING})).json()["children"]
    assert {"code": XINKOU, "name": "辛口镇", "label": "辛口镇"} in towns

    provinces = client.get(reverse("divisions:children-root")).json()["children"]
    assert {p["code"] for p in provinces} >= {TIANJIN, HEBEI}

    assert client.get("/divisions/children/99/").status_code == 404
    assert client.get("/divisions/children/abc/").status_code == 404


# --- Checkout ------------------------------------------------------------------


@pytest.fixture
def product(carriers):
    product_class = ProductClass.objects.create(name="水果", requires_shipping=True)
    product = Product.objects.create(
        title="沙窝萝卜", product_class=product_class, structure=Product.STANDALONE
    )
    partner = Partner.objects.create(name="西青合作社")
    StockRecord.objects.create(
        product=product,
        partner=partner,
        partner_sku="LB-1",
        price=Decimal("20.00"),
        price_currency="CNY",
        num_in_stock=10,
    )
    return product


def add_to_basket(client, product) -> None:
    response = client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
    assert response.status_code == 302


def place_order(client):
    response = client.get(reverse("checkout:shipping-method"))
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:payment-method")
    response = client.post(reverse("checkout:payment-method"), {"method": "cod"})
    assert response.status_code == 302
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("checkout:thank-you")
    return Order.objects.get()


def test_guest_checkout_without_javascript(client, china, product):
    add_to_basket(client, product)
    response = client.post(
        reverse("checkout:index"), {"username": "buyer@example.com", "options": "anonymous"}
    )
    assert response.status_code == 302
    url = reverse("checkout:shipping-address")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_narrow"' in html and "下一步：选择城市" in html
    assert "divisions/picker.js" in html

    typed = {"last_name": "王小农", "phone_number": "+86 138 1234 5678", "line1": "水高庄村 8 号"}

    # Province chosen: the page comes back with Tianjin's districts to choose
    # from, everything typed is kept, and nothing is stored yet.
    page = client.post(url, {**typed, "province": TIANJIN, "_narrow": "province"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "西青区" in html and 'value="水高庄村 8 号"' in html
    assert 'class="errorlist' not in html
    assert client.get(reverse("checkout:shipping-method")).status_code == 302
    assert "new_address_fields" not in client.session["checkout_data"].get("shipping", {})

    # County chosen: its towns are offered.
    page = client.post(
        url,
        {**typed, "province": TIANJIN, "city": TIANJIN_CITY, "county": XIQING, "_narrow": "county"},
    )
    assert page.status_code == 200
    assert "辛口镇" in page.content.decode()

    # A bad phone number and a county from another city: Chinese messages,
    # values kept, no 500.
    page = client.post(
        url,
        {
            **typed,
            "phone_number": "12345",
            "province": TIANJIN,
            "city": TIANJIN_CITY,
            "county": CHANG_AN,
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "请输入正确的 11 位手机号码" in html
    assert "所选区县不属于所选城市，请重新选择" in html
    assert 'value="水高庄村 8 号"' in html

    response = client.post(
        url,
        {
            **typed,
            "province": TIANJIN,
            "city": TIANJIN_CITY,
            "county": XIQING,
            "town": XINKOU,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:shipping-method")

    # Coming back to the page shows the stored address in the selects.
    html = client.get(url).content.decode()
    assert '<option value="120111102" selected>辛口镇</option>' in html
    assert 'value="13812345678"' in html

    order = place_order(client)
    address = order.shipping_address
    assert address.division_id == XINKOU
    assert (address.state, address.line3, address.line2, address.line1) == (
        "天津市",
        "西青区",
        "辛口镇",
        "水高庄村 8 号",
    )
    assert address.last_name == "王小农" and address.first_name == ""
    assert str(address.phone_number) == "+8613812345678"
    assert address.country_id == "CN"


@pytest.fixture
def user():
    return get_user_model().objects.create_user(
        username="farmer", email="farmer@example.com", password="a-long-test-password"
    )


def test_address_book_saves_the_division(client, china, user):
    client.force_login(user)
    url = reverse("customer:address-create")
    page = client.get(url)
    assert page.status_code == 200
    assert "data-division-picker" in page.content.decode()

    page = client.post(url, {**address_data(county="", town=""), "_narrow": "city"})
    assert page.status_code == 200
    assert not UserAddress.objects.exists()

    response = client.post(url, address_data())
    assert response.status_code == 302
    address = UserAddress.objects.get(user=user)
    assert address.division_id == XINKOU
    assert address.state == "天津市" and address.line3 == "西青区"
    assert str(address.phone_number) == "+8613812345678"

    # Editing shows the chain and can move the address to another county.
    edit = reverse("customer:address-detail", kwargs={"pk": address.pk})
    html = client.get(edit).content.decode()
    assert '<option value="120111" selected>西青区</option>' in html
    response = client.post(edit, address_data(county=HEPING, town=QUANYECHANG))
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.division_id == QUANYECHANG
    assert (address.line3, address.line2) == ("和平区", "劝业场街道")


def test_user_address_form_keeps_the_user(china, user):
    form = UserAddressForm(user, data=address_data())
    assert form.is_valid(), form.errors
    address = form.save()
    assert address.user == user and address.division_id == XINKOU


def test_checkout_with_a_saved_address(client, china, user, product):
    saved = UserAddressForm(user, data=address_data()).save()
    client.force_login(user)
    add_to_basket(client, product)
    page = client.get(reverse("checkout:shipping-address"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "天津市 西青区 辛口镇" in html and "水高庄村 8 号" in html

    edit = client.get(reverse("checkout:user-address-update", kwargs={"pk": saved.pk}))
    assert edit.status_code == 200
    assert '<option value="120111102" selected>辛口镇</option>' in edit.content.decode()

    response = client.post(
        reverse("checkout:shipping-address"), {"action": "ship_to", "address_id": saved.pk}
    )
    assert response.status_code == 302
    order = place_order(client)
    assert order.shipping_address.division_id == XINKOU
