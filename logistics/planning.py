"""Splitting a basket or an order into shipments and pricing them.

One shipment per cooperative and temperature class; each goes with the
cheapest carrier that serves the destination and can carry its class
(logistics/rates.py). The same plan prices checkout (the Oscar shipping
method in shop/shipping/repository.py) and creates the shipments when the
order is placed (logistics/shipments.py), so the buyer pays what was shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from divisions import services as divisions
from logistics import rates
from logistics.vocabulary import needs_cold_chain
from shop.catalogue.produce import StorageClass


@dataclass
class PlannedShipment:
    partner_id: int
    partner_name: str
    temperature: str
    lines: list = field(default_factory=list)
    weight_g: int = 0
    missing_weight: list[str] = field(default_factory=list)
    rate: rates.Rate | None = None

    @property
    def weight_estimated(self) -> bool:
        return bool(self.missing_weight)

    @property
    def cost(self) -> Decimal:
        return self.rate.cost if self.rate else Decimal("0.00")

    @property
    def temperature_label(self) -> str:
        return str(StorageClass(self.temperature).label)


@dataclass
class Plan:
    destination_code: str
    to_station: bool
    shipments: list[PlannedShipment]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.rate for s in self.shipments)

    @property
    def total(self) -> Decimal:
        return sum((s.cost for s in self.shipments), Decimal("0.00"))


def fallback_weight_g() -> int:
    return int(settings.WANGNONG_FALLBACK_WEIGHT_G)


def line_weight(product, quantity: int) -> tuple[int, bool]:
    """(grams, estimated) for ``quantity`` units of ``product``."""
    unit = product.get_net_weight_g() if hasattr(product, "get_net_weight_g") else None
    if not unit:
        return fallback_weight_g() * quantity, True
    return unit * quantity, False


def _storage_class(product) -> str:
    if hasattr(product, "get_storage_class"):
        return product.get_storage_class()
    return StorageClass.AMBIENT


def plan_lines(lines, destination_code: str | None, *, to_station: bool = False) -> Plan:
    """Plan ``lines`` (basket or order lines: product, quantity, partner)
    to ``destination_code``."""
    groups: dict[tuple[int, str], PlannedShipment] = {}
    for line in lines:
        partner = _partner_of(line)
        if partner is None:
            continue
        product = line.product
        temperature = _storage_class(product) if product else StorageClass.AMBIENT
        key = (partner.pk, temperature)
        group = groups.get(key)
        if group is None:
            group = groups[key] = PlannedShipment(
                partner_id=partner.pk, partner_name=partner.name, temperature=temperature
            )
        grams, estimated = line_weight(product, line.quantity) if product else (0, True)
        group.lines.append(line)
        group.weight_g += grams
        if estimated:
            group.missing_weight.append(_title_of(line))
    shipments = sorted(groups.values(), key=lambda s: (s.partner_name, s.partner_id, s.temperature))
    plan = Plan(destination_code=destination_code or "", to_station=to_station, shipments=shipments)
    if not destination_code:
        plan.problems.append(_("请选择收货地址所在的省、市、区县，才能计算运费。"))
        return plan
    zones = rates.zones_for(destination_code)
    place = divisions.full_name(destination_code) or destination_code
    for group in shipments:
        options = rates.rates_for(
            destination_code, group.weight_g, group.temperature, to_station=to_station, zones=zones
        )
        group.rate = options[0] if options else None
        if group.rate is None:
            titles = "、".join(dict.fromkeys(_title_of(line) for line in group.lines))
            if needs_cold_chain(group.temperature):
                plan.problems.append(
                    _(
                        "“%(titles)s”需要%(temp)s配送，目前没有冷链承运商能送到%(place)s。"
                        "请从购物篮删除这些商品，或换一个收货地址。"
                    )
                    % {"titles": titles, "temp": group.temperature_label, "place": place}
                )
            else:
                plan.problems.append(
                    _("目前没有承运商能把%(coop)s的“%(titles)s”送到%(place)s。请换一个收货地址。")
                    % {"coop": group.partner_name, "titles": titles, "place": place}
                )
    return plan


def _partner_of(line):
    partner = getattr(line, "partner", None)
    if partner is not None:
        return partner
    stockrecord = getattr(line, "stockrecord", None)
    return stockrecord.partner if stockrecord is not None else None


def _title_of(line) -> str:
    title = getattr(line, "title", None)
    if title:
        return title
    return line.product.get_title() if line.product else ""


def plan_basket(basket, destination_code: str | None, *, to_station: bool = False) -> Plan:
    lines = list(basket.all_lines())
    # Every line's cooperative in one query, not one per line.
    prefetch_related_objects([line.stockrecord for line in lines if line.stockrecord], "partner")
    return plan_lines(lines, destination_code, to_station=to_station)


def plan_order(order, *, to_station: bool = False, destination_code: str | None = None) -> Plan:
    lines = order.lines.select_related("partner", "product", "product__parent").exclude(
        status="cancelled"
    )
    if destination_code is None:
        address = order.shipping_address
        destination_code = getattr(address, "division_id", None) if address else None
    return plan_lines(lines, destination_code, to_station=to_station)
