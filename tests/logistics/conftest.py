"""Logistics fixtures: the carrier simulator on loopback and a carrier
configured to use it through the generic HTTP adapter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from logistics.models import Carrier, RateZone, ServiceArea
from logistics.simulator import Account, CarrierSimulator, Faults

SIM_CODE = "sim-express"
SIM_KEY = "sim-key"
SIM_SECRET = "sim-secret-for-tests"


@pytest.fixture
def simulator():
    """A simulator serving one account (no faults, no webhooks unless the
    test sets ``simulator.webhook_url``)."""
    sim = CarrierSimulator(
        [Account(SIM_CODE, SIM_KEY, SIM_SECRET, prefix="SE")], faults=Faults(), seed=7
    ).start()
    yield sim
    sim.stop()


def make_http_carrier(base_url: str, *, code: str = SIM_CODE, timeout: float = 1.0, **fields):
    """A carrier on the generic HTTP adapter serving the whole country:
    ¥10 first kg + ¥2 per further kg."""
    from divisions.models import Division

    carrier = Carrier.objects.create(
        code=code,
        name=fields.pop("name", "模拟快递"),
        services=fields.pop("services", ["express", "station_delivery"]),
        adapter=Carrier.Adapter.HTTP,
        api_base_url=base_url,
        api_key=SIM_KEY,
        api_secret=SIM_SECRET,
        timeout_seconds=timeout,
        **fields,
    )
    zone = RateZone.objects.create(
        carrier=carrier,
        name="全国",
        first_price=Decimal("10.00"),
        additional_price=Decimal("2.00"),
    )
    ServiceArea.objects.bulk_create(
        ServiceArea(carrier=carrier, zone=zone, division_id=code)
        for code in Division.objects.filter(level=1).values_list("code", flat=True)
    )
    return carrier


@pytest.fixture
def http_carrier(db, simulator):
    return make_http_carrier(simulator.url)
