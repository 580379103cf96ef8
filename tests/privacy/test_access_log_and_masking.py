"""Full contact details shown to someone else are logged (one row per person
per page view, one query per page), and pages mask the phone where the
viewer does not need it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model

from cooperatives.privacy import mask_phone as legacy_mask_phone
from logistics.models import Shipment
from privacy import export, masking
from privacy.models import ContactAccess
from stations import residents
from tests.cooperatives.conftest import member_of
from tests.privacy.conftest import NAME, PHONE_DIGITS, place
from tests.stations.conftest import make_resident, make_staff, make_station, staff_of

pytestmark = pytest.mark.django_db

User = get_model("auth", "User")
MASKED = "139****2222"


@pytest.fixture
def staff(db):
    # Oscar's order pages need the view_order permission besides is_staff.
    return User.objects.create_user(
        "staffer", "staffer@example.com", "pw", is_staff=True, is_superuser=True
    )


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, masked",
    [
        ("+8613911112222", MASKED),
        ("13911112222", MASKED),
        ("022-27391234", "022****1234"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, masked):
    assert masking.mask_phone(value) == masked
    assert legacy_mask_phone(value) == masked  # the old import still works


def test_mask_name_and_address():
    assert masking.mask_name("欧阳晓测") == "欧***"
    assert masking.mask_name("王") == "王*"
    assert masking.mask_address("幸福路 777 号 3 单元") == "幸福路 ****"
    assert "777" not in masking.mask_address("幸福路 777 号 3 单元")
    assert masking.mask_address("") == ""


def test_template_filters():
    from django.template import Context, Template

    html = Template(
        "{% load privacy_tags %}{{ p|mask_phone }}|{{ a|mask_address }}|{{ n|mask_name }}"
    ).render(Context({"p": "+8613911112222", "a": "幸福路 777 号", "n": "欧阳晓测"}))
    assert html == f"{MASKED}|幸福路****|欧***"


# --- the cooperative portal ---------------------------------------------------------------------


def test_packer_line_page_logs_and_masks(client, shop, buyer):
    order = place([(shop["radish"], 1)], buyer)
    member = member_of(shop["radish_coop"])
    client.force_login(member)
    line = order.lines.get()
    html = client.get(reverse("coop:order-line", kwargs={"pk": line.pk})).content.decode()
    assert "幸福路 777 号" in html  # the packer ships there
    assert PHONE_DIGITS not in html and MASKED in html
    entry = ContactAccess.objects.get()
    assert entry.viewer == member and entry.subject_user == buyer and entry.order == order
    assert entry.fields == ["name", "address"]
    assert entry.view == "coop:order-line" and entry.ip_hash


def test_packing_list_logs_every_order_in_one_query(client, shop, buyer):
    from cooperatives import fulfilment

    member = member_of(shop["radish_coop"])
    client.force_login(member)
    url = reverse("coop:packing-list")

    def accepted_order():
        order = place([(shop["radish"], 1)], buyer)
        fulfilment.advance(order.lines.get(), "accept", cooperative=shop["radish_coop"], by=member)
        return order

    accepted_order()
    client.get(url)
    ContactAccess.objects.all().delete()
    with CaptureQueriesContext(connection) as one:
        html = client.get(url).content.decode()
    assert ContactAccess.objects.count() == 1
    accepted_order()
    accepted_order()
    ContactAccess.objects.all().delete()
    with CaptureQueriesContext(connection) as three:
        html = client.get(url).content.decode()
    assert ContactAccess.objects.count() == 3
    assert len({e.view_id for e in ContactAccess.objects.all()}) == 1
    assert len(three) == len(one)
    assert PHONE_DIGITS not in html


def test_coop_label_print_is_logged(client, shop, buyer):
    order = place([(shop["radish"], 1)], buyer)
    shipment = Shipment.objects.get(order=order)
    client.force_login(member_of(shop["radish_coop"]))
    client.get(reverse("coop:shipment", kwargs={"pk": shipment.pk}))
    assert ContactAccess.objects.filter(order=order, purpose="shipment").exists()


# --- stations ------------------------------------------------------------------------------------


def test_station_reveal_writes_both_logs(client, db):
    station = make_station()
    make_staff(station, "staff-x")
    resident = make_resident(station, "李桂兰", phone="13722223333")
    staff_user = staff_of(station)
    client.force_login(staff_user)
    html = client.post(
        reverse("station:resident-contact", kwargs={"pk": resident.pk})
    ).content.decode()
    assert "13722223333" in html
    entry = ContactAccess.objects.get()
    assert entry.resident == resident and entry.subject_user_id == resident.user_id
    assert entry.viewer == staff_user and entry.fields == ["phone"]
    assert resident.audit_events.filter(action="contact_viewed").count() == 1
    # The service alone (no request) logs too.
    residents.reveal_contact(resident, staff_user)
    assert ContactAccess.objects.filter(resident=resident).count() == 2
    # The resident's export lists who looked.
    data = export.collect(resident.user)
    assert len(data["contact_access"]) == 2
    assert data["station_resident"]["name"] == "李桂兰"


# --- staff pages ----------------------------------------------------------------------------------


def test_dashboard_order_page_is_logged(client, shop, buyer, staff):
    order = place([(shop["radish"], 1)], buyer)
    url = reverse("dashboard:order-detail", kwargs={"number": order.number})
    client.force_login(buyer)
    assert client.get(url).status_code in (302, 403)
    assert not ContactAccess.objects.exists()
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert NAME in response.content.decode()  # Oscar's own page, unchanged
    entry = ContactAccess.objects.get()
    assert entry.viewer == staff and entry.order == order and entry.subject_user == buyer


def test_logistics_dashboard_detail_is_logged(client, shop, buyer, staff):
    """Staff see the full recipient there (a manual carrier's courier needs
    the phone, tests/logistics/test_dashboard.py), so the view is logged."""
    order = place([(shop["radish"], 1)], buyer)
    shipment = Shipment.objects.get(order=order)
    client.force_login(staff)
    html = client.get(
        reverse("logistics-dashboard:detail", kwargs={"pk": shipment.pk})
    ).content.decode()
    assert PHONE_DIGITS in html
    entry = ContactAccess.objects.get(order=order, viewer=staff)
    assert entry.fields == ["name", "phone", "address"]


def test_staff_browse_the_log_by_subject(client, shop, buyer, staff):
    order = place([(shop["radish"], 1)], buyer)
    other = place([(shop["radish"], 1)], None)
    client.force_login(staff)
    for o in (order, other):
        client.get(reverse("dashboard:order-detail", kwargs={"number": o.number}))
    url = reverse("privacy-dashboard:access-log")
    page = client.get(url, {"subject": "ouyang"})
    assert [e.order for e in page.context["entries"]] == [order]
    page = client.get(url, {"subject": other.number})
    assert [e.order for e in page.context["entries"]] == [other]
    assert len(client.get(url).context["entries"]) == 2
    client.force_login(buyer)
    assert client.get(url).status_code in (302, 403)
    # The subject sees it in their export, staff do not see their own views there.
    assert [e["order"] for e in export.collect(buyer)["contact_access"]] == [order.number]


def test_dashboard_order_list_masks_recipients(client, shop, buyer, staff):
    place([(shop["radish"], 1)], buyer)
    client.force_login(staff)
    html = client.get(reverse("dashboard:order-list")).content.decode()
    assert "欧***" in html and "天津市" in html
    assert NAME not in html and "幸福路" not in html and PHONE_DIGITS not in html
    assert not ContactAccess.objects.exists()  # a list of masked rows is not logged
