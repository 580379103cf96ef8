"""Orders for the settlement tests, built fast and posted to the ledger as
the checkout posts them.

Placing an order through Oscar's checkout (or OrderCreator with a basket,
carrier quotes and shipments) costs a good part of a second; the seeded
1,000-operation run needs hundreds. ``quick_order`` writes the Order, its
Lines (each with its cooperative, product and price) and its payment
Source directly, then posts the sale with ``accounting.record_sale`` —
the entry a real checkout writes. Deliveries, refunds, station
commissions and statements then go through the production services.
``station_order`` does the same for a station's assisted order (the
StationOrder row and ``accounting.record_station_commission``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone
from oscar.core.loading import get_model

from cooperatives import fulfilment
from cooperatives.models import FulfilmentEvent
from shop.payment import accounting, ledger, stripe_client
from shop.payment.models import StripePayment
from stations import commission as station_commission
from stations.models import Resident, StationOrder, StationStaff

Order = get_model("order", "Order")
Line = get_model("order", "Line")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")

COD = "cash-on-delivery"
STATION_CASH = "station-cash"
STRIPE = "stripe-card"

_numbers = itertools.count(1)


def source_type(code: str):
    found, _created = SourceType.objects.get_or_create(code=code, defaults={"name": code})
    return found


def quick_order(
    items, *, source: str = COD, shipping: str | Decimal = "8.00", number: str | None = None
):
    """An order for ``(product, quantity)`` items (each product with one
    stock record of its cooperative) paid by ``source``, and its sale entry."""
    shipping = Decimal(shipping)
    number = number or f"T{next(_numbers):07d}"
    prices = []
    for product, quantity in items:
        record = product.stockrecords.select_related("partner").get()
        prices.append((product, record, quantity, record.price * quantity))
    goods = sum((p[3] for p in prices), Decimal("0.00"))
    total = goods + shipping
    order = Order.objects.create(
        number=number,
        currency="CNY",
        total_incl_tax=total,
        total_excl_tax=total,
        shipping_incl_tax=shipping,
        shipping_excl_tax=shipping,
        status="pending",
        date_placed=timezone.now(),
        guest_email="buyer@example.com",
    )
    for product, record, quantity, price in prices:
        Line.objects.create(
            order=order,
            partner=record.partner,
            partner_name=record.partner.name,
            partner_sku=record.partner_sku,
            product=product,
            title=product.get_title(),
            quantity=quantity,
            line_price_incl_tax=price,
            line_price_excl_tax=price,
            line_price_before_discounts_incl_tax=price,
            line_price_before_discounts_excl_tax=price,
            unit_price_incl_tax=record.price,
            unit_price_excl_tax=record.price,
            status=fulfilment.PENDING,
            num_allocated=0,
        )
    Source.objects.create(
        order=order, source_type=source_type(source), currency="CNY", amount_allocated=total
    )
    accounting.record_sale(order)
    return order


def pay_at_stripe(order) -> StripePayment:
    """Pay a ``quick_order(…, source=STRIPE)`` by card at the local Stripe
    simulator (the ``stripe_sim`` fixture), as the Stripe checkout leaves
    it: a succeeded PaymentIntent and its StripePayment row, so refunds go
    back through Stripe."""
    total = ledger.to_fen(order.total_incl_tax)
    api = stripe_client.client().v1
    intent = api.payment_intents.create(
        {
            "amount": total,
            "currency": "cny",
            "payment_method_types": ["card"],
            "metadata": {"order_number": order.number},
        }
    )
    intent = api.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert intent.status == "succeeded"
    order.sources.update(amount_debited=order.total_incl_tax, reference=intent.id)
    return StripePayment.objects.create(
        intent_id=intent.id,
        method=StripePayment.Method.CARD,
        order_number=order.number,
        order=order,
        amount=total,
        status=StripePayment.Status.SUCCEEDED,
        placement=StripePayment.Placement.PLACED,
        amount_received=total,
    )


def station_order(station, items, *, resident: Resident | None = None) -> StationOrder:
    """An assisted order of ``station`` paid in cash, with its sale and the
    station's commission posted."""
    staff = StationStaff.objects.filter(station=station).select_related("user").first().user
    resident = resident or Resident.objects.filter(station=station).first()
    order = quick_order(items, source=STATION_CASH)
    goods = order.total_incl_tax - order.shipping_incl_tax
    so = StationOrder.objects.create(
        order=order,
        station=station,
        resident=resident,
        placed_by=staff,
        delivery=Resident.Delivery.STATION,
        goods_total=goods,
        total=order.total_incl_tax,
        cash_received=order.total_incl_tax,
        change_given=Decimal("0.00"),
        pickup_code="123456",
        commission=station_commission.commission_for(station, goods),
    )
    accounting.record_station_commission(so, by=staff)
    return so


def deliver(lines, *, at: dt.datetime | None = None) -> None:
    """The carrier picks ``lines`` up and delivers them (the fulfilment
    services, as tracking does); with ``at``, the delivery is back-dated to
    then (the FulfilmentEvent to "delivered" is when it happened)."""
    lines = list(lines)
    fulfilment.carrier_picked_up(lines)
    fulfilment.carrier_delivered(lines)
    if at is not None:
        FulfilmentEvent.objects.filter(line__in=lines, to_status=fulfilment.DELIVERED).update(
            changed_at=at
        )


def days_ago(days: int, *, today: dt.date | None = None) -> dt.datetime:
    """Noon, ``days`` days before ``today`` (Asia/Shanghai)."""
    today = today or timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time(12)))
