"""stations.parcels: arrival (once, with one SMS), hand-over against the
pickup code (wrong codes counted and committed, the limit locks and alerts
platform staff, unlocking), and that a station can do none of it to another
station's orders, nor learn that they exist."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from config import sms
from cooperatives import fulfilment
from cooperatives.models import FulfilmentEvent
from stations import ordering, parcels
from stations.models import AuditEvent, Parcel, Resident, StationOrder
from tests.stations.conftest import assisted_order, make_resident, staff_of

pytestmark = pytest.mark.django_db

User = get_user_model()
Status = Parcel.Status
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.SMS_BACKEND = "config.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def platform_staff(db, settings):
    settings.WANGNONG_STATION_ALERT_EMAILS = []
    User.objects.create_user("ops", "ops@wangnong.example", "pw", is_staff=True)
    User.objects.create_user("ops-away", "", "pw", is_staff=True)  # no e-mail: skipped
    User.objects.create_user("villager", "villager@example.com", "pw")  # not staff
    return ["ops@wangnong.example"]


def order_of(station, resident, produce, *items):
    items = items or ((produce["radish"], 2), (produce["crab"], 1))
    return assisted_order(station, resident, list(items))


def arrived_order(station, resident, produce, capture):
    so = order_of(station, resident, produce)
    with capture(execute=True):
        parcels.confirm_arrival(station, staff_of(station), so.order.number)
    return so


def wrong_code(so) -> str:
    return "000000" if so.pickup_code != "000000" else "111111"


def state(so) -> tuple:
    """What a station's action could change about an order."""
    so = StationOrder.objects.get(pk=so.pk)
    return (
        so.pickup_failures,
        so.locked_at,
        sorted(
            so.parcels.values_list("pk", "status", "arrived_at", "notified_at", "handed_over_at")
        ),
        AuditEvent.objects.filter(order_id=so.order_id).count(),
    )


# --- Arrival ------------------------------------------------------------------------------------


def test_arrival_marks_parcels_and_texts_the_resident_once(
    station_a, resident_a, produce, sms_outbox, django_capture_on_commit_callbacks
):
    staff = staff_of(station_a)
    so = order_of(station_a, resident_a, produce)
    with django_capture_on_commit_callbacks(execute=True):
        arrived = parcels.confirm_arrival(station_a, staff, so.order.number)
    assert len(arrived) == 2
    for parcel in so.parcels.all():
        assert parcel.status == Status.ARRIVED
        assert parcel.arrived_by == staff and parcel.arrived_at and parcel.notified_at
    assert [m.phone for m in sms_outbox] == [resident_a.phone]
    assert so.pickup_code in sms_outbox[0].text and station_a.contact_phone in sms_outbox[0].text
    actions = list(
        AuditEvent.objects.filter(order=so.order).order_by("pk").values_list("action", flat=True)
    )
    assert actions[-2:] == ["parcel_arrived", "resident_notified"]

    # Scanned again: refused, nothing logged or sent twice.
    before = state(so)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValidationError) as exc:
            parcels.confirm_arrival(station_a, staff, so.order.number)
    assert "已经登记到站" in exc.value.message_dict["number"][0]
    assert callbacks == []
    assert len(sms_outbox) == 1
    assert state(so) == before


def test_arrival_parcel_by_parcel(
    station_a, resident_a, produce, sms_outbox, django_capture_on_commit_callbacks
):
    staff = staff_of(station_a)
    so = order_of(station_a, resident_a, produce)
    radish_parcel = so.parcels.get(partner_id=produce["coop_radish"].partner_id)
    crab_parcel = so.parcels.get(partner_id=produce["coop_crab"].partner_id)
    with django_capture_on_commit_callbacks(execute=True):
        arrived = parcels.confirm_arrival(
            station_a, staff, so.order.number, parcel_ids=[radish_parcel.pk]
        )
    assert [p.pk for p in arrived] == [radish_parcel.pk]
    crab_parcel.refresh_from_db()
    assert crab_parcel.status == Status.IN_TRANSIT
    with django_capture_on_commit_callbacks(execute=True):
        parcels.confirm_arrival(station_a, staff, so.order.number)
    crab_parcel.refresh_from_db()
    assert crab_parcel.status == Status.ARRIVED
    assert len(sms_outbox) == 2  # one message per arrival


def test_arrival_for_a_resident_without_phone_sends_nothing(
    station_a, produce, sms_outbox, django_capture_on_commit_callbacks
):
    resident = make_resident(station_a, "赵大爷", phone="")
    so = order_of(station_a, resident, produce)
    with django_capture_on_commit_callbacks(execute=True):
        parcels.confirm_arrival(station_a, staff_of(station_a), so.order.number)
    assert sms_outbox == []
    assert set(so.parcels.values_list("notified_at", flat=True)) == {None}
    assert not AuditEvent.objects.filter(order=so.order, action="resident_notified").exists()


@pytest.mark.parametrize(
    "typed",
    [
        lambda n: n,
        lambda n: f" {n} ",
        lambda n: f"{n[:6]}-{n[6:]}",
        lambda n: n.translate(FULL_WIDTH),
        lambda n: f"{n[:4]} {n[4:8]} {n[8:]}",
    ],
    ids=["plain", "spaces", "dash", "full-width", "grouped"],
)
def test_the_number_is_forgiven_as_scanned_or_typed(station_a, resident_a, produce, typed):
    so = order_of(station_a, resident_a, produce)
    assert parcels.find_station_order(station_a, typed(so.order.number)) == so


def test_empty_number(station_a):
    with pytest.raises(ValidationError) as exc:
        parcels.find_station_order(station_a, " - ")
    assert "请扫描或输入订单号" in exc.value.message_dict["number"][0]


def test_home_delivery_orders_have_no_parcels_and_are_refused_at_the_desk(station_a, produce):
    resident = make_resident(
        station_a, "张德福", delivery=Resident.Delivery.HOME, address_detail="三排五号"
    )
    so = order_of(station_a, resident, produce)
    so_home = assisted_order(
        station_a, resident, [(produce["radish"], 1)], delivery=Resident.Delivery.HOME
    )
    assert so.parcels.exists()  # the resident may still choose the station per order
    assert not so_home.parcels.exists()
    before = state(so_home)
    for call in (
        lambda: parcels.confirm_arrival(station_a, staff_of(station_a), so_home.order.number),
        lambda: parcels.hand_over(
            station_a, staff_of(station_a), so_home.order.number, so_home.pickup_code
        ),
    ):
        with pytest.raises(ValidationError) as exc:
            call()
        assert "送货上门" in exc.value.message_dict["number"][0]
    assert state(so_home) == before


def test_cancelled_orders_are_refused_at_the_desk(station_a, resident_a, produce):
    so = order_of(station_a, resident_a, produce)
    ordering.cancel_assisted_order(so, staff_of(station_a), "居民不要了")
    with pytest.raises(ValidationError) as exc:
        parcels.confirm_arrival(station_a, staff_of(station_a), so.order.number)
    assert "已取消" in exc.value.message_dict["number"][0]


# --- Another station's orders ---------------------------------------------------------------------


def test_another_stations_order_number_is_not_found_and_not_revealed(
    station_a, station_b, resident_b, produce, sms_outbox, django_capture_on_commit_callbacks
):
    staff_a = staff_of(station_a)
    in_transit = order_of(station_b, resident_b, produce)
    waiting = arrived_order(station_b, resident_b, produce, django_capture_on_commit_callbacks)
    sms_outbox.clear()
    unknown = "2611279999999"
    assert not StationOrder.objects.filter(order__number=unknown).exists()

    def message(call, *args) -> str:
        with pytest.raises(ValidationError) as exc:
            call(station_a, staff_a, *args)
        return exc.value.message_dict["number"][0]

    for so in (in_transit, waiting):
        before = state(so)
        number = so.order.number
        texts = [
            message(parcels.confirm_arrival, number),
            message(parcels.hand_over, number, so.pickup_code),
            message(parcels.hand_over, number, wrong_code(so)),
        ]
        not_there = message(parcels.confirm_arrival, unknown)
        for text in texts:
            # Exactly what an order number that exists nowhere gets.
            assert text == not_there.replace(unknown, number)
            for secret in (station_b.name, resident_b.name, "七里海", so.pickup_code):
                assert secret not in text
        assert state(so) == before  # nothing arrived, counted, handed over or logged
    assert sms_outbox == []


def test_another_stations_parcel_ids_are_ignored(
    station_a, station_b, resident_a, resident_b, produce
):
    mine = order_of(station_a, resident_a, produce)
    theirs = order_of(station_b, resident_b, produce)
    their_ids = list(theirs.parcels.values_list("pk", flat=True))
    before = state(theirs)
    with pytest.raises(ValidationError):
        parcels.confirm_arrival(
            station_a, staff_of(station_a), mine.order.number, parcel_ids=their_ids
        )
    assert state(theirs) == before
    assert set(mine.parcels.values_list("status", flat=True)) == {Status.IN_TRANSIT}


# --- Hand-over -------------------------------------------------------------------------------------


def test_hand_over_before_arrival_is_refused_and_not_counted(station_a, resident_a, produce):
    so = order_of(station_a, resident_a, produce)
    with pytest.raises(ValidationError) as exc:
        parcels.hand_over(station_a, staff_of(station_a), so.order.number, wrong_code(so))
    assert "没有已到站待取的包裹" in exc.value.message_dict["number"][0]
    so.refresh_from_db()
    assert so.pickup_failures == 0


def test_right_code_hands_over_and_resets_the_count(
    station_a, resident_a, produce, django_capture_on_commit_callbacks
):
    staff = staff_of(station_a)
    so = arrived_order(station_a, resident_a, produce, django_capture_on_commit_callbacks)
    for attempt in (1, 2, 3):
        with pytest.raises(ValidationError) as exc:
            parcels.hand_over(station_a, staff, so.order.number, wrong_code(so))
        so.refresh_from_db()
        assert so.pickup_failures == attempt
        assert f"还可以再试 {5 - attempt} 次" in exc.value.message_dict["code"][0]
    handed = parcels.hand_over(
        station_a, staff, so.order.number, f" {so.pickup_code.translate(FULL_WIDTH)} "
    )
    assert len(handed) == 2
    so.refresh_from_db()
    assert so.pickup_failures == 0 and not so.is_locked
    for parcel in so.parcels.all():
        assert parcel.status == Status.HANDED_OVER
        assert parcel.handed_over_by == staff and parcel.handed_over_at
    events = AuditEvent.objects.filter(order=so.order)
    assert events.filter(action="pickup_code_failed").count() == 3
    assert events.filter(action="handed_over").count() == 1
    # Nothing left to hand over.
    with pytest.raises(ValidationError):
        parcels.hand_over(station_a, staff, so.order.number, so.pickup_code)


def test_an_empty_code_is_asked_for_not_counted(
    station_a, resident_a, produce, django_capture_on_commit_callbacks
):
    so = arrived_order(station_a, resident_a, produce, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        parcels.hand_over(station_a, staff_of(station_a), so.order.number, " ")
    assert "请输入居民报出的取件码" in str(exc.value)
    so.refresh_from_db()
    assert so.pickup_failures == 0
    assert set(so.parcels.values_list("status", flat=True)) == {"arrived"}


def test_the_fifth_wrong_code_locks_alerts_and_refuses_the_right_code(
    settings, station_a, resident_a, produce, platform_staff, django_capture_on_commit_callbacks
):
    assert settings.WANGNONG_PICKUP_MAX_FAILURES == 5
    staff = staff_of(station_a)
    so = arrived_order(station_a, resident_a, produce, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    for attempt in range(1, 6):
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(ValidationError) as exc:
                parcels.hand_over(station_a, staff, so.order.number, wrong_code(so))
        so.refresh_from_db()
        assert so.pickup_failures == attempt
        assert so.is_locked == (attempt == 5)
        assert len(mail.outbox) == (1 if attempt == 5 else 0)
    assert "连续输错 5 次，包裹已锁定" in exc.value.message_dict["code"][0]
    alert = mail.outbox[0]
    assert alert.to == platform_staff
    assert so.order.number in alert.subject and station_a.name in alert.subject
    assert station_a.contact_phone in alert.body
    assert AuditEvent.objects.filter(order=so.order, action="parcel_locked").count() == 1

    # Locked: even the right code is refused, and no longer counted or alerted.
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValidationError) as exc:
            parcels.hand_over(station_a, staff, so.order.number, so.pickup_code)
    assert "已锁定" in exc.value.message_dict["code"][0]
    so.refresh_from_db()
    assert so.pickup_failures == 5
    assert set(so.parcels.values_list("status", flat=True)) == {Status.ARRIVED}
    assert len(mail.outbox) == 1

    # Platform staff unlock: the count starts again and the code works.
    ops = User.objects.get(username="ops")
    parcels.unlock(so, ops, "已电话核实身份")
    so.refresh_from_db()
    assert so.pickup_failures == 0 and not so.is_locked
    unlocked = AuditEvent.objects.get(order=so.order, action="parcel_unlocked")
    assert unlocked.actor == ops and unlocked.detail["note"] == "已电话核实身份"
    assert list(parcels.locked_orders()) == []
    handed = parcels.hand_over(station_a, staff, so.order.number, so.pickup_code)
    assert {p.status for p in handed} == {Status.HANDED_OVER}
    with pytest.raises(ValidationError, match="没有被锁定"):
        parcels.unlock(so, ops)


def test_the_limit_is_a_setting(
    settings, station_a, resident_a, produce, django_capture_on_commit_callbacks
):
    settings.WANGNONG_PICKUP_MAX_FAILURES = 2
    so = arrived_order(station_a, resident_a, produce, django_capture_on_commit_callbacks)
    for _attempt in range(2):
        with pytest.raises(ValidationError):
            parcels.hand_over(station_a, staff_of(station_a), so.order.number, wrong_code(so))
    so.refresh_from_db()
    assert so.is_locked
    assert list(parcels.locked_orders()) == [so]


def test_alerts_go_to_the_configured_addresses(
    settings, station_a, resident_a, produce, platform_staff, django_capture_on_commit_callbacks
):
    settings.WANGNONG_STATION_ALERT_EMAILS = ["desk@wangnong.example", ""]
    settings.WANGNONG_PICKUP_MAX_FAILURES = 1
    so = arrived_order(station_a, resident_a, produce, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValidationError):
            parcels.hand_over(station_a, staff_of(station_a), so.order.number, wrong_code(so))
    assert [m.to for m in mail.outbox] == [["desk@wangnong.example"]]


def test_hand_over_marks_shipped_lines_delivered(
    station_a, resident_a, produce, django_capture_on_commit_callbacks
):
    so = order_of(station_a, resident_a, produce)
    for line in so.order.lines.all():
        coop = (
            produce["coop_radish"]
            if line.partner_id == produce["coop_radish"].partner_id
            else produce["coop_crab"]
        )
        for action in (fulfilment.ACCEPT, fulfilment.PACK, fulfilment.HAND_OVER):
            fulfilment.advance(line, action, cooperative=coop)
    with django_capture_on_commit_callbacks(execute=True):
        parcels.confirm_arrival(station_a, staff_of(station_a), so.order.number)
    parcels.hand_over(station_a, staff_of(station_a), so.order.number, so.pickup_code)
    so.order.refresh_from_db()
    assert set(so.order.lines.values_list("status", flat=True)) == {"delivered"}
    assert so.order.status == "delivered"
    # The delivery is on record, by whom (settlement counts the return
    # window from it: shop/payment/settlement.py).
    line_ids = list(so.order.lines.values_list("pk", flat=True))
    delivered = fulfilment.delivered_at(line_ids)
    assert set(delivered) == set(line_ids)
    assert {
        e.changed_by_id
        for e in FulfilmentEvent.objects.filter(line_id__in=line_ids, to_status="delivered")
    } == {staff_of(station_a).pk}


# --- Lists ------------------------------------------------------------------------------------------


def test_desk_lists(
    station_a, station_b, resident_a, resident_b, produce, django_capture_on_commit_callbacks
):
    coming = order_of(station_a, resident_a, produce)
    old = arrived_order(station_a, resident_a, produce, django_capture_on_commit_callbacks)
    fresh = arrived_order(station_a, resident_a, produce, django_capture_on_commit_callbacks)
    order_of(station_b, resident_b, produce)
    Parcel.objects.filter(station_order=old).update(
        arrived_at=timezone.now() - dt.timedelta(days=8)
    )
    assert {p.station_order_id for p in parcels.incoming(station_a)} == {coming.pk}
    assert {p.station_order_id for p in parcels.waiting(station_a)} == {old.pk, fresh.pk}
    assert [p.station_order_id for p in parcels.waiting(station_a)][:2] == [old.pk, old.pk]
    assert {p.station_order_id for p in parcels.uncollected(station_a)} == {old.pk}
    assert {p.station_order_id for p in parcels.uncollected(station_a, days=30)} == set()


# --- Wrong codes are committed even though the call raises (PostgreSQL) ----------------------------


@pytest.mark.django_db(transaction=True)
def test_a_wrong_code_is_committed(china, carriers, settings, django_capture_on_commit_callbacks):
    from tests import factories
    from tests.cooperatives.conftest import make_cooperative
    from tests.stations.conftest import make_staff, make_station

    settings.WANGNONG_STATION_ALERT_EMAILS = ["ops@wangnong.example"]
    settings.WANGNONG_PICKUP_MAX_FAILURES = 2
    station = make_station()
    staff = make_staff(station, "desk")
    resident = make_resident(station, "王秀英", phone="")
    coop = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    radish = factories.product("沙窝萝卜", price="20.00", stock=50, partner_obj=coop.partner)
    so = assisted_order(station, resident, [(radish, 1)])
    parcels.confirm_arrival(station, staff, so.order.number)
    mail.outbox.clear()

    def seen_elsewhere() -> tuple:
        """The order as another connection (another request) sees it."""
        seen = {}

        def read():
            try:
                fresh = StationOrder.objects.get(pk=so.pk)
                seen["state"] = (fresh.pickup_failures, fresh.is_locked)
            finally:
                connection.close()

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(10)
        return seen["state"]

    for attempt in (1, 2):
        with pytest.raises(ValidationError):
            parcels.hand_over(station, staff, so.order.number, wrong_code(so))
        assert seen_elsewhere() == (attempt, attempt == 2)
    assert AuditEvent.objects.filter(order=so.order, action="pickup_code_failed").count() == 2
    assert len(mail.outbox) == 1  # sent on commit, with no test wrapper around it
