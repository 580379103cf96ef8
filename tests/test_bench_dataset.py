"""bench/dataset.py at small scale: the rows it makes and the manifest the
load harness reads."""

import re

import pytest
from django.utils import timezone
from oscar.core.loading import get_model

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")


def test_small_scale_load_and_manifest(settings, tmp_path, client):
    """One load (it takes most of the test's time), then its rows, then the
    manifest the load harness reads."""
    from bench import dataset

    settings.MEDIA_ROOT = tmp_path
    data = dataset.manifest("small", 1, dataset.build("small", 1, photos=2))
    check_rows(dataset, data)
    check_manifest(data, client)


def check_rows(dataset, data) -> None:
    scale = dataset.SCALES["small"]
    counts = data["counts"]
    assert counts["top_level_products"] == scale.products
    assert counts["search_documents"] == scale.products
    assert counts["product_images"] == scale.products
    assert 0.2 * scale.products < counts["parents"] < 0.4 * scale.products
    assert counts["variants"] >= 2 * counts["parents"]
    assert counts["cooperatives"] == scale.cooperatives
    assert counts["stations"] == scale.stations
    assert counts["residents"] == scale.stations * scale.residents_per_station
    assert counts["customers"] == scale.customers
    assert counts["orders"] == scale.orders
    assert counts["order_lines"] >= scale.orders
    assert 30 <= counts["categories"] <= 45
    # The demo products keep their UPCs; the marker row says the load is whole.
    assert Product.objects.filter(upc="WN-XQ-001", structure=Product.PARENT).exists()
    assert dataset.loaded("small", 1) and not dataset.loaded("small", 2)
    # Order numbers as checkout issues them: the day placed, then the serial.
    for number, placed in Order.objects.values_list("number", "date_placed")[:200]:
        assert re.fullmatch(r"\d{13}", number)
        assert number[:6] == f"{timezone.localtime(placed):%y%m%d}"
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {"delivered", "shipped", "cancelled"} <= statuses


def check_manifest(data, client) -> None:
    assert len(data["category_urls"]) >= 20
    assert len(data["product_urls"]) >= 200
    assert len(data["search_queries"]) >= 30
    assert len(data["customers"]) >= 50
    assert all(c["email"] and c["address_id"] for c in data["customers"])
    assert len(data["coop_managers"]) >= 10
    assert data["coop_managers"][0]["products"] >= 100  # the portal-list cooperative
    assert len(data["station_staff"]) >= 10
    assert all(s["residents"] > 0 for s in data["station_staff"])
    for url in (
        data["home_url"],
        data["category_urls"][0],
        data["product_urls"][0],
        data["statistics_url"],
    ):
        assert client.get(url).status_code == 200, url
    login = data["login"]
    customer = data["customers"][0]
    response = client.post(
        login["url"],
        {
            login["fields"]["email"]: customer["email"],
            login["fields"]["password"]: data["password"],
            login["submit"]: "",
        },
    )
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200  # signed in
