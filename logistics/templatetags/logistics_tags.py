"""Template helpers for what buyers, cooperatives and stations see of
logistics: an order's shipments, a shipment's timeline, the checkout's
shipment plan, a station's incoming parcels' shipments.

Every tag that reads the database does it in a fixed number of queries
(prefetching), never once per row.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.db.models import Prefetch

from logistics import shipments as logistics_shipments
from logistics import stages, tracking
from logistics.models import Shipment, ShipmentItem
from logistics.vocabulary import needs_cold_chain

register = template.Library()


@register.simple_tag
def order_shipments(order) -> list[Shipment]:
    """``{% order_shipments order as shipments %}``: the order's shipments
    (its own and the consolidated ones carrying its lines) with carrier,
    cooperative, station, events and *this order's* items (a consolidated
    shipment also carries other people's orders). Four queries."""
    if order is None or not getattr(order, "pk", None):
        return []
    items = ShipmentItem.objects.filter(line__order=order).select_related("line")
    return list(
        logistics_shipments.for_order(order)
        .select_related("station")
        .prefetch_related(Prefetch("items", queryset=items, to_attr="order_items"))
    )


@register.filter
def timeline(shipment) -> list:
    """The shipment's tracking events, newest first (uses prefetched events)."""
    return tracking.timeline(shipment)


@register.filter
def buyer_status(shipment) -> str:
    return stages.buyer_label(shipment)


@register.filter
def shipment_badge(shipment) -> str:
    """CSS modifier for a shipment's status badge (badge-shipment-…)."""
    return stages.badge_class(shipment)


@register.filter
def is_cold(temperature) -> bool:
    return needs_cold_chain(str(temperature or ""))


@register.filter
def kg(grams) -> str:
    """Grams as kilograms for people: 2500 → "2.5", 1000 → "1", 1234 → "1.23"."""
    if grams in (None, ""):
        return ""
    value = (Decimal(int(grams)) / 1000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def shipping_plan(method):
    """The shipment plan behind a checkout shipping method (or None)."""
    from shop.shipping.repository import plan_of

    return plan_of(method)


@register.filter
def any_estimated(planned_shipments) -> bool:
    """Whether any planned shipment's weight is partly a guess."""
    return any(getattr(s, "weight_estimated", False) for s in planned_shipments or [])


@register.simple_tag
def parcel_shipments(parcels) -> dict[int, list[Shipment]]:
    """``{% parcel_shipments rows as by_parcel %}``: each station parcel's
    shipments, ``{parcel pk: [shipments]}``, in two queries for the page."""
    parcels = list(parcels or [])
    found = logistics_shipments.for_station_orders(p.station_order_id for p in parcels)
    return {p.pk: found.get((p.station_order_id, p.partner_id), []) for p in parcels}


@register.filter
def shipments_of(by_parcel, parcel) -> list[Shipment]:
    """``{{ by_parcel|shipments_of:parcel }}``"""
    if not by_parcel or parcel is None:
        return []
    return by_parcel.get(parcel.pk, [])
