"""The cooperative's profile in the portal (/coop/profile/): every member
sees it; only managers change the profile, photos, certificates and bank
details; another cooperative's ids give 404."""

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from cooperatives.models import Certification, CooperativePhoto
from shop.catalogue.produce import Certification as CertificationType
from tests.cooperatives import imagefiles
from tests.cooperatives.conftest import manager_of

pytestmark = pytest.mark.django_db

PROFILE = reverse("coop:profile")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def next_year() -> str:
    return (timezone.localdate() + datetime.timedelta(days=365)).isoformat()


def certificate(coop, number="AGI00123"):
    return coop.certifications.create(
        type=CertificationType.GEO_INDICATION,
        number=number,
        issuer="农业农村部",
        expires_on=timezone.localdate() + datetime.timedelta(days=30),
    )


def photo(coop):
    p = coop.photos.create(caption="基地")
    p.image.save("base.png", imagefiles.png(), save=True)
    return p


def test_members_see_the_profile_but_not_the_edit_links(member_client, coop_a):
    coop_a.bank_account_number = "6228480012345678901"
    coop_a.save()
    html = member_client.get(PROFILE).content.decode()
    assert coop_a.legal_name in html
    assert "只有合作社负责人可以修改" in html
    assert reverse("coop:profile-edit") not in html
    assert "6228480012345678901" not in html and "**** 8901" in html


@pytest.mark.parametrize(
    "name",
    ["coop:profile-edit", "coop:bank-details", "coop:photo-create", "coop:certification-create"],
)
def test_only_managers_may_change_things(member_client, name):
    assert member_client.get(reverse(name)).status_code == 403
    assert member_client.post(reverse(name), {}).status_code == 403


def test_members_cannot_delete(member_client, coop_a):
    p, c = photo(coop_a), certificate(coop_a)
    assert member_client.post(reverse("coop:photo-delete", kwargs={"pk": p.pk})).status_code == 403
    url = reverse("coop:certification-delete", kwargs={"pk": c.pk})
    assert member_client.post(url).status_code == 403
    assert CooperativePhoto.objects.filter(pk=p.pk).exists()
    assert Certification.objects.filter(pk=c.pk).exists()


def test_manager_edits_the_profile(manager_client, coop_a):
    response = manager_client.post(
        reverse("coop:profile-edit"),
        {
            "display_name": "沙窝萝卜合作社",
            "description": "新的简介",
            "contact_phone": "022 2739 1234",
            "address_detail": "小沙沃村 5 号",
        },
    )
    assert response.status_code == 302 and response["Location"] == PROFILE
    coop_a.refresh_from_db()
    assert coop_a.display_name == "沙窝萝卜合作社"
    assert coop_a.contact_phone == "022-27391234"
    assert coop_a.address_detail == "小沙沃村 5 号"


def test_profile_errors_keep_what_was_typed(manager_client, coop_a):
    response = manager_client.post(
        reverse("coop:profile-edit"),
        {"display_name": "沙窝萝卜合作社", "description": "留着我", "contact_phone": "123"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "请填写手机号码或带区号的固定电话" in html
    assert "留着我" in html
    coop_a.refresh_from_db()
    assert coop_a.description == ""


def test_manager_sets_bank_details(manager_client, coop_a):
    response = manager_client.post(
        reverse("coop:bank-details"),
        {
            "bank_account_name": coop_a.legal_name,
            "bank_name": "中国农业银行天津西青支行",
            "bank_account_number": "6228 4800 1234 5678 901",
        },
    )
    assert response.status_code == 302
    coop_a.refresh_from_db()
    assert coop_a.bank_account_number == "6228480012345678901"
    bad = manager_client.post(
        reverse("coop:bank-details"),
        {"bank_account_name": "x", "bank_name": "y", "bank_account_number": "12ab"},
    )
    assert "银行账号应为 8 到 32 位数字" in bad.content.decode()


def test_photos_upload_and_delete(manager_client, coop_a, django_capture_on_commit_callbacks):
    response = manager_client.post(
        reverse("coop:photo-create"), {"image": imagefiles.jpeg("field.jpg"), "caption": "萝卜地"}
    )
    assert response.status_code == 302
    p = coop_a.photos.get()
    assert p.caption == "萝卜地" and p.image.name.endswith(".jpg")
    path = Path(p.image.path)
    assert path.exists()

    bad = manager_client.post(reverse("coop:photo-create"), {"image": imagefiles.renamed_pdf()})
    assert "文件不是图片" in bad.content.decode()
    assert coop_a.photos.count() == 1

    url = reverse("coop:photo-delete", kwargs={"pk": p.pk})
    assert manager_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert manager_client.post(url).status_code == 302
    assert not coop_a.photos.exists()
    assert not path.exists()  # the file goes once the row is gone


def test_certificates_add_edit_delete(manager_client, coop_a, django_capture_on_commit_callbacks):
    response = manager_client.post(
        reverse("coop:certification-create"),
        {
            "type": CertificationType.GREEN_FOOD,
            "number": "LB-15-0001",
            "issuer": "中国绿色食品发展中心",
            "expires_on": next_year(),
            "document": imagefiles.png("scan.png"),
        },
    )
    assert response.status_code == 302
    cert = coop_a.certifications.get()
    assert cert.document.name.endswith(".png")
    assert "LB-15-0001" in manager_client.get(reverse("coop:certifications")).content.decode()

    edit = reverse("coop:certification-edit", kwargs={"pk": cert.pk})
    response = manager_client.post(
        edit,
        {
            "type": CertificationType.GREEN_FOOD,
            "number": "LB-15-0002",
            "issuer": "中国绿色食品发展中心",
            "expires_on": next_year(),
        },
    )
    assert response.status_code == 302
    cert.refresh_from_db()
    assert cert.number == "LB-15-0002" and cert.document  # the scan was kept

    with django_capture_on_commit_callbacks(execute=True):
        assert (
            manager_client.post(
                reverse("coop:certification-delete", kwargs={"pk": cert.pk})
            ).status_code
            == 302
        )
    assert not coop_a.certifications.exists()


def test_certificate_bad_input(manager_client, coop_a):
    certificate(coop_a, "AGI00123")
    response = manager_client.post(
        reverse("coop:certification-create"),
        {
            "type": CertificationType.GEO_INDICATION,
            "number": "AGI00123",
            "issuer": "农业农村部",
            "expires_on": "2001-01-01",
            "document": imagefiles.renamed_pdf("scan.jpg"),
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "该证书已过期" in html
    assert "文件不是图片" in html
    assert 'value="农业农村部"' in html
    assert coop_a.certifications.count() == 1


def test_another_cooperatives_ids_give_404(manager_client, coop_b):
    p, c = photo(coop_b), certificate(coop_b)
    for name, pk in [
        ("coop:photo-delete", p.pk),
        ("coop:certification-edit", c.pk),
        ("coop:certification-delete", c.pk),
    ]:
        url = reverse(name, kwargs={"pk": pk})
        assert manager_client.get(url).status_code == 404, name
        assert manager_client.post(url, {}).status_code == 404, name
    assert CooperativePhoto.objects.filter(pk=p.pk).exists()
    assert Certification.objects.get(pk=c.pk).number == "AGI00123"


def test_people_outside_cooperatives(client, django_user_model, coop_a):
    assert client.get(PROFILE).status_code == 302  # sign in first
    client.force_login(django_user_model.objects.create_user("shopper", "s@example.com", "pw"))
    assert client.get(PROFILE).status_code == 404
    assert manager_of(coop_a)  # (the fixture's cooperative exists)
