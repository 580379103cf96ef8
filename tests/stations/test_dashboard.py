"""Platform staff manage stations at /dashboard/stations/ (Oscar's dashboard):
coverage, the station list, creating and editing stations, suspension,
staff accounts (one person, one station), the cash ledger and remittances,
commission, residents and their audit log, locked parcels; and the Django
admin's read-only registrations. Nobody but platform staff gets in."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from divisions.models import Division
from stations import cash, parcels, services
from stations.access import staff_record_for
from stations.coverage import administrative_villages, coverage, coverage_by_district
from stations.models import AuditEvent, CashEntry, Station, StationOrder, StationStaff
from tests.stations.conftest import (
    VILLAGE_A,
    assisted_order,
    make_resident,
    make_staff,
    make_station,
    staff_of,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
NAMESPACE = "stations-dashboard"
LIST = reverse("stations-dashboard:list")
CREATE = reverse("stations-dashboard:create")

# A valid station form (辛口镇 水高庄村委会).
FORM = {
    "name": "水高庄村益农信息社",
    "province": "12",
    "city": "1201",
    "county": "120111",
    "town": "120111102",
    "village": "120111102203",
    "street_address": "水高庄村委会西侧",
    "opening_hours": "8:00–18:00",
    "contact_phone": "022 2739 5678",
    "operator": "水高庄村村民委员会",
    "is_pickup_point": "on",
    "commission_fixed": "",
    "commission_rate": "",
}


def url(name: str, **kwargs) -> str:
    return reverse(f"{NAMESPACE}:{name}", kwargs=kwargs)


@pytest.fixture
def platform(django_user_model):
    return django_user_model.objects.create_user(
        "platform", "platform@example.com", "pw-staff-123", is_staff=True, first_name="平台小李"
    )


@pytest.fixture
def staff_client(platform):
    client = Client()
    client.force_login(platform)
    return client


def html(response) -> str:
    return response.content.decode()


# --- Who gets in ----------------------------------------------------------------------


def dashboard_urls(resolver=None, namespace: str = ""):
    """(url name, keyword names) of every pattern in the stations-dashboard namespace."""
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


@pytest.fixture
def objects(station_a, resident_a):
    """Real ids for every keyword the dashboard's URLs take."""
    return {
        "pk": station_a.pk,
        "staff_pk": station_a.staff.get().pk,
        "resident": resident_a.pk,
    }


def filled(url_name: str, kwarg_names: list[str], objs: dict) -> str:
    kwargs = {}
    for kwarg in kwarg_names:
        if kwarg == "pk" and url_name == f"{NAMESPACE}:resident-audit":
            kwargs[kwarg] = objs["resident"]
        elif kwarg in objs:
            kwargs[kwarg] = objs[kwarg]
        else:
            raise AssertionError(f"add a value for {url_name}'s `{kwarg}` to objects()")
    return reverse(url_name, kwargs=kwargs)


def test_the_walk_finds_every_page():
    names = {name for name, _kwargs in dashboard_urls()}
    assert {
        f"{NAMESPACE}:{n}"
        for n in (
            "list",
            "create",
            "detail",
            "edit",
            "staff-add",
            "staff-deactivate",
            "ledger",
            "commission",
            "station-commission",
            "residents",
            "resident-audit",
            "locked",
            "unlock",
        )
    } <= names


def test_only_platform_staff_get_in(client, station_a, objects):
    customer = User.objects.create_user("shopper", "shopper@example.com", "pw-shop-123")
    station_staff = staff_of(station_a)
    walked = 0
    for name, kwarg_names in dashboard_urls():
        target = filled(name, kwarg_names, objects)
        client.logout()
        for method in (client.get, client.post):
            response = method(target)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith(reverse("dashboard:login")), name
        for user in (station_staff, customer):
            client.force_login(user)
            assert client.get(target).status_code == 403, (name, user)
            assert client.post(target, {"action": "suspend", "reason": "x"}).status_code == 403
        walked += 1
    assert walked >= 13
    station_a.refresh_from_db()
    assert station_a.is_active
    assert station_a.staff.get().is_active


def test_every_page_renders_for_staff(staff_client, station_a, objects, produce, resident_a):
    assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    post_only = {f"{NAMESPACE}:staff-deactivate", f"{NAMESPACE}:unlock"}
    for name, kwarg_names in dashboard_urls():
        response = staff_client.get(filled(name, kwarg_names, objects))
        if name in post_only:
            assert response.status_code == 405, name
        elif name == f"{NAMESPACE}:staff-add":
            assert response.status_code == 302, name  # back to the station's staff list
        else:
            assert response.status_code == 200, name
            assert "服务站" in html(response), name


def test_dashboard_menu_has_stations(staff_client):
    page = html(staff_client.get(reverse("dashboard:index")))
    assert "服务站" in page
    for name in ("list", "create", "commission", "locked"):
        assert url(name) in page


# --- Coverage -------------------------------------------------------------------------


def test_coverage_counts_villages_with_an_active_station():
    tianjin = Division.objects.filter(level=Division.Level.VILLAGE, code__startswith="12")
    expected_total = sum(1 for d in tianjin if d.is_administrative_village)
    assert administrative_villages().count() == expected_total > 3000
    assert coverage().covered == 0

    make_station("上辛口村站", VILLAGE_A)  # 上辛口村委会
    make_station("上辛口村二站", VILLAGE_A)  # same village: counted once
    make_station("社区站", "120111102002")  # 新惠园社区居民委员会: not a village
    make_station("当城村站", "120111102202", status=Station.Status.SUSPENDED)  # not active

    result = coverage()
    assert (result.covered, result.total) == (1, expected_total)
    assert result.target_villages == -(-expected_total * 80 // 100)
    assert not result.meets_target and result.still_needed == result.target_villages - 1

    town = coverage("120111102")  # 辛口镇: 18 村委会
    assert (town.covered, town.total) == (1, 18)
    assert town.percent == Decimal("5.6")
    by_district = {row.name: row.coverage for row in coverage_by_district()}
    assert by_district["西青区"].covered == 1 and by_district["宁河区"].covered == 0
    assert sum(c.total for c in by_district.values()) == expected_total


def test_coverage_target_met():
    for code in ["120111102201", "120111102202", "120111102203", "120111102204", "120111102205"]:
        make_station(f"站{code}", code)
    result = coverage("12011110220")  # the first nine 村委会 of 辛口镇 (201–209)
    assert (result.covered, result.total) == (5, 9)
    assert result.target_villages == 8 and not result.meets_target
    for code in ["120111102206", "120111102207", "120111102208"]:
        make_station(f"站{code}", code)
    assert coverage("12011110220").meets_target


def test_list_shows_coverage_and_the_table(staff_client, station_a, station_b, resident_a, produce):
    assisted_order(station_a, resident_a, [(produce["radish"], 2)])
    page = html(staff_client.get(LIST))
    assert "行政村覆盖率" in page
    assert f"<strong>2</strong> / {administrative_villages().count()}" in page
    for text in [
        station_a.name,
        station_b.name,
        "西青区",
        "辛口镇",
        "上辛口村委会",
        "宁河区",
        "¥40.00",
    ]:
        assert text in page, text


def test_list_searches_and_filters(staff_client, station_a, station_b):
    services.set_status(station_b, Station.Status.SUSPENDED, "整改", staff_of(station_a))
    page = html(staff_client.get(LIST, {"q": "七里海"}))
    assert station_b.name in page and station_a.name not in page
    page = html(staff_client.get(LIST, {"q": "上辛口村委会"}))  # the village's name
    assert station_a.name in page and station_b.name not in page
    page = html(staff_client.get(LIST, {"status": "suspended"}))
    assert station_b.name in page and station_a.name not in page
    page = html(staff_client.get(LIST, {"district": "120111"}))
    assert station_a.name in page and station_b.name not in page
    page = html(staff_client.get(LIST, {"district": "110101", "status": "bogus"}))  # ignored
    assert station_a.name in page and station_b.name in page


# --- Create and edit ---------------------------------------------------------------------


def test_create_station(staff_client, platform):
    form = html(staff_client.get(CREATE))
    assert "天津市" in form and "北京市" not in form  # Tianjin only
    assert "西青区" in form  # districts offered straight away
    assert "¥1.00" in form and "3%" in form  # the default commission shown

    response = staff_client.post(CREATE, FORM)
    station = Station.objects.get(name="水高庄村益农信息社")
    assert response.status_code == 302
    assert response["Location"] == url("detail", pk=station.pk) + "#staff"
    assert station.village_id == "120111102203"
    assert station.contact_phone == "022-27395678"
    assert station.is_active and station.is_pickup_point
    assert station.commission_fixed is None and station.commission_rate is None
    entry = services.history(station).get()
    assert entry.user == platform and entry.change_message == "新建站点"


def test_create_narrows_without_javascript(staff_client):
    data = {**FORM, "town": "", "village": "", "_narrow": "county"}
    response = staff_client.post(CREATE, data)
    page = html(response)
    assert response.status_code == 200 and not Station.objects.exists()
    assert "辛口镇" in page and "请选择" in page
    assert "error-block" not in page  # narrowing shows no errors
    assert 'value="水高庄村益农信息社"' in page  # what was typed is kept


def test_create_refuses_bad_input_and_keeps_it(staff_client):
    data = {**FORM, "contact_phone": "12345", "village": "", "commission_rate": "120"}
    response = staff_client.post(CREATE, data)
    page = html(response)
    assert response.status_code == 200 and not Station.objects.exists()
    assert "请填写手机号码或带区号的固定电话" in page
    assert "请选择站点服务的村" in page
    assert "比例不能超过 100%" in page
    assert 'value="水高庄村益农信息社"' in page


def test_create_refuses_a_village_outside_tianjin(staff_client):
    # 北京市 东城区 东华门街道: there is no village level outside Tianjin.
    data = {
        **FORM,
        "province": "11",
        "city": "1101",
        "county": "110101",
        "town": "110101001",
        "village": "110101001001",
    }
    response = staff_client.post(CREATE, data)
    assert response.status_code == 200 and not Station.objects.exists()
    # A village picked under a Tianjin town it does not belong to is refused too.
    data = {**FORM, "village": "120117110201"}
    page = html(staff_client.post(CREATE, data))
    assert "所选村/社区不属于所选乡镇/街道" in page and not Station.objects.exists()
    # And the model holds the rule whatever the form does.
    with pytest.raises(ValidationError) as exc:
        Station(
            name="x",
            village_id="110101001",
            street_address="x",
            contact_phone="13800138000",
            operator="x",
        ).full_clean()
    assert "天津市" in str(exc.value)


def test_edit_station(staff_client, station_a, platform):
    edit = url("edit", pk=station_a.pk)
    page = html(staff_client.get(edit))
    assert 'value="上辛口村益农信息社"' in page
    assert 'value="120111102201" selected' in page
    data = {
        **FORM,
        "name": "上辛口村益农信息社（新址）",
        "village": "120111102201",
        "street_address": station_a.street_address,
        "opening_hours": station_a.opening_hours,
        "contact_phone": "13812340000",
        "operator": station_a.operator,
        "commission_fixed": "2.50",
        "commission_rate": "",
    }
    response = staff_client.post(edit, data)
    assert response.status_code == 302
    station_a.refresh_from_db()
    assert station_a.name == "上辛口村益农信息社（新址）"
    assert station_a.commission_fixed == Decimal("2.50") and station_a.commission_rate is None
    message = services.history(station_a).first().change_message
    assert (
        message.startswith("修改站点资料：") and "站点名称" in message and "每单固定佣金" in message
    )
    assert "服务村" not in message

    data["village"] = ""
    page = html(staff_client.post(edit, data))
    assert "请选择站点服务的村" in page
    station_a.refresh_from_db()
    assert station_a.village_id == VILLAGE_A


# --- Status ------------------------------------------------------------------------------


def test_suspend_needs_a_reason_then_reactivate(
    staff_client, station_a, resident_a, produce, platform
):
    detail = url("detail", pk=station_a.pk)
    page = html(staff_client.post(detail, {"action": "suspend", "reason": "  "}))
    assert "暂停站点必须填写原因" in page
    station_a.refresh_from_db()
    assert station_a.is_active

    response = staff_client.post(detail, {"action": "suspend", "reason": "现金账目待核实"})
    assert response.status_code == 302
    station_a.refresh_from_db()
    assert station_a.status == Station.Status.SUSPENDED
    assert station_a.status_reason == "现金账目待核实"
    change = services.last_status_change(station_a)
    assert change.user == platform and "现金账目待核实" in change.change_message
    page = html(staff_client.get(detail))
    assert "现金账目待核实" in page and "platform" in page and "恢复运营" in page

    # Staff keep their portal access but cannot order.
    assert staff_record_for(staff_of(station_a)) is not None
    with pytest.raises(ValidationError):
        assisted_order(station_a, resident_a, [(produce["radish"], 1)])

    staff_client.post(detail, {"action": "reactivate", "reason": ""})
    station_a.refresh_from_db()
    assert station_a.is_active and station_a.status_reason == ""
    assert services.last_status_change(station_a).change_message == "恢复运营"
    assisted_order(station_a, resident_a, [(produce["radish"], 1)])


def test_set_status_refuses_the_same_status(station_a, platform):
    with pytest.raises(ValidationError) as exc:
        services.set_status(station_a, Station.Status.ACTIVE, "", platform)
    assert "运营中" in str(exc.value)


# --- Staff accounts ----------------------------------------------------------------------


def add(client, station, **data):
    return client.post(url("staff-add", pk=station.pk), data)


NEW_STAFF = {
    "mode": "new",
    "new-username": "xinkou-liu",
    "new-display_name": "刘 秀梅",
    "new-email": "liu@example.cn",
    "new-password1": "Xinkou-station-2025",
    "new-password2": "Xinkou-station-2025",
}


def test_add_a_new_staff_account(staff_client, station_a, platform):
    response = add(staff_client, station_a, **NEW_STAFF)
    assert response.status_code == 302
    user = User.objects.get(username="xinkou-liu")
    assert user.first_name == "刘 秀梅" and user.email == "liu@example.cn"
    assert user.check_password("Xinkou-station-2025") and not user.is_staff
    staff = StationStaff.objects.get(user=user)
    assert staff.station == station_a and staff.is_active and staff.added_by == platform
    assert Client().login(username="liu@example.cn", password="Xinkou-station-2025")  # e-mail login
    assert (
        "添加工作人员 刘 秀梅（xinkou-liu）" in services.history(station_a).first().change_message
    )


def test_new_staff_account_errors_keep_what_was_typed(staff_client, station_a, station_b):
    taken = staff_of(station_b)
    data = {**NEW_STAFF, "new-username": taken.username, "new-password2": "different-2025"}
    page = html(add(staff_client, station_a, **data))
    assert "已被使用" in page and "两次输入的密码不一致" in page
    assert 'value="liu@example.cn"' in page and "Xinkou-station-2025" not in page
    data = {
        **NEW_STAFF,
        "new-email": taken.email.upper(),
        "new-password1": "12345678",
        "new-password2": "12345678",
    }
    page = html(add(staff_client, station_a, **data))
    assert "已被其他账号使用" in page
    assert not User.objects.filter(username="xinkou-liu").exists()


def test_attach_an_existing_account(staff_client, station_a):
    person = User.objects.create_user("villager", "villager@example.cn", "pw-villager-1")
    response = add(
        staff_client, station_a, mode="existing", **{"existing-identifier": "VILLAGER@example.cn"}
    )
    assert response.status_code == 302
    assert StationStaff.objects.get(user=person).station == station_a
    page = html(
        add(staff_client, station_a, mode="existing", **{"existing-identifier": "villager"})
    )
    assert "已经是本站的工作人员" in page
    page = html(add(staff_client, station_a, mode="existing", **{"existing-identifier": "nobody"}))
    assert "没有找到用户名或邮箱为“nobody”的账号" in page


def test_one_person_one_station(staff_client, station_a, station_b):
    other = staff_of(station_b)
    page = html(
        add(staff_client, station_a, mode="existing", **{"existing-identifier": other.username})
    )
    assert f"已是“{station_b.name}”的工作人员" in page and "一个人只能在一个站点工作" in page
    assert StationStaff.objects.get(user=other).station == station_b

    # Deactivated at B, still not movable: a new account is needed.
    services.deactivate_staff(StationStaff.objects.get(user=other), other)
    page = html(
        add(staff_client, station_a, mode="existing", **{"existing-identifier": other.email})
    )
    assert "已停用" in page and "请为其新建一个账号" in page
    assert StationStaff.objects.get(user=other).station == station_b


def test_platform_staff_cannot_be_station_staff(staff_client, station_a, platform):
    page = html(
        add(staff_client, station_a, mode="existing", **{"existing-identifier": platform.username})
    )
    assert "平台工作人员账号，不能兼任站点工作人员" in page
    assert not StationStaff.objects.filter(user=platform).exists()
    with pytest.raises(ValidationError):
        services.add_staff(station_a, platform, platform)


def test_deactivate_and_reactivate_staff(staff_client, station_a, station_b):
    member = station_a.staff.get()
    response = staff_client.post(url("staff-deactivate", pk=station_a.pk, staff_pk=member.pk))
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert staff_record_for(member.user) is None  # the portal turns them away
    assert "停用工作人员" in services.history(station_a).first().change_message

    # Another station's staff record under this station's URL: 404.
    other = station_b.staff.get()
    assert (
        staff_client.post(url("staff-deactivate", pk=station_a.pk, staff_pk=other.pk)).status_code
        == 404
    )
    other.refresh_from_db()
    assert other.is_active

    # The page's 重新启用 button re-adds the same account.
    page = html(staff_client.get(url("detail", pk=station_a.pk)))
    assert "重新启用" in page
    add(staff_client, station_a, mode="existing", **{"existing-identifier": member.user.username})
    member.refresh_from_db()
    assert member.is_active


# --- Cash ---------------------------------------------------------------------------------


def test_remittance_reduces_the_outstanding_balance(
    staff_client, station_a, resident_a, produce, platform
):
    assisted_order(station_a, resident_a, [(produce["radish"], 2)])  # ¥40
    ledger = url("ledger", pk=station_a.pk)
    page = html(staff_client.get(ledger))
    assert "¥40.00" in page and "代购收款" in page

    page = html(staff_client.post(ledger, {"amount": "100", "note": ""}))
    assert "超过了站点待上缴的 ¥40.00" in page
    page = html(staff_client.post(ledger, {"amount": "abc", "note": "x"}))
    assert "请填写大于 0 的金额" in page and 'value="abc"' in page
    assert cash.outstanding_balance(station_a) == Decimal("40.00")

    response = staff_client.post(ledger, {"amount": "３０", "note": "  上半月  货款 "})
    assert response.status_code == 302
    assert cash.outstanding_balance(station_a) == Decimal("10.00")
    entry = CashEntry.objects.get(kind=CashEntry.Kind.REMITTANCE)
    assert entry.amount == Decimal("-30.00") and entry.recorded_by == platform
    assert entry.note == "上半月 货款"
    page = html(staff_client.get(ledger))
    assert "¥10.00" in page and "上缴平台" in page and "上半月 货款" in page


def test_ledger_shows_closes_with_differences(staff_client, station_a, resident_a, produce):
    assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    cash.close_day(station_a, staff_of(station_a), Decimal("18.50"), note="少了一张")
    page = html(staff_client.get(url("ledger", pk=station_a.pk)))
    assert "-1.50" in page and "少了一张" in page
    listing = html(staff_client.get(LIST))
    assert timezone.localdate().strftime("%Y-%m-%d") in listing and "-1.50" in listing


# --- Commission ---------------------------------------------------------------------------


def test_commission_overview_drill_down_and_csv(
    staff_client, station_a, station_b, resident_a, produce
):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 5)])  # ¥100: 1 + 3 = ¥4.00
    make_station("=HYPERLINK(1)", "120111102205")
    month = timezone.localdate().strftime("%Y-%m")
    page = html(staff_client.get(url("commission"), {"month": month}))
    assert station_a.name in page and station_b.name in page and "¥4.00" in page

    detail = html(staff_client.get(url("station-commission", pk=station_a.pk), {"month": month}))
    assert so.order.number in detail and "4.00" in detail and resident_a.name in detail

    response = staff_client.get(url("commission"), {"month": month, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert f"station-commission-{month}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["月份", "站点编号", "站点名称"]
    row = next(r for r in rows[1:] if r[2] == station_a.name)
    assert row[3:9] == ["西青区", "辛口镇", "上辛口村委会", "1", "100.00", "4.00"]
    assert any(r[2] == "'=HYPERLINK(1)" for r in rows)  # no formula for a spreadsheet


def test_commission_month_that_cannot_be_read(staff_client):
    response = staff_client.get(url("commission"), {"month": "2025-13"}, follow=True)
    assert response.status_code == 200
    assert "无法识别" in html(response)
    assert timezone.localdate().strftime("%Y-%m") in html(response)


# --- Residents and the audit log ------------------------------------------------------------


def test_residents_are_listed_with_masked_phones(staff_client, station_a, resident_a):
    make_resident(station_a, "李德明", phone="")
    page = html(staff_client.get(url("residents", pk=station_a.pk)))
    assert resident_a.name in page and "李德明" in page
    assert "138****5678" in page and "13812345678" not in page
    page = html(staff_client.get(url("residents", pk=station_a.pk), {"q": "德明"}))
    assert "李德明" in page and resident_a.name not in page


def test_audit_page_shows_every_event(staff_client, station_a, resident_a, produce):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 1)], cash="50")
    staff = staff_of(station_a)
    before = AuditEvent.objects.count()
    response = staff_client.get(url("resident-audit", pk=resident_a.pk))
    page = html(response)
    assert AuditEvent.objects.count() == before  # reading it is not logged
    assert "13812345678" not in page and "138****5678" in page
    for text in [
        "登记居民",
        "代下单",
        "收取现金",
        so.order.number,
        staff.username,
        "实收：¥50.00",
        "找零：¥30.00",
    ]:
        assert text in page, text
    event = AuditEvent.objects.filter(resident=resident_a).first()
    assert timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S") in page
    assert page.index("收取现金") < page.index("登记居民")  # newest first
    # No way to change it from here.
    assert staff_client.post(url("resident-audit", pk=resident_a.pk)).status_code == 405


# --- Locked parcels ------------------------------------------------------------------------


@pytest.fixture
def locked_order(settings, station_a, resident_a, produce):
    settings.WANGNONG_PICKUP_MAX_FAILURES = 2
    so = assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    staff = staff_of(station_a)
    parcels.confirm_arrival(station_a, staff, so.order.number)
    wrong = "000000" if so.pickup_code != "000000" else "111111"
    for _attempt in range(2):
        with pytest.raises(ValidationError):
            parcels.hand_over(station_a, staff, so.order.number, wrong)
    so.refresh_from_db()
    assert so.is_locked
    return so


def test_unlock_needs_a_note(staff_client, locked_order, platform):
    page = html(staff_client.get(url("locked")))
    assert locked_order.order.number in page and locked_order.station.name in page
    assert "138****5678" in page and "2 次" in page

    unlock = url("unlock", pk=locked_order.pk)
    page = html(staff_client.post(unlock, {f"unlock-{locked_order.pk}-note": " "}))
    assert "请写明如何核实了居民身份" in page
    locked_order.refresh_from_db()
    assert locked_order.is_locked

    response = staff_client.post(unlock, {f"unlock-{locked_order.pk}-note": "电话核实，身份证相符"})
    assert response.status_code == 302
    locked_order.refresh_from_db()
    assert not locked_order.is_locked and locked_order.pickup_failures == 0
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PARCEL_UNLOCKED).get()
    assert event.actor == platform and event.detail["note"] == "电话核实，身份证相符"
    page = html(staff_client.get(url("locked")))
    assert "已解锁" in page and unlock not in page

    # Unlocking again says so instead of failing.
    page = html(staff_client.post(unlock, {f"unlock-{locked_order.pk}-note": "再来"}, follow=True))
    assert "没有被锁定" in page


def test_locked_count_on_the_list_and_the_station(staff_client, locked_order):
    assert StationOrder.objects.filter(locked_at__isnull=False).count() == 1
    page = html(staff_client.get(url("detail", pk=locked_order.station_id)))
    assert "被锁定" in page


# --- Django admin ---------------------------------------------------------------------------


def test_admin_registrations(station_a, resident_a, produce):
    assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    admin = User.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client()
    client.force_login(admin)
    for model in [
        "station",
        "stationstaff",
        "resident",
        "stationorder",
        "parcel",
        "dayclose",
        "cashentry",
        "auditevent",
    ]:
        assert client.get(f"/django-admin/stations/{model}/").status_code == 200, model
    for model in ["resident", "stationorder", "parcel", "dayclose", "cashentry", "auditevent"]:
        assert client.get(f"/django-admin/stations/{model}/add/").status_code == 403, model
    assert client.get(f"/django-admin/stations/station/{station_a.pk}/change/").status_code == 200
    member = station_a.staff.get()
    assert client.get(f"/django-admin/stations/stationstaff/{member.pk}/change/").status_code == 200
    page = html(client.get(f"/django-admin/stations/resident/{resident_a.pk}/change/"))
    assert "138****5678" in page and "13812345678" not in page
    assert client.get(f"/django-admin/stations/station/{station_a.pk}/delete/").status_code == 403


def test_admin_staff_form_keeps_the_rules(station_a, station_b):
    from stations.admin import StationStaffForm

    admin = User.objects.create_superuser("root", "root@example.com", "pw-root-123")
    form = StationStaffForm({"user": admin.pk, "station": station_a.pk, "is_active": True})
    assert not form.is_valid() and "平台工作人员" in str(form.errors)
    fresh = make_staff(station_b, "fresh")
    form = StationStaffForm(
        {"user": fresh.pk, "station": station_a.pk, "is_active": True},
        instance=StationStaff.objects.get(user=fresh),
    )
    assert not form.is_valid() and station_b.name in str(form.errors)
