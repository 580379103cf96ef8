"""The account's privacy pages: the export as HTML (escaped) and JSON, and
deleting the account with the password, refused while an order is on its
way."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from privacy.models import DeletionRecord
from tests.payment import builders as payment_builders
from tests.privacy.conftest import EMAIL, NAME, place

pytestmark = pytest.mark.django_db

UserAddress = get_model("address", "UserAddress")
User = get_model("auth", "User")
PROBE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_pages_need_login(client):
    for name in ("privacy:home", "privacy:export", "privacy:export-json", "privacy:delete"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_account_menu_links_here(client, buyer):
    client.force_login(buyer)
    html = client.get(reverse("customer:profile-view")).content.decode()
    assert reverse("privacy:home") in html


def test_export_html_escapes_and_json_downloads(client, buyer):
    UserAddress.objects.filter(user=buyer).update(line1=PROBE)
    client.force_login(buyer)
    html = client.get(reverse("privacy:export")).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "账户资料" in html and "收货地址" in html and EMAIL in html
    assert "<script" not in html.split("<main", 1)[-1].split("</main>", 1)[0]
    response = client.get(reverse("privacy:export-json"))
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["addresses"][0]["line1"] == PROBE
    assert data["profile"]["email"] == EMAIL


def test_delete_wrong_password_changes_nothing(client, buyer):
    client.force_login(buyer)
    response = client.post(reverse("privacy:delete"), {"password": "nope", "confirm": "on"})
    assert response.status_code == 200
    assert "密码不正确" in response.content.decode()
    buyer.refresh_from_db()
    assert buyer.is_active and buyer.email == EMAIL


def test_delete_refused_while_in_flight_then_done(client, buyer, shop):
    order = place([(shop["radish"], 1)], buyer)
    client.force_login(buyer)
    page = client.get(reverse("privacy:delete")).content.decode()
    message = f"您有尚未完成的订单（{order.number}），请在收货完成后再申请删除。"
    assert message in page
    response = client.post(
        reverse("privacy:delete"), {"password": "secret-pw-123", "confirm": "on"}
    )
    assert message in response.content.decode()
    buyer.refresh_from_db()
    assert buyer.is_active and not DeletionRecord.objects.exists()

    payment_builders.deliver(order.lines.all())
    response = client.post(
        reverse("privacy:delete"), {"password": "secret-pw-123", "confirm": "on"}
    )
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert not buyer.is_active and buyer.username.startswith("deleted-")
    assert DeletionRecord.objects.count() == 1
    # Logged out: the account pages ask for a login again.
    assert client.get(reverse("privacy:home")).status_code == 302
    order.shipping_address.refresh_from_db()
    assert order.shipping_address.last_name != NAME


def test_staff_see_deletion_records(client, buyer):
    from privacy import erasure

    erasure.erase(buyer)
    staff = User.objects.create_user("ops", "ops@example.com", "pw", is_staff=True)
    client.force_login(staff)
    html = client.get(reverse("privacy-dashboard:deletions")).content.decode()
    assert erasure.user_hash(buyer.pk)[:10] in html
    assert "ouyang" not in html and EMAIL not in html


def test_staff_export_and_erase_for_a_resident(client, shop):
    from stations.models import Resident
    from tests.stations.conftest import make_resident, make_staff, make_station

    station = make_station()
    make_staff(station, "staff-r")
    resident = make_resident(station, "赵春花", phone="13733334444", address_detail="三排五号")
    ops = User.objects.create_user("ops", "ops@example.com", "pw", is_staff=True)
    client.force_login(ops)
    data = json.loads(
        client.get(reverse("privacy-dashboard:resident-export", kwargs={"pk": resident.pk})).content
    )
    assert data["station_resident"]["phone"] == "13733334444"

    order = place([(shop["radish"], 1)], resident.user)
    url = reverse("privacy-dashboard:resident-erase", kwargs={"pk": resident.pk})
    assert order.number in client.get(url).content.decode()
    client.post(url, {"confirm": "yes"})
    resident.refresh_from_db()
    assert resident.name == "赵春花"  # refused: the order is on its way

    payment_builders.deliver(order.lines.all())
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    resident = Resident.objects.get(pk=resident.pk)
    assert (resident.name, resident.phone, resident.address_detail) == ("已注销用户", "", "")
    assert DeletionRecord.objects.count() == 1
    # Not for station staff or buyers.
    client.force_login(User.objects.get(username="staff-r"))
    assert client.get(url).status_code in (302, 403)
