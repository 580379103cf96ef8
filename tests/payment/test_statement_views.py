"""Statements on screen and as downloads: the cooperative portal
(/coop/statements/), the station portal (/station/statements/) and the
platform staff's dashboard (/dashboard/settlements/) — who may see what,
and the dashboard's generate and mark-paid forms."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from shop.payment import settlement
from shop.payment.models import JournalEntry, Statement
from tests import factories
from tests.cooperatives.conftest import make_cooperative, manager_of, member_of
from tests.payment.builders import days_ago, deliver, quick_order, station_order
from tests.payment.test_settlement import pdf_text
from tests.stations.conftest import make_resident, make_staff, make_station, staff_of

pytestmark = pytest.mark.django_db

User = get_user_model()


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def world(china, carriers, settings):
    settings.WANGNONG_STATION_COMMISSION_FIXED = "1.00"
    settings.WANGNONG_STATION_COMMISSION_RATE = "2"
    coop_a = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    coop_b = make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )
    radish = factories.product("沙窝萝卜", price="20.00", stock=100, partner_obj=coop_a.partner)
    crab = factories.product("七里海河蟹", price="88.00", stock=100, partner_obj=coop_b.partner)
    order = quick_order([(radish, 2), (crab, 1)])
    deliver(order.lines.all(), at=days_ago(10))
    still_returnable = quick_order([(radish, 1)])
    deliver(still_returnable.lines.all(), at=days_ago(2))
    station_a = make_station()
    make_staff(station_a)
    make_resident(station_a, "王秀英", phone="13812345678")
    station_b = make_station("七里海镇益农信息社", "120117110201")
    make_staff(station_b)
    make_resident(station_b, "李桂兰", phone="13987654321")
    station_order(station_a, [(radish, 1)])
    station_order(station_b, [(crab, 1)])
    settlement.generate_statements(yesterday())
    settlement.generate_statements(timezone.localdate())
    staff = User.objects.create_user("finance", "finance@example.com", "pw", is_staff=True)
    statements = {
        "a": Statement.objects.get(partner=coop_a.partner),
        "b": Statement.objects.get(partner=coop_b.partner),
        "st_a": Statement.objects.get(station=station_a),
        "st_b": Statement.objects.get(station=station_b),
    }
    return {
        "coop_a": coop_a,
        "coop_b": coop_b,
        "station_a": station_a,
        "station_b": station_b,
        "order": order,
        "staff": staff,
        **statements,
    }


# --- The cooperative portal ----------------------------------------------------------------------


def test_a_cooperative_sees_its_balance_and_statements(client, world):
    client.force_login(member_of(world["coop_a"]))
    response = client.get(reverse("coop:statements"))
    assert response.status_code == 200
    text = response.content.decode()
    assert world["a"].number in text and world["b"].number not in text
    # Pending: the radish delivered two days ago and the one the station
    # ordered (not delivered), ¥20 − ¥1 each.
    assert response.context["balance"] == settlement.Balance(pending=3800, payable=3800)
    assert "¥38.00" in text and "¥38.00" in text and "待付款" in text
    # The portal navigation links to it.
    assert reverse("coop:statements") in client.get(reverse("coop:home")).content.decode()


def test_the_statement_page_lists_its_lines(client, world):
    client.force_login(manager_of(world["coop_a"]))
    statement = world["a"]
    response = client.get(reverse("coop:statement", args=[statement.number]))
    assert response.status_code == 200
    text = response.content.decode()
    assert world["order"].number in text and "沙窝萝卜" in text and "七里海河蟹" not in text
    assert reverse("coop:statement-pdf", args=[statement.number]) in text
    [row] = response.context["rows"]
    assert (row.amounts.gross, row.amounts.commission, row.amounts.payable) == (4000, 200, 3800)
    assert row.day == days_ago(10).date()


def test_a_cooperative_downloads_its_pdf_and_csv(client, world):
    client.force_login(manager_of(world["coop_a"]))
    statement = world["a"]
    response = client.get(reverse("coop:statement-pdf", args=[statement.number]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert statement.number in text and "沙窝萝卜" in text

    response = client.get(reverse("coop:statement-csv", args=[statement.number]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["结算单号", statement.number]
    assert rows[-1][0] == "合计" and rows[-1][-1] == "38.00"


@pytest.mark.parametrize("suffix", ["", "-pdf", "-csv"])
def test_another_cooperatives_statement_is_404(client, world, suffix):
    client.force_login(manager_of(world["coop_a"]))
    url = reverse(f"coop:statement{suffix}", args=[world["b"].number])
    assert client.get(url).status_code == 404
    station_number = world["st_a"].number
    assert client.get(reverse(f"coop:statement{suffix}", args=[station_number])).status_code == 404


def test_the_cooperative_pages_need_a_member(client, world):
    url = reverse("coop:statement", args=[world["a"].number])
    assert client.get(url).status_code == 302  # to the login
    client.force_login(User.objects.create_user("shopper", "s@example.com", "pw-123456"))
    assert client.get(url).status_code == 404
    assert client.get(reverse("coop:statements")).status_code == 404


# --- The station portal ------------------------------------------------------------------------


def test_a_station_sees_its_statements_and_downloads_them(client, world):
    client.force_login(staff_of(world["station_a"]))
    statement = world["st_a"]
    response = client.get(reverse("station:statements"))
    assert response.status_code == 200
    text = response.content.decode()
    assert statement.number in text and world["st_b"].number not in text
    assert response.context["balance"] == settlement.Balance(pending=0, payable=140)
    commission_page = client.get(reverse("station:commission")).content.decode()
    assert reverse("station:statements") in commission_page

    response = client.get(reverse("station:statement", args=[statement.number]))
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row.amounts.commission == 140

    pdf = client.get(reverse("station:statement-pdf", args=[statement.number]))
    assert pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    assert statement.number in text and "服务站佣金结算单" in text
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    reverse("station:statement-csv", args=[statement.number])
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert ["订单号", "下单日期", "佣金", "取消冲回", "应付"] in rows
    assert rows[-1] == ["合计", "", "1.40", "0.00", "1.40"]


@pytest.mark.parametrize("suffix", ["", "-pdf", "-csv"])
def test_another_stations_statement_is_404(client, world, suffix):
    client.force_login(staff_of(world["station_a"]))
    for other in (world["st_b"], world["a"]):
        url = reverse(f"station:statement{suffix}", args=[other.number])
        assert client.get(url).status_code == 404


# --- The staff dashboard ------------------------------------------------------------------------


LIST = "settlements-dashboard:list"


def test_the_dashboard_is_for_platform_staff_only(client, world):
    urls = [
        reverse(LIST),
        reverse("settlements-dashboard:detail", args=[world["a"].number]),
        reverse("settlements-dashboard:pdf", args=[world["a"].number]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302
    client.force_login(manager_of(world["coop_a"]))
    for url in urls:
        assert client.get(url).status_code in (302, 403)
    response = client.post(
        reverse("settlements-dashboard:detail", args=[world["a"].number]),
        {"bank_reference": "X-1"},
    )
    assert response.status_code in (302, 403)
    world["a"].refresh_from_db()
    assert world["a"].status == Statement.Status.ISSUED


def test_staff_filter_the_statements(client, world):
    client.force_login(world["staff"])
    settlement.mark_paid(world["b"], "ICBC-1", world["staff"])
    response = client.get(reverse(LIST))
    assert response.status_code == 200
    assert len(response.context["statements"]) == 4
    response = client.get(reverse(LIST), {"party": "station"})
    assert {s.number for s in response.context["statements"]} == {
        world["st_a"].number,
        world["st_b"].number,
    }
    response = client.get(reverse(LIST), {"status": "paid"})
    assert [s.number for s in response.context["statements"]] == [world["b"].number]
    response = client.get(reverse(LIST), {"party": "cooperative", "status": "due"})
    assert [s.number for s in response.context["statements"]] == [world["a"].number]
    response = client.get(reverse(LIST), {"q": "七里海"})
    assert {s.number for s in response.context["statements"]} == {
        world["b"].number,
        world["st_b"].number,
    }


def test_staff_generate_statements_for_a_day(client, world):
    client.force_login(world["staff"])
    late = quick_order(
        [(world["order"].lines.get(title="沙窝萝卜").product, 3)], number="LATE-0001"
    )
    deliver(late.lines.all(), at=days_ago(8))
    day = timezone.localdate().isoformat()
    response = client.post(reverse(LIST), {"period_end": day})
    assert response.status_code == 302
    statement = Statement.objects.get(partner=world["coop_a"].partner, period_end=day)
    assert statement.gross == 6000  # the one delivered 2 days ago is still returnable
    # Again: nothing new, and it says so.
    response = client.post(reverse(LIST), {"period_end": day}, follow=True)
    assert "没有需要生成的结算单" in response.content.decode()


@pytest.mark.parametrize("typed", ["2026-13-45", "", "明天"])
def test_a_bad_day_keeps_the_input(client, world, typed):
    client.force_login(world["staff"])
    before = Statement.objects.count()
    response = client.post(reverse(LIST), {"period_end": typed})
    assert response.status_code == 200
    form = response.context["generate_form"]
    assert form.errors and form["period_end"].value() == typed
    assert Statement.objects.count() == before


def test_a_day_still_to_come_is_refused(client, world):
    client.force_login(world["staff"])
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(reverse(LIST), {"period_end": tomorrow})
    assert response.status_code == 200
    text = response.content.decode()
    assert "截止日不能晚于今天" in text and tomorrow in text


def test_staff_mark_a_statement_paid(client, world):
    client.force_login(world["staff"])
    statement = world["a"]
    url = reverse("settlements-dashboard:detail", args=[statement.number])
    response = client.get(url)
    assert response.status_code == 200
    assert "¥38.00" in response.content.decode()

    # No reference: the form again, nothing paid.
    response = client.post(url, {"bank_reference": "   "})
    assert response.status_code == 200 and response.context["paid_form"].errors
    statement.refresh_from_db()
    assert statement.status == Statement.Status.ISSUED

    response = client.post(url, {"bank_reference": "ICBC-20261130-0007"})
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID
    assert statement.bank_reference == "ICBC-20261130-0007"
    assert statement.paid_by == world["staff"]

    # A second time (a stale page): refused, the reference kept.
    response = client.post(url, {"bank_reference": "ICBC-OTHER"})
    assert response.status_code == 200
    assert "已标记为已付款" in response.content.decode()
    statement.refresh_from_db()
    assert statement.bank_reference == "ICBC-20261130-0007"
    assert JournalEntry.objects.filter(kind="payout").count() == 1

    # The cooperative sees it paid, with the reference.
    client.force_login(manager_of(world["coop_a"]))
    text = client.get(reverse("coop:statement", args=[statement.number])).content.decode()
    assert "已付款" in text and "ICBC-20261130-0007" in text
