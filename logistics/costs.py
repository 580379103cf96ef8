"""The shipping cost report: what delivery cost the programme, per order,
per cooperative and per carrier, and whether consolidation (station runs)
lowers the cost per parcel.

Shipments count by the day they leave (``ship_date``), inclusive range;
cancelled shipments are left out (nothing travelled). Figures:

- a *parcel* is one order's goods in one shipment: a direct shipment is one
  parcel, a consolidated shipment to a station carries one per order in it;
- a shipment's cost is shared among the orders in it by the weight of their
  items (by item count if nothing has a weight), to the cent, so the shares
  add up to the shipment's cost;
- *charged to buyers* is what buyers paid for delivery: per shipment the
  charge recorded on it, per order the order's shipping charge;
- consolidation's effect compares cost per parcel of direct and consolidated
  shipments, and estimates what the consolidated parcels would have cost if
  each had travelled alone with the same carrier at its rate card.

A fixed handful of queries whatever the range holds: the shipments, their
items grouped by shipment and order, and the names; the rest is arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, Sum
from oscar.core.loading import get_model

from divisions import services as divisions
from logistics import rates
from logistics.models import Carrier, ServiceArea, Shipment, ShipmentItem

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def apportion(amount: Decimal, weights: list[int]) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, to the cent, adding up
    to ``amount`` exactly (left-over cents go to the largest remainders).
    Equal shares if every weight is zero."""
    if not weights:
        return []
    if not any(weights):
        weights = [1] * len(weights)
    total = sum(weights)
    cents = int((amount / CENT).to_integral_value())
    exact = [Decimal(cents) * w / total for w in weights]
    shares = [int(x.to_integral_value(rounding=ROUND_DOWN)) for x in exact]
    left = cents - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return [Decimal(s) * CENT for s in shares]


@dataclass
class Figures:
    """Totals for a set of shipments."""

    shipments: int = 0
    parcels: int = 0
    weight_g: int = 0
    cost: Decimal = ZERO
    charge: Decimal = ZERO

    def add(self, shipment: dict, parcels: int) -> None:
        self.shipments += 1
        self.parcels += parcels
        self.weight_g += shipment["weight_g"]
        self.cost += shipment["cost"]
        self.charge += shipment["charge"]

    @property
    def weight_kg(self) -> Decimal:
        return (Decimal(self.weight_g) / 1000).quantize(Decimal("0.001"))

    @property
    def cost_per_parcel(self) -> Decimal | None:
        return (self.cost / self.parcels).quantize(CENT) if self.parcels else None

    @property
    def cost_per_shipment(self) -> Decimal | None:
        return (self.cost / self.shipments).quantize(CENT) if self.shipments else None

    @property
    def cost_per_kg(self) -> Decimal | None:
        return (self.cost * 1000 / self.weight_g).quantize(CENT) if self.weight_g else None

    @property
    def margin(self) -> Decimal:
        """Charged to buyers minus cost (negative: the programme pays)."""
        return self.charge - self.cost


@dataclass
class GroupRow(Figures):
    """One cooperative's or one carrier's figures."""

    key: int = 0
    name: str = ""


@dataclass
class OrderRow:
    order_id: int
    number: str = ""
    placed_at: dt.datetime | None = None
    shipments: int = 0
    weight_g: int = 0
    cost: Decimal = ZERO
    charge: Decimal = ZERO
    direct: bool = False
    consolidated: bool = False

    @property
    def weight_kg(self) -> Decimal:
        return (Decimal(self.weight_g) / 1000).quantize(Decimal("0.001"))

    @property
    def margin(self) -> Decimal:
        return self.charge - self.cost


@dataclass
class Report:
    start: dt.date
    end: dt.date
    total: Figures = field(default_factory=Figures)
    direct: Figures = field(default_factory=Figures)
    consolidated: Figures = field(default_factory=Figures)
    # What the consolidated parcels would have cost sent one by one with
    # the same carriers (None when no rate card covers them any more).
    consolidated_alone: Decimal | None = None
    orders: list[OrderRow] = field(default_factory=list)
    cooperatives: list[GroupRow] = field(default_factory=list)
    carriers: list[GroupRow] = field(default_factory=list)

    @property
    def consolidation_saving(self) -> Decimal | None:
        if self.consolidated_alone is None:
            return None
        return self.consolidated_alone - self.consolidated.cost

    @property
    def consolidated_alone_per_parcel(self) -> Decimal | None:
        if self.consolidated_alone is None or not self.consolidated.parcels:
            return None
        return (self.consolidated_alone / self.consolidated.parcels).quantize(CENT)


def shipments_in(start: dt.date, end: dt.date):
    """The shipments the report counts: leaving between ``start`` and
    ``end`` (inclusive), not cancelled."""
    return Shipment.objects.filter(ship_date__gte=start, ship_date__lte=end).exclude(
        status=Shipment.Status.CANCELLED
    )


def report(start: dt.date, end: dt.date) -> Report:
    """The cost report for shipments leaving from ``start`` to ``end``."""
    result = Report(start=start, end=end)
    shipments = list(
        shipments_in(start, end)
        .order_by("pk")
        .values(
            "pk",
            "partner_id",
            "carrier_id",
            "station_id",
            "destination_id",
            "temperature",
            "weight_g",
            "cost",
            "charge",
        )
    )
    if not shipments:
        return result
    # One row per (shipment, order): the order's goods in that shipment.
    pairs = (
        ShipmentItem.objects.filter(shipment__in=shipments_in(start, end))
        .values("shipment_id", "line__order_id")
        .annotate(grams=Sum("weight_g"), items=Count("pk"))
        .order_by("shipment_id", "line__order_id")
    )
    parcels_of: dict[int, list[dict]] = defaultdict(list)
    for pair in pairs:
        parcels_of[pair["shipment_id"]].append(pair)

    cooperatives: dict[int, GroupRow] = {}
    carriers: dict[int, GroupRow] = {}
    orders: dict[int, OrderRow] = {}
    consolidated_parcels: list[tuple[dict, int]] = []  # (shipment, grams)
    for shipment in shipments:
        parcels = parcels_of.get(shipment["pk"], [])
        is_consolidated = shipment["station_id"] is not None
        count = len(parcels)
        result.total.add(shipment, count)
        (result.consolidated if is_consolidated else result.direct).add(shipment, count)
        cooperatives.setdefault(shipment["partner_id"], GroupRow(key=shipment["partner_id"])).add(
            shipment, count
        )
        carriers.setdefault(shipment["carrier_id"], GroupRow(key=shipment["carrier_id"])).add(
            shipment, count
        )
        weights = [p["grams"] or 0 for p in parcels]
        if weights and not any(weights):
            weights = [p["items"] for p in parcels]
        for parcel, share in zip(parcels, apportion(shipment["cost"], weights), strict=True):
            row = orders.setdefault(parcel["line__order_id"], OrderRow(parcel["line__order_id"]))
            row.shipments += 1
            row.weight_g += parcel["grams"] or 0
            row.cost += share
            if is_consolidated:
                row.consolidated = True
                consolidated_parcels.append((shipment, parcel["grams"] or 0))
            else:
                row.direct = True

    _name_orders(orders)
    _name_groups(cooperatives, carriers)
    result.orders = sorted(
        orders.values(), key=lambda r: (r.placed_at or dt.datetime.min, r.number), reverse=True
    )
    result.cooperatives = sorted(cooperatives.values(), key=lambda r: (-r.cost, r.name))
    result.carriers = sorted(carriers.values(), key=lambda r: (-r.cost, r.name))
    result.consolidated_alone = _alone_cost(consolidated_parcels)
    return result


def _name_orders(orders: dict[int, OrderRow]) -> None:
    Order = get_model("order", "Order")
    rows = Order.objects.filter(pk__in=list(orders)).values(
        "pk", "number", "date_placed", "shipping_incl_tax"
    )
    for row in rows:
        order = orders[row["pk"]]
        order.number = row["number"]
        order.placed_at = row["date_placed"]
        order.charge = row["shipping_incl_tax"] or ZERO


def _name_groups(cooperatives: dict[int, GroupRow], carriers: dict[int, GroupRow]) -> None:
    from cooperatives.models import Cooperative

    Partner = get_model("partner", "Partner")
    names = dict(Partner.objects.filter(pk__in=list(cooperatives)).values_list("pk", "name"))
    names.update(
        (partner_id, name)
        for partner_id, name in Cooperative.objects.filter(
            partner_id__in=list(cooperatives)
        ).values_list("partner_id", "display_name")
        if name
    )
    for key, row in cooperatives.items():
        row.name = names.get(key, "")
    carrier_names = dict(Carrier.objects.filter(pk__in=list(carriers)).values_list("pk", "name"))
    for key, row in carriers.items():
        row.name = carrier_names.get(key, "")


def _alone_cost(parcels: list[tuple[dict, int]]) -> Decimal | None:
    """What ``parcels`` (consolidated shipment, the order's grams) would
    cost shipped one by one with the same carrier, each priced on the zone
    of the carrier's most specific service area around the destination.
    None if there are none, or one of them has no rate any more."""
    if not parcels:
        return None
    destinations = {shipment["destination_id"] for shipment, _grams in parcels}
    carrier_ids = {shipment["carrier_id"] for shipment, _grams in parcels}
    ancestors = {code: divisions.ancestor_codes(code) for code in destinations}
    every_code = {code for codes in ancestors.values() for code in codes}
    areas = ServiceArea.objects.filter(
        carrier_id__in=carrier_ids, division_id__in=every_code
    ).select_related("zone", "carrier")
    best: dict[tuple[int, str], tuple[int, object]] = {}
    for area in areas:
        for destination, codes in ancestors.items():
            if area.division_id not in codes:
                continue
            depth = codes.index(area.division_id)
            key = (area.carrier_id, destination)
            if key not in best or depth > best[key][0]:
                best[key] = (depth, area)
    total = ZERO
    for shipment, grams in parcels:
        found = best.get((shipment["carrier_id"], shipment["destination_id"]))
        if found is None:
            return None
        area = found[1]
        total += rates.price(
            area.zone, max(grams, 1), temperature=shipment["temperature"], carrier=area.carrier
        )
    return total
