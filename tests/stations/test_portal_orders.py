"""The station's orders in the portal: list and search, detail (line
statuses, parcels, cash, no pickup code), cancelling with a reason, and the
printable receipt (audit-logged), all scoped to the staff member's station."""

from __future__ import annotations

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from stations.models import AuditEvent, CashEntry, Parcel, StationOrder
from tests.stations.conftest import assisted_order, make_resident, staff_of

pytestmark = pytest.mark.django_db

Line = get_model("order", "Line")
ORDERS = reverse("station:orders")
CODE = "975310"


@pytest.fixture
def staff_client(client, station_a):
    client.force_login(staff_of(station_a))
    return client


@pytest.fixture
def placed(station_a, resident_a, produce):
    so = assisted_order(
        station_a, resident_a, [(produce["radish"], 2), (produce["crab"], 1)], cash="200"
    )
    StationOrder.objects.filter(pk=so.pk).update(pickup_code=CODE)
    so.refresh_from_db()
    return so


def url(name, so):
    return reverse(f"station:{name}", kwargs={"pk": so.pk})


# --- List -------------------------------------------------------------------------


def test_list_newest_first_with_search(staff_client, station_a, resident_a, produce, placed):
    other = make_resident(station_a, "张建国", phone="")
    newer = assisted_order(station_a, other, [(produce["radish"], 1)])
    response = staff_client.get(ORDERS)
    assert list(response.context["station_orders"]) == [newer, placed]
    html = response.content.decode()
    assert placed.order.number in html and "王秀英" in html
    assert CODE not in html
    by_name = staff_client.get(ORDERS, {"q": "建国"}).context["station_orders"]
    assert list(by_name) == [newer]
    by_number = staff_client.get(ORDERS, {"q": placed.order.number}).context["station_orders"]
    assert list(by_number) == [placed]
    assert 'value="建国"' in staff_client.get(ORDERS, {"q": "建国"}).content.decode()


def test_list_is_paginated(staff_client, station_a, resident_a, produce):
    for _ in range(21):
        assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    response = staff_client.get(ORDERS)
    assert len(response.context["station_orders"]) == 20
    assert len(staff_client.get(ORDERS, {"page": 2}).context["station_orders"]) == 1


def test_list_shows_only_own_orders(staff_client, station_b, resident_b, produce, placed):
    theirs = assisted_order(station_b, resident_b, [(produce["radish"], 1)])
    response = staff_client.get(ORDERS)
    assert list(response.context["station_orders"]) == [placed]
    assert theirs.order.number not in response.content.decode()
    assert not staff_client.get(ORDERS, {"q": theirs.order.number}).context["station_orders"]


# --- Detail -------------------------------------------------------------------------


def test_detail_shows_lines_parcels_cash_but_not_the_pickup_code(staff_client, placed):
    Line.objects.filter(order=placed.order, title="沙窝萝卜").update(status="accepted")
    response = staff_client.get(url("order-detail", placed))
    assert response.status_code == 200
    html = response.content.decode()
    assert placed.order.number in html
    assert "沙窝萝卜" in html and "七里海河蟹" in html
    assert "已接单" in html and "待接单" in html  # line status labels
    assert html.count("在途") == 2  # two parcels, one per cooperative
    assert "代购收款" in html and "¥128.00" in html
    assert "¥72.00" in html  # change
    assert CODE not in html
    assert url("order-cancel", placed) in html
    assert url("order-receipt", placed) in html


def test_detail_has_no_cancel_button_once_shipped(staff_client, placed):
    Line.objects.filter(order=placed.order).update(status="shipped")
    html = staff_client.get(url("order-detail", placed)).content.decode()
    assert url("order-cancel", placed) not in html


# --- Cancel -------------------------------------------------------------------------


def test_cancel_form_then_cancel(staff_client, station_a, placed):
    response = staff_client.get(url("order-cancel", placed))
    assert response.status_code == 200
    html = response.content.decode()
    assert "取消原因" in html and "¥128.00" in html
    response = staff_client.post(url("order-cancel", placed), {"reason": "居民不要了"})
    assert response.status_code == 302
    assert response["Location"] == url("order-detail", placed)
    placed.refresh_from_db()
    assert placed.is_cancelled and placed.cancel_reason == "居民不要了"
    assert placed.cancelled_by == staff_of(station_a)
    assert (
        CashEntry.objects.filter(station_order=placed, kind="refund").get().amount == -placed.total
    )
    assert set(placed.parcels.values_list("status", flat=True)) == {Parcel.Status.CANCELLED}
    page = staff_client.get(response["Location"]).content.decode()
    assert "请把 ¥128.00 现金退还给居民" in page
    assert "已取消" in page
    assert url("order-cancel", placed) not in page


def test_cancel_without_reason_keeps_the_form(staff_client, placed):
    response = staff_client.post(url("order-cancel", placed), {"reason": "   "})
    assert response.status_code == 200
    assert "请填写取消原因。" in response.content.decode()
    placed.refresh_from_db()
    assert not placed.is_cancelled


def test_cancel_refused_once_shipped(staff_client, placed):
    Line.objects.filter(order=placed.order, title="七里海河蟹").update(status="shipped")
    response = staff_client.post(url("order-cancel", placed), {"reason": "下错了"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "“七里海河蟹”已经发出，订单不能取消" in html
    assert 'name="reason"' not in html  # nothing left to submit
    placed.refresh_from_db()
    assert not placed.is_cancelled


def test_cancel_twice_is_refused(staff_client, placed):
    staff_client.post(url("order-cancel", placed), {"reason": "居民不要了"})
    response = staff_client.post(url("order-cancel", placed), {"reason": "再取消一次"})
    assert response.status_code == 200
    assert "这笔订单已经取消过了。" in response.content.decode()
    assert CashEntry.objects.filter(station_order=placed, kind="refund").count() == 1


# --- Receipt ------------------------------------------------------------------------


def test_receipt_has_what_the_resident_needs_and_is_audited(
    staff_client, station_a, resident_a, placed
):
    response = staff_client.get(url("order-receipt", placed))
    assert response.status_code == 200
    html = response.content.decode()
    assert station_a.name in html
    assert "022-27391234" in html  # the station's phone
    assert placed.order.number in html
    assert "王秀英" in html
    assert resident_a.phone not in html and "138****5678" not in html
    assert "沙窝萝卜" in html and "七里海河蟹" in html
    assert "¥20.00" in html and "¥40.00" in html and "¥88.00" in html
    assert "¥128.00" in html  # total
    assert "¥200.00" in html  # cash received
    assert "¥72.00" in html  # change
    assert CODE in html and "凭此取货码到站取货" in html
    assert "到站自提" in html
    assert "8:00–18:00" in html
    assert staff_of(station_a).get_username() in html  # the staff member's name
    assert "css/station-receipt.css" in html
    assert "js-print" in html and "Ctrl+P" in html
    event = AuditEvent.objects.get(action="receipt_printed")
    assert event.order == placed.order and event.resident == resident_a
    assert event.actor == staff_of(station_a)


def test_receipt_paper_switch(staff_client, placed):
    html = staff_client.get(url("order-receipt", placed), {"paper": "a4"}).content.decode()
    assert "@page{size:A4" in html and "paper-a4" in html
    html = staff_client.get(url("order-receipt", placed), {"paper": "80mm"}).content.decode()
    assert "paper-80mm" in html and "size:A4" not in html
    html = staff_client.get(url("order-receipt", placed), {"paper": "<script>"}).content.decode()
    assert "paper-&lt;" not in html and "paper-<" not in html


def test_receipt_of_a_home_delivery_has_no_pickup_code(staff_client, station_a, produce):
    resident = make_resident(
        station_a, "刘大爷", phone="", delivery="home", address_detail="三排五号"
    )
    so = assisted_order(station_a, resident, [(produce["radish"], 1)], delivery="home")
    html = staff_client.get(url("order-receipt", so)).content.decode()
    assert "送货上门" in html and "三排五号" in html
    assert "¥12.00" in html  # shipping
    assert so.pickup_code not in html.split("订单号", 1)[1].replace(so.order.number, "")
    assert "凭此取货码到站取货" not in html


def test_receipt_of_a_cancelled_order_is_marked(staff_client, placed):
    staff_client.post(url("order-cancel", placed), {"reason": "居民不要了"})
    response = staff_client.get(url("order-receipt", placed))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="receipt-cancelled">已取消' in html
    assert "居民不要了" in html
    assert "凭此取货码到站取货" not in html


# --- Scope --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["order-detail", "order-receipt", "order-cancel"])
def test_another_stations_order_is_404(staff_client, station_b, resident_b, produce, name):
    theirs = assisted_order(station_b, resident_b, [(produce["radish"], 1)])
    assert staff_client.get(url(name, theirs)).status_code == 404
    if name == "order-cancel":
        assert staff_client.post(url(name, theirs), {"reason": "x"}).status_code == 404
        theirs.refresh_from_db()
        assert not theirs.is_cancelled
    assert not AuditEvent.objects.filter(action="receipt_printed").exists()


def test_non_staff_user_gets_404(client, placed, django_user_model):
    client.force_login(
        django_user_model.objects.create_user("shopper", "s@example.com", "pw-123456")
    )
    assert client.get(ORDERS).status_code == 404
    assert client.get(url("order-receipt", placed)).status_code == 404
