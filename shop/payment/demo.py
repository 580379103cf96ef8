"""Demo settlement, the last step of ``manage.py load_demo``: 沙窝萝卜合作社
(``coop-tj-xiqing-shawo``) finds statements in its portal (/coop/statements/)
and downloads them as PDF.

Statements only list lines delivered more than the return window ago, and a
fresh demo has no history, so this step writes some: four cash-on-delivery
orders from one buyer, placed with Oscar's OrderCreator at carrier-quoted
shipping and posted to the ledger as the checkout does, then fulfilled
through the real services — the cooperative's manager accepts, packs and
hands over each line (``fulfilment.advance``), the carrier delivers
(``fulfilment.carrier_delivered``, which also records the cash collected).
Then the history is **back-dated**: the orders' placing time and their
lines' FulfilmentEvents are moved to days before the last two weekly
cut-offs, because the return window counts from the delivery event. (The
ledger entries keep their real time: entries are never edited.) These
orders have no shipments: their carrier leg is history, and a live
shipment would be handed to the carrier simulator and tracked again.

Then, as the weekly task would have done: the statement for the
cut-off before last (two orders; marked paid with a demo bank reference), a
partial refund on one of its lines (through shop/payment/refunds.py), and
the statement for the last cut-off (one more order, less that refund,
waiting for payment). The fourth order was delivered two days ago: still
in its return window, it shows as 待结算.

Idempotent like the rest of load_demo: nothing is done when the demo
buyer's orders or any statement of the cooperative exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from cooperatives import fulfilment
from cooperatives.models import Cooperative, FulfilmentEvent, Membership
from divisions.models import Division
from shop.address.china import ensure_china
from shop.order.utils import OrderNumberGenerator
from shop.payment import accounting, refunds, settlement
from shop.payment.cash import cod_source
from shop.payment.models import Statement
from shop.shipping.repository import carrier_delivery

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
StockRecord = get_model("partner", "StockRecord")
Selector = get_class("partner.strategy", "Selector")
OrderCreator = get_class("order.utils", "OrderCreator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")

PARTNER_CODE = "tj-xiqing-shawo"
BUYER_EMAIL = "demo-buyer@wangnong.local"
# An illustrative buyer (the 1380013xxxx test range) in 西青区辛口镇水高庄村.
ADDRESS = {
    "last_name": "周小满",
    "phone_number": "+8613800138601",
    "state": "天津市",
    "line4": "天津市",
    "line3": "西青区",
    "line2": "辛口镇",
    "line1": "水高庄村 18 号",
    "division_id": "120111102203",
    "country_id": "CN",
}
BANK_REFERENCE = "DEMO-ICBC-{date}-0001"
REFUND_REASON = "演示：部分萝卜运输中磕碰，退一半货款"

# (the items as (stock record SKU, quantity), delivered how many days before
# the cut-off before last, or with "recent" how many days before today).
ORDERS = [
    ([("XQ-SW-10J", 2), ("XQ-XLM-5J", 1)], ("first", 10)),
    ([("XQ-SW-GIFT8", 1)], ("first", 8)),
    ([("XQ-SW-5J", 3)], ("second", 9)),
    ([("XQ-XLM-5J", 2)], ("recent", 2)),
]


def load(stdout=None) -> Counter:
    """Create the demo settlement history if it is missing; returns what
    was created (empty on a second run)."""
    created: Counter = Counter()

    def warn(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    coop = Cooperative.objects.filter(partner__code=PARTNER_CODE).select_related("partner").first()
    if coop is None:
        return created  # no demo cooperatives loaded
    if (
        Order.objects.filter(guest_email=BUYER_EMAIL).exists()
        or settlement.cooperative_statements(coop.partner).exists()
    ):
        return created
    membership = (
        coop.memberships.filter(role=Membership.Role.MANAGER).select_related("user").first()
    )
    manager = membership.user if membership is not None else None
    if not Division.objects.filter(code=ADDRESS["division_id"]).exists():
        warn("Demo settlement skipped: the buyer's village is not in the divisions table.")
        return created

    today = timezone.localdate()
    second_end = settlement.latest_period_end(today)
    first_end = second_end - dt.timedelta(days=7)
    with transaction.atomic():
        orders = []
        for items, (when, days) in ORDERS:
            if when == "recent":
                delivered = _noon(today - dt.timedelta(days=days))
            else:
                end = first_end if when == "first" else second_end
                delivered = _noon(end - dt.timedelta(days=days))
            order = _place(items)
            if order is None:
                warn("Demo settlement skipped: a demo product is missing or out of stock.")
                transaction.set_rollback(True)
                return Counter()
            _deliver(order, coop, manager, delivered)
            orders.append(order)
        created["demo delivered orders"] += len(orders)

        statements = settlement.generate_statements(first_end, today=today)
        first = _statement_of(statements, coop)
        # After the first statement, a buyer is refunded half of a line.
        line = orders[0].lines.order_by("pk").first()
        refunds.refund(
            orders[0],
            lines={line.pk: _half(line)},
            reason=REFUND_REASON,
            by=manager,
            token=uuid.uuid5(uuid.NAMESPACE_URL, f"wangnong-demo-refund-{orders[0].number}"),
            partner=coop.partner,
        )
        statements += settlement.generate_statements(second_end, today=today)
        created["settlement statements"] += len(statements)
        if first is not None:
            admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
            settlement.mark_paid(
                first, BANK_REFERENCE.format(date=f"{first_end:%Y%m%d}"), admin or manager
            )
            created["statements paid"] += 1
    return created


def _noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _half(line) -> int:
    from shop.payment.ledger import to_fen

    return to_fen(line.line_price_incl_tax) // 2


def _statement_of(statements: list[Statement], coop: Cooperative) -> Statement | None:
    return next((s for s in statements if s.partner_id == coop.partner_id), None)


def _place(items):
    """A cash-on-delivery order for ``(sku, quantity)`` items, placed and
    posted as the checkout places and posts it (without shipments)."""
    basket = Basket.objects.create()
    basket.strategy = Selector().strategy()
    for sku, quantity in items:
        record = StockRecord.objects.select_related("product").filter(partner_sku=sku).first()
        if record is None or (record.net_stock_level or 0) < quantity:
            return None
        basket.add_product(record.product, quantity)
    ensure_china()
    address = ShippingAddress.objects.create(**ADDRESS)
    method = carrier_delivery(basket, address.division_id)
    if method is None:
        return None
    charge = method.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    order = OrderCreator().place_order(
        basket=basket,
        total=total,
        shipping_method=method,
        shipping_charge=charge,
        shipping_address=address,
        order_number=OrderNumberGenerator().order_number(basket),
        guest_email=BUYER_EMAIL,
    )
    source = cod_source(order.total_incl_tax, order.currency)
    source.order = order
    source.save()
    accounting.record_sale(order)
    basket.submit()
    return order


def _deliver(order, coop: Cooperative, manager, delivered: dt.datetime) -> None:
    """The cooperative fulfils the order's lines and the carrier delivers
    them; then the history is moved back so delivery was at ``delivered``."""
    lines = list(order.lines.order_by("pk"))
    for line in lines:
        for action in (fulfilment.ACCEPT, fulfilment.PACK, fulfilment.HAND_OVER):
            fulfilment.advance(line, action, cooperative=coop, by=manager)
    fulfilment.carrier_delivered(lines)
    steps = {
        fulfilment.ACCEPTED: dt.timedelta(days=2, hours=20),
        fulfilment.PACKED: dt.timedelta(days=2, hours=18),
        fulfilment.SHIPPED: dt.timedelta(days=2),
        fulfilment.DELIVERED: dt.timedelta(0),
    }
    for status, before in steps.items():
        FulfilmentEvent.objects.filter(line__in=lines, to_status=status).update(
            changed_at=delivered - before
        )
    Order.objects.filter(pk=order.pk).update(date_placed=delivered - dt.timedelta(days=3))
