"""Assisted ordering: a station's staff member fills a resident's basket and
places the order for them, taking cash at the counter.

The basket is an ordinary Oscar basket owned by the resident's user, so the
catalogue, prices, stock and the selling gate are the storefront's own; the
order is placed by Oscar's ``OrderCreator`` like any checkout, inside one
transaction that also writes the station's record of it (who placed it,
where it goes, the pickup code, the commission), the cash ledger entry, the
parcels the station will receive and the audit events. A stock shortage or
any refusal rolls all of it back and leaves the basket as it was.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_class, get_model

from logistics import planning
from logistics import shipments as logistics_shipments
from shop.address.china import ensure_china
from shop.address.chinese import copy_division_names
from shop.order.utils import OrderNumberGenerator
from shop.partner.exceptions import InsufficientStock
from shop.partner.strategy import Selector
from shop.payment import accounting, ledger, refunds
from shop.payment.methods import STATION_CASH
from shop.shipping.repository import CarrierDelivery, station_delivery
from stations import audit, cash, commission
from stations.models import Parcel, Resident, Station, StationOrder

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
SourceType = get_model("payment", "SourceType")
Source = get_model("payment", "Source")
OrderCreator = get_class("order.utils", "OrderCreator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")

Delivery = Resident.Delivery
CENT = Decimal("0.01")
MAX_CASH = Decimal("100000")

# Line and order statuses (OSCAR_*_STATUS_PIPELINE in config/settings.py).
CANCELLABLE_LINE_STATUSES = {"pending", "accepted", "packed"}


def resident_basket(resident: Resident, request=None):
    """The resident's open basket (created on first use), priced by the
    storefront's strategy."""
    basket = Basket.open.filter(owner=resident.user).order_by("pk").first()
    if basket is None:
        basket = Basket.objects.create(owner=resident.user)
    basket.strategy = Selector().strategy(request=request, user=resident.user)
    return basket


def add_product(basket, product, quantity: int = 1) -> None:
    """Add ``quantity`` of a purchasable product (a variant, or a product
    without variants). Raises ValidationError with the reason in words."""
    if quantity < 1:
        raise ValidationError(_("数量至少为 1。"))
    if product.is_parent:
        raise ValidationError(_("请先选择“%(title)s”的规格。") % {"title": product.get_title()})
    info = basket.strategy.fetch_for_product(product)
    if info.stockrecord is None or info.price is None or not info.price.exists:
        raise ValidationError(_("“%(title)s”暂不可购买。") % {"title": product.get_title()})
    already = basket.product_quantity(product)
    allowed, message = info.availability.is_purchase_permitted(already + quantity)
    if not allowed:
        raise ValidationError(
            _("“%(title)s”不能再加：%(reason)s") % {"title": product.get_title(), "reason": message}
        )
    basket.add_product(product, quantity)


def set_line_quantity(basket, line_id: int, quantity: int) -> None:
    """Change a basket line's quantity; 0 removes it."""
    line = basket.lines.filter(pk=line_id).first()
    if line is None:
        raise ValidationError(_("购物篮里没有这件商品。"))
    if quantity <= 0:
        line.delete()
        basket.reset_offer_applications()
        return
    # ``line.basket`` is ``basket`` (the related manager sets it), so the
    # line's purchase_info is priced by the basket's strategy.
    allowed, message = line.purchase_info.availability.is_purchase_permitted(quantity)
    if not allowed:
        raise ValidationError(
            _("“%(title)s”不能改为 %(n)s 件：%(reason)s")
            % {"title": line.product.get_title(), "n": quantity, "reason": message}
        )
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    basket.reset_offer_applications()


@dataclass(frozen=True)
class Quote:
    shipping_method: object
    shipping_charge: object
    total: object  # oscar.core.prices.Price
    plan: planning.Plan | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def goods_total(self) -> Decimal:
        return self.total.incl_tax - self.shipping_charge.incl_tax

    @property
    def amount_due(self) -> Decimal:
        return self.total.incl_tax


def quote(basket, delivery: str, resident: Resident) -> Quote:
    """What the resident pays for ``basket`` delivered as ``delivery``: to
    their door at the carriers' rates (as on the storefront), or to the
    station in the day's consolidated shipment at the programme's charge.
    A quote with ``problems`` cannot be ordered (nothing can carry some of
    the goods there)."""
    if delivery == Delivery.HOME:
        plan = planning.plan_basket(basket, resident.village_id)
        method = CarrierDelivery(plan) if plan.ok else None
    else:
        plan = planning.plan_basket(basket, resident.station.village_id, to_station=True)
        method = station_delivery() if plan.ok else None
    if method is None:
        return Quote(None, None, None, plan=plan, problems=tuple(plan.problems))
    charge = method.calculate(basket)
    total = OrderTotalCalculator().calculate(basket, charge)
    return Quote(shipping_method=method, shipping_charge=charge, total=total, plan=plan)


def parse_cash(value) -> Decimal | None:
    """Cash typed at the counter ("50", "50.5", "５０") as yuan, or None."""
    import unicodedata

    text = (
        unicodedata.normalize("NFKC", str(value or "")).strip().replace("元", "").replace("¥", "")
    )
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_CASH:
        return None
    return amount.quantize(CENT)


def new_pickup_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _shipping_address(resident: Resident, station: Station, delivery: str):
    address = ShippingAddress(country=ensure_china()[0], last_name=resident.name)
    if delivery == Delivery.HOME:
        copy_division_names(address, resident.village_id)
        village = resident.village.name.removesuffix("委会")
        address.line1 = f"{village} {resident.address_detail}".strip()
        address.phone_number = resident.phone or station.contact_phone
        address.notes = _("%(station)s代购，联系电话 %(phone)s") % {
            "station": station.name,
            "phone": station.contact_phone,
        }
    else:
        copy_division_names(address, station.village_id)
        address.line1 = f"{station.name}（{station.street_address}）"
        address.phone_number = station.contact_phone
        address.notes = _("送到服务站，由站点代收")
    address.save()
    return address


def place_assisted_order(
    *,
    station: Station,
    staff_user,
    resident: Resident | None,
    basket,
    delivery: str,
    cash_received,
    request=None,
) -> StationOrder:
    """Place ``basket`` as an order for ``resident``, paid in cash at the
    station. Returns the StationOrder; raises ValidationError (keyed by
    field where there is one) and changes nothing if it cannot."""
    if resident is None:
        raise ValidationError(_("请先选择或登记要代下单的居民。"))
    if resident.station_id != station.pk:
        raise ValidationError(_("这位居民不是本站登记的居民。"))
    if not station.is_active:
        raise ValidationError(_("本站已暂停服务，不能代下单。"))
    if delivery not in Delivery.values:
        raise ValidationError({"delivery": _("请选择收货方式。")})
    if delivery == Delivery.HOME and not resident.address_detail:
        raise ValidationError({"delivery": _("这位居民没有登记门牌地址，不能送货上门。")})
    if basket.is_empty:
        raise ValidationError(_("购物篮是空的，请先添加商品。"))
    for line in basket.all_lines():
        allowed, message = line.purchase_info.availability.is_purchase_permitted(line.quantity)
        if not allowed:
            raise ValidationError(
                _("“%(title)s”不能购买：%(reason)s")
                % {"title": line.product.get_title(), "reason": message}
            )
    q = quote(basket, delivery, resident)
    if not q.ok:
        raise ValidationError({"delivery": list(q.problems)})
    received = parse_cash(cash_received)
    if received is None:
        raise ValidationError({"cash_received": _("请填写收到的现金金额，如 50 或 50.50。")})
    if received < q.amount_due:
        raise ValidationError(
            {
                "cash_received": _("收到的现金 ¥%(received)s 少于应付 ¥%(due)s，还差 ¥%(short)s。")
                % {"received": received, "due": q.amount_due, "short": q.amount_due - received}
            }
        )
    change = received - q.amount_due
    try:
        with transaction.atomic():
            Station.objects.select_for_update().filter(pk=station.pk).first()
            number = OrderNumberGenerator().order_number(basket)
            order = OrderCreator().place_order(
                basket=basket,
                total=q.total,
                shipping_method=q.shipping_method,
                shipping_charge=q.shipping_charge,
                user=resident.user,
                shipping_address=_shipping_address(resident, station, delivery),
                order_number=number,
                request=request,
            )
            _record_cash_payment(order, q.amount_due)
            basket.submit()
            station_order = StationOrder.objects.create(
                order=order,
                station=station,
                resident=resident,
                placed_by=staff_user,
                delivery=delivery,
                payment=StationOrder.Payment.CASH,
                goods_total=q.goods_total,
                total=q.amount_due,
                cash_received=received,
                change_given=change,
                pickup_code=new_pickup_code(),
                commission=commission.commission_for(station, q.goods_total),
            )
            if delivery == Delivery.STATION:
                partners = sorted(
                    {line.partner_id for line in order.lines.all() if line.partner_id}
                )
                Parcel.objects.bulk_create(
                    Parcel(station=station, station_order=station_order, partner_id=p)
                    for p in partners
                )
                # Into today's consolidated shipments from each cooperative.
                logistics_shipments.add_to_consolidation(
                    order=order,
                    station=station,
                    recipient=(station.name, station.contact_phone, order.shipping_address.line1),
                    charge=q.shipping_charge.incl_tax,
                )
            else:
                logistics_shipments.create_for_order(order)
            cash.record_sale(station_order, staff_user)
            accounting.record_sale(order, by=staff_user)
            accounting.record_station_commission(station_order, by=staff_user)
            audit.record(
                station=station,
                actor=staff_user,
                action=audit.Action.ORDER_PLACED,
                resident=resident,
                order=order,
                number=order.number,
                total=q.amount_due,
                delivery=delivery,
                items=order.num_items,
            )
            audit.record(
                station=station,
                actor=staff_user,
                action=audit.Action.CASH_RECEIVED,
                resident=resident,
                order=order,
                due=q.amount_due,
                received=received,
                change=change,
            )
    except InsufficientStock as exc:
        raise ValidationError(str(exc)) from exc
    except logistics_shipments.Unshippable as exc:
        raise ValidationError({"delivery": exc.messages}) from exc
    return station_order


def _record_cash_payment(order, amount: Decimal) -> None:
    source_type, _created = SourceType.objects.get_or_create(
        code=STATION_CASH.source_code, defaults={"name": "站点现金"}
    )
    source = Source.objects.create(
        order=order, source_type=source_type, currency=order.currency, amount_allocated=amount
    )
    source.debit(amount, reference=order.number)


def cancel_assisted_order(station_order: StationOrder, staff_user, reason: str) -> StationOrder:
    """Cancel an order nothing of which has been handed to a carrier yet:
    its lines and stock allocations are released, the cash goes back to the
    resident (a refund in the ledger) and the commission lapses."""
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise ValidationError({"reason": _("请填写取消原因。")})
    with transaction.atomic():
        Station.objects.select_for_update().filter(pk=station_order.station_id).first()
        locked = StationOrder.objects.select_for_update().get(pk=station_order.pk)
        if locked.is_cancelled:
            raise ValidationError(_("这笔订单已经取消过了。"))
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        lines = list(order.lines.select_related("stockrecord"))
        shipped = [line for line in lines if line.status not in CANCELLABLE_LINE_STATUSES]
        if shipped:
            raise ValidationError(
                _("“%(title)s”已经发出，订单不能取消；请等包裹到站后按退货处理。")
                % {"title": shipped[0].title}
            )
        # The money first, through the one refund service (the order's lock
        # is ours already): everything still refundable goes back as cash,
        # in the ledger and Oscar's payment records; a line refunded in full
        # is cancelled there and its stock released.
        left = refunds.refundable(order)
        money = None
        if left.total > 0:
            money = refunds.refund_locked(
                order,
                lines=left.lines,
                shipping=left.shipping,
                reason=reason,
                by=staff_user,
                token=uuid.uuid4(),
            )
        # Lines the refund did not cancel (nothing left to refund on them).
        for line in order.lines.select_related("stockrecord").exclude(status="cancelled"):
            line.set_status("cancelled")
            if line.stockrecord is not None:
                line.stockrecord.cancel_allocation(line.quantity)
        if "cancelled" in order.available_statuses():
            order.set_status("cancelled")
        mark_cancelled(locked, order, staff_user, reason)
        refunded = ledger.from_fen(money.amount) if money is not None else Decimal("0.00")
        if refunded > 0:
            cash.record_refund(locked, staff_user, refunded, note=reason)
        audit.record(
            station=locked.station,
            actor=staff_user,
            action=audit.Action.CASH_REFUNDED,
            resident=locked.resident,
            order=order,
            amount=refunded,
        )
    return locked


def mark_cancelled(station_order: StationOrder, order, by, reason: str) -> None:
    """The station's side of an order that has been cancelled (by the
    station, or refunded in full before hand-over by platform staff): the
    record says so, parcels not handed over are cancelled, shipments lose
    its lines, the commission lapses, and the audit log has it. The caller
    holds the station and order locks; the money is already refunded."""
    now = timezone.now()
    StationOrder.objects.filter(pk=station_order.pk).update(
        cancelled_at=now, cancelled_by=by, cancel_reason=reason[:200]
    )
    station_order.cancelled_at, station_order.cancelled_by = now, by
    station_order.cancel_reason = reason[:200]
    station_order.parcels.exclude(status=Parcel.Status.HANDED_OVER).update(
        status=Parcel.Status.CANCELLED
    )
    logistics_shipments.remove_lines(order, by=by, reason=reason)
    accounting.reverse_station_commission(station_order, by=by)
    audit.record(
        station=station_order.station,
        actor=by,
        action=audit.Action.ORDER_CANCELLED,
        resident=station_order.resident,
        order=order,
        reason=reason,
    )


def log_receipt_printed(station_order: StationOrder, staff_user) -> None:
    audit.record(
        station=station_order.station,
        actor=staff_user,
        action=audit.Action.RECEIPT_PRINTED,
        resident=station_order.resident,
        order=station_order.order,
    )
