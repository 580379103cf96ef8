"""The cooperative portal's shipments (/coop/shipments/): a member sees
only their cooperative's shipments, filters them by stage, opens one with
its items and timeline, prints the label, types a manual carrier's
tracking number and closes a consolidated station shipment."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from logistics import handoff, tracking
from logistics import shipments as logistics_shipments
from logistics.adapters import TrackingUpdate
from logistics.models import OutboxMessage, Shipment, ShipmentLog, TrackingEvent
from tests import factories
from tests.cooperatives.conftest import make_cooperative, manager_of, member_of
from tests.cooperatives.order_helpers import order_of
from tests.logistics.conftest import make_http_carrier

pytestmark = pytest.mark.django_db

LIST = reverse("coop:shipments")
Status = Shipment.Status


def detail(shipment) -> str:
    return reverse("coop:shipment", kwargs={"pk": shipment.pk})


def action(name: str, shipment) -> str:
    return reverse(f"coop:shipment-{name}", kwargs={"pk": shipment.pk})


@pytest.fixture
def coop_a(carriers):
    return make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )


@pytest.fixture
def coop_b(carriers):
    return make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )


@pytest.fixture
def radish(coop_a):
    return factories.product(
        "沙窝萝卜", price="20.00", stock=500, partner_obj=coop_a.partner, net_weight_g=1000
    )


@pytest.fixture
def crab(coop_b):
    return factories.product(
        "七里海河蟹",
        price="88.00",
        stock=500,
        partner_obj=coop_b.partner,
        net_weight_g=1500,
        storage_class="chilled",
    )


@pytest.fixture
def member_client(client, coop_a):
    client.force_login(member_of(coop_a))
    return client


def shipped(*items) -> Shipment:
    """One order of ``items`` (one cooperative, one temperature class) and its shipment."""
    order = order_of(*items)
    (shipment,) = logistics_shipments.create_for_order(order)
    return Shipment.objects.select_related("carrier").get(pk=shipment.pk)


def input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- list ----------------------------------------------------------------------------


def test_member_sees_only_their_cooperatives_shipments(member_client, radish, crab):
    own = shipped((radish, 2))
    other = shipped((crab, 1))
    response = member_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert detail(own) in html
    assert detail(other) not in html
    assert own.order.number in html
    assert other.order.number not in html
    assert [s.pk for s in response.context["shipments"]] == [own.pk]
    # The portal's navigation leads here.
    assert f'href="{LIST}" aria-current="page"' in html


def test_stage_filters_and_counts(member_client, radish):
    waiting = shipped((radish, 1))
    on_the_way = shipped((radish, 1))
    delivered = shipped((radish, 1))
    flagged = shipped((radish, 1))
    for shipment, number in ((on_the_way, "SF001"), (delivered, "SF002")):
        logistics_shipments.enter_tracking_number(shipment, number, by=None)
    tracking.record(
        on_the_way.carrier,
        [
            TrackingUpdate(
                "e1", "SF001", "in_transit", dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC)
            ),
            TrackingUpdate("e2", "SF002", "delivered", dt.datetime(2026, 11, 27, 3, tzinfo=dt.UTC)),
        ],
        source=TrackingEvent.Source.WEBHOOK,
    )
    Shipment.objects.filter(pk=flagged.pk).update(needs_attention=True, last_error="HTTP 500")

    def listed(stage: str) -> set[int]:
        response = member_client.get(LIST, {"stage": stage} if stage else {})
        assert response.status_code == 200
        return {s.pk for s in response.context["shipments"]}

    assert listed("") == {waiting.pk, on_the_way.pk, delivered.pk, flagged.pk}
    assert listed("to_hand_off") == {waiting.pk, flagged.pk}
    assert listed("on_the_way") == {on_the_way.pk}
    assert listed("delivered") == {delivered.pk}
    assert listed("attention") == {flagged.pk}
    assert listed("nonsense") == listed("")

    response = member_client.get(LIST, {"stage": "attention"})
    counts = {f["code"]: f["count"] for f in response.context["stage_filters"]}
    assert counts == {"": 4, "to_hand_off": 2, "on_the_way": 1, "delivered": 1, "attention": 1}
    html = response.content.decode()
    assert "交给承运商时出错，平台工作人员正在处理。" in html
    assert "HTTP 500" not in html  # the raw error is for staff


# The page's own queries are five (membership, paginator count, shipments,
# their items with lines and orders, the stage counts); the rest is the
# site layout (session, user, basket, category bar, Wagtail site).
LIST_QUERIES = 16


def test_list_queries_do_not_grow_with_shipments(member_client, radish, station):
    shipped((radish, 1))
    member_client.get(LIST)  # the first request also creates the basket

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert member_client.get(LIST).status_code == 200
        return len(queries)

    one = count()
    for _ in range(5):
        shipped((radish, 1))
    consolidate(station, (radish, 1))
    consolidate(station, (radish, 2))
    assert count() == one
    assert one <= LIST_QUERIES, one


def test_list_query_cap(member_client, radish, django_assert_max_num_queries):
    for _ in range(8):
        shipped((radish, 1))
    member_client.get(LIST)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = member_client.get(LIST, {"stage": "to_hand_off"})
    assert len(response.context["shipments"]) == 8


# --- detail and isolation ------------------------------------------------------------


def test_detail_shows_items_recipient_and_timeline(member_client, radish):
    shipment = shipped((radish, 3))
    logistics_shipments.enter_tracking_number(shipment, "sf-778899", by=None)
    tracking.record(
        shipment.carrier,
        [
            TrackingUpdate(
                "p1",
                "SF-778899",
                "picked_up",
                dt.datetime(2026, 11, 27, 1, 30, tzinfo=dt.UTC),
                location="西青区辛口镇",
            )
        ],
        source=TrackingEvent.Source.WEBHOOK,
    )
    response = member_client.get(detail(shipment))
    assert response.status_code == 200
    html = response.content.decode()
    assert "SF-778899" in html
    assert "测试快递" in html
    assert "沙窝萝卜" in html and shipment.order.number in html
    line = shipment.order.lines.get()
    assert reverse("coop:order-line", kwargs={"pk": line.pk}) in html
    assert "138****5678" in html and "13812345678" not in html  # masked phone
    assert "已揽收" in html and "2026年11月27日 09:30" in html and "西青区辛口镇" in html


def test_another_cooperatives_shipment_is_404_everywhere(member_client, crab):
    other = shipped((crab, 1))
    assert member_client.get(detail(other)).status_code == 404
    assert member_client.get(action("label", other)).status_code == 404
    response = member_client.post(action("tracking-number", other), {"tracking_number": "X1"})
    assert response.status_code == 404
    assert member_client.post(action("close", other)).status_code == 404
    other.refresh_from_db()
    assert other.tracking_number == ""


def test_order_line_page_links_to_its_shipment(member_client, radish):
    shipment = shipped((radish, 1))
    line = shipment.order.lines.get()
    response = member_client.get(reverse("coop:order-line", kwargs={"pk": line.pk}))
    assert response.status_code == 200
    assert detail(shipment) in response.content.decode()


# --- tracking number for a manual carrier -----------------------------------------------


def test_enter_tracking_number(member_client, coop_a, radish):
    shipment = shipped((radish, 1))
    response = member_client.get(detail(shipment))
    assert 'name="tracking_number"' in response.content.decode()
    response = member_client.post(
        action("tracking-number", shipment), {"tracking_number": " yt1234567890 "}
    )
    assert response.status_code == 302
    assert response["Location"] == detail(shipment)
    shipment.refresh_from_db()
    assert shipment.tracking_number == "YT1234567890"
    assert shipment.status == Status.HANDED_OFF
    assert ShipmentLog.objects.filter(shipment=shipment, by=member_of(coop_a)).exists()
    assert not shipment.outbox.filter(done_at__isnull=True).exists()
    page = member_client.get(detail(shipment))
    assert "已录入运单号 YT1234567890。" in messages_of(page)
    assert "YT1234567890" in page.content.decode()


@pytest.mark.parametrize(
    "typed, message",
    [
        ("SF 12#34", "请输入快递员给的运单号（字母和数字）。"),
        ("", "请输入快递员给的运单号（字母和数字）。"),
        ("TAKEN42", "运单号 TAKEN42 已用于另一个发货单。"),
    ],
)
def test_bad_tracking_number_is_refused_and_kept(member_client, radish, typed, message):
    taken = shipped((radish, 1))
    logistics_shipments.enter_tracking_number(taken, "TAKEN42", by=None)
    shipment = shipped((radish, 1))
    response = member_client.post(action("tracking-number", shipment), {"tracking_number": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert input_value(html, "tracking_number") == typed
    shipment.refresh_from_db()
    assert shipment.tracking_number == ""
    assert shipment.status == Status.PENDING


def test_no_tracking_number_form_for_an_api_carrier(member_client, radish, simulator):
    make_http_carrier(simulator.url)
    shipment = shipped((radish, 1))
    assert shipment.carrier.code == "sim-express"
    assert 'name="tracking_number"' not in member_client.get(detail(shipment)).content.decode()
    response = member_client.post(action("tracking-number", shipment), {"tracking_number": "A1"})
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.tracking_number == ""


# --- labels --------------------------------------------------------------------------


def test_waybill_pdf_for_a_manual_carrier(member_client, radish):
    shipment = shipped((radish, 2))
    response = member_client.get(action("label", shipment))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "inline" in response["Content-Disposition"]


def test_carrier_label_through_the_simulator(member_client, radish, simulator):
    make_http_carrier(simulator.url)
    shipment = shipped((radish, 1))
    message = OutboxMessage.objects.get(shipment=shipment, kind=OutboxMessage.Kind.CREATE)
    assert handoff.process(message.pk) == "done"
    shipment.refresh_from_db()
    assert shipment.tracking_number.startswith("SE")
    response = member_client.get(action("label", shipment))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert shipment.tracking_number.encode() in response.content


def test_carrier_error_on_label_is_a_message(member_client, radish, simulator):
    make_http_carrier(simulator.url)
    shipment = shipped((radish, 1))
    # A number the carrier does not know: it answers 404.
    Shipment.objects.filter(pk=shipment.pk).update(
        tracking_number="SE-UNKNOWN", status=Status.HANDED_OFF
    )
    response = member_client.get(action("label", shipment), follow=True)
    assert response.redirect_chain == [(detail(shipment), 302)]
    assert any("暂时取不到模拟快递的面单" in m for m in messages_of(response))


def test_no_label_while_an_api_carrier_has_no_number(member_client, radish, simulator):
    make_http_carrier(simulator.url)
    shipment = shipped((radish, 1))
    html = member_client.get(detail(shipment)).content.decode()
    assert action("label", shipment) not in html
    response = member_client.get(action("label", shipment), follow=True)
    assert "这个发货单现在没有面单可打印。" in messages_of(response)


# --- consolidated station shipments -----------------------------------------------------


@pytest.fixture
def station(db):
    from tests.stations.conftest import make_station

    return make_station()


def consolidate(station, *items) -> Shipment:
    order = order_of(*items)
    (shipment,) = logistics_shipments.add_to_consolidation(
        order=order,
        station=station,
        recipient=(station.name, station.contact_phone, station.street_address),
        charge=0,
    )
    return shipment


def test_close_a_consolidated_shipment_now(member_client, coop_a, radish, station):
    first = consolidate(station, (radish, 1))
    second = consolidate(station, (radish, 2))
    assert first.pk == second.pk
    shipment = Shipment.objects.get(pk=first.pk)
    assert shipment.status == Status.COLLECTING

    response = member_client.get(detail(shipment))
    html = response.content.decode()
    assert "上辛口村益农信息社" in html
    assert "022-27391234" in html  # the station's phone is not private
    assert "商品（2 个订单）" in html
    assert action("close", shipment) in html
    assert action("label", shipment) not in html  # no waybill while collecting

    response = member_client.post(action("close", shipment))
    assert response.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == Status.PENDING
    assert shipment.outbox.filter(kind=OutboxMessage.Kind.CREATE, done_at__isnull=True).count() == 1
    assert ShipmentLog.objects.filter(shipment=shipment, by=member_of(coop_a)).exists()
    assert "已结束合并，发货单已交给承运商处理。" in messages_of(
        member_client.get(detail(shipment))
    )

    # Closing twice changes nothing.
    member_client.post(action("close", shipment))
    assert shipment.outbox.filter(kind=OutboxMessage.Kind.CREATE).count() == 1
    assert member_client.get(detail(shipment)).status_code == 200


def test_manager_can_use_it_too(client, coop_a, radish):
    shipment = shipped((radish, 1))
    client.force_login(manager_of(coop_a))
    assert client.get(detail(shipment)).status_code == 200
