"""What buyers see of logistics: checkout refuses what cannot be shipped
(and says why), the preview shows how the delivery charge is made up, and
the order pages show each parcel with its tracking timeline."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.templatetags.currency_filters import currency

from logistics import shipments as logistics_shipments
from logistics import tracking
from logistics.adapters import TrackingUpdate
from logistics.models import Shipment, TrackingEvent
from tests import factories
from tests.cooperatives.conftest import make_cooperative
from tests.cooperatives.order_helpers import order_of

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
User = get_user_model()

GUANGZHOU = {
    **factories.GUEST_ADDRESS,
    "state": "广东省",
    "line4": "广州市",
    "line3": "天河区",
    "line2": "五山街道",
    "line1": "五山路 1 号",
    "division_id": "440106",
}
SHANGHAI_TZ = dt.timezone(dt.timedelta(hours=8))


def cny(amount: str) -> str:
    return currency(Decimal(amount), "CNY")


@pytest.fixture
def coops(china, carriers):
    radish = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    crab = make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )
    return radish, crab


@pytest.fixture
def goods(coops):
    """沙窝萝卜 (1 kg, ambient) and 土豆 (no weight) from the radish
    cooperative; 七里海河蟹 (1.5 kg, chilled) from the crab cooperative."""
    radish_coop, crab_coop = coops
    return {
        "radish": factories.product(
            "沙窝萝卜", price="20.00", stock=50, partner_obj=radish_coop.partner, net_weight_g=1000
        ),
        "potato": factories.product(
            "土豆", price="5.00", stock=50, partner_obj=radish_coop.partner
        ),
        "crab": factories.product(
            "七里海河蟹",
            price="88.00",
            stock=20,
            partner_obj=crab_coop.partner,
            net_weight_g=1500,
            storage_class="chilled",
        ),
    }


def to_shipping_method(client, items, address: dict):
    for product, quantity in items:
        factories.add_to_basket(client, product, quantity)
    response = client.post(
        reverse("checkout:index"), {"username": "buyer@example.com", "options": "anonymous"}
    )
    assert response.status_code == 302
    factories.set_shipping_address(client, address)
    return client.get(reverse("checkout:shipping-method"))


# --- checkout ----------------------------------------------------------------------


def test_chilled_goods_to_an_uncovered_address_are_refused_with_the_reason(client, goods):
    response = to_shipping_method(client, [(goods["crab"], 1), (goods["radish"], 1)], GUANGZHOU)
    assert response.status_code == 200
    html = response.content.decode()
    assert "不能配送" in html
    assert (
        "“七里海河蟹”需要冷藏配送，目前没有冷链承运商能送到广东省广州市天河区。"
        "请从购物篮删除这些商品，或换一个收货地址。"
    ) in html
    # The ambient radish could go (the nationwide express serves Guangzhou).
    assert "沙窝萝卜”" not in html
    assert f'href="{reverse("checkout:shipping-address")}"' in html
    assert f'href="{reverse("basket:summary")}"' in html
    # No method to choose and nothing chosen: the buyer cannot go on to pay.
    assert 'name="method_code"' not in html
    assert "shipping" not in client.session["checkout_data"] or not client.session["checkout_data"][
        "shipping"
    ].get("method_code")
    assert client.get(reverse("checkout:preview")).status_code == 302


def test_ambient_goods_to_the_same_address_go_through(client, goods):
    response = to_shipping_method(client, [(goods["radish"], 1)], GUANGZHOU)
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:payment-method")


def test_preview_shows_one_row_per_shipment_and_the_sum(client, goods):
    factories.guest_checkout_to_preview(
        client, [(goods["radish"], 2), (goods["potato"], 1), (goods["crab"], 1)]
    )
    response = client.get(reverse("checkout:preview"))
    assert response.status_code == 200
    plan = response.context["shipping_plan"]
    assert [(s.partner_name, s.temperature) for s in plan.shipments] == [
        ("天津市宁河区七里海生态养殖专业合作社", "chilled"),
        ("天津市西青区辛口沙窝萝卜种植专业合作社", "ambient"),
    ]
    html = response.content.decode()
    breakdown = html[html.index('class="summary-lines shipment-plan"') :]
    breakdown = breakdown[: breakdown.index("</ul>")]
    rows = re.findall(r"<li>(.*?)</li>", breakdown, re.S)
    assert len(rows) == 2
    crab_row, radish_row = (re.sub(r"\s+", " ", r) for r in rows)
    # Cold chain: 1.5 kg with the cold-chain carrier, ¥20 + ¥5 + ¥8 surcharge.
    assert "七里海生态养殖" in crab_row
    assert "badge-chilled" in crab_row and "冷藏 · 冷链" in crab_row
    assert "1.5 公斤" in crab_row and "约" not in crab_row
    assert "测试冷链" in crab_row and cny("33.00") in crab_row
    # Ambient: 2 kg of radish + the potato without a weight (1 kg assumed).
    assert "沙窝萝卜种植" in radish_row
    assert "常温" in radish_row and "冷链" not in radish_row
    assert "约 3 公斤" in radish_row
    assert "测试快递" in radish_row and cny("16.00") in radish_row
    assert "运费合计" in breakdown and cny("49.00") in breakdown
    assert "按默认重量估算运费" in html
    # The charge the buyer pays is that sum.
    assert response.context["shipping_charge"].incl_tax == Decimal("49.00")


def test_method_list_shows_the_breakdown_under_a_carrier_priced_method(rf, goods):
    """Oscar skips the page when there is one method; if a second method is
    ever offered, the carrier-priced one still shows its parcels."""
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage

    from logistics.planning import plan_basket
    from shop.shipping.repository import CarrierDelivery, station_delivery

    basket = factories.basket((goods["radish"], 1), (goods["crab"], 1))
    plan = plan_basket(basket, factories.GUEST_ADDRESS["division_id"])
    request = rf.get(reverse("checkout:shipping-method"))
    request.user = AnonymousUser()
    request.basket = basket
    request.session = {}
    request._messages = FallbackStorage(request)
    html = render_to_string(
        "oscar/checkout/shipping_methods.html",
        {"methods": [CarrierDelivery(plan), station_delivery()], "basket": basket},
        request=request,
    )
    assert html.count('name="method_code"') == 2
    assert html.count('class="summary-lines shipment-plan"') == 1
    assert "测试冷链" in html and "测试快递" in html
    assert cny("33.00") in html and cny("12.00") in html and cny("45.00") in html
    assert "不能配送" not in html


# --- order pages ---------------------------------------------------------------------


def ship(order) -> list[Shipment]:
    shipments = logistics_shipments.create_for_order(order)
    for index, shipment in enumerate(shipments):
        logistics_shipments.enter_tracking_number(shipment, f"TK{order.pk}{index}", by=None)
    return list(Shipment.objects.filter(order=order).select_related("carrier").order_by("pk"))


def events_for(shipment, *steps) -> list[TrackingUpdate]:
    return [
        TrackingUpdate(
            event_id=f"{shipment.tracking_number}-{status}",
            tracking_number=shipment.tracking_number,
            status=status,
            occurred_at=at,
            location=place,
            description=text,
        )
        for status, at, place, text in steps
    ]


def timeline_of(html: str, shipment) -> str:
    start = html.index(f'id="shipment-{shipment.pk}"')
    block = html[start:]
    return block[: block.index("</ol>")]


@pytest.fixture
def buyer(db):
    return User.objects.create_user("buyer", "buyer@example.com", "pw-buyer-123")


def test_order_page_shows_each_parcel_and_its_timeline_newest_first(client, goods, buyer):
    order = order_of((goods["radish"], 1), (goods["crab"], 1))
    Order.objects.filter(pk=order.pk).update(user=buyer)
    cold, ambient = sorted(ship(order), key=lambda s: s.temperature != "chilled")
    # The carrier reports out of order (in transit before picked up) and twice.
    updates = events_for(
        ambient,
        (
            "in_transit",
            dt.datetime(2026, 11, 27, 2, 15, tzinfo=dt.UTC),
            "天津分拨中心",
            "已发往广州",
        ),
        (
            "picked_up",
            dt.datetime(2026, 11, 26, 22, 5, tzinfo=dt.UTC),
            "西青区辛口镇",
            "快递员已揽收",
        ),
    )
    tracking.record(ambient.carrier, updates, source=TrackingEvent.Source.WEBHOOK)
    tracking.record(ambient.carrier, updates[:1], source=TrackingEvent.Source.WEBHOOK)

    client.force_login(buyer)
    response = client.get(reverse("customer:order", kwargs={"order_number": order.number}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "物流" in html
    assert "这笔订单由合作社分 2 个包裹发出" in html
    for shipment in (cold, ambient):
        assert shipment.tracking_number in html
        assert shipment.carrier.name in html
    assert "天津市宁河区七里海生态养殖专业合作社" in html
    assert "冷链（冷藏）" in html

    timeline = timeline_of(html, ambient)
    assert timeline.count("<li") == 2
    assert timeline.index("运输中") < timeline.index("已揽收")  # newest first
    # Times in Asia/Shanghai: 02:15 UTC is 10:15, 22:05 UTC the next day 06:05.
    assert "2026年11月27日 10:15" in timeline
    assert "2026年11月27日 06:05" in timeline
    assert 'datetime="2026-11-27T10:15:00+08:00"' in timeline
    assert "天津分拨中心" in timeline and "已发往广州" in timeline
    # The parcel's current status is the newest event's.
    assert re.search(rf'id="shipment-{ambient.pk}">.*?运输中', html, re.S)
    # The other parcel has no events yet.
    cold_block = html[html.index(f'id="shipment-{cold.pk}"') :]
    assert "还没有物流轨迹" in cold_block[: cold_block.index("</article>")]


def test_anonymous_order_status_page_has_tracking_but_no_personal_data(client, goods):
    order = order_of((goods["radish"], 1))
    (shipment,) = ship(order)
    tracking.record(
        shipment.carrier,
        events_for(
            shipment,
            ("delivered", dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC), "水高庄村", "已签收"),
        ),
        source=TrackingEvent.Source.WEBHOOK,
    )
    url = reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )
    # Oscar asks for the e-mail first.
    assert client.get(url).status_code == 302
    session = client.session
    session["anon_order_email"] = "buyer@example.com"
    session.save()
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert shipment.tracking_number in html
    assert "测试快递" in html
    assert "已签收" in html and "2026年11月28日 11:00" in html
    for private in ("13812345678", "138 1234 5678", "王小农", "水高庄村 8 号", "辛口镇"):
        assert private not in html, private


def test_order_without_shipments_has_no_logistics_section(client, goods, buyer):
    order = order_of((goods["radish"], 1))
    Order.objects.filter(pk=order.pk).update(user=buyer)
    client.force_login(buyer)
    response = client.get(reverse("customer:order", kwargs={"order_number": order.number}))
    assert response.status_code == 200
    assert 'id="order-shipments"' not in response.content.decode()


def test_order_shipments_tag_queries_do_not_grow_with_shipments(goods):
    small = order_of((goods["radish"], 1))
    ship(small)
    big = order_of((goods["radish"], 1), (goods["crab"], 2), (goods["potato"], 3))
    for shipment in ship(big):
        tracking.record(
            shipment.carrier,
            events_for(
                shipment,
                ("picked_up", dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC), "西青", ""),
                ("in_transit", dt.datetime(2026, 11, 26, 5, 0, tzinfo=dt.UTC), "天津", ""),
            ),
            source=TrackingEvent.Source.WEBHOOK,
        )
    counts = []
    for order in (small, big):
        with CaptureQueriesContext(connection) as queries:
            html = render_to_string("logistics/_order_shipments.html", {"order": order})
        counts.append(len(queries))
        assert 'id="order-shipments"' in html
    assert counts[0] == counts[1] <= 4, counts


def test_station_parcel_says_it_goes_to_the_station(goods):
    from tests.stations.conftest import assisted_order, make_resident, make_staff, make_station

    station = make_station()
    make_staff(station, "staff-logistics")
    resident = make_resident(station, "王秀英")
    station_order = assisted_order(station, resident, [(goods["radish"], 1)])
    html = render_to_string("logistics/_order_shipments.html", {"order": station_order.order})
    assert "和本村其他订单一起送到上辛口村益农信息社" in html
    assert "测试快递" in html
