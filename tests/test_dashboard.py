"""Platform staff edit the produce fields in Oscar's dashboard."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from divisions.models import Division
from shop.catalogue.produce import Certification, StorageClass, Unit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw-staff-123")
    client.force_login(user)
    return client


def _management_forms(html: str) -> dict:
    """The hidden management-form fields of the page's inline formsets."""
    fields = {}
    for tag in re.findall(r"<input[^>]+>", html):
        name = re.search(r'name="([^"]+_FORMS)"', tag) or re.search(
            r'name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"', tag
        )
        value = re.search(r'value="([^"]*)"', tag)
        if name and value:
            fields[name.group(1)] = value.group(1)
    return fields


def _form_data(product, html, **overrides):
    data = {
        "title": product.title,
        "upc": product.upc or "",
        "description": product.description,
        "is_public": "on",
        "structure": product.structure,
        "slug": product.slug,
        "unit": Unit.BOX,
        "net_weight_g": "2500",
        "origin": "120111",
        "harvest_date": "2026-11-01",
        "shelf_life_days": "30",
        "storage_class": StorageClass.CHILLED,
        "certifications": [Certification.GEO_INDICATION, Certification.GREEN_FOOD],
    }
    # Oscar's inline formsets left as they are: management forms with no
    # extra rows, and the existing stock record posted back unchanged.
    management = _management_forms(html)
    for name, value in management.items():
        if name.endswith("TOTAL_FORMS"):
            value = management[name.replace("TOTAL", "INITIAL")]
        data[name] = value
    for i, record in enumerate(product.stockrecords.all()):
        data.update(
            {
                f"stockrecords-{i}-id": record.pk,
                f"stockrecords-{i}-partner": record.partner_id,
                f"stockrecords-{i}-partner_sku": record.partner_sku,
                f"stockrecords-{i}-price": record.price,
                f"stockrecords-{i}-num_in_stock": record.num_in_stock,
                f"stockrecords-{i}-price_currency": record.price_currency,
            }
        )
    # Oscar requires a category on standalone and parent products.
    for i, link in enumerate(product.productcategory_set.all()):
        data[f"productcategory_set-{i}-id"] = link.pk
        data[f"productcategory_set-{i}-category"] = link.category_id
    data.update(overrides)
    return data


def _errors(response) -> dict:
    names = ["form", "category_formset", "image_formset", "stockrecord_formset"]
    return {n: response.context[n].errors for n in names}


def test_product_form_saves_produce_fields(staff_client, radish):
    radish.categories.add(factories.category("蔬菜"))
    assert Division.objects.filter(code="120111").exists()
    url = reverse("dashboard:catalogue-product", kwargs={"pk": radish.pk})
    page = staff_client.get(url)
    assert page.status_code == 200
    assert 'name="origin"' in page.content.decode()

    response = staff_client.post(url, _form_data(radish, page.content.decode()))
    assert response.status_code == 302, _errors(response)
    radish.refresh_from_db()
    assert radish.unit == Unit.BOX
    assert radish.net_weight_g == 2500
    assert radish.origin_id == "120111"
    assert radish.storage_class == StorageClass.CHILLED
    assert set(radish.certifications) == {"geo_indication", "green_food"}
    assert radish.get_storage_class_label() == "冷藏"


def test_unknown_origin_code_is_a_clear_error(staff_client, radish):
    radish.categories.add(factories.category("蔬菜"))
    url = reverse("dashboard:catalogue-product", kwargs={"pk": radish.pk})
    html = staff_client.get(url).content.decode()
    response = staff_client.post(url, _form_data(radish, html, origin="999999"))
    assert response.status_code == 200
    assert "没有这个行政区划代码" in str(response.context["form"].errors["origin"])
    radish.refresh_from_db()
    assert radish.origin_id is None


def test_variant_form_has_only_variant_fields(staff_client, vegetables, cooperative):
    parent = factories.parent_product(
        "沙窝萝卜", [("5斤装", "39.90", 10)], partner_obj=cooperative, product_class_obj=vegetables
    )
    child = parent.children.get()
    page = staff_client.get(reverse("dashboard:catalogue-product", kwargs={"pk": child.pk}))
    html = page.content.decode()
    assert 'name="net_weight_g"' in html
    assert 'name="origin"' not in html
    assert child.get_title() == "沙窝萝卜（5斤装）"
