"""The station portal's shell and home page: who may see it, the nav,
the suspended banner, the resident search box, recent residents and
today's figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stations.models import Station
from tests.stations.conftest import assisted_order, make_resident, staff_of

pytestmark = pytest.mark.django_db

User = get_user_model()
HOME = reverse("station:home")


@pytest.fixture
def staff_client(client, station_a):
    client.force_login(staff_of(station_a))
    return client


def test_anonymous_is_sent_to_login(client, station_a):
    response = client.get(HOME)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_non_staff_user_gets_404(client, station_a):
    client.force_login(User.objects.create_user("shopper", "s@example.com", "pw-123456"))
    assert client.get(HOME).status_code == 404


def test_inactive_staff_record_gets_404(client, station_a):
    staff = staff_of(station_a)
    station_a.staff.update(is_active=False)
    client.force_login(staff)
    assert client.get(HOME).status_code == 404


def test_home_shows_station_nav_search_and_register(staff_client, station_a):
    response = staff_client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert station_a.name in html
    for label in ("首页", "居民", "代下单", "订单"):
        assert f">{label}</a>" in html
    assert 'aria-current="page">首页' in html
    assert f'action="{reverse("station:residents")}"' in html
    assert 'name="q"' in html
    assert reverse("station:resident-create") in html
    assert "本站已暂停服务" not in html


def test_home_lists_recent_residents_with_order_buttons_and_masked_phones(
    staff_client, station_a, resident_a
):
    other = make_resident(station_a, "张建国", phone="")
    html = staff_client.get(HOME).content.decode()
    assert "王秀英" in html and "张建国" in html
    assert reverse("station:order", kwargs={"pk": resident_a.pk}) in html
    assert reverse("station:order", kwargs={"pk": other.pk}) in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "无手机" in html


def test_home_does_not_show_another_stations_residents(
    staff_client, station_a, resident_a, resident_b
):
    html = staff_client.get(HOME).content.decode()
    assert resident_b.name not in html


def test_home_figures_count_todays_orders_and_the_drawer(
    staff_client, station_a, resident_a, produce
):
    assisted_order(station_a, resident_a, [(produce["radish"], 2)], cash="50")
    response = staff_client.get(HOME)
    assert response.context["orders_today"] == 1
    assert response.context["drawer"].expected == Decimal("40.00")
    assert response.context["incoming_count"] == 1
    assert response.context["waiting_count"] == 0
    html = response.content.decode()
    assert "¥40.00" in html
    assert "1 单" in html


def test_suspended_station_shows_a_warning_banner(staff_client, station_a):
    Station.objects.filter(pk=station_a.pk).update(
        status=Station.Status.SUSPENDED, status_reason="账目待核查"
    )
    response = staff_client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "本站已暂停服务：账目待核查" in html
    assert "不能代下单" in html
