"""Demo village service stations, loaded by ``manage.py load_demo`` after
the cooperatives.

Four active stations in administrative villages of four Tianjin districts,
each with one staff account and a few residents registered through the
services (consent recorded; one resident per station has no phone), and one
assisted order already placed at 上辛口村 (if the demo produce is there), so
the portal and the dashboard have a parcel on its way, cash in the drawer
and commission to show.

Idempotent like the rest of load_demo: a station is found by its village
and name, a staff account by its username, a resident by station and name;
nothing that exists is changed, and the order is placed only once.

Staff accounts, for the local demo only (README): username
``station-<village code>``, e-mail ``station-<village code>@wangnong.local``,
password ``wangnong-station``; they sign in at /accounts/login/ with the
e-mail and use /station/.
"""

from __future__ import annotations

from collections import Counter

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from oscar.core.loading import get_model

from divisions.models import Division
from stations import ordering, residents
from stations.models import Resident, Station, StationOrder, StationStaff

STAFF_PASSWORD = "wangnong-station"
STAFF_USERNAME = "station-{code}"
STAFF_EMAIL = "station-{code}@wangnong.local"

# Illustrative people and numbers (the 1380013xxxx test range), not real ones.
STATIONS = [
    {
        "village": "120111102201",  # 西青区 辛口镇 上辛口村委会
        "name": "上辛口村益农信息社",
        "street_address": "上辛口村村委会东侧 8 号",
        "opening_hours": "8:00–18:00，周一至周日",
        "contact_phone": "022-27391234",
        "operator": "上辛口村村民委员会",
        "staff": "刘秀梅",
        "residents": [
            {"name": "王秀英", "phone": "13800138101"},
            {"name": "李德明", "phone": ""},
            {
                "name": "赵淑兰",
                "phone": "13800138102",
                "village": "120111102205",  # 中辛口村委会, same town
                "delivery": Resident.Delivery.HOME,
                "address_detail": "中辛口村三排五号",
            },
        ],
    },
    {
        "village": "120117110203",  # 宁河区 七里海镇 齐家埠村委会
        "name": "齐家埠村益农信息社",
        "street_address": "齐家埠村文化广场北侧",
        "opening_hours": "8:30–17:30",
        "contact_phone": "022-69591234",
        "operator": "齐家埠村村民委员会",
        "staff": "齐建华",
        "residents": [
            {"name": "齐凤山", "phone": "13800138201"},
            {"name": "孙桂芝", "phone": ""},
        ],
    },
    {
        "village": "120119102204",  # 蓟州区 官庄镇 双安村委会
        "name": "双安村益农信息社",
        "street_address": "双安村主街 26 号（村超市内）",
        "opening_hours": "7:30–19:00",
        "contact_phone": "13800138300",
        "operator": "双安村便民超市（张立新）",
        "staff": "张立新",
        "residents": [
            {"name": "张玉兰", "phone": "13800138301"},
            {"name": "陈福顺", "phone": ""},
        ],
    },
    {
        "village": "120115125201",  # 宝坻区 黄庄镇 黄庄村委会
        "name": "黄庄村益农信息社",
        "street_address": "黄庄村村委会院内",
        "opening_hours": "8:00–17:00，周日休息",
        "contact_phone": "022-29591234",
        "operator": "黄庄村村民委员会",
        "staff": "黄春燕",
        "residents": [
            {"name": "黄德胜", "phone": "13800138401"},
            {"name": "马秀云", "phone": ""},
            {"name": "周建军", "phone": "13800138402"},
        ],
    },
]

# One assisted order, placed once: (station village, resident, stock record
# SKU, quantity, cash handed over).
DEMO_ORDER = ("120111102201", "王秀英", "XQ-SW-5J", 1, "50")


def staff_username(village_code: str) -> str:
    return STAFF_USERNAME.format(code=village_code)


def load(stdout=None) -> Counter:
    """Create whatever of the demo stations is missing; returns what was
    created (empty on a second run)."""
    created: Counter = Counter()

    def warn(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    for spec in STATIONS:
        if not Division.objects.filter(code=spec["village"]).exists():
            warn(f"Village {spec['village']} is not in the divisions table; station skipped.")
            continue
        with transaction.atomic():
            station = _station(spec, created)
            staff = _staff(station, spec, created)
            for person in spec["residents"]:
                _resident(station, staff, person, created)
    _order(created, warn)
    return created


def _station(spec: dict, created: Counter) -> Station:
    station = Station.objects.filter(village_id=spec["village"], name=spec["name"]).first()
    if station is None:
        station = Station(
            name=spec["name"],
            village_id=spec["village"],
            street_address=spec["street_address"],
            opening_hours=spec["opening_hours"],
            contact_phone=spec["contact_phone"],
            operator=spec["operator"],
        )
        station.full_clean()
        station.save()
        created["stations"] += 1
    return station


def _staff(station: Station, spec: dict, created: Counter):
    User = get_user_model()
    username = staff_username(spec["village"])
    user = User._default_manager.filter(username=username).first()
    if user is None:
        user = User._default_manager.create_user(
            username=username,
            email=STAFF_EMAIL.format(code=spec["village"]),
            password=STAFF_PASSWORD,
            first_name=spec["staff"],
        )
        created["station staff accounts"] += 1
    if not StationStaff.objects.filter(user=user).exists():
        StationStaff.objects.create(user=user, station=station)
    return user


def _resident(station: Station, staff, person: dict, created: Counter) -> Resident:
    existing = Resident.objects.filter(station=station, name=person["name"]).first()
    if existing is not None:
        return existing
    resident = residents.register_resident(
        station,
        staff,
        residents.ResidentData(
            name=person["name"],
            village_code=person.get("village", station.village_id),
            phone=person["phone"],
            address_detail=person.get("address_detail", ""),
            delivery_preference=person.get("delivery", Resident.Delivery.STATION),
        ),
        consent_given=True,
    )
    created["station residents"] += 1
    return resident


def _order(created: Counter, warn) -> None:
    village, name, sku, quantity, cash = DEMO_ORDER
    StockRecord = get_model("partner", "StockRecord")
    resident = (
        Resident.objects.select_related("station")
        .filter(station__village_id=village, name=name)
        .first()
    )
    if resident is None or StationOrder.objects.filter(resident=resident).exists():
        return
    record = StockRecord.objects.select_related("product").filter(partner_sku=sku).first()
    if record is None:
        return  # no demo produce: the stations work without an order
    station = resident.station
    staff = (
        StationStaff.objects.filter(station=station, is_active=True).select_related("user").first()
    )
    if staff is None:
        return
    basket = ordering.resident_basket(resident)
    basket.flush()  # whatever a failed earlier attempt left behind
    try:
        ordering.add_product(basket, record.product, quantity)
        ordering.place_assisted_order(
            station=station,
            staff_user=staff.user,
            resident=resident,
            basket=basket,
            delivery=Resident.Delivery.STATION,
            cash_received=cash,
        )
    except ValidationError as exc:
        warn(f"Demo station order not placed: {'; '.join(exc.messages)}")
        return
    created["station orders"] += 1
