"""Platform staff's logistics pages at /dashboard/logistics/ (Oscar's
dashboard): the shipment list and its filters, a shipment's page and every
action on it (through the services, their refusals shown in Chinese with
the form kept), labels (a failing carrier is a message, never a 500),
unmatched tracking events, the cost report and its CSV, the carriers; the
Django admin's carrier editing. Nobody but platform staff gets in."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from logistics import shipments as shipping
from logistics import tracking
from logistics.adapters import TrackingUpdate
from logistics.models import (
    Carrier,
    OutboxMessage,
    RateZone,
    ServiceArea,
    Shipment,
    ShipmentLog,
    TrackingEvent,
)
from stations.models import Resident
from tests.logistics import staff_helpers as h
from tests.logistics.conftest import SIM_SECRET, make_http_carrier
from tests.stations.conftest import assisted_order, make_resident, make_staff, make_station

pytestmark = pytest.mark.django_db

User = get_user_model()
NAMESPACE = "logistics-dashboard"
Status = Shipment.Status


def url(name: str, **kwargs) -> str:
    return reverse(f"{NAMESPACE}:{name}", kwargs=kwargs)


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def platform(django_user_model):
    return django_user_model.objects.create_user(
        "platform", "platform@example.com", "pw-staff-123", is_staff=True
    )


@pytest.fixture
def staff_client(platform):
    client = Client()
    client.force_login(platform)
    return client


@pytest.fixture
def coops(carriers):
    return {
        "radish": h.cooperative("天津市西青区辛口沙窝萝卜种植专业合作社"),
        "crab": h.cooperative("天津市宁河区七里海生态养殖专业合作社", "120117"),
    }


@pytest.fixture
def goods(coops):
    return {
        "radish": h.produce(coops["radish"], "沙窝萝卜", grams=1000),
        "crab": h.produce(coops["crab"], "七里海河蟹", grams=1500, storage="chilled"),
    }


def handed_to_carrier(django_capture_on_commit_callbacks, *items, **address):
    """Place an order and run its hand-off (after commit) as the worker would."""
    with django_capture_on_commit_callbacks(execute=True):
        order, shipments = h.place_order(*items, **address)
    for shipment in shipments:
        shipment.refresh_from_db()
    return order, shipments


@pytest.fixture
def awaiting(goods, django_capture_on_commit_callbacks):
    """A manual carrier's shipment waiting for its tracking number."""
    order, [shipment] = handed_to_carrier(django_capture_on_commit_callbacks, (goods["radish"], 2))
    assert shipment.status == Status.AWAITING_TRACKING
    return shipment


@pytest.fixture
def spare_express(carriers):
    """A third carrier for ambient parcels anywhere in China: ¥15 + ¥3/kg."""
    from divisions.models import Division

    carrier = Carrier.objects.create(code="spare", name="备用快递", services=["express"])
    zone = RateZone.objects.create(
        carrier=carrier, name="全国", first_price=Decimal("15.00"), additional_price=Decimal("3.00")
    )
    ServiceArea.objects.bulk_create(
        ServiceArea(carrier=carrier, zone=zone, division_id=code)
        for code in Division.objects.filter(level=1).values_list("code", flat=True)
    )
    return carrier


@pytest.fixture
def consolidated(goods, settings):
    """Two station orders in one consolidated shipment, still collecting."""
    station = make_station()
    make_staff(station, "staff-a")
    for name, phone, qty in (("王秀英", "13812345678", 1), ("李桂兰", "13987654321", 3)):
        resident = make_resident(station, name, phone=phone)
        assisted_order(
            station, resident, [(goods["radish"], qty)], delivery=Resident.Delivery.STATION
        )
    shipment = Shipment.objects.get(station=station)
    assert shipment.status == Status.COLLECTING and shipment.items.count() == 2
    return shipment


# --- Who gets in ----------------------------------------------------------------------


def dashboard_urls(resolver=None, namespace: str = ""):
    """(url name, keyword names) of every pattern in the logistics-dashboard namespace."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (
                ":".join(filter(None, [namespace, entry.namespace]))
                if entry.namespace
                else namespace
            )
            yield from dashboard_urls(entry, inner)
        elif isinstance(entry, URLPattern) and namespace == NAMESPACE:
            yield f"{namespace}:{entry.name}", list(entry.pattern.regex.groupindex)


def filled(url_name: str, kwarg_names: list[str], objs: dict) -> str:
    kwargs = {}
    for kwarg in kwarg_names:
        if kwarg not in objs:
            raise AssertionError(f"add a value for {url_name}'s `{kwarg}` to the test")
        kwargs[kwarg] = objs[kwarg]
    return reverse(url_name, kwargs=kwargs)


POST_ONLY = {"override", "retry", "cancel", "tracking-number", "record-status", "close"}


def test_the_walk_finds_every_page():
    names = {name for name, _kwargs in dashboard_urls()}
    expected = {"list", "attention", "unmatched", "costs", "carriers", "detail", "label"}
    assert {f"{NAMESPACE}:{n}" for n in expected | POST_ONLY} <= names


def test_only_platform_staff_get_in(client, awaiting, coops):
    customer = User.objects.create_user("shopper", "shopper@example.com", "pw-shop-123")
    coop_manager = coops["radish"].memberships.get(role="manager").user
    objects = {"pk": awaiting.pk}
    walked = 0
    for name, kwarg_names in dashboard_urls():
        target = filled(name, kwarg_names, objects)
        client.logout()
        for method in (client.get, client.post):
            response = method(target)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith(reverse("dashboard:login")), name
        for user in (customer, coop_manager):
            client.force_login(user)
            assert client.get(target).status_code == 403, (name, user)
            posted = client.post(target, {"cancel-reason": "x", "tracking-tracking_number": "X1"})
            assert posted.status_code == 403, (name, user)
        walked += 1
    assert walked >= 13
    awaiting.refresh_from_db()
    assert awaiting.status == Status.AWAITING_TRACKING and not awaiting.tracking_number


def test_every_page_renders_for_staff(staff_client, awaiting):
    for name, kwarg_names in dashboard_urls():
        response = staff_client.get(filled(name, kwarg_names, {"pk": awaiting.pk}))
        short = name.split(":")[1]
        if short in POST_ONLY:
            assert response.status_code == 405, name
        elif short == "label":
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        else:
            assert response.status_code == 200, name
            assert "物流" in html(response), name


def test_dashboard_menu_has_logistics(staff_client):
    page = html(staff_client.get(reverse("dashboard:index")))
    assert "物流" in page
    for label in ("发货单", "待处理", "运费报表", "承运商"):
        assert label in page
    for name in ("list", "attention", "costs", "carriers"):
        assert url(name) in page


# --- The list ----------------------------------------------------------------------------


def test_list_shows_and_filters_shipments(
    staff_client, goods, coops, consolidated, django_capture_on_commit_callbacks, platform
):
    order, shipments = handed_to_carrier(
        django_capture_on_commit_callbacks, (goods["radish"], 1), (goods["crab"], 1)
    )
    radish, crab = sorted(shipments, key=lambda s: s.temperature)
    radish = shipping.enter_tracking_number(radish, "SF1001", by=platform)
    Shipment.objects.filter(pk=crab.pk).update(needs_attention=True, last_error="HTTP 500 出错")

    page = html(staff_client.get(url("list")))
    for text in [
        f"WN{radish.pk}",
        f"WN{crab.pk}",
        f"WN{consolidated.pk}",
        "测试快递",
        "测试冷链",
        "SF1001",
        "已交运",
        "待填运单号",
        "合并中",
        "HTTP 500 出错",
        f"¥{crab.cost}",
        order.number,
    ]:
        assert text in page, text

    def listed(**params) -> set[int]:
        response = staff_client.get(url("list"), params)
        return {s.pk for s in response.context["shipments"]}

    assert listed(attention="1") == {crab.pk}
    assert listed(status="collecting") == {consolidated.pk}
    assert listed(carrier=crab.carrier_id) == {crab.pk}
    assert listed(partner=coops["crab"].partner_id) == {crab.pk}
    assert listed(q="sf1001") == {radish.pk}
    assert listed(q=order.number) == {radish.pk, crab.pk}
    # An order in a consolidated shipment finds it too.
    station_order = consolidated.items.first().line.order
    assert listed(q=station_order.number) == {consolidated.pk}
    assert listed(q=f"WN{consolidated.pk}") == {consolidated.pk}
    assert listed(q="nothing-like-it") == set()
    assert listed(status="bogus", carrier="x") == {radish.pk, crab.pk, consolidated.pk}

    attention = staff_client.get(url("attention"))
    assert {s.pk for s in attention.context["shipments"]} == {crab.pk}
    assert "HTTP 500 出错" in html(attention)


def test_list_is_paginated(staff_client, goods, settings):
    for _n in range(3):
        h.place_order((goods["radish"], 1))
    from logistics.dashboard.views import ShipmentListView

    original = ShipmentListView.paginate_by
    ShipmentListView.paginate_by = 2
    try:
        first = staff_client.get(url("list"))
        second = staff_client.get(url("list"), {"page": 2})
    finally:
        ShipmentListView.paginate_by = original
    assert len(first.context["shipments"]) == 2 and len(second.context["shipments"]) == 1
    assert "page=2" in html(first)


# --- A shipment's page --------------------------------------------------------------------


def test_detail_shows_items_recipient_timeline_log_and_outbox(staff_client, awaiting, platform):
    tracking.record_by_staff(
        awaiting, "picked_up", location="辛口镇网点", note="已揽收", by=platform
    )
    page = html(staff_client.get(url("detail", pk=awaiting.pk)))
    order = awaiting.items.first().line.order
    for text in [
        f"WN{awaiting.pk}",
        "王小农",
        "+8613812345678",  # staff see the full number: the courier needs it
        "水高庄村 8 号",
        order.number,
        "沙窝萝卜",
        "已揽收",
        "辛口镇网点",
        "platform",
        "手工承运商：请打印面单",  # our log
        "交运",  # the outbox row
        "完成",
        "下载面单 PDF",
        "录入运单号",
    ]:
        assert text in page, text
    assert staff_client.get(url("detail", pk=999999)).status_code == 404


# --- Actions ----------------------------------------------------------------------------------


def test_override_carrier(staff_client, awaiting, spare_express, platform, carriers):
    express, cold = carriers
    detail = html(staff_client.get(url("detail", pk=awaiting.pk)))
    assert "备用快递 · 快递 · ¥18.00" in detail  # 2 kg: ¥15 + ¥3
    assert "测试快递 · 快递 · ¥14.00（当前）" in detail
    assert "测试冷链" not in detail.split('id="override"')[1].split("</section>")[0]

    response = staff_client.post(url("override", pk=awaiting.pk), {"override-carrier": cold.pk})
    page = html(response)
    assert response.status_code == 200
    assert "测试冷链不能承运这个发货单" in page and "承运商没有更换" in page
    awaiting.refresh_from_db()
    assert awaiting.carrier == express

    response = staff_client.post(
        url("override", pk=awaiting.pk), {"override-carrier": spare_express.pk}
    )
    assert response.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.carrier == spare_express and awaiting.cost == Decimal("18.00")
    assert awaiting.status == Status.PENDING and awaiting.carrier_overridden_by == platform
    assert ShipmentLog.objects.filter(shipment=awaiting, message__contains="备用快递").exists()
    assert awaiting.outbox.filter(kind="create", done_at__isnull=True).count() == 1
    assert "已改由备用快递承运" in html(staff_client.get(response["Location"]))


def test_override_refused_once_at_the_carrier(staff_client, awaiting, spare_express, platform):
    shipping.enter_tracking_number(awaiting, "SF2002", by=platform)
    page = html(
        staff_client.post(url("override", pk=awaiting.pk), {"override-carrier": spare_express.pk})
    )
    assert "已经交给承运商，不能再更换承运商" in page
    awaiting.refresh_from_db()
    assert awaiting.carrier.code == "test-express"


@pytest.fixture
def flagged(simulator, goods, django_capture_on_commit_callbacks):
    """A shipment the carrier refused (wrong signing secret): flagged for staff."""
    carrier = make_http_carrier(simulator.url)
    Carrier.objects.filter(pk=carrier.pk).update(api_secret="not-the-secret")
    order, [shipment] = handed_to_carrier(django_capture_on_commit_callbacks, (goods["radish"], 1))
    assert shipment.carrier == carrier
    assert shipment.needs_attention and shipment.status == Status.PENDING
    assert "401" in shipment.last_error
    return shipment


def test_retry_after_fixing_the_carrier(
    staff_client, flagged, simulator, django_capture_on_commit_callbacks
):
    page = html(staff_client.get(url("attention")))
    assert f"WN{flagged.pk}" in page and "401" in page
    Carrier.objects.filter(pk=flagged.carrier_id).update(api_secret=SIM_SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url("retry", pk=flagged.pk))
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == Status.HANDED_OFF and flagged.tracking_number
    assert not flagged.needs_attention
    assert simulator.state.counts["created"] == 1
    assert "重新交运" in html(staff_client.get(url("detail", pk=flagged.pk)))

    # Once at the carrier there is nothing to retry: the service says so.
    page = html(staff_client.post(url("retry", pk=flagged.pk)))
    assert "只有待交运的发货单可以重新交运" in page


def test_no_status_by_hand_before_the_carrier_booked_it(staff_client, flagged):
    response = staff_client.post(
        url("record-status", pk=flagged.pk), {"status-status": "picked_up"}
    )
    assert "模拟快递还没有接单，不能手工记录物流状态" in html(response)
    flagged.refresh_from_db()
    assert flagged.status == Status.PENDING and not flagged.events.exists()


def test_cancel_needs_a_reason(staff_client, awaiting):
    response = staff_client.post(url("cancel", pk=awaiting.pk), {"cancel-reason": "  "})
    page = html(response)
    assert response.status_code == 200 and "请写明取消原因" in page
    awaiting.refresh_from_db()
    assert awaiting.status == Status.AWAITING_TRACKING

    response = staff_client.post(url("cancel", pk=awaiting.pk), {"cancel-reason": "买家取消订单"})
    assert response.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.status == Status.CANCELLED
    assert ShipmentLog.objects.filter(shipment=awaiting, message__contains="买家取消订单").exists()
    assert awaiting.outbox.filter(kind=OutboxMessage.Kind.CANCEL).exists()
    page = html(staff_client.post(url("cancel", pk=awaiting.pk), {"cancel-reason": "再取消"}))
    assert "已经取消了" in page


def test_enter_tracking_number(staff_client, awaiting, goods, platform):
    bad = staff_client.post(
        url("tracking-number", pk=awaiting.pk), {"tracking-tracking_number": "SF 12#"}
    )
    page = html(bad)
    assert "请输入快递员给的运单号（字母和数字）" in page
    assert 'value="SF 12#"' in page  # what was typed is kept
    other = h.place_order((goods["radish"], 1))[1][0]
    shipping.enter_tracking_number(other, "SF3003", by=platform)
    page = html(
        staff_client.post(
            url("tracking-number", pk=awaiting.pk), {"tracking-tracking_number": "sf3003"}
        )
    )
    assert "运单号 SF3003 已用于另一个发货单" in page
    awaiting.refresh_from_db()
    assert not awaiting.tracking_number

    response = staff_client.post(
        url("tracking-number", pk=awaiting.pk), {"tracking-tracking_number": "sf3004"}
    )
    assert response.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.tracking_number == "SF3004" and awaiting.status == Status.HANDED_OFF


def test_record_a_status_by_hand(staff_client, awaiting, platform):
    page = html(staff_client.post(url("record-status", pk=awaiting.pk), {"status-note": "电话"}))
    assert "请选择物流状态" in page and 'value="电话"' in page
    assert not awaiting.events.exists()

    response = staff_client.post(
        url("record-status", pk=awaiting.pk),
        {
            "status-status": "delivered",
            "status-location": "水高庄村",
            "status-note": "电话确认签收",
        },
    )
    assert response.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.tracking_status == "delivered"
    event = awaiting.events.get()
    assert event.source == TrackingEvent.Source.STAFF and event.recorded_by == platform
    assert event.location == "水高庄村"
    assert "电话确认签收" in html(staff_client.get(url("detail", pk=awaiting.pk)))


def test_close_a_consolidated_shipment_now(staff_client, consolidated, awaiting):
    detail = html(staff_client.get(url("detail", pk=consolidated.pk)))
    assert "现在结束合并并交运" in detail and "合并发往服务站" in detail
    response = staff_client.post(url("close", pk=consolidated.pk))
    assert response.status_code == 302
    consolidated.refresh_from_db()
    assert consolidated.status == Status.PENDING
    assert consolidated.outbox.filter(kind="create").count() == 1
    assert "已结束合并" in html(staff_client.get(response["Location"]))

    page = html(staff_client.post(url("close", pk=awaiting.pk)))
    assert "只有合并中的发货单可以提前结束合并" in page
    awaiting.refresh_from_db()
    assert awaiting.status == Status.AWAITING_TRACKING


def test_labels(staff_client, awaiting, simulator, goods, django_capture_on_commit_callbacks):
    # A manual carrier: our waybill.
    response = staff_client.get(url("label", pk=awaiting.pk))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert f"waybill-WN{awaiting.pk}.pdf" in response["Content-Disposition"]

    # A carrier with an API: its own label, once booked.
    carrier = make_http_carrier(simulator.url)
    _order, [booked] = handed_to_carrier(django_capture_on_commit_callbacks, (goods["radish"], 1))
    assert booked.carrier == carrier and booked.tracking_number
    response = staff_client.get(url("label", pk=booked.pk))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")

    # The carrier down: a message, not a 500.
    Carrier.objects.filter(pk=carrier.pk).update(api_base_url="http://127.0.0.1:9")
    response = staff_client.get(url("label", pk=booked.pk), follow=True)
    assert response.status_code == 200
    assert "没有拿到模拟快递的面单" in html(response)

    # Not booked yet: nothing to fetch.
    pending = h.place_order((goods["radish"], 1))[1][0]
    assert pending.carrier == carrier and not pending.tracking_number
    response = staff_client.get(url("label", pk=pending.pk), follow=True)
    assert "面单要在交运之后才能下载" in html(response)


# --- Tracking events nobody claimed ------------------------------------------------------


def test_unmatched_events_attach_when_the_number_is_entered(
    staff_client, awaiting, platform, django_capture_on_commit_callbacks
):
    update = TrackingUpdate(
        event_id="ev-1",
        tracking_number="SF9009",
        status="picked_up",
        occurred_at=timezone.now(),
        location="西青分拨中心",
    )
    tracking.record(awaiting.carrier, [update], source=TrackingEvent.Source.WEBHOOK)
    page = html(staff_client.get(url("unmatched")))
    assert "SF9009" in page and "西青分拨中心" in page and "测试快递" in page
    assert "对不上任何发货单" in html(staff_client.get(url("list")))

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            url("tracking-number", pk=awaiting.pk), {"tracking-tracking_number": "SF9009"}
        )
    awaiting.refresh_from_db()
    assert awaiting.tracking_status == "picked_up"
    assert not staff_client.get(url("unmatched")).context["page_obj"].object_list


# --- Cost report -----------------------------------------------------------------------------


def test_cost_report_page_and_csv(staff_client, goods, consolidated, coops):
    order, _shipments = h.place_order((goods["radish"], 2), (goods["crab"], 1))
    today = timezone.localdate()
    params = {"start": today.isoformat(), "end": (today + dt.timedelta(days=1)).isoformat()}
    page = html(staff_client.get(url("costs"), params))
    for text in ["运费报表", "合并发往服务站", "测试快递", "测试冷链", order.number, "¥47.00"]:
        assert text in page, text
    assert "节省" in page  # consolidation's effect

    response = staff_client.get(url("costs"), {**params, "format": "csv", "table": "orders"})
    assert response["Content-Type"].startswith("text/csv")
    assert "shipping-costs-orders-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["订单号", "下单时间", "发货方式"]
    row = next(r for r in rows[1:] if r[0] == order.number)
    assert row[2:] == ["直发", "2", "3.500", "47.00", "47.00", "0.00"]
    merged = [r for r in rows[1:] if r[2] == "合并"]
    assert sorted(r[5] for r in merged) == ["13.50", "4.50"]  # ¥18 shared 1 kg : 3 kg

    response = staff_client.get(url("costs"), {**params, "format": "csv", "table": "carriers"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "承运商"
    express = next(r for r in rows[1:] if r[0] == "测试快递")
    assert express[1:6] == ["2", "3", "6.000", "32.00", "10.67"]  # ¥14 + ¥18, 3 parcels


def test_cost_report_csv_is_formula_safe(staff_client, carriers):
    coop = h.cooperative("=HYPERLINK(1)合作社")
    h.place_order((h.produce(coop, "萝卜"), 1))
    today = timezone.localdate()
    params = {"start": today.isoformat(), "end": (today + dt.timedelta(days=1)).isoformat()}
    response = staff_client.get(url("costs"), {**params, "format": "csv", "table": "cooperatives"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "合作社"
    assert any(r[0] == "'=HYPERLINK(1)合作社" for r in rows[1:])


def test_cost_report_bad_range(staff_client):
    response = staff_client.get(url("costs"), {"start": "2025-06-30", "end": "2025-06-01"})
    page = html(response)
    assert response.status_code == 200 and "开始日期不能晚于结束日期" in page
    # The default range (the last 30 days) is shown instead.
    assert (timezone.localdate() + dt.timedelta(days=1)).isoformat() in page
    page = html(staff_client.get(url("costs"), {"start": "2024-01-01", "end": "2025-06-01"}))
    assert "一次最多统计 366 天" in page
    page = html(staff_client.get(url("costs"), {"start": "6月1日"}))
    assert "日期格式如 2025-06-01" in page


# --- Carriers -----------------------------------------------------------------------------


def test_carriers_page_links_to_the_admin(staff_client, carriers):
    express, cold = carriers
    page = html(staff_client.get(url("carriers")))
    for text in [
        "测试快递",
        "测试冷链",
        "冷链附加费 ¥8.00",
        "手工录单",
        "京津：首重 1000 克 ¥20.00",
    ]:
        assert text in page, text
    assert reverse("admin:logistics_carrier_change", args=[express.pk]) in page
    provinces = ServiceArea.objects.filter(carrier=express).count()
    assert f'<td class="text-right">{provinces}</td>' in page


# --- Django admin --------------------------------------------------------------------------


@pytest.fixture
def admin_client_(django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client()
    client.force_login(root)
    return client


def carrier_post(carrier: Carrier, **changes) -> dict:
    """The admin change form of ``carrier`` as posted unchanged (no zone or
    area rows touched), with ``changes``."""
    data = {
        "code": carrier.code,
        "name": carrier.name,
        "is_active": "on",
        "services": list(carrier.services),
        "contact_phone": "",
        "pickup_cutoff": "16:00",
        "cold_chain_surcharge": str(carrier.cold_chain_surcharge),
        "adapter": carrier.adapter,
        "api_base_url": carrier.api_base_url,
        "api_key": carrier.api_key,
        "api_secret": "",
        "timeout_seconds": str(carrier.timeout_seconds),
        "zones-TOTAL_FORMS": "0",
        "zones-INITIAL_FORMS": "0",
        "zones-MIN_NUM_FORMS": "0",
        "zones-MAX_NUM_FORMS": "1000",
        "areas-TOTAL_FORMS": "0",
        "areas-INITIAL_FORMS": "0",
        "areas-MIN_NUM_FORMS": "0",
        "areas-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_admin_keeps_the_secret_when_left_blank(admin_client_, simulator):
    carrier = make_http_carrier(simulator.url)
    change = reverse("admin:logistics_carrier_change", args=[carrier.pk])
    page = html(admin_client_.get(change))
    assert SIM_SECRET not in page and 'type="password"' in page and "留空则保留原密钥" in page

    response = admin_client_.post(change, carrier_post(carrier, name="模拟快递二号"))
    assert response.status_code == 302, html(response)[:3000]
    carrier.refresh_from_db()
    assert carrier.name == "模拟快递二号" and carrier.api_secret == SIM_SECRET

    response = admin_client_.post(change, carrier_post(carrier, api_secret="a-new-secret"))
    assert response.status_code == 302
    carrier.refresh_from_db()
    assert carrier.api_secret == "a-new-secret"

    # Clearing it leaves an HTTP carrier unable to sign: refused, clearly.
    page = html(admin_client_.post(change, carrier_post(carrier, clear_api_secret="on")))
    assert "通过接口对接的承运商需要签名密钥" in page
    carrier.refresh_from_db()
    assert carrier.api_secret == "a-new-secret"


def test_admin_refuses_unknown_services(admin_client_, carriers):
    express, _cold = carriers
    change = reverse("admin:logistics_carrier_change", args=[express.pk])
    page = html(admin_client_.post(change, carrier_post(express, services=["express", "drone"])))
    assert "“drone”不是可选的服务" in page
    page = html(admin_client_.post(change, carrier_post(express, services=[])))
    assert "请至少选择一项服务" in page
    express.refresh_from_db()
    assert express.services == ["express", "station_delivery"]


def test_admin_service_areas(admin_client_, carriers):
    express, cold = carriers
    change = reverse("admin:logistics_carrier_change", args=[cold.pk])
    page = html(admin_client_.get(change))
    assert "京津" in page and "天津市" in page
    cold_zone = cold.zones.get()
    express_zone = express.zones.get()

    def add_area(code: str, zone: RateZone) -> tuple[int, str]:
        data = carrier_post(
            cold,
            **{
                "areas-TOTAL_FORMS": "1",
                "areas-0-division": code,
                "areas-0-zone": str(zone.pk),
                "areas-0-carrier": str(cold.pk),
            },
        )
        response = admin_client_.post(change, data)
        return response.status_code, html(response)

    status, page = add_area("13", express_zone)  # 河北省 with another carrier's zone
    assert status == 200 and "运价区域“全国”属于测试快递" in page
    status, page = add_area("120111102", cold_zone)  # a town
    assert status == 200 and "服务地区只能是省、市或区县" in page and "乡镇/街道" in page
    status, page = add_area("999999", cold_zone)
    assert status == 200 and "没有这个行政区划代码" in page
    assert not ServiceArea.objects.filter(carrier=cold, division__code__startswith="13").exists()

    status, _page = add_area("13", cold_zone)
    assert status == 302
    assert ServiceArea.objects.filter(carrier=cold, division_id="13", zone=cold_zone).exists()


def test_admin_zone_in_use_is_not_deleted(admin_client_, carriers):
    _express, cold = carriers
    zone = cold.zones.get()
    change = reverse("admin:logistics_carrier_change", args=[cold.pk])
    data = carrier_post(
        cold,
        **{
            "zones-TOTAL_FORMS": "1",
            "zones-INITIAL_FORMS": "1",
            "zones-0-id": str(zone.pk),
            "zones-0-carrier": str(cold.pk),
            "zones-0-name": zone.name,
            "zones-0-first_weight_g": "1000",
            "zones-0-first_price": "20.00",
            "zones-0-additional_weight_g": "1000",
            "zones-0-additional_price": "5.00",
            "zones-0-transit_days": "2",
            "zones-0-DELETE": "on",
        },
    )
    page = html(admin_client_.post(change, data))
    assert "还有 2 个服务地区在用" in page
    assert RateZone.objects.filter(pk=zone.pk).exists()


def test_admin_shipments_are_read_only_and_searchable(admin_client_, awaiting):
    listing = reverse("admin:logistics_shipment_changelist")
    page = html(admin_client_.get(listing, {"q": f"wn{awaiting.pk}"}))
    assert f"WN{awaiting.pk}" in page and url("detail", pk=awaiting.pk) in page
    order = awaiting.items.first().line.order
    assert f"WN{awaiting.pk}" in html(admin_client_.get(listing, {"q": order.number}))
    assert admin_client_.get(reverse("admin:logistics_shipment_add")).status_code == 403
    change = reverse("admin:logistics_shipment_change", args=[awaiting.pk])
    assert admin_client_.get(change).status_code == 200
    assert admin_client_.post(change, {"status": "cancelled"}).status_code == 403
    assert admin_client_.get(reverse("admin:logistics_carrier_changelist")).status_code == 200
    assert admin_client_.get(reverse("admin:logistics_trackingevent_changelist")).status_code == 200
