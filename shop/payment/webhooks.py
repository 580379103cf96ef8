"""Stripe's webhook: ``POST /payments/stripe/webhook/``.

Only events signed with STRIPE_WEBHOOK_SECRET within the timestamp
tolerance are accepted (400 otherwise: unsigned, forged, stale, garbled).
Each accepted event's id is recorded (StripeEvent) in the same transaction
as its handling, so an event delivered again — or five copies at once — is
handled once: the unique id makes the copies wait for the first and then
find it recorded, and the payment's row lock (complete_payment) orders
different events of one payment. An event for a PaymentIntent we did not
create is acknowledged, logged and otherwise ignored (no row at all).

What each event does (a payment's status only ever moves forward):

=========================================  ===================================
payment_intent.succeeded /                 complete the payment: place the
amount_capturable_updated                  order (or refund if it cannot be)
payment_intent.processing / payment_failed  the status, forward only
/ canceled                                  (a cancelled one thaws the basket)
charge.refunded                             amount_refunded; a refund we did
                                            not make is flagged for staff
charge.dispute.created / updated / closed   disputed, dispute_status, a note
                                            on the order
=========================================  ===================================
"""

from __future__ import annotations

import datetime as dt
import logging

import stripe
from django import http
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oscar.core.loading import get_model

from shop.payment import complete_payment, ledger, refunds, stripe_client
from shop.payment.complete_payment import field
from shop.payment.models import Refund, StripeEvent, StripePayment

logger = logging.getLogger("wangnong.stripe.webhook")

OrderNote = get_model("order", "OrderNote")

INTENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.amount_capturable_updated",
    "payment_intent.processing",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
}
# How one refund ended (a pending Alipay/WeChat refund can fail later).
REFUND_EVENTS = {"refund.updated", "refund.failed", "charge.refund.updated"}
DISPUTE_EVENTS = {
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
}
DISPUTE_STATUS_LABELS = {
    "warning_needs_response": "预警，待回应",
    "warning_under_review": "预警，审核中",
    "warning_closed": "预警已结束",
    "needs_response": "待回应",
    "under_review": "审核中",
    "won": "已胜诉（款项退回平台）",
    "lost": "已败诉（款项退给买家）",
}


@csrf_exempt
@require_POST
def stripe_webhook(request) -> http.HttpResponse:
    try:
        event = stripe_client.construct_event(request.body, request.headers.get("Stripe-Signature"))
    except stripe.SignatureVerificationError as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return http.HttpResponseBadRequest("invalid signature")
    except ValueError:
        logger.warning("Stripe webhook refused: not a JSON event")
        return http.HttpResponseBadRequest("invalid payload")
    if not field(event, "id") or not field(event, "type"):
        return http.HttpResponseBadRequest("invalid event")
    try:
        result = handle(event)
    except stripe_client.StripeUnavailable:
        # Nothing was recorded: Stripe delivers the event again later.
        return http.HttpResponse("stripe unavailable, retry", status=503)
    return http.JsonResponse({"received": True, "result": result})


def intent_id_of(kind: str, obj) -> str:
    """The PaymentIntent an event is about ('' if none)."""
    if kind.startswith("payment_intent."):
        return str(field(obj, "id", default=""))
    value = field(obj, "payment_intent", default="")
    if not isinstance(value, str):  # expanded
        value = field(value, "id", default="")
    return value or ""


def handle(event) -> str:
    """Handle one verified event once; returns what was done (kept on the
    StripeEvent row, and in the response for Stripe's dashboard)."""
    kind = str(field(event, "type"))
    event_id = str(field(event, "id"))
    obj = field(event, "data", "object")
    intent_id = intent_id_of(kind, obj)
    payment = StripePayment.objects.filter(intent_id=intent_id).first() if intent_id else None
    if payment is None:
        logger.info("Stripe event %s (%s) for unknown intent %r ignored", event_id, kind, intent_id)
        return "unknown payment"
    created = int(field(event, "created", default=0) or 0)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event_id,
                    type=kind[:64],
                    intent_id=intent_id,
                    stripe_created=dt.datetime.fromtimestamp(created, tz=dt.UTC)
                    if created
                    else timezone.now(),
                )
        except IntegrityError:
            logger.info("Stripe event %s (%s) seen before: ignored", event_id, kind)
            return "duplicate"
        if kind in INTENT_EVENTS:
            after = complete_payment.complete(payment, obj)
            result = f"{after.status}/{after.placement}"
        elif kind == "charge.refunded":
            result = charge_refunded(payment, obj)
        elif kind in REFUND_EVENTS:
            result = refunds.stripe_refund_changed(payment, obj)
        elif kind in DISPUTE_EVENTS:
            result = dispute_changed(payment, kind, obj)
        else:
            result = "ignored"
        record.result = result[:200]
        record.save(update_fields=["result"])
    return result


def _our_refund(payment: StripePayment, refund, known: set[str], tokens: set[str]) -> bool:
    """Made by our code: a refund id we recorded, or the metadata our
    refunds carry (the automatic refund's marker, or a refund's form
    token)."""
    if field(refund, "id") in known:
        return True
    metadata = field(refund, "metadata") or {}
    if field(metadata, "wangnong") == "unplaced" and not payment.order_id:
        return True
    # (Our refunds commit before the webhook can read them: refunds.py holds
    # the payment's row lock until then.)
    token = field(metadata, "refund_token")
    return bool(token) and token in tokens


def charge_refunded(payment: StripePayment, charge) -> str:
    """Money went back to the buyer: record how much; a refund that none
    of our code made (Stripe's dashboard, say) is flagged for staff, not
    guessed into the ledger."""
    with transaction.atomic():
        locked = StripePayment.objects.select_for_update().get(pk=payment.pk)
        if not field(charge, "captured", default=True):
            # An authorisation released (card intent cancelled): no money moved.
            return "authorisation released"
        refunded = int(field(charge, "amount_refunded", default=0) or 0)
        if refunded > locked.amount_refunded:
            locked.amount_refunded = refunded
        ours = Refund.objects.filter(order_id=locked.order_id) if locked.order_id else None
        known = {locked.auto_refund_id} - {""}
        tokens: set[str] = set()
        expected = locked.amount_received if locked.auto_refund_id.startswith("re_") else 0
        if ours is not None:
            known |= set(
                ours.exclude(stripe_refund_id="").values_list("stripe_refund_id", flat=True)
            )
            tokens = {str(t) for t in ours.values_list("token", flat=True)}
            expected += (
                ours.filter(via=Refund.Via.STRIPE)
                .exclude(status=Refund.Status.FAILED)
                .aggregate(s=Sum("amount"))["s"]
                or 0
            )
        unknown = _unknown_refunds(locked, known, tokens)
        if unknown is None:  # Stripe unreachable: judge by the amounts
            stray = refunded > expected
            described = f"¥{ledger.from_fen(refunded - expected)}"
        else:
            stray = bool(unknown)
            described = "、".join(
                f"{field(r, 'id')} ¥{ledger.from_fen(int(field(r, 'amount', default=0)))}"
                for r in unknown
            )
        if stray:
            note = f"Stripe 上有一笔不是本系统发起的退款（{described}），请核对后在账上处理。"
            logger.error("Payment %s: refund not made by us: %s", locked.intent_id, described)
            if note not in locked.last_error:
                locked.last_error = (locked.last_error + "\n" + note).strip()
            _order_note(locked, note)
        locked.save()
    return "refund flagged" if stray else "refund recorded"


def _unknown_refunds(payment: StripePayment, known: set[str], tokens: set[str]) -> list | None:
    """The PaymentIntent's refunds none of our code made, or None when
    Stripe cannot be asked."""
    try:
        listed = stripe_client.call(
            stripe_client.client().v1.refunds.list,
            {"payment_intent": payment.intent_id, "limit": 100},
        )
    except stripe_client.StripeUnavailable:
        return None
    return [
        r for r in field(listed, "data", default=[]) if not _our_refund(payment, r, known, tokens)
    ]


def dispute_changed(payment: StripePayment, kind: str, dispute) -> str:
    """The buyer's bank disputes the payment (or decided): flag it and put
    a note on the order for staff."""
    status = str(field(dispute, "status", default=""))
    with transaction.atomic():
        locked = StripePayment.objects.select_for_update().get(pk=payment.pk)
        locked.disputed = True
        if status:
            locked.dispute_status = status[:32]
        locked.save(update_fields=["disputed", "dispute_status", "updated_at"])
        if kind in ("charge.dispute.created", "charge.dispute.closed"):
            amount = ledger.from_fen(int(field(dispute, "amount", default=0) or 0))
            label = DISPUTE_STATUS_LABELS.get(status, status)
            if kind == "charge.dispute.created":
                text = (
                    f"买家银行对付款提出争议（{field(dispute, 'reason', default='')}），"
                    f"金额 ¥{amount}，状态：{label}。Stripe 争议 {field(dispute, 'id')}。"
                )
            else:
                text = (
                    f"付款争议已结束：{label}。Stripe 争议 {field(dispute, 'id')}，金额 ¥{amount}。"
                )
            _order_note(locked, text)
    return f"dispute {status}"


def _order_note(payment: StripePayment, text: str) -> None:
    if payment.order_id:
        OrderNote.objects.create(
            order_id=payment.order_id, note_type=OrderNote.SYSTEM, message=text
        )
