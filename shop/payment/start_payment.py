"""Starting an online payment at checkout, before any order exists.

Oscar takes payment and then places the order in the same request. With
Stripe the money arrives later (a QR code scanned, a redirect back from
Alipay, a webhook), so the preview's "place order" does not place it:
``start`` freezes the basket, reserves the order number, creates the
PaymentIntent and a StripePayment that keeps a snapshot of the checkout
(``checkout``), and shop/payment/complete_payment.py places the order from
that snapshot once Stripe says the money is there (or authorised, for cards,
which are captured only after the stock is allocated).

``abandon`` is the buyer's "pay another way": the PaymentIntent is
cancelled at Stripe (so it can no longer be paid) and the basket thawed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import stripe
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from shop.order.utils import OrderNumberGenerator
from shop.payment import ledger, stripe_client
from shop.payment.methods import PaymentMethod
from shop.payment.models import StripePayment

logger = logging.getLogger("wangnong.payment")

Basket = get_model("basket", "Basket")
ShippingAddress = get_model("order", "ShippingAddress")
BillingAddress = get_model("order", "BillingAddress")

# Stripe's payment method type per method code (the same strings).
MANUAL_CAPTURE_METHODS = {"card"}
SERVER_CONFIRMED_METHODS = {"alipay", "wechat_pay"}


class PaymentNotStarted(Exception):
    """The payment could not be started; ``str(exc)`` is for the buyer.
    Nothing was kept: no StripePayment row, the basket is open again."""


@dataclass(frozen=True)
class CheckoutSnapshot:
    """What placing the order needs later, without the request."""

    basket_id: int
    user_id: int | None
    guest_email: str
    shipping_address: dict | None
    billing_address: dict | None
    shipping_method_code: str
    total_fen: int
    shipping_fen: int
    currency: str
    language: str

    def as_json(self) -> dict:
        return dict(self.__dict__)


def address_fields(address) -> dict | None:
    """An unsaved Oscar address as JSON-safe field values (phone numbers as
    E.164 text), to rebuild it with ``Model(**fields)``."""
    if address is None:
        return None
    fields = {}
    for field in type(address)._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(address, field.attname)
        if value is not None and not isinstance(value, str | int | bool):
            value = str(value)
        fields[field.attname] = value
    # Oscar recomputes these on save.
    fields.pop("search_text", None)
    return fields


def snapshot(submission: dict, *, user, guest_email: str) -> CheckoutSnapshot:
    """The checkout as the buyer confirmed it on the preview."""
    shipping_charge = submission["shipping_charge"]
    total = submission["order_total"]
    method = submission["shipping_method"]
    return CheckoutSnapshot(
        basket_id=submission["basket"].pk,
        user_id=user.pk if user.is_authenticated else None,
        guest_email=guest_email or "",
        shipping_address=address_fields(submission["shipping_address"]),
        billing_address=address_fields(submission.get("billing_address")),
        shipping_method_code=method.code,
        total_fen=ledger.to_fen(total.incl_tax),
        shipping_fen=ledger.to_fen(shipping_charge.incl_tax),
        currency=total.currency,
        language=translation.get_language() or "",
    )


def intent_params(
    *, method: str, amount: int, order_number: str, basket_id: int, return_url: str
) -> dict:
    """The PaymentIntent for one checkout: int fen in CNY, one method;
    cards are authorised only (captured after the stock is allocated),
    Alipay and WeChat Pay are confirmed here so Stripe hands back the
    redirect or the QR code."""
    params: dict = {
        "amount": amount,
        "currency": "cny",
        "payment_method_types": [method],
        "capture_method": "manual" if method in MANUAL_CAPTURE_METHODS else "automatic",
        "description": f"网农订单 {order_number}",
        "metadata": {"order_number": order_number, "basket_id": str(basket_id)},
    }
    if method in SERVER_CONFIRMED_METHODS:
        params["confirm"] = True
        params["payment_method_data"] = {"type": method}
        params["return_url"] = return_url
        if method == "wechat_pay":
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
    return params


def idempotency_key(basket_id: int, order_number: str, amount: int) -> str:
    """One PaymentIntent per basket, order number and amount: a retried
    request (stripe-python's own retries, a double submission that got this
    far) gets the same intent back."""
    return f"wn-pi:{basket_id}:{order_number}:{amount}"


def start(
    *,
    basket,
    user,
    method: PaymentMethod,
    submission: dict,
    guest_email: str = "",
    return_url: Callable[[uuid.UUID], str],
    order_number: str | None = None,
) -> StripePayment:
    """Freeze ``basket``, reserve an order number and create the
    PaymentIntent and its StripePayment. ``return_url(token)`` is the
    absolute URL Stripe sends the buyer back to.

    Raises PaymentNotStarted (with a message for the buyer) when Stripe
    cannot be reached or refuses the request; the basket is then thawed and
    nothing is recorded.
    """
    if not method.is_online:
        raise ValueError(f"{method.code} is not an online method")
    try:
        snap = snapshot(submission, user=user, guest_email=guest_email)
    except ledger.LedgerError as exc:
        raise PaymentNotStarted(_("订单金额有误，请刷新后重试。")) from exc
    if snap.total_fen <= 0:
        raise PaymentNotStarted(_("订单金额为零，无需在线付款，请选择货到付款。"))
    number = order_number or OrderNumberGenerator().order_number(basket)
    token = uuid.uuid4()
    # Freeze only an open basket, in one statement: of two submissions of
    # the same preview (a double click) one starts the payment.
    if not Basket.objects.filter(pk=basket.pk, status=Basket.OPEN).update(status=Basket.FROZEN):
        raise PaymentNotStarted(_("这个购物车已经提交付款，请不要重复提交。"))
    basket.status = Basket.FROZEN
    try:
        intent = stripe_client.call(
            stripe_client.client().v1.payment_intents.create,
            intent_params(
                method=method.code,
                amount=snap.total_fen,
                order_number=number,
                basket_id=basket.pk,
                return_url=return_url(token),
            ),
            {"idempotency_key": idempotency_key(basket.pk, number, snap.total_fen)},
        )
        payment = StripePayment.objects.create(
            token=token,
            intent_id=intent.id,
            method=method.code,
            capture_manual=method.code in MANUAL_CAPTURE_METHODS,
            basket=basket,
            user=user if user.is_authenticated else None,
            order_number=number,
            amount=snap.total_fen,
            currency="cny",
            checkout=snap.as_json(),
        )
    except stripe_client.StripeUnavailable as exc:
        basket.thaw()
        raise PaymentNotStarted(str(exc)) from exc
    except stripe.StripeError as exc:
        logger.error(
            "Order #%s: Stripe refused the PaymentIntent (%s: %s)",
            number,
            type(exc).__name__,
            getattr(exc, "user_message", None) or exc,
        )
        basket.thaw()
        raise PaymentNotStarted(
            _("支付服务暂时无法受理这笔付款，请换一种付款方式或稍后再试。您的购物车已保留。")
        ) from exc
    except Exception:
        basket.thaw()
        raise
    logger.info("Order #%s: %s payment %s started", number, method.code, intent.id)
    return payment


def abandon(payment: StripePayment) -> StripePayment:
    """The buyer gives up this payment (to pay another way): cancel the
    PaymentIntent so it can no longer be paid, then thaw the basket.

    If it was paid meanwhile it cannot be cancelled: the payment is
    completed instead (the order placed, or refunded if it cannot be) and
    returned, so the caller shows that result. Raises StripeUnavailable when
    Stripe cannot be reached (nothing changes)."""
    from shop.payment import complete_payment

    with transaction.atomic():
        locked = StripePayment.objects.select_for_update().get(pk=payment.pk)
        if locked.placement != StripePayment.Placement.WAITING:
            return locked
        if locked.status == StripePayment.Status.CANCELED:
            complete_payment.thaw_basket(locked)
            return locked
        client = stripe_client.client()
        try:
            intent = stripe_client.call(
                client.v1.payment_intents.cancel,
                locked.intent_id,
                {"cancellation_reason": "abandoned"},
                {"idempotency_key": f"wn-cancel:{locked.intent_id}"},
            )
        except stripe.InvalidRequestError:
            # Not cancellable: paid, authorised, processing or already
            # cancelled. What it is decides what happens.
            intent = stripe_client.call(client.v1.payment_intents.retrieve, locked.intent_id)
        if intent.status != "canceled":
            return complete_payment.complete(locked, intent)
        complete_payment.apply_intent(locked, intent)
        complete_payment.thaw_basket(locked)
        locked.save()
    return locked
