"""Pricing a parcel from carriers' rate cards.

A carrier serves a destination if one of its service areas (a province,
city or county code) contains it; the most specific such area gives the
rate zone. Price = first-weight price + each started additional step
+ the cold-chain surcharge for chilled and frozen goods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from divisions import services as divisions
from logistics.models import Carrier, RateZone, ServiceArea
from logistics.vocabulary import needs_cold_chain, services_for


@dataclass(frozen=True)
class Rate:
    carrier: Carrier
    zone: RateZone
    service: str
    cost: Decimal


def price(zone: RateZone, weight_g: int, *, temperature: str, carrier: Carrier) -> Decimal:
    """What ``carrier`` charges for ``weight_g`` grams in ``zone``."""
    extra = max(0, weight_g - zone.first_weight_g)
    steps = math.ceil(extra / zone.additional_weight_g) if extra else 0
    cost = zone.first_price + zone.additional_price * steps
    if needs_cold_chain(temperature):
        cost += carrier.cold_chain_surcharge
    return cost.quantize(Decimal("0.01"))


def _ancestors(code: str) -> list[str]:
    """The province, city and county codes containing ``code`` (and the
    code itself), widest first."""
    return divisions.ancestor_codes(code) if code else []


def zones_for(destination_code: str, carriers=None) -> dict[int, RateZone]:
    """``{carrier id: zone}`` for every active carrier serving the
    destination (the most specific area wins)."""
    ancestors = _ancestors(destination_code)
    areas = ServiceArea.objects.filter(division_id__in=ancestors, carrier__is_active=True)
    if carriers is not None:
        areas = areas.filter(carrier__in=carriers)
    best: dict[int, tuple[int, RateZone]] = {}
    for area in areas.select_related("zone", "zone__carrier"):
        depth = ancestors.index(area.division_id)
        if area.carrier_id not in best or depth > best[area.carrier_id][0]:
            best[area.carrier_id] = (depth, area.zone)
    return {carrier_id: zone for carrier_id, (_depth, zone) in best.items()}


def rates_for(
    destination_code: str,
    weight_g: int,
    temperature: str,
    *,
    to_station: bool = False,
    zones: dict[int, RateZone] | None = None,
) -> list[Rate]:
    """Every carrier able to take this parcel, cheapest first (then by name)."""
    zones = zones_for(destination_code) if zones is None else zones
    allowed = services_for(temperature, to_station=to_station)
    rates = []
    for zone in zones.values():
        carrier = zone.carrier
        service = next((s for s in allowed if carrier.offers(s)), None)
        if service is None:
            continue
        cost = price(zone, weight_g, temperature=temperature, carrier=carrier)
        rates.append(Rate(carrier=carrier, zone=zone, service=service, cost=cost))
    rates.sort(key=lambda r: (r.cost, r.carrier.name, r.carrier.pk))
    return rates


def rate_for_carrier(
    carrier: Carrier, destination_code: str, weight_g: int, temperature: str, *, to_station=False
) -> Rate | None:
    """``carrier``'s rate for this parcel, or None if it cannot take it."""
    zones = zones_for(destination_code, carriers=[carrier])
    rates = rates_for(destination_code, weight_g, temperature, to_station=to_station, zones=zones)
    return rates[0] if rates else None
