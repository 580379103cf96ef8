"""Assisted ordering in the station portal: the one order page (catalogue
search with variants, the resident's basket, checkout with cash), its
errors shown next to what was typed, the page-load budget from home to
receipt, and who may order for whom."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from shop.search.indexing import rebuild_index
from stations import ordering
from stations.models import AuditEvent, Station, StationOrder
from tests import factories
from tests.stations.conftest import make_resident, staff_of

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")


@pytest.fixture
def catalogue(produce):
    """The produce plus a parent product with two variants, indexed for search."""
    rice = factories.parent_product(
        "小站稻大米",
        [("5斤装", "35.00", 10), ("10斤装", "65.00", 5)],
        partner_obj=produce["coop_radish"].partner,
    )
    rebuild_index()
    return {**produce, "rice": rice}


@pytest.fixture
def staff_client(client, station_a):
    client.force_login(staff_of(station_a))
    return client


def url(name, resident):
    return reverse(f"station:{name}", kwargs={"pk": resident.pk})


def add(client, resident, product, quantity=1, q=""):
    return client.post(
        url("order-add", resident), {"product_id": product.pk, "quantity": quantity, "q": q}
    )


def basket_of(resident):
    return ordering.resident_basket(resident)


# --- Getting to the page ----------------------------------------------------------


def test_order_start_without_resident_goes_to_residents(staff_client):
    response = staff_client.get(reverse("station:order-start"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("station:residents")
    assert "请先选择或登记要代下单的居民" in response.content.decode()


def test_order_page_shows_who_and_suggestions(staff_client, resident_a, catalogue):
    response = staff_client.get(url("order", resident_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "为 王秀英 代下单" in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert 'name="q"' in html
    assert "沙窝萝卜" in html  # suggestions without a query
    assert 'aria-current="page">代下单' in html
    assert "购物篮是空的" in html
    assert "确认下单并打印小票" not in html  # no checkout for an empty basket


def test_search_uses_the_storefront_search(staff_client, resident_a, catalogue):
    response = staff_client.get(url("order", resident_a), {"q": "萝卜"})
    titles = [row.title for row in response.context["rows"]]
    assert titles[0] == "沙窝萝卜"  # best match first (the rice's cooperative grows radish too)
    assert "七里海河蟹" not in titles
    html = response.content.decode()
    assert 'value="萝卜"' in html
    assert f'name="product_id" value="{catalogue["radish"].pk}"' in html
    assert "¥20.00" in html


def test_parent_products_show_each_variant_with_its_price_and_add_button(
    staff_client, resident_a, catalogue
):
    response = staff_client.get(url("order", resident_a), {"q": "大米"})
    (row,) = response.context["rows"]
    assert row.is_parent
    assert sorted(v.variant_title for v in row.variants) == ["10斤装", "5斤装"]
    html = response.content.decode()
    for child in catalogue["rice"].children.all():
        assert f'name="product_id" value="{child.pk}"' in html
    assert f'name="product_id" value="{catalogue["rice"].pk}"' not in html
    assert "<strong>5斤装</strong>" in html and "<strong>10斤装</strong>" in html
    assert "¥35.00" in html and "¥65.00" in html


def test_suspended_sellers_products_are_not_offered(staff_client, resident_a, catalogue):
    catalogue["coop_crab"].partner.is_selling = False
    catalogue["coop_crab"].partner.save()
    response = staff_client.get(url("order", resident_a), {"q": "河蟹"})
    assert response.context["rows"] == []


# --- Adding and changing the basket ----------------------------------------------


def test_add_redirects_back_to_the_same_results(staff_client, resident_a, catalogue):
    response = add(staff_client, resident_a, catalogue["radish"], 2, q="萝卜")
    assert response.status_code == 302
    assert response["Location"] == url("order", resident_a) + "?q=%E8%90%9D%E5%8D%9C#catalogue"
    lines = list(basket_of(resident_a).all_lines())
    assert [(line.product_id, line.quantity) for line in lines] == [(catalogue["radish"].pk, 2)]
    page = staff_client.get(response["Location"])
    html = page.content.decode()
    assert "已加入：沙窝萝卜 × 2" in html
    assert "¥40.00" in html
    assert "确认下单并打印小票" in html


def test_add_a_variant(staff_client, resident_a, catalogue):
    child = catalogue["rice"].children.get(title="10斤装")
    assert add(staff_client, resident_a, child, 1, q="大米").status_code == 302
    assert [line.product_id for line in basket_of(resident_a).all_lines()] == [child.pk]


@pytest.mark.parametrize(
    ("product_key", "quantity", "message"),
    [
        ("rice", "1", "请先选择"),  # the parent itself
        ("radish", "abc", "请填写购买数量"),
        ("radish", "0", "请填写购买数量"),
        ("radish", "51", "不能再加"),  # 50 in stock
    ],
)
def test_add_errors_rerender_with_the_typed_quantity(
    staff_client, resident_a, catalogue, product_key, quantity, message
):
    product = catalogue[product_key]
    response = add(staff_client, resident_a, product, quantity, q="萝卜")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'value="萝卜"' in html  # still the same search
    if product_key == "radish":
        assert re.search(
            rf'id="qty-{product.pk}"[^>]*value="{quantity}"[^>]*aria-invalid="true"', html
        )
    assert basket_of(resident_a).is_empty


def test_add_unknown_or_hidden_product(staff_client, resident_a, catalogue):
    response = staff_client.post(
        url("order-add", resident_a), {"product_id": "999999", "quantity": "1"}
    )
    assert response.status_code == 200
    assert "没有找到这件商品" in response.content.decode()
    hidden = factories.product("内部样品", price="1.00", is_public=False)
    response = add(staff_client, resident_a, hidden)
    assert "没有找到这件商品" in response.content.decode()
    assert basket_of(resident_a).is_empty


def test_change_quantity_and_remove(staff_client, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["radish"], 1)
    add(staff_client, resident_a, catalogue["crab"], 1)
    radish_line, crab_line = basket_of(resident_a).all_lines()
    response = staff_client.post(
        url("order-basket", resident_a), {"line_id": radish_line.pk, "quantity": "3", "q": "萝卜"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?q=%E8%90%9D%E5%8D%9C#basket")
    assert basket_of(resident_a).all_lines().get(pk=radish_line.pk).quantity == 3
    response = staff_client.post(
        url("order-basket", resident_a), {"line_id": crab_line.pk, "quantity": "1", "remove": "1"}
    )
    assert response.status_code == 302
    assert [line.pk for line in basket_of(resident_a).all_lines()] == [radish_line.pk]
    staff_client.post(url("order-basket", resident_a), {"line_id": radish_line.pk, "quantity": "0"})
    assert basket_of(resident_a).is_empty


def test_basket_errors_keep_the_typed_quantity(staff_client, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["crab"], 1)
    (line,) = basket_of(resident_a).all_lines()
    response = staff_client.post(
        url("order-basket", resident_a), {"line_id": line.pk, "quantity": "21"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "不能改为 21 件" in html
    assert re.search(rf'id="line-qty-{line.pk}"[^>]*value="21"', html)
    response = staff_client.post(
        url("order-basket", resident_a), {"line_id": line.pk, "quantity": "x"}
    )
    assert "请填写数量" in response.content.decode()
    assert basket_of(resident_a).all_lines().get().quantity == 1


def test_another_residents_basket_line_cannot_be_changed(
    staff_client, station_a, resident_a, catalogue
):
    other = make_resident(station_a, "张建国", phone="")
    add(staff_client, resident_a, catalogue["radish"], 1)
    (line,) = basket_of(resident_a).all_lines()
    response = staff_client.post(url("order-basket", other), {"line_id": line.pk, "quantity": "0"})
    assert response.status_code == 200
    assert "购物篮里没有这件商品" in response.content.decode()
    assert basket_of(resident_a).all_lines().count() == 1


# --- Checkout ---------------------------------------------------------------------


def test_checkout_shows_the_amount_due_for_each_delivery(staff_client, station_a, catalogue):
    resident = make_resident(
        station_a, "刘大爷", phone="", delivery="home", address_detail="三排五号"
    )
    add(staff_client, resident, catalogue["radish"], 2)
    response = staff_client.get(url("order", resident))
    options = {o["value"]: o for o in response.context["delivery_options"]}
    assert options["station"]["quote"].amount_due == Decimal("40.00")
    # To the door at the carriers' rates: 2 × 1 kg (no weight given, the
    # fallback) = ¥12 first kg + ¥2 the next (tests/factories.carriers).
    assert options["home"]["quote"].amount_due == Decimal("54.00")
    assert response.context["delivery"] == "home"  # the resident's preference
    html = response.content.decode()
    assert "应收 ¥40.00" in html and "应收 ¥54.00" in html
    assert 'value="home" checked' in html
    assert "收到现金（元）" in html
    assert "在线支付" not in html


def test_home_delivery_needs_an_address(staff_client, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["radish"], 1)
    response = staff_client.get(url("order", resident_a))
    html = response.content.decode()
    assert re.search(r'value="home" disabled', html)
    assert 'value="station" checked' in html
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "home", "cash_received": "50"}
    )
    assert response.status_code == 200
    assert "没有登记门牌地址" in response.content.decode()
    assert not StationOrder.objects.exists()


def test_place_order_and_go_to_the_receipt(staff_client, station_a, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["radish"], 2)
    add(staff_client, resident_a, catalogue["crab"], 1)
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "station", "cash_received": "200"}
    )
    so = StationOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("station:order-receipt", kwargs={"pk": so.pk})
    assert so.resident == resident_a and so.station == station_a
    assert so.placed_by == staff_of(station_a)
    assert so.total == Decimal("128.00")
    assert so.cash_received == Decimal("200.00")
    assert so.change_given == Decimal("72.00")
    assert basket_of(resident_a).is_empty


@pytest.mark.parametrize(
    ("cash", "message"),
    [
        ("10", "收到的现金 ¥10.00 少于应付 ¥40.00，还差 ¥30.00。"),
        ("", "请填写收到的现金金额"),
        ("五十", "请填写收到的现金金额"),
    ],
)
def test_place_cash_errors_keep_everything_typed(
    staff_client, resident_a, catalogue, cash, message
):
    add(staff_client, resident_a, catalogue["radish"], 2)
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "station", "cash_received": cash, "q": "萝卜"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'name="cash_received" inputmode="decimal" autocomplete="off" value="{cash}"' in html
    assert 'value="萝卜"' in html
    assert 'value="station" checked' in html
    assert not StationOrder.objects.exists()
    assert basket_of(resident_a).all_lines().get().quantity == 2


def test_place_with_an_empty_basket(staff_client, resident_a, catalogue):
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "station", "cash_received": "50"}
    )
    assert response.status_code == 200
    assert "购物篮是空的，请先添加商品。" in response.content.decode()
    assert not StationOrder.objects.exists()


def test_place_with_a_stock_shortage(staff_client, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["crab"], 3)
    StockRecord.objects.filter(product=catalogue["crab"]).update(num_in_stock=2)
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "station", "cash_received": "300"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "“七里海河蟹”不能购买" in html
    assert 'value="300"' in html
    assert not StationOrder.objects.exists()


def test_place_with_a_suspended_seller(staff_client, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["crab"], 1)
    partner = catalogue["coop_crab"].partner
    partner.is_selling = False
    partner.save()
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "station", "cash_received": "100"}
    )
    assert response.status_code == 200
    assert "“七里海河蟹”不能购买" in response.content.decode()
    assert not StationOrder.objects.exists()


def test_bad_delivery_value(staff_client, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["radish"], 1)
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "drone", "cash_received": "50"}
    )
    assert response.status_code == 200
    assert "请选择收货方式。" in response.content.decode()


# --- The page-load budget ---------------------------------------------------------


def test_a_two_product_order_takes_at_most_eight_page_loads(
    staff_client, station_a, resident_a, catalogue
):
    """home → resident search → order page → search → add → search → add → place."""
    loads = 0

    def load(response):
        nonlocal loads
        loads += 1
        assert response.status_code == 200, response.status_code
        return response.content.decode()

    html = load(staff_client.get(reverse("station:home")))
    assert f'action="{reverse("station:residents")}"' in html
    html = load(staff_client.get(reverse("station:residents"), {"q": "王秀英"}))
    order_page = url("order", resident_a)
    assert f'href="{order_page}"' in html
    html = load(staff_client.get(order_page))
    assert f'action="{order_page}"' in html
    html = load(staff_client.get(order_page, {"q": "萝卜"}))
    assert f'value="{catalogue["radish"].pk}"' in html
    response = staff_client.post(
        url("order-add", resident_a),
        {"product_id": catalogue["radish"].pk, "quantity": 2, "q": "萝卜"},
        follow=True,
    )
    html = load(response)
    assert len(response.redirect_chain) == 1
    assert "已加入：沙窝萝卜 × 2" in html and 'value="萝卜"' in html
    html = load(staff_client.get(order_page, {"q": "河蟹"}))
    assert f'value="{catalogue["crab"].pk}"' in html
    response = staff_client.post(
        url("order-add", resident_a),
        {"product_id": catalogue["crab"].pk, "quantity": 1, "q": "河蟹"},
        follow=True,
    )
    html = load(response)
    assert "确认下单并打印小票" in html
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "station", "cash_received": "150"}, follow=True
    )
    html = load(response)
    so = StationOrder.objects.get()
    assert response.redirect_chain == [
        (reverse("station:order-receipt", kwargs={"pk": so.pk}), 302)
    ]
    assert so.pickup_code in html and "¥128.00" in html and "¥22.00" in html
    assert loads == 8


# --- Who may order ------------------------------------------------------------------


def test_suspended_station_cannot_order(staff_client, station_a, resident_a, catalogue):
    add(staff_client, resident_a, catalogue["radish"], 1)
    Station.objects.filter(pk=station_a.pk).update(status=Station.Status.SUSPENDED)
    response = staff_client.get(url("order", resident_a))
    assert response.status_code == 302 and response["Location"] == reverse("station:home")
    response = staff_client.post(
        url("order-place", resident_a), {"delivery": "station", "cash_received": "50"}, follow=True
    )
    assert "本站已暂停服务，不能代下单或收款。" in response.content.decode()
    assert not StationOrder.objects.exists()
    response = add(staff_client, resident_a, catalogue["radish"], 1)
    assert response.status_code == 302
    assert basket_of(resident_a).all_lines().get().quantity == 1


@pytest.mark.parametrize("name", ["order", "order-add", "order-basket", "order-place"])
def test_another_stations_resident_is_404(staff_client, resident_b, catalogue, name):
    method = staff_client.get if name == "order" else staff_client.post
    data = {
        "product_id": catalogue["radish"].pk,
        "quantity": "1",
        "delivery": "station",
        "cash_received": "50",
    }
    assert method(url(name, resident_b), data).status_code == 404
    assert staff_client.get(url(name, resident_b)).status_code == 404  # whatever the method
    assert basket_of(resident_b).is_empty
    assert not AuditEvent.objects.filter(action="order_placed").exists()


def test_non_staff_user_gets_404(client, resident_a, django_user_model):
    client.force_login(
        django_user_model.objects.create_user("shopper", "s@example.com", "pw-123456")
    )
    assert client.get(url("order", resident_a)).status_code == 404
    assert client.get(reverse("station:order-start")).status_code == 404
