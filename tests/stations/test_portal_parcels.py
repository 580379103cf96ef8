"""The station portal's parcel desk: the three lists, confirming arrivals
by scanning the order number (one step, or two when several parcels are in
transit), and handing parcels over against the pickup code."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from config import sms
from stations import ordering, parcels
from stations.models import AuditEvent, Parcel
from tests.stations.conftest import assisted_order, make_resident, staff_of

pytestmark = pytest.mark.django_db

User = get_user_model()
LIST = reverse("station:parcels")
ARRIVAL = reverse("station:parcel-arrival")
HANDOVER = reverse("station:parcel-handover")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture
def staff_client(client, station_a):
    client.force_login(staff_of(station_a))
    return client


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "config.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def one_parcel_order(station, resident, produce):
    return assisted_order(station, resident, [(produce["radish"], 2)])


def two_parcel_order(station, resident, produce):
    return assisted_order(station, resident, [(produce["radish"], 1), (produce["crab"], 1)])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def wrong_code(so) -> str:
    return "000000" if so.pickup_code != "000000" else "111111"


# --- access ------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST, ARRIVAL, HANDOVER])
def test_non_staff_get_404_and_anonymous_sign_in(client, station_a, url):
    assert client.get(url).status_code == 302
    client.force_login(User.objects.create_user("shopper", "s@example.com", "pw-123456"))
    assert client.get(url).status_code == 404
    assert client.post(url, {"number": "1"}).status_code == 404


# --- the lists ---------------------------------------------------------------


def test_list_shows_incoming_with_sender_and_carrier_state(
    staff_client, station_a, resident_a, produce
):
    so = two_parcel_order(station_a, resident_a, produce)
    line = so.order.lines.get(partner=produce["coop_crab"].partner)
    line.set_status("accepted")
    line.set_status("packed")
    line.set_status("shipped")
    response = staff_client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert so.order.number in html
    assert resident_a.name in html
    assert produce["coop_radish"].partner.name in html
    assert produce["coop_crab"].partner.name in html
    assert "合作社已交寄，运输中" in html  # the crab cooperative's line
    assert "合作社未交寄（待接单）" in html  # the radish cooperative's
    assert [p.carrier_state for p in response.context["incoming"].rows] == ["waiting", "shipped"]
    assert response.context["waiting"].paginator.count == 0


def test_list_shows_waiting_with_masked_phone_and_overdue(
    staff_client, station_a, resident_a, produce
):
    no_phone = make_resident(station_a, "张大爷", phone="")
    so = one_parcel_order(station_a, resident_a, produce)
    so2 = one_parcel_order(station_a, no_phone, produce)
    staff = staff_of(station_a)
    parcels.confirm_arrival(station_a, staff, so.order.number)
    parcels.confirm_arrival(station_a, staff, so2.order.number)
    Parcel.objects.filter(station_order=so2).update(
        arrived_at=timezone.now() - dt.timedelta(days=9)
    )

    response = staff_client.get(LIST)
    html = response.content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "无手机" in html
    assert response.context["waiting"].paginator.count == 2
    overdue = response.context["overdue"]
    assert [p.station_order_id for p in overdue.rows] == [so2.pk]
    assert overdue.rows[0].days_waiting == 9
    assert "超期未取" in html
    assert f"{HANDOVER}?number={so.order.number}" in html


def test_list_search_by_name_or_number(staff_client, station_a, resident_a, produce):
    other = make_resident(station_a, "赵四", phone="")
    so = one_parcel_order(station_a, resident_a, produce)
    so2 = one_parcel_order(station_a, other, produce)
    response = staff_client.get(LIST, {"q": "赵四"})
    assert [p.station_order_id for p in response.context["incoming"].rows] == [so2.pk]
    response = staff_client.get(LIST, {"q": so.order.number})
    assert [p.station_order_id for p in response.context["incoming"].rows] == [so.pk]


def test_list_shows_only_own_station(staff_client, station_a, station_b, resident_b, produce):
    so_b = one_parcel_order(station_b, resident_b, produce)
    response = staff_client.get(LIST)
    assert so_b.order.number not in response.content.decode()
    assert response.context["incoming"].paginator.count == 0


# --- arrival -----------------------------------------------------------------


def test_arrival_page_has_an_autofocused_scanner_box(staff_client):
    html = staff_client.get(ARRIVAL).content.decode()
    assert "扫描或输入订单号" in html
    assert re.search(r'<input[^>]*name="number"[^>]*autofocus', html)


def test_arrival_of_single_parcel_sends_sms(
    staff_client, station_a, resident_a, produce, sms_outbox, django_capture_on_commit_callbacks
):
    so = one_parcel_order(station_a, resident_a, produce)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(ARRIVAL, {"number": so.order.number}, follow=True)
    assert response.redirect_chain[-1][0] == ARRIVAL
    parcel = so.parcels.get()
    assert parcel.status == Parcel.Status.ARRIVED
    assert parcel.arrived_by == staff_of(station_a)
    text = " ".join(messages_of(response))
    assert so.order.number in text and resident_a.name in text
    assert produce["coop_radish"].partner.name in text
    assert "已发短信通知" in text
    assert [m.phone for m in sms_outbox] == ["13812345678"]
    assert so.pickup_code in sms_outbox[0].text
    # Ready for the next scan: empty box, today's arrivals listed.
    assert input_value(response.content.decode(), "number") == ""
    assert [p.pk for p in response.context["recent"]] == [parcel.pk]


def test_arrival_without_phone_says_tell_in_person(
    staff_client, station_a, produce, sms_outbox, django_capture_on_commit_callbacks
):
    resident = make_resident(station_a, "张大爷", phone="")
    so = one_parcel_order(station_a, resident, produce)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(ARRIVAL, {"number": so.order.number}, follow=True)
    text = " ".join(messages_of(response))
    assert "没有登记手机" in text and "当面或打电话" in text
    assert "已发短信" not in text
    assert sms_outbox == []
    assert so.parcels.get().status == Parcel.Status.ARRIVED


def test_arrival_forgives_spaces_and_full_width_digits(
    staff_client, station_a, resident_a, produce
):
    so = one_parcel_order(station_a, resident_a, produce)
    number = so.order.number
    typed = " " + number[:6].translate(FULL_WIDTH) + " " + number[6:] + " "
    response = staff_client.post(ARRIVAL, {"number": typed})
    assert response.status_code == 302
    assert so.parcels.get().status == Parcel.Status.ARRIVED


def test_arrival_with_several_parcels_asks_which(staff_client, station_a, resident_a, produce):
    so = two_parcel_order(station_a, resident_a, produce)
    response = staff_client.post(ARRIVAL, {"number": so.order.number})
    assert response.status_code == 200
    html = response.content.decode()
    assert set(so.parcels.values_list("status", flat=True)) == {Parcel.Status.IN_TRANSIT}
    boxes = re.findall(r'<input type="checkbox" name="parcel_ids" value="(\d+)" checked>', html)
    assert sorted(int(b) for b in boxes) == sorted(so.parcels.values_list("pk", flat=True))
    assert produce["coop_radish"].partner.name in html and produce["coop_crab"].partner.name in html

    crab = so.parcels.get(partner=produce["coop_crab"].partner)
    response = staff_client.post(
        ARRIVAL, {"step": "choose", "number": so.order.number, "parcel_ids": [crab.pk]}, follow=True
    )
    crab.refresh_from_db()
    assert crab.status == Parcel.Status.ARRIVED
    assert so.parcels.get(partner=produce["coop_radish"].partner).status == Parcel.Status.IN_TRANSIT
    assert "还有 1 个包裹在途" in " ".join(messages_of(response))

    # The second scan of the same number: one left in transit, no question.
    response = staff_client.post(ARRIVAL, {"number": so.order.number})
    assert response.status_code == 302
    assert set(so.parcels.values_list("status", flat=True)) == {Parcel.Status.ARRIVED}


def test_arrival_choice_with_nothing_ticked_asks_again(
    staff_client, station_a, resident_a, produce
):
    so = two_parcel_order(station_a, resident_a, produce)
    response = staff_client.post(ARRIVAL, {"step": "choose", "number": so.order.number})
    assert response.status_code == 200
    assert "请至少勾选一个" in response.content.decode()
    assert response.context["choice"] is not None
    assert set(so.parcels.values_list("status", flat=True)) == {Parcel.Status.IN_TRANSIT}


def test_arrival_choice_ignores_other_stations_parcel_ids(
    staff_client, station_a, station_b, resident_a, resident_b, produce
):
    so = two_parcel_order(station_a, resident_a, produce)
    so_b = one_parcel_order(station_b, resident_b, produce)
    other = so_b.parcels.get()
    response = staff_client.post(
        ARRIVAL, {"step": "choose", "number": so.order.number, "parcel_ids": [other.pk]}
    )
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.status == Parcel.Status.IN_TRANSIT


def test_arrival_of_another_stations_number_is_not_found(
    staff_client, station_a, station_b, resident_b, produce
):
    so_b = one_parcel_order(station_b, resident_b, produce)
    response = staff_client.post(ARRIVAL, {"number": so_b.order.number})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"本站没有订单号为 {so_b.order.number} 的订单" in html
    assert station_b.name not in html
    assert input_value(html, "number") == so_b.order.number
    assert so_b.parcels.get().status == Parcel.Status.IN_TRANSIT


def test_arrival_unknown_number_keeps_what_was_typed(staff_client, station_a):
    response = staff_client.post(ARRIVAL, {"number": "12 34"})
    html = response.content.decode()
    assert "本站没有订单号为 1234 的订单" in html
    assert input_value(html, "number") == "12 34"
    assert 'aria-invalid="true"' in html


def test_arrival_twice_does_not_double(staff_client, station_a, resident_a, produce):
    so = one_parcel_order(station_a, resident_a, produce)
    staff_client.post(ARRIVAL, {"number": so.order.number})
    first = so.parcels.get().arrived_at
    response = staff_client.post(ARRIVAL, {"number": so.order.number})
    assert response.status_code == 200
    assert "已经登记到站，无需重复登记" in response.content.decode()
    assert so.parcels.get().arrived_at == first
    assert (
        AuditEvent.objects.filter(order=so.order, action=AuditEvent.Action.PARCEL_ARRIVED).count()
        == 1
    )


def test_arrival_refuses_cancelled_and_home_delivery(staff_client, station_a, resident_a, produce):
    so = one_parcel_order(station_a, resident_a, produce)
    ordering.cancel_assisted_order(so, staff_of(station_a), "居民不要了")
    response = staff_client.post(ARRIVAL, {"number": so.order.number})
    assert "已取消" in response.content.decode()

    home = make_resident(station_a, "刘婶", phone="", delivery="home", address_detail="三排五号")
    so_home = assisted_order(station_a, home, [(produce["radish"], 1)], delivery="home")
    response = staff_client.post(ARRIVAL, {"number": so_home.order.number})
    assert "送货上门" in response.content.decode()


# --- hand-over ---------------------------------------------------------------


@pytest.fixture
def arrived(station_a, resident_a, produce):
    so = two_parcel_order(station_a, resident_a, produce)
    parcels.confirm_arrival(station_a, staff_of(station_a), so.order.number)
    return so


def test_handover_prefilled_from_the_waiting_list(staff_client, arrived, produce):
    response = staff_client.get(HANDOVER, {"number": arrived.order.number})
    html = response.content.decode()
    assert input_value(html, "number") == arrived.order.number
    assert arrived.resident.name in html
    assert produce["coop_crab"].partner.name in html
    assert re.search(r'<input[^>]*name="code"[^>]*autofocus', html)
    assert arrived.pickup_code not in html


def test_handover_with_the_right_code(staff_client, station_a, arrived, produce):
    response = staff_client.post(
        HANDOVER, {"number": arrived.order.number, "code": arrived.pickup_code}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "取件码正确" in html
    assert f"交给 {arrived.resident.name}" in html
    assert produce["coop_radish"].partner.name in html and produce["coop_crab"].partner.name in html
    assert set(arrived.parcels.values_list("status", flat=True)) == {Parcel.Status.HANDED_OVER}
    assert input_value(html, "number") == ""


def test_handover_code_with_full_width_digits(staff_client, arrived):
    code = " " + arrived.pickup_code.translate(FULL_WIDTH)
    response = staff_client.post(HANDOVER, {"number": arrived.order.number, "code": code})
    assert "取件码正确" in response.content.decode()


def test_wrong_code_shows_remaining_attempts_and_keeps_number(staff_client, settings, arrived):
    response = staff_client.post(
        HANDOVER, {"number": arrived.order.number, "code": wrong_code(arrived)}
    )
    html = response.content.decode()
    left = settings.WANGNONG_PICKUP_MAX_FAILURES - 1
    assert f"还可以再试 {left} 次" in html
    assert input_value(html, "number") == arrived.order.number
    assert input_value(html, "code") == ""
    assert set(arrived.parcels.values_list("status", flat=True)) == {Parcel.Status.ARRIVED}
    arrived.refresh_from_db()
    assert arrived.pickup_failures == 1


def test_scanned_number_without_code_is_not_a_wrong_code(staff_client, arrived):
    response = staff_client.post(HANDOVER, {"number": arrived.order.number, "code": ""})
    assert "请输入居民的 6 位取件码" in response.content.decode()
    arrived.refresh_from_db()
    assert arrived.pickup_failures == 0


def test_wrong_codes_lock_and_the_right_code_is_then_refused(
    staff_client, settings, arrived, mailoutbox
):
    limit = settings.WANGNONG_PICKUP_MAX_FAILURES
    for _attempt in range(limit):
        response = staff_client.post(
            HANDOVER, {"number": arrived.order.number, "code": wrong_code(arrived)}
        )
    assert "包裹已锁定" in response.content.decode()
    arrived.refresh_from_db()
    assert arrived.is_locked

    response = staff_client.post(
        HANDOVER, {"number": arrived.order.number, "code": arrived.pickup_code}
    )
    html = response.content.decode()
    assert "包裹已锁定" in html and "取件码正确" not in html
    assert set(arrived.parcels.values_list("status", flat=True)) == {Parcel.Status.ARRIVED}

    listing = staff_client.get(LIST).content.decode()
    assert "已锁定" in listing


def test_handover_of_another_stations_order_is_not_found(
    staff_client, station_b, resident_b, produce
):
    so_b = one_parcel_order(station_b, resident_b, produce)
    parcels.confirm_arrival(station_b, staff_of(station_b), so_b.order.number)
    response = staff_client.post(HANDOVER, {"number": so_b.order.number, "code": so_b.pickup_code})
    assert f"本站没有订单号为 {so_b.order.number} 的订单" in response.content.decode()
    assert so_b.parcels.get().status == Parcel.Status.ARRIVED
    response = staff_client.get(HANDOVER, {"number": so_b.order.number})
    html = response.content.decode()
    assert resident_b.name not in html
    assert "本站没有订单号为" in html


def test_handover_of_a_parcel_not_yet_arrived(staff_client, station_a, resident_a, produce):
    so = one_parcel_order(station_a, resident_a, produce)
    response = staff_client.post(HANDOVER, {"number": so.order.number, "code": so.pickup_code})
    assert "没有已到站待取的包裹" in response.content.decode()
    assert so.parcels.get().status == Parcel.Status.IN_TRANSIT


def test_each_section_pages_on_its_own(staff_client, station_a, resident_a, produce, monkeypatch):
    from stations.portal import parcels as views

    monkeypatch.setattr(views, "PER_SECTION", 1)
    two_parcel_order(station_a, resident_a, produce)
    response = staff_client.get(LIST, {"q": resident_a.name})
    incoming = response.context["incoming"]
    assert incoming.paginator.num_pages == 2
    assert "incoming_page=2" in incoming.next_url and "#incoming" in incoming.next_url
    html = response.content.decode()
    assert 'rel="next"' in html
    second = staff_client.get(LIST, {"q": resident_a.name, "incoming_page": 2})
    assert second.context["incoming"].number == 2
    assert second.context["incoming"].rows[0].pk != incoming.rows[0].pk


def test_wrong_codes_across_orders_stop_the_staff_member(
    staff_client, settings, station_a, resident_a, produce
):
    """Guessing across many orders (each below its own lock) is limited per
    staff member: past the limit even a right code waits for the window."""
    settings.WANGNONG_PICKUP_STAFF_MAX_FAILURES = 3
    orders = [one_parcel_order(station_a, resident_a, produce) for _ in range(3)]
    for so in orders:
        parcels.confirm_arrival(station_a, staff_of(station_a), so.order.number)
    for so in orders[:2]:
        response = staff_client.post(HANDOVER, {"number": so.order.number, "code": wrong_code(so)})
        assert "还可以再试" in response.content.decode()
    response = staff_client.post(
        HANDOVER, {"number": orders[2].order.number, "code": wrong_code(orders[2])}
    )
    assert "还可以再试" in response.content.decode()  # the third wrong code is still counted
    # The limit is reached: the next hand-over is refused, right code or not,
    # and no order counts another failure.
    response = staff_client.post(
        HANDOVER, {"number": orders[0].order.number, "code": orders[0].pickup_code}
    )
    html = response.content.decode()
    assert "输错取件码的次数过多" in html and "取件码正确" not in html
    assert orders[0].parcels.get().status == Parcel.Status.ARRIVED
    for so in orders:
        so.refresh_from_db()
        assert so.pickup_failures == 1 and not so.is_locked
    # Another staff member of the station is not stopped.
    other = User.objects.create_user("helper2", "h2@example.com", "pw-123456")
    station_a.staff.create(user=other)
    staff_client.force_login(other)
    response = staff_client.post(
        HANDOVER, {"number": orders[0].order.number, "code": orders[0].pickup_code}
    )
    assert "取件码正确" in response.content.decode()
