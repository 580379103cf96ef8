"""Product pages show the produce facts; products without photos get a static
placeholder rather than Oscar's MEDIA_ROOT-linked missing image."""

import pytest
from django.urls import reverse

from divisions.models import Division
from shop.catalogue.produce import Certification, StorageClass, Unit

pytestmark = pytest.mark.django_db


def test_product_page_shows_produce_facts(client, radish):
    radish.unit = Unit.BOX
    radish.net_weight_g = 2500
    radish.origin = Division.objects.get(code="120111")
    radish.shelf_life_days = 30
    radish.storage_class = StorageClass.CHILLED
    radish.certifications = [Certification.GEO_INDICATION]
    radish.save()
    html = client.get(radish.get_absolute_url()).content.decode()
    for text in [
        "箱",
        "2.5",
        "西青区",
        "30",
        "冷藏",
        "农产品地理标志",
        "天津市西青区辛口沙窝萝卜种植专业合作社",
    ]:
        assert text in html, text


def test_products_without_photos_use_the_static_placeholder(client, radish):
    assert not radish.images.exists()
    listing = client.get(reverse("catalogue:index")).content.decode()
    detail = client.get(radish.get_absolute_url()).content.decode()
    for html in (listing, detail):
        assert "img/no-photo.svg" in html
        assert "image_not_found" not in html
