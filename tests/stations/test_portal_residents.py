"""Residents in the station portal: search, masking, registering with
consent (errors kept next to what was typed), the audited phone reveal,
editing, and scoping to the staff member's own station."""

from __future__ import annotations

import pytest
from django.urls import reverse

from stations.models import AuditEvent, Resident
from tests.stations.conftest import VILLAGE_A, VILLAGE_A2, assisted_order, make_resident, staff_of

pytestmark = pytest.mark.django_db

LIST = reverse("station:residents")
CREATE = reverse("station:resident-create")

FORM = {
    "name": "赵淑珍",
    "phone": "139 1111 2222",
    "village": VILLAGE_A2,
    "address_detail": "三排五号",
    "delivery_preference": "station",
    "consent": "on",
}


@pytest.fixture
def staff_client(client, station_a):
    client.force_login(staff_of(station_a))
    return client


def detail_url(resident):
    return reverse("station:resident-detail", kwargs={"pk": resident.pk})


# --- List and search ------------------------------------------------------------


def test_list_masks_phones_and_offers_order_buttons(staff_client, station_a, resident_a):
    no_phone = make_resident(station_a, "张建国", phone="")
    html = staff_client.get(LIST).content.decode()
    assert "王秀英" in html and "张建国" in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "无手机" in html
    assert "送到站点，到站自提" in html
    assert reverse("station:order", kwargs={"pk": resident_a.pk}) in html
    assert reverse("station:order", kwargs={"pk": no_phone.pk}) in html


def test_search_by_name_and_by_phone(staff_client, station_a, resident_a):
    make_resident(station_a, "张建国", phone="13700001111")
    response = staff_client.get(LIST, {"q": "秀英"})
    assert [r.name for r in response.context["residents"]] == ["王秀英"]
    assert 'value="秀英"' in response.content.decode()
    response = staff_client.get(LIST, {"q": "13812345678"})
    assert [r.name for r in response.context["residents"]] == ["王秀英"]
    html = response.content.decode()
    assert "138****5678" in html
    assert "<h2><a" in html and "13812345678</" not in html


def test_search_without_hits_offers_registration(staff_client, resident_a):
    html = staff_client.get(LIST, {"q": "不存在的人"}).content.decode()
    assert "没有找到这位居民" in html
    assert CREATE in html


def test_list_is_paginated(staff_client, station_a):
    for i in range(22):
        make_resident(station_a, f"居民{i:02d}", phone="")
    response = staff_client.get(LIST)
    assert len(response.context["residents"]) == 20
    assert response.context["paginator"].num_pages == 2
    assert len(staff_client.get(LIST, {"page": 2}).context["residents"]) == 2


def test_list_only_shows_own_station(staff_client, resident_a, resident_b):
    html = staff_client.get(LIST).content.decode()
    assert resident_b.name not in html
    assert staff_client.get(LIST, {"q": resident_b.phone}).context["residents"].__len__() == 0


# --- Register -------------------------------------------------------------------


def test_create_form_shows_consent_and_preselects_own_village(staff_client, station_a):
    response = staff_client.get(CREATE)
    html = response.content.decode()
    assert "本站将保存您的姓名" in html
    assert "已向居民宣读以上内容，居民同意" in html
    assert "手机号（选填）" in html
    assert f'<option value="{VILLAGE_A}" selected>' in html
    assert f'value="{VILLAGE_A2}"' in html


def test_register_then_go_to_the_order_page(staff_client, station_a):
    response = staff_client.post(CREATE, FORM)
    resident = Resident.objects.get(name="赵淑珍")
    assert response.status_code == 302
    assert response["Location"] == reverse("station:order", kwargs={"pk": resident.pk})
    assert resident.station == station_a
    assert resident.phone == "13911112222"
    assert resident.village_id == VILLAGE_A2
    assert resident.consent_recorded_by == staff_of(station_a)
    page = staff_client.get(response["Location"])
    assert "已登记居民“赵淑珍”" in page.content.decode()


def test_register_without_phone(staff_client, station_a):
    response = staff_client.post(CREATE, {**FORM, "phone": ""})
    assert response.status_code == 302
    assert Resident.objects.get(name="赵淑珍").phone == ""


def test_register_without_consent_keeps_what_was_typed(staff_client):
    response = staff_client.post(CREATE, {**FORM, "consent": ""})
    assert response.status_code == 200
    assert not Resident.objects.filter(name="赵淑珍").exists()
    html = response.content.decode()
    assert "请先向居民说明并取得同意，再登记。" in html
    assert 'value="赵淑珍"' in html
    assert 'value="139 1111 2222"' in html
    assert 'value="三排五号"' in html
    assert f'<option value="{VILLAGE_A2}" selected>' in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", ""),
        ({"phone": "12345"}, "phone", "手机号格式不对"),
        ({"village": "120117110201"}, "village", ""),
        (
            {"delivery_preference": "home", "address_detail": ""},
            "address_detail",
            "送货上门需要填写门牌地址。",
        ),
    ],
)
def test_register_errors_sit_on_their_fields(staff_client, changes, field, message):
    response = staff_client.post(CREATE, {**FORM, **changes})
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    if message:
        assert message in " ".join(form.errors[field])
        assert message in response.content.decode()
    assert not Resident.objects.filter(name="赵淑珍").exists()


def test_duplicate_phone_names_the_existing_resident_and_links_to_their_order_page(
    staff_client, resident_a
):
    response = staff_client.post(CREATE, {**FORM, "phone": "138-1234-5678"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "这个手机号已登记为居民“王秀英”" in html
    assert reverse("station:order", kwargs={"pk": resident_a.pk}) in html
    assert 'value="138-1234-5678"' in html


def test_another_stations_phone_is_no_duplicate(staff_client, resident_b):
    response = staff_client.post(CREATE, {**FORM, "phone": resident_b.phone})
    assert response.status_code == 302
    assert Resident.objects.filter(phone=resident_b.phone).count() == 2


# --- Detail, reveal, edit -------------------------------------------------------


def test_detail_masks_the_phone_until_revealed_and_the_reveal_is_audited(
    staff_client, station_a, resident_a, produce
):
    so = assisted_order(station_a, resident_a, [(produce["radish"], 1)])
    html = staff_client.get(detail_url(resident_a)).content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "显示完整号码" in html
    assert so.order.number in html
    assert not AuditEvent.objects.filter(action="contact_viewed").exists()

    response = staff_client.post(reverse("station:resident-contact", kwargs={"pk": resident_a.pk}))
    assert response.status_code == 200
    assert "13812345678" in response.content.decode()
    event = AuditEvent.objects.get(action="contact_viewed")
    assert event.resident == resident_a
    assert event.actor == staff_of(station_a)


def test_reveal_needs_a_post(staff_client, resident_a):
    response = staff_client.get(reverse("station:resident-contact", kwargs={"pk": resident_a.pk}))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="contact_viewed").exists()


def test_edit_saves_changes(staff_client, station_a, resident_a):
    url = reverse("station:resident-edit", kwargs={"pk": resident_a.pk})
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "已向居民宣读" not in response.content.decode()
    # Showing the full number to edit it is a logged view of the contact.
    assert AuditEvent.objects.filter(action="contact_viewed", resident=resident_a).count() == 1
    response = staff_client.post(
        url,
        {
            "name": "王秀英",
            "phone": "13812345678",
            "village": VILLAGE_A,
            "address_detail": "二排一号",
            "delivery_preference": "home",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(resident_a)
    resident_a.refresh_from_db()
    assert resident_a.delivery_preference == "home"
    assert resident_a.address_detail == "二排一号"
    assert AuditEvent.objects.filter(action="resident_updated", resident=resident_a).exists()


def test_edit_errors_keep_what_was_typed(staff_client, station_a, resident_a):
    other = make_resident(station_a, "张建国", phone="13700001111")
    url = reverse("station:resident-edit", kwargs={"pk": resident_a.pk})
    response = staff_client.post(
        url,
        {
            "name": "王秀英",
            "phone": "13700001111",
            "village": VILLAGE_A,
            "address_detail": "",
            "delivery_preference": "station",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "这个手机号已登记为居民“张建国”" in html
    assert reverse("station:order", kwargs={"pk": other.pk}) in html
    resident_a.refresh_from_db()
    assert resident_a.phone == "13812345678"


@pytest.mark.parametrize("name", ["resident-detail", "resident-edit"])
def test_another_stations_resident_is_404(staff_client, resident_b, name):
    assert (
        staff_client.get(reverse(f"station:{name}", kwargs={"pk": resident_b.pk})).status_code
        == 404
    )


def test_another_stations_resident_cannot_be_revealed_or_edited(staff_client, resident_b):
    url = reverse("station:resident-contact", kwargs={"pk": resident_b.pk})
    assert staff_client.post(url).status_code == 404
    edit = reverse("station:resident-edit", kwargs={"pk": resident_b.pk})
    assert staff_client.post(edit, {**FORM, "consent": ""}).status_code == 404
    assert not AuditEvent.objects.filter(action="contact_viewed").exists()


def test_non_staff_user_gets_404(client, resident_a, django_user_model):
    client.force_login(
        django_user_model.objects.create_user("shopper", "s@example.com", "pw-123456")
    )
    assert client.get(LIST).status_code == 404
    assert client.get(detail_url(resident_a)).status_code == 404
