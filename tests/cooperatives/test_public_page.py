"""The public cooperative pages: only verified cooperatives, with their
district, description, photos, current certifications (expired ones drop out
by themselves) and browsable products; the product page links to them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cooperatives import services
from cooperatives.models import Cooperative
from shop.catalogue.produce import Certification as CertificationType
from tests import factories
from tests.cooperatives import imagefiles
from tests.cooperatives.conftest import make_cooperative

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def page(coop) -> str:
    return reverse("cooperatives:detail", kwargs={"pk": coop.pk})


@pytest.fixture
def shawo(coop_a):
    """coop_a in 辛口镇 上辛口村, with a description, a photo and two certificates."""
    coop_a.division_id = "120111102201"
    coop_a.description = "辛口镇沙窝萝卜核心产区，种植面积 800 亩。"
    coop_a.save()
    photo = coop_a.photos.create(caption="萝卜地")
    photo.image.save("field.png", imagefiles.png("field.png", (200, 150)), save=True)
    today = timezone.localdate()
    coop_a.certifications.create(
        type=CertificationType.GEO_INDICATION,
        number="AGI00123",
        issuer="中华人民共和国农业农村部",
        expires_on=today + datetime.timedelta(days=365),
    )
    coop_a.certifications.create(
        type=CertificationType.GREEN_FOOD,
        number="LB-15-0001",
        issuer="中国绿色食品发展中心",
        expires_on=today - datetime.timedelta(days=1),
    )
    return coop_a


def test_verified_cooperative_page(client, shawo, coop_b):
    radish = factories.product("沙窝萝卜 西青辛口产地直发", partner_obj=shawo.partner)
    crab = factories.product("七里海河蟹", partner_obj=coop_b.partner)
    hidden = factories.product("未上架的萝卜", partner_obj=shawo.partner, is_public=False)

    html = client.get(page(shawo)).content.decode()
    for text in [
        shawo.display_name,
        shawo.legal_name,
        "天津市 西青区 辛口镇 上辛口村委会",
        "核心产区",
        "萝卜地",
        "农产品地理标志",
        "AGI00123",
        radish.title,
        radish.get_absolute_url(),
    ]:
        assert text in html, text
    assert crab.title not in html
    assert hidden.title not in html


def test_expired_certifications_disappear_by_themselves(client, shawo):
    html = client.get(page(shawo)).content.decode()
    assert "AGI00123" in html
    assert "LB-15-0001" not in html and "绿色食品" not in html
    assert [c.number for c in shawo.current_certifications()] == ["AGI00123"]


def test_a_certificate_expiring_today_still_shows(client, shawo):
    shawo.certifications.filter(number="AGI00123").update(expires_on=timezone.localdate())
    assert "AGI00123" in client.get(page(shawo)).content.decode()


@pytest.mark.parametrize("status", ["applied", "rejected"])
def test_only_verified_or_suspended_cooperatives_have_a_page(client, status):
    coop = make_cooperative("天津市测试合作社", credit_prefix="93120111MA05Q0001", status=status)
    assert client.get(page(coop)).status_code == 404
    assert coop.legal_name not in client.get(reverse("cooperatives:list")).content.decode()


def test_suspension_keeps_the_page_with_its_record_but_no_products(client, coop_a):
    factories.product("青麻叶大白菜", partner_obj=coop_a.partner)
    assert "青麻叶大白菜" in client.get(page(coop_a)).content.decode()
    services.suspend(coop_a, reason="假冒产品")
    response = client.get(page(coop_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "已暂停销售" in html and "假冒产品" in html
    assert "青麻叶大白菜" not in html
    assert coop_a.legal_name not in client.get(reverse("cooperatives:list")).content.decode()


def test_list_of_verified_cooperatives(client, coop_a, coop_b):
    make_cooperative(
        "天津市待审核合作社", credit_prefix="93120111MA05Q0002", status=Cooperative.Status.APPLIED
    )
    html = client.get(reverse("cooperatives:list")).content.decode()
    assert coop_a.display_name in html and coop_b.display_name in html
    assert "待审核合作社" not in html
    assert page(coop_a) in html
    assert "宁河区" in html


def test_product_page_links_to_the_cooperative(client, coop_a):
    radish = factories.product("沙窝萝卜", partner_obj=coop_a.partner)
    html = client.get(radish.get_absolute_url()).content.decode()
    assert f'href="{page(coop_a)}"' in html


def test_variant_products_link_too(client, coop_a):
    parent = factories.parent_product(
        "沙窝萝卜礼盒", [("5斤装", "25.00", 5), ("10斤装", "45.00", 5)], partner_obj=coop_a.partner
    )
    html = client.get(parent.get_absolute_url()).content.decode()
    assert f'href="{page(coop_a)}"' in html
    assert client.get(page(coop_a)).content.decode().count(parent.get_absolute_url()) >= 1
