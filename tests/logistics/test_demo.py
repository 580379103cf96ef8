"""The demo carriers (logistics/demo.py, configured by ``manage.py
load_demo``): created once, priced so a Tianjin order splits as it should,
and — with the carrier simulator over loopback — a demo order really is
handed off and tracked to delivered."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from oscar.core.loading import get_model

from cooperatives.fulfilment import DELIVERED
from logistics import demo, rates, tracking
from logistics.models import Carrier, Shipment
from logistics.simulator import Account, CarrierSimulator
from logistics.vocabulary import Service, TrackingStatus
from shop.catalogue import demo_data
from shop.catalogue.produce import StorageClass
from tests import factories

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")

TIANJIN_VILLAGE = factories.GUEST_ADDRESS["division_id"]  # 西青区 辛口镇
BAODI_VILLAGE = "120115125201"  # 宝坻区 黄庄镇 黄庄村 (an outer district)
BEIJING = "110101"
SHANGHAI = "310101"
LHASA = "540102"
LABELS = ["logistics.Carrier", "logistics.RateZone", "logistics.ServiceArea"]


def counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in LABELS}


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_carriers():
    demo.configure_carriers("http://127.0.0.1:8765")
    return {c.code: c for c in Carrier.objects.all()}


def cheapest(destination: str, grams: int, temperature: str, **kwargs) -> rates.Rate | None:
    options = rates.rates_for(destination, grams, temperature, **kwargs)
    return options[0] if options else None


def test_configure_carriers_twice_changes_nothing():
    created = demo.configure_carriers("http://127.0.0.1:8765")
    assert created["carriers"] == 4
    before = counts()
    assert not any(demo.configure_carriers("http://127.0.0.1:8765").values())
    assert counts() == before

    carriers = {c.code: c for c in Carrier.objects.all()}
    services = {code: set(c.services) for code, c in carriers.items()}
    assert services == {
        "jinsu-express": {Service.EXPRESS, Service.STATION_DELIVERY},
        "china-post": {Service.POSTAL},
        "xianda-cold": {Service.COLD_CHAIN},
        "cuncuntong": {Service.LOCAL_COURIER, Service.STATION_DELIVERY},
    }
    for code in ("jinsu-express", "china-post", "xianda-cold"):
        carrier = carriers[code]
        assert carrier.adapter == Carrier.Adapter.HTTP
        assert carrier.api_base_url == "http://127.0.0.1:8765"
        assert carrier.api_key.startswith("demo-") and carrier.api_secret.startswith("demo-")
    assert carriers["cuncuntong"].adapter == Carrier.Adapter.MANUAL
    assert not carriers["cuncuntong"].api_secret
    assert carriers["xianda-cold"].cold_chain_surcharge > 0
    # Every province by express and post; the cold chain only 京津冀.
    for code in ("jinsu-express", "china-post"):
        provinces = {a.division_id for a in carriers[code].areas.all() if len(a.division_id) == 2}
        assert len(provinces) == 31, code
    cold_areas = set(carriers["xianda-cold"].areas.values_list("division_id", flat=True))
    assert cold_areas == {"11", "12", "13"}
    local_areas = set(carriers["cuncuntong"].areas.values_list("division_id", flat=True))
    assert all(code.startswith("12") for code in local_areas)


def test_the_simulator_address_follows_the_environment(monkeypatch):
    monkeypatch.setenv(demo.DEMO_CARRIER_URL_ENV, "http://127.0.0.1:8766/")
    demo.configure_carriers()
    urls = set(
        Carrier.objects.filter(adapter=Carrier.Adapter.HTTP).values_list("api_base_url", flat=True)
    )
    assert urls == {"http://127.0.0.1:8766"}

    # The simulator moved: the demo carriers follow; nothing else changes.
    before = counts()
    moved = demo.configure_carriers("http://127.0.0.1:8765")
    assert moved == {"carriers moved to the simulator's address": 3}
    assert counts() == before
    assert not any(demo.configure_carriers("http://127.0.0.1:8765").values())

    # A carrier staff pointed at a real API is left alone.
    Carrier.objects.filter(code="china-post").update(api_base_url="https://api.example.cn")
    moved = demo.configure_carriers("http://127.0.0.1:8766")
    assert moved == {"carriers moved to the simulator's address": 2}
    assert Carrier.objects.get(code="china-post").api_base_url == "https://api.example.cn"


def test_rate_cards_route_parcels_sensibly(demo_carriers):
    ambient, chilled = StorageClass.AMBIENT, StorageClass.CHILLED
    # Tianjin (城区/近郊): express is cheapest for the light and the heavy.
    assert cheapest(TIANJIN_VILLAGE, 1000, ambient).carrier.code == "jinsu-express"
    assert cheapest(TIANJIN_VILLAGE, 10000, ambient).carrier.code == "jinsu-express"
    assert cheapest(TIANJIN_VILLAGE, 2500, ambient).cost == Decimal("10.00")  # 7 + 2 × 1.5
    # Outer districts: the village courier (manual carrier), to the door and
    # to the station.
    assert cheapest(BAODI_VILLAGE, 2500, ambient).carrier.code == "cuncuntong"
    station_run = cheapest(BAODI_VILLAGE, 2500, ambient, to_station=True)
    assert station_run.carrier.code == "cuncuntong"
    assert station_run.service == Service.STATION_DELIVERY
    # Far away: a light parcel by express, a heavy one by post; the remote
    # provinces by post.
    assert cheapest(SHANGHAI, 1000, ambient).carrier.code == "jinsu-express"
    assert cheapest(SHANGHAI, 5000, ambient).carrier.code == "china-post"
    assert cheapest(LHASA, 1000, ambient).carrier.code == "china-post"
    # Chilled goods: the cold chain in Tianjin and Beijing, with its
    # surcharge; nobody to Shanghai.
    cold = cheapest(TIANJIN_VILLAGE, 1500, chilled)
    assert cold.carrier.code == "xianda-cold"
    assert cold.cost == Decimal("26.00")  # 16 + 4 + 6
    assert cheapest(BEIJING, 1000, chilled).carrier.code == "xianda-cold"
    assert cheapest(SHANGHAI, 1000, chilled) is None
    assert cheapest(SHANGHAI, 1000, StorageClass.FROZEN) is None


def test_load_demo_configures_carriers_once_and_every_product_has_a_weight(fast_passwords):
    call_command("load_demo", "--no-images", stdout=io.StringIO())
    assert set(Carrier.objects.values_list("code", flat=True)) >= {
        "jinsu-express",
        "china-post",
        "xianda-cold",
        "cuncuntong",
    }
    before = counts()
    out = io.StringIO()
    call_command("load_demo", "--no-images", stdout=out)
    assert counts() == before
    assert "Nothing to do" in out.getvalue()

    demo_upcs = [spec["upc"] for spec in demo_data.PRODUCTS]
    parents = Product.objects.filter(upc__in=demo_upcs)
    sellable = [p for p in parents if not p.is_parent] + list(
        Product.objects.filter(parent__in=parents)
    )
    assert len(sellable) >= 30
    for product in sellable:
        assert product.get_net_weight_g(), product.get_title()
        assert product.get_storage_class() in StorageClass.values
    chilled = [p for p in sellable if p.get_storage_class() == StorageClass.CHILLED]
    assert any("蟹" in p.get_title() for p in chilled)

    # The demo station order (上辛口村, 西青区) waits in the day's
    # consolidated shipment for its carrier's pick-up.
    station_run = Shipment.objects.get(station__village_id="120111102201")
    assert station_run.status == Shipment.Status.COLLECTING
    assert station_run.carrier.code == "jinsu-express"
    assert station_run.service == Service.STATION_DELIVERY


def test_a_demo_order_is_handed_off_and_tracked_to_delivered(
    client, fast_passwords, django_capture_on_commit_callbacks
):
    """Rice and crabs from 津南 and a radish box from 西青 to a 西青 village:
    three shipments (one cooperative ships ambient and chilled), each booked
    once at the simulator, then tracked to delivered."""
    call_command("load_demo", "--no-images", stdout=io.StringIO())
    accounts = [
        Account(c.code, c.api_key, c.api_secret, prefix=c.code[:2].upper())
        for c in Carrier.objects.filter(adapter=Carrier.Adapter.HTTP)
    ]
    simulator = CarrierSimulator(accounts, seed=5).start()
    try:
        demo.configure_carriers(simulator.url)
        rice = Product.objects.get(upc="WN-JN-002")  # 胚芽米 2.5 kg, ambient
        crabs = Product.objects.get(upc="WN-JN-003")  # 稻田蟹 1.5 kg, chilled
        radish = Product.objects.get(upc="WN-XQ-002")  # 萝卜礼盒 4 kg, ambient
        factories.guest_checkout_to_preview(client, [(rice, 1), (crabs, 1), (radish, 1)])
        with django_capture_on_commit_callbacks(execute=True):
            response = factories.place_order(client)
        assert response.status_code == 302, response.content.decode()[:500]

        shipments = list(Shipment.objects.filter(order__isnull=False).select_related("carrier"))
        by_carrier = sorted((s.carrier.code, s.temperature, s.cost) for s in shipments)
        assert by_carrier == [
            ("jinsu-express", StorageClass.AMBIENT, Decimal("10.00")),
            ("jinsu-express", StorageClass.AMBIENT, Decimal("11.50")),
            ("xianda-cold", StorageClass.CHILLED, Decimal("26.00")),
        ]
        order = shipments[0].order
        assert order.shipping_incl_tax == Decimal("47.50")
        for shipment in shipments:
            assert shipment.status == Shipment.Status.HANDED_OFF
            assert shipment.tracking_number
        stats = simulator.state.counts
        assert stats["created"] == 3 and stats["repeats"] == 0

        for shipment in shipments:
            simulator.advance(shipment.tracking_number, to=TrackingStatus.DELIVERED)
            tracking.poll(shipment)
            shipment.refresh_from_db()
            assert shipment.tracking_status == TrackingStatus.DELIVERED
            statuses = [e.status for e in tracking.timeline(shipment)]
            assert statuses[0] == TrackingStatus.DELIVERED
            assert statuses[-1] == TrackingStatus.ACCEPTED
        # The order's lines followed the carriers to the door.
        assert set(order.lines.values_list("status", flat=True)) == {DELIVERED}
    finally:
        simulator.stop()
