"""Completing an online payment: placing its order once Stripe has the money.

``complete(payment)`` is called by whichever comes first or last — the
buyer's return from Alipay, the WeChat Pay page's poll, Stripe's webhook,
the periodic task ``payment.complete_pending`` — in any order and as often
as they like. Under a row lock on the StripePayment it looks at the
PaymentIntent and, when it is paid (``succeeded``) or authorised
(``requires_capture``, cards), places the order from the checkout snapshot
taken at the preview (shop/payment/start_payment.py) the way the checkout
places a cash-on-delivery order: in one transaction Oscar's OrderCreator
(with the reserved number), the shipments, the payment source and events,
the sale's ledger entry, the card capture, the basket submitted.

Money is never taken for an order that cannot be placed. If placement fails
(stock sold meanwhile, the goods can no longer be shipped there, the total
changed, the basket is gone) an authorised card is released (the intent
cancelled, nothing was taken) and a captured payment (Alipay, WeChat Pay)
is refunded through Stripe, with the money held in ``suspense:unplaced``
until the refund is made; the buyer is told. If Stripe cannot be reached
for the capture or the refund, the payment stays as it is and the periodic
task tries again: the lock, the idempotency keys and the forward-only
status make every retry safe.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_class, get_model

from config.messaging import email_later
from logistics import shipments as logistics_shipments
from shop.partner.strategy import Selector
from shop.payment import accounting, ledger, methods, stripe_client
from shop.payment.models import StripePayment

logger = logging.getLogger("wangnong.payment")

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")
ShippingAddress = get_model("order", "ShippingAddress")
BillingAddress = get_model("order", "BillingAddress")
PaymentEvent = get_model("order", "PaymentEvent")
PaymentEventType = get_model("order", "PaymentEventType")
PaymentEventQuantity = get_model("order", "PaymentEventQuantity")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")
OrderPlacementMixin = get_class("checkout.mixins", "OrderPlacementMixin")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
SurchargeApplicator = get_class("checkout.applicator", "SurchargeApplicator")
Repository = get_class("shipping.repository", "Repository")
Applicator = get_class("offer.applicator", "Applicator")
OrderDispatcher = get_class("order.utils", "OrderDispatcher")
UnableToPlaceOrder = get_class("order.exceptions", "UnableToPlaceOrder")

Status = StripePayment.Status
Placement = StripePayment.Placement

# PaymentIntent status → ours (others — requires_action, requires_confirmation,
# requires_payment_method without an error — leave it as it is).
INTENT_STATUS = {
    "processing": Status.PROCESSING,
    "requires_capture": Status.AUTHORISED,
    "succeeded": Status.SUCCEEDED,
    "canceled": Status.CANCELED,
}
PAYABLE = {"requires_capture", "succeeded"}
PLACEABLE = {Status.AUTHORISED, Status.SUCCEEDED}

# Oscar payment event types (code → name), shown in the dashboard's order page.
EVENT_TYPES = {
    "authorised": "已授权",
    "paid": "已付款",
}

# How long the periodic task keeps asking Stripe about a payment it has
# heard nothing about (the buyer may have paid and closed the page while
# the webhook got lost), and how long it leaves one alone after a check.
UNHEARD_WINDOW = dt.timedelta(days=1)
UNHEARD_QUIET = dt.timedelta(minutes=5)


class Refused(Exception):
    """The order cannot be placed; ``str(exc)`` says why, for the buyer."""


def field(obj: Any, *path: str, default: Any = None) -> Any:
    """``obj[a][b]…`` for Stripe objects or dicts, ``default`` where absent
    (StripeObject is not a dict and has no ``get``)."""
    for key in path:
        if obj is None:
            return default
        try:
            obj = obj[key] if key in obj else None
        except TypeError:
            return default
    return default if obj is None else obj


def status_of(intent) -> str | None:
    """Our status for the PaymentIntent's, or None when it says nothing new."""
    status = field(intent, "status")
    if status == "requires_payment_method" and field(intent, "last_payment_error"):
        return Status.FAILED
    return INTENT_STATUS.get(status)


def apply_intent(payment: StripePayment, intent) -> None:
    """Copy what the intent says onto ``payment`` (not saved): the status
    only forward, the amount received only up."""
    new = status_of(intent)
    if new and payment.moves_forward_to(new):
        payment.status = new
        if new == Status.FAILED:
            payment.last_error = str(
                field(intent, "last_payment_error", "message", default="")
                or field(intent, "last_payment_error", "code", default="")
            )[:1000]
    received = int(field(intent, "amount_received", default=0) or 0)
    if received > payment.amount_received:
        payment.amount_received = received


def outcome(payment: StripePayment) -> str:
    """What the buyer's page shows: placed, refused, failed or waiting."""
    if payment.placement == Placement.PLACED:
        return "placed"
    if payment.placement == Placement.REFUSED:
        return "refused"
    if payment.status in (Status.FAILED, Status.CANCELED):
        return "failed"
    return "waiting"


def _lock(payment: StripePayment) -> StripePayment:
    return StripePayment.objects.select_for_update().get(pk=payment.pk)


def complete(payment: StripePayment, intent=None) -> StripePayment:
    """``_complete`` in the buyer's language (the webhook and the periodic
    task run in the site's), so the reason a payment was refused is worded
    for the buyer who reads it."""
    language = (payment.checkout or {}).get("language") or settings.LANGUAGE_CODE
    with translation.override(language):
        return _complete(payment, intent)


def _complete(payment: StripePayment, intent=None) -> StripePayment:
    """Bring ``payment`` up to date with its PaymentIntent (``intent``, or
    retrieved from Stripe) and place its order if it is paid or authorised;
    if the order cannot be placed, give the money back. Safe to call any
    number of times, concurrently: returns the payment as it now stands.

    Raises StripeUnavailable only when the intent had to be retrieved and
    Stripe could not be reached (nothing changed)."""
    placed_order = None
    with transaction.atomic():
        locked = _lock(payment)
        if locked.placement == Placement.PLACED:
            return locked
        if locked.placement == Placement.REFUSED:
            if _give_back_pending(locked):
                _give_back(locked, intent or _retrieve(locked))
                locked.save()
            return locked
        if intent is None:
            intent = _retrieve(locked)
        apply_intent(locked, intent)
        if field(intent, "status") in PAYABLE and locked.status in PLACEABLE:
            # (A late event saying "authorised" about an intent we know is
            # cancelled places nothing.)
            placed_order = _place_or_refuse(locked, intent)
        elif locked.status == Status.CANCELED:
            # Cancelled at Stripe (by us for another method, or expired):
            # the buyer can check out again with the same basket.
            thaw_basket(locked)
        locked.save()
    if placed_order is not None:
        transaction.on_commit(lambda: send_order_placed_email(placed_order, locked), robust=True)
    return locked


def refresh(payment: StripePayment):
    """``complete`` with the intent retrieved now; returns (payment, intent)
    so a page can also show what the intent asks the buyer to do next."""
    intent = _retrieve(payment)
    return complete(payment, intent), intent


def _retrieve(payment: StripePayment):
    return stripe_client.call(stripe_client.client().v1.payment_intents.retrieve, payment.intent_id)


# --- Placing the order ---------------------------------------------------


def _place_or_refuse(payment: StripePayment, intent):
    """Place the order (in a savepoint); on refusal undo it all and give
    the money back. Returns the order, or None."""
    try:
        with transaction.atomic():
            order = place_order(payment, intent)
    except Refused as exc:
        _refuse(payment, intent, str(exc))
        return None
    except stripe_client.StripeUnavailable as exc:
        # The capture could not be made: the authorisation stands and the
        # periodic task tries again; nothing of the order was kept.
        payment.last_error = _("扣款时无法连接支付服务，稍后自动重试。") + f" ({exc.cause!r})"
        logger.warning("Payment %s: capture postponed, Stripe unavailable", payment.intent_id)
        return None
    return order


class _Placer(OrderPlacementMixin):
    """Oscar's order placement (address book, payment sources and events,
    OrderCreator) without a request."""

    request = None


def _user(snapshot: dict):
    if snapshot.get("user_id"):
        user = get_user_model().objects.filter(pk=snapshot["user_id"]).first()
        if user is not None:
            return user
    return AnonymousUser()


def _basket(payment: StripePayment, user):
    """The frozen basket, priced and discounted again as at checkout."""
    basket = (
        Basket.objects.filter(pk=payment.checkout.get("basket_id"))
        .select_for_update(of=("self",))
        .first()
    )
    if basket is None or basket.status != Basket.FROZEN or basket.is_empty:
        raise Refused(_("购物车已经改变或不存在，订单未能生成。"))
    basket.strategy = Selector().strategy(user=user)
    Applicator().apply(basket, user if user.is_authenticated else None, None)
    for line in basket.all_lines():
        allowed, message = line.purchase_info.availability.is_purchase_permitted(line.quantity)
        if not allowed:
            raise Refused(
                _("“%(title)s”不能购买：%(reason)s")
                % {"title": line.product.get_title(), "reason": message}
            )
    return basket


def _address(model, fields: dict | None):
    return model(**fields) if fields else None


def _shipping_method(basket, user, address, code: str):
    for method in Repository().get_shipping_methods(
        basket=basket, user=user, shipping_addr=address, request=None
    ):
        if method.code == code:
            return method
    raise Refused(_("所选配送方式已不能送到这个地址，订单未能生成。"))


def event_type(code: str):
    found, _created = PaymentEventType.objects.get_or_create(
        code=code, defaults={"name": EVENT_TYPES[code]}
    )
    return found


def _payment_event(order, code: str, amount, reference: str) -> None:
    event = PaymentEvent.objects.create(
        order=order, event_type=event_type(code), amount=amount, reference=reference
    )
    PaymentEventQuantity.objects.bulk_create(
        PaymentEventQuantity(event=event, line=line, quantity=line.quantity)
        for line in order.lines.all()
    )


def _source_type(method: methods.PaymentMethod):
    with translation.override(settings.LANGUAGE_CODE):
        name = str(method.label)
    found, _created = SourceType.objects.get_or_create(
        code=method.source_code, defaults={"name": name}
    )
    return found


def place_order(payment: StripePayment, intent):
    """Place the payment's order from its snapshot (call inside a
    transaction, with ``payment`` locked). Raises Refused when it cannot be
    placed, StripeUnavailable when a card could not be captured."""
    snap = payment.checkout
    if Order.objects.filter(number=payment.order_number).exists():
        # The number was reserved for this payment, and an order is placed
        # with the payment marked placed in one transaction: this cannot
        # happen. Refunding could give back money for a real order, so stop
        # and let staff look.
        raise RuntimeError(f"order {payment.order_number} exists but payment is not placed")
    user = _user(snap)
    basket = _basket(payment, user)
    shipping_address = _address(ShippingAddress, snap.get("shipping_address"))
    billing_address = _address(BillingAddress, snap.get("billing_address"))
    method = _shipping_method(basket, user, shipping_address, snap.get("shipping_method_code"))
    shipping_charge = method.calculate(basket)
    surcharges = SurchargeApplicator(None, {}).get_applicable_surcharges(
        basket, shipping_charge=shipping_charge
    )
    total = OrderTotalCalculator().calculate(basket, shipping_charge, surcharges=surcharges)
    total_fen = ledger.to_fen(total.incl_tax)
    paid = int(field(intent, "amount", default=payment.amount))
    if total_fen != payment.amount or paid != payment.amount:
        raise Refused(
            _("订单金额已变为 ¥%(now)s，与付款金额 ¥%(paid)s 不符，订单未能生成。")
            % {"now": total.incl_tax, "paid": ledger.from_fen(payment.amount)}
        )
    online = methods.ONLINE_METHODS[payment.method]
    placer = _Placer()
    source = Source(
        source_type=_source_type(online),
        currency=total.currency,
        amount_allocated=total.incl_tax,
        reference=payment.intent_id,
    )
    placer.add_payment_source(source)
    order_kwargs = {}
    if not user.is_authenticated and snap.get("guest_email"):
        order_kwargs["guest_email"] = snap["guest_email"]
    try:
        order = placer.place_order(
            order_number=payment.order_number,
            user=user,
            basket=basket,
            shipping_address=shipping_address,
            shipping_method=method,
            shipping_charge=shipping_charge,
            order_total=total,
            billing_address=billing_address,
            surcharges=surcharges,
            **order_kwargs,
        )
        logistics_shipments.create_for_order(order)
    except logistics_shipments.Unshippable as exc:
        raise Refused(" ".join(str(m) for m in exc.messages)) from exc
    except UnableToPlaceOrder as exc:  # InsufficientStock among them
        raise Refused(str(exc)) from exc
    accounting.record_sale(order, by=order.user)
    if field(intent, "status") == "requires_capture":
        _payment_event(order, "authorised", total.incl_tax, payment.intent_id)
        intent = _capture(payment)
        apply_intent(payment, intent)
    source.debit(total.incl_tax, reference=payment.intent_id)
    _payment_event(order, "paid", total.incl_tax, payment.intent_id)
    basket.submit()
    payment.order = order
    payment.placement = Placement.PLACED
    payment.placement_error = ""
    payment.last_error = ""
    logger.info("Order #%s placed for payment %s", order.number, payment.intent_id)
    return order


def _capture(payment: StripePayment):
    """Capture an authorised card now that the stock is allocated."""
    client = stripe_client.client()
    try:
        return stripe_client.call(
            client.v1.payment_intents.capture,
            payment.intent_id,
            None,
            {"idempotency_key": f"wn-capture:{payment.intent_id}"},
        )
    except stripe.InvalidRequestError as exc:
        intent = stripe_client.call(client.v1.payment_intents.retrieve, payment.intent_id)
        if field(intent, "status") == "succeeded":
            # Captured already (by an earlier try whose order did not commit).
            return intent
        # The authorisation is gone (expired or released): no money to take.
        logger.warning("Payment %s: capture refused (%s)", payment.intent_id, exc)
        raise Refused(_("银行卡授权已失效，未能扣款，订单未能生成。")) from exc


# --- Refusing: giving the money back -------------------------------------


def _refuse(payment: StripePayment, intent, reason: str) -> None:
    """The order cannot be placed: record why, give the money back (or
    leave that to the periodic task if Stripe is unreachable), thaw the
    basket and tell the buyer."""
    logger.warning(
        "Order #%s not placed for payment %s: %s", payment.order_number, payment.intent_id, reason
    )
    payment.placement = Placement.REFUSED
    payment.placement_error = reason
    _give_back(payment, intent)
    thaw_basket(payment)
    _tell_buyer_refused(payment)


def _give_back_pending(payment: StripePayment) -> bool:
    return payment.placement == Placement.REFUSED and not payment.auto_refund_id


def _give_back(payment: StripePayment, intent) -> None:
    """Release an authorisation or refund a payment whose order was not
    placed; on a Stripe outage note it for the periodic task."""
    apply_intent(payment, intent)
    status = field(intent, "status")
    payment.last_error = ""
    try:
        if status == "requires_capture":
            _release(payment)
        elif status == "succeeded":
            _refund(payment)
        elif status == "canceled":
            payment.auto_refund_id = payment.intent_id
    except stripe_client.StripeUnavailable as exc:
        payment.last_error = _("退款时无法连接支付服务，稍后自动重试。") + f" ({exc.cause!r})"
        logger.warning("Payment %s: give-back postponed, Stripe unavailable", payment.intent_id)


def _release(payment: StripePayment) -> None:
    client = stripe_client.client()
    try:
        intent = stripe_client.call(
            client.v1.payment_intents.cancel,
            payment.intent_id,
            None,
            {"idempotency_key": f"wn-release:{payment.intent_id}"},
        )
    except stripe.InvalidRequestError:
        # Not cancellable any more (cancelled already, or captured).
        intent = stripe_client.call(client.v1.payment_intents.retrieve, payment.intent_id)
    apply_intent(payment, intent)
    if field(intent, "status") == "canceled":
        payment.auto_refund_id = payment.intent_id
    elif field(intent, "status") == "succeeded":
        _refund(payment)


def _refund(payment: StripePayment) -> None:
    """Refund in full what was received for an order not placed: in the
    ledger the money waits in suspense until Stripe has the refund."""
    if payment.amount_received <= 0:
        payment.amount_received = payment.amount
    accounting.record_unplaced_payment(payment)
    client = stripe_client.client()
    try:
        refund = stripe_client.call(
            client.v1.refunds.create,
            {
                "payment_intent": payment.intent_id,
                "reason": "requested_by_customer",
                "metadata": {"order_number": payment.order_number, "wangnong": "unplaced"},
            },
            {"idempotency_key": f"wn-unplaced-refund:{payment.intent_id}"},
        )
    except stripe.InvalidRequestError as exc:
        # Refunded already (our earlier try, after its idempotency key
        # expired), or Stripe will not refund (a dispute): staff must look.
        refund = _earlier_refund(client, payment)
        if refund is None:
            payment.last_error = _("自动退款被支付服务拒绝，请人工处理：") + str(
                getattr(exc, "user_message", None) or exc
            )
            logger.error("Payment %s: automatic refund refused: %s", payment.intent_id, exc)
            return
    accounting.record_unplaced_refund(payment, refund.id)
    payment.auto_refund_id = refund.id
    refunded = int(field(refund, "amount", default=0) or 0)
    payment.amount_refunded = max(payment.amount_refunded, refunded)


def _earlier_refund(client, payment: StripePayment):
    """Our automatic refund of ``payment`` if Stripe already has it."""
    listed = stripe_client.call(
        client.v1.refunds.list, {"payment_intent": payment.intent_id, "limit": 100}
    )
    for refund in field(listed, "data", default=[]):
        if field(refund, "metadata", "wangnong") == "unplaced" and field(refund, "status") in (
            "succeeded",
            "pending",
        ):
            return refund
    return None


def thaw_basket(payment: StripePayment) -> None:
    """Give the buyer their basket back (if it is still the frozen one)."""
    if payment.basket_id:
        Basket.objects.filter(pk=payment.basket_id, status=Basket.FROZEN).update(status=Basket.OPEN)


def buyer_email(payment: StripePayment) -> str:
    snap = payment.checkout or {}
    if snap.get("guest_email"):
        return snap["guest_email"]
    return getattr(payment.user, "email", "") or ""


def _tell_buyer_refused(payment: StripePayment) -> None:
    to = buyer_email(payment)
    if not to:
        return
    with translation.override(payment.checkout.get("language") or settings.LANGUAGE_CODE):
        amount = ledger.from_fen(payment.amount)
        if payment.capture_manual:
            money = _("银行卡上冻结的 ¥%(amount)s 已解除，不会扣款。") % {"amount": amount}
        else:
            money = _("您支付的 ¥%(amount)s 将原路退回，通常 1–5 个工作日到账。") % {
                "amount": amount
            }
        subject = _("订单 %(number)s 未能生成，款项已退回") % {"number": payment.order_number}
        body = "\n\n".join(
            [
                _("您好："),
                _("很抱歉，您的订单 %(number)s 未能生成：%(reason)s")
                % {"number": payment.order_number, "reason": payment.placement_error},
                money,
                _("购物车里的商品已为您保留，可以修改后重新下单。"),
                _("网农团队"),
            ]
        )
    email_later(to, subject, body)


def send_order_placed_email(
    order, payment: StripePayment | None = None, *, language: str | None = None
) -> None:
    """Oscar's order confirmation, after the order has committed, in the
    buyer's language (the payment's checkout snapshot, else ``language``).
    A failure is logged: the order stands either way."""
    language = (
        (payment.checkout.get("language") if payment else None)
        or language
        or settings.LANGUAGE_CODE
    )
    try:
        with translation.override(language):
            ctx = {"user": order.user, "order": order, "lines": order.lines.all()}
            try:
                if order.user_id:
                    ctx["status_path"] = reverse(
                        "customer:order", kwargs={"order_number": order.number}
                    )
                else:
                    ctx["status_path"] = reverse(
                        "customer:anon-order",
                        kwargs={"order_number": order.number, "hash": order.verification_hash()},
                    )
            except NoReverseMatch:
                pass
            OrderDispatcher(logger=logger).send_order_placed_email_for_user(order, ctx)
    except Exception:  # noqa: BLE001 - any mail failure; the order stands
        logger.exception("Order #%s: confirmation e-mail not sent", order.number)


# --- The periodic task ---------------------------------------------------


def pending() -> list[StripePayment]:
    """Payments that need another look: paid or authorised but not placed,
    refused but not yet refunded, and recent ones Stripe may have taken
    money for without us hearing (checked at most every few minutes)."""
    now = timezone.now()
    quiet = now - UNHEARD_QUIET
    return list(
        StripePayment.objects.filter(
            Q(placement=Placement.WAITING, status__in=[Status.AUTHORISED, Status.SUCCEEDED])
            | Q(placement=Placement.REFUSED, auto_refund_id="")
            | Q(
                placement=Placement.WAITING,
                status__in=[Status.CREATED, Status.PROCESSING, Status.FAILED],
                created_at__gte=now - UNHEARD_WINDOW,
                updated_at__lte=quiet,
            )
        ).order_by("updated_at")[:200]
    )


def complete_pending() -> int:
    """Retry every pending payment; one that fails is logged and left for
    the next run. Returns how many changed."""
    changed = 0
    for payment in pending():
        before = (payment.status, payment.placement, payment.auto_refund_id)
        try:
            after = complete(payment)
        except stripe_client.StripeUnavailable:
            logger.info("Payment %s: Stripe unavailable, next run", payment.intent_id)
            continue
        except Exception:  # noqa: BLE001 - one bad payment must not stop the rest
            logger.exception("Payment %s: completion failed", payment.intent_id)
            continue
        if (after.status, after.placement, after.auto_refund_id) != before:
            changed += 1
        else:
            # Checked: leave it alone for UNHEARD_QUIET.
            StripePayment.objects.filter(pk=payment.pk).update(updated_at=timezone.now())
    return changed
