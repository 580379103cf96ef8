"""Refunds: the one place their rules live.

Staff refund any lines (and the shipping charge) of an order; a
cooperative refunds its own lines only, without shipping, up to
``WANGNONG_COOP_REFUND_LIMIT`` yuan per order. Whatever is refunded, the
money goes back the way it came (``Refund.via``):

* paid online through Stripe → a Stripe refund (idempotency key
  ``refund:<token>``, amount in fen) on the order's PaymentIntent;
* cash on delivery not collected yet → nothing is paid back, the buyer
  simply owes less (``uncollected``: the receivable shrinks);
* cash on delivery already collected, or cash at a village station →
  cash handed back (a station's cash comes out of its drawer).

Everything a refund changes is written in one transaction: the Refund and
its RefundLines, the ledger entry (``accounting.record_refund``), Oscar's
payment source and payment event, and the line and order statuses (a line
refunded in full before it is handed to the carrier is cancelled and its
stock released; after hand-over it is marked refunded; the order follows).
If Stripe cannot be reached or refuses, nothing is recorded.

Two refunds of one order serialise on the order row (``select_for_update``),
so what one refunded is no longer refundable for the other. The form's
``token`` makes a double submission one refund, here and at Stripe.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from cooperatives import fulfilment
from cooperatives.models import FulfilmentEvent
from shop.payment import accounting, ledger, stripe_client
from shop.payment.ledger import LedgerError, from_fen, to_fen
from shop.payment.models import Refund, RefundLine, StripePayment

Order = get_model("order", "Order")
Line = get_model("order", "Line")
PaymentEvent = get_model("order", "PaymentEvent")
OrderNote = get_model("order", "OrderNote")
PaymentEventType = get_model("order", "PaymentEventType")
PaymentEventQuantity = get_model("order", "PaymentEventQuantity")
Transaction = get_model("payment", "Transaction")

Via = Refund.Via
# Refunds that count against what is still refundable.
COUNTED = (Refund.Status.SUCCEEDED, Refund.Status.PENDING)
# Line statuses before the goods are with the carrier: a line refunded in
# full then is cancelled; after, it is marked refunded.
BEFORE_HANDOVER = (fulfilment.PENDING, fulfilment.ACCEPTED, fulfilment.PACKED)
AFTER_HANDOVER = (fulfilment.SHIPPED, fulfilment.DELIVERED)
REFUNDED = fulfilment.REFUNDED
CANCELLED = fulfilment.CANCELLED
EVENT_CODE = "refunded"
# ValidationError codes: Stripe refused (nothing refunded there, a new
# token may be used) or could not be reached (the same token must be used
# again, Stripe may have done it).
STRIPE_REFUSED = "stripe_refused"
STRIPE_UNAVAILABLE = "stripe_unavailable"


def yuan(fen: int) -> str:
    """fen as "12.30" for messages."""
    return f"{from_fen(fen)}"


def parse_yuan(value) -> int:
    """What someone typed as a yuan amount ("12.3", "¥12.30", "１２元",
    empty for none) → fen. Fractions of a fen, negatives and anything that
    is not a number are refused with a message."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    text = text.replace("¥", "").replace("元", "").replace(",", "").strip()
    if not text:
        return 0
    try:
        fen = to_fen(text)
    except LedgerError:
        raise ValidationError(_("请输入正确的金额（元），最多两位小数，精确到分。")) from None
    if fen < 0:
        raise ValidationError(_("金额不能为负数。"))
    return fen


# -- what is refundable ------------------------------------------------------------


@dataclass
class Refundable:
    """Per line (by id): what was paid, what is refunded or being refunded,
    what is left; the same for the shipping charge. All in fen."""

    paid: dict[int, int] = field(default_factory=dict)
    refunded: dict[int, int] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)
    shipping_paid: int = 0
    shipping_refunded: int = 0
    shipping: int = 0

    @property
    def total(self) -> int:
        return sum(self.lines.values()) + self.shipping


def refundable(order) -> Refundable:
    """What can still be refunded on ``order``: each line's price (in fen)
    less its succeeded and pending refunds, and the shipping charge less
    the shipping refunded."""
    result = Refundable()
    done = dict(
        RefundLine.objects.filter(line__order=order, refund__status__in=COUNTED)
        .values_list("line_id")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    for line_id, price in order.lines.values_list("pk", "line_price_incl_tax").order_by("pk"):
        paid = to_fen(price)
        result.paid[line_id] = paid
        result.refunded[line_id] = done.get(line_id, 0)
        result.lines[line_id] = max(paid - result.refunded[line_id], 0)
    result.shipping_paid = to_fen(order.shipping_incl_tax)
    result.shipping_refunded = (
        Refund.objects.filter(order=order, status__in=COUNTED).aggregate(s=Sum("shipping"))["s"]
        or 0
    )
    result.shipping = max(result.shipping_paid - result.shipping_refunded, 0)
    return result


def cooperative_refunded(order, partner) -> int:
    """What ``partner`` (a cooperative) has refunded on ``order`` itself, in fen."""
    return (
        Refund.objects.filter(order=order, partner=partner, status__in=COUNTED).aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )


def cooperative_limit() -> int:
    """The most a cooperative may refund on one order by itself, in fen."""
    return to_fen(settings.WANGNONG_COOP_REFUND_LIMIT)


def stripe_payment_of(order) -> StripePayment | None:
    return StripePayment.objects.filter(order=order).first()


def choose_via(order, amount: int) -> str:
    """How ``amount`` fen of ``order`` goes back: the way it was paid."""
    code = accounting.payment_account_code(order)
    if code == "provider:stripe":
        return Via.STRIPE
    if code == "receivable:cod":
        # Not collected yet while the order's receivable still covers it.
        due = accounting._order_balance("receivable:cod", order)
        return Via.UNCOLLECTED if due >= amount else Via.CASH
    return Via.CASH


# -- refunding ---------------------------------------------------------------------


def refund(
    order,
    *,
    lines: dict[int, int],
    shipping: int = 0,
    reason: str,
    by,
    token: uuid.UUID,
    partner=None,
) -> Refund:
    """Refund ``lines`` ({line id: fen}) and ``shipping`` fen of ``order``
    (for ``partner``, a cooperative refunding its own lines). Returns the
    Refund (the first one again for a ``token`` already used); raises
    ValidationError, keyed ``line_<id>``, ``shipping`` or ``reason`` where
    it can, and records nothing, when it cannot."""
    from stations.cash import record_refund as drawer_refund
    from stations.models import Station, StationOrder

    existing = _by_token(token, order)
    if existing is not None:
        return existing
    station_order = StationOrder.objects.filter(order_id=order.pk).first()
    with transaction.atomic():
        if station_order is not None:
            # The station row first, as the station's own cash writes and
            # its cancellation lock it, so the two never deadlock.
            Station.objects.select_for_update().filter(pk=station_order.station_id).first()
        locked = Order.objects.select_for_update().get(pk=order.pk)
        existing = _by_token(token, locked)
        if existing is not None:
            return existing
        was = locked.status
        done = refund_locked(
            locked,
            lines=lines,
            shipping=shipping,
            reason=reason,
            by=by,
            token=token,
            partner=partner,
            defer_stripe=True,
        )
        if station_order is not None and done.via == Via.CASH:
            # The resident gets the cash back at the station's counter.
            drawer_refund(station_order, by, from_fen(done.amount), note=done.reason)
        if locked.status == "cancelled" and was != "cancelled":
            if station_order is not None and not station_order.is_cancelled:
                from stations.ordering import mark_cancelled

                mark_cancelled(station_order, locked, by, done.reason)
            else:
                from logistics import shipments as logistics_shipments

                logistics_shipments.remove_lines(locked, by=by, reason=done.reason)
        if done.via == Via.STRIPE:
            send_to_stripe(done, _refundable_payment(locked))
    return done


def _by_token(token, order) -> Refund | None:
    found = Refund.objects.filter(token=token).first()
    if found is not None and found.order_id != order.pk:
        raise ValidationError(_("这张退款表单已经用过，请重新打开退款页面。"))
    return found


def refund_locked(
    order,
    *,
    lines: dict[int, int],
    shipping: int = 0,
    reason: str,
    by,
    token: uuid.UUID,
    partner=None,
    defer_stripe: bool = False,
) -> Refund:
    """``refund`` for a caller that already holds ``order``'s row lock in
    its transaction (stations.ordering.cancel_assisted_order). Writes the
    money, the ledger, Oscar's payment records and the statuses; the
    caller looks after anything else (a station's drawer, shipments). With
    ``defer_stripe`` a Stripe refund is left pending for the caller to
    finish with ``send_to_stripe`` as its own last step."""
    reason = " ".join((reason or "").split())
    wanted = {int(k): v for k, v in (lines or {}).items() if v}
    _check_amounts(wanted, shipping)
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("请填写退款原因。")]
    elif len(reason) > 300:
        errors["reason"] = [_("退款原因不能超过 300 字。")]
    order_lines = {
        line.pk: line
        for line in Line.objects.select_related("stockrecord", "partner").filter(order=order)
    }
    left = refundable(order)
    for line_id, fen in wanted.items():
        line = order_lines.get(line_id)
        key = f"line_{line_id}"
        if line is None:
            errors[key] = [_("这件商品不在这笔订单里。")]
        elif partner is not None and line.partner_id != partner.pk:
            errors[key] = [_("合作社只能给自己的商品退款。")]
        elif fen > left.lines[line_id]:
            errors[key] = [
                _("退款金额不能超过可退金额 ¥%(max)s。") % {"max": yuan(left.lines[line_id])}
            ]
    if shipping:
        if partner is not None:
            errors["shipping"] = [_("运费由平台退还，合作社不能退运费；请联系平台处理。")]
        elif shipping > left.shipping:
            errors["shipping"] = [
                _("退款金额不能超过可退金额 ¥%(max)s。") % {"max": yuan(left.shipping)}
            ]
    amount = sum(wanted.values()) + shipping
    if not errors and amount <= 0:
        errors["__all__"] = [_("请填写要退的金额，退款金额必须大于 0。")]
    if errors:
        raise ValidationError(errors)
    if partner is not None:
        done, limit = cooperative_refunded(order, partner), cooperative_limit()
        if done + amount > limit:
            raise ValidationError(
                _(
                    "超过合作社可自行退款的限额，请联系平台处理（每笔订单最多 ¥%(limit)s，"
                    "本社已退 ¥%(done)s）。"
                )
                % {"limit": yuan(limit), "done": yuan(done)}
            )

    try:
        via = choose_via(order, amount)
    except LedgerError:
        raise ValidationError(_("这笔订单没有可以退款的付款记录。")) from None
    payment = _refundable_payment(order) if via == Via.STRIPE else None

    # Everything of ours is written first, Stripe is asked last
    # (``send_to_stripe``): once the money has gone nothing is left to fail
    # but the commit, and a refusal or an outage rolls all of this back.
    record = Refund.objects.create(
        token=token,
        order=order,
        via=via,
        status=Refund.Status.PENDING if payment else Refund.Status.SUCCEEDED,
        amount=amount,
        shipping=shipping,
        reason=reason,
        requested_by=by,
        partner=partner,
        completed_at=None if payment else timezone.now(),
    )
    RefundLine.objects.bulk_create(
        RefundLine(refund=record, line_id=line_id, amount=fen)
        for line_id, fen in sorted(wanted.items())
    )
    accounting.record_refund(record, by=by)
    _record_oscar_payment(order, record, wanted, order_lines)
    _follow_statuses(
        order,
        [order_lines[i] for i, fen in sorted(wanted.items()) if fen == left.lines[i]],
        by,
    )
    if payment is not None and not defer_stripe:
        send_to_stripe(record, payment)
    return record


def send_to_stripe(record: Refund, payment: StripePayment) -> Refund:
    """The last step of a Stripe refund, inside its transaction: ask Stripe
    (idempotency key from the form's token), then put its refund id and
    status on the records already written."""
    status, refund_id = _refund_at_stripe(payment, record)
    record.status, record.stripe_refund_id = status, refund_id
    if status == Refund.Status.SUCCEEDED:
        record.completed_at = timezone.now()
    record.save(update_fields=["status", "stripe_refund_id", "completed_at"])
    placeholder = f"refund-{record.pk}"
    PaymentEvent.objects.filter(order_id=record.order_id, reference=placeholder).update(
        reference=refund_id
    )
    Transaction.objects.filter(source__order_id=record.order_id, reference=placeholder).update(
        reference=refund_id
    )
    return record


def _check_amounts(wanted: dict[int, int], shipping: int) -> None:
    for key, fen in [*((f"line_{k}", v) for k, v in wanted.items()), ("shipping", shipping)]:
        if not isinstance(fen, int) or isinstance(fen, bool):
            # Callers convert yuan with parse_yuan / to_fen first.
            raise ValidationError({key: [_("金额必须以分为单位的整数给出。")]})
        if fen < 0:
            raise ValidationError({key: [_("金额不能为负数。")]})


def _refundable_payment(order) -> StripePayment:
    """The order's online payment, locked for the rest of the transaction
    (Stripe's charge.refunded webhook for this refund, shop/payment/
    webhooks.py, locks it too, so it waits for our Refund to commit and
    knows it as ours), if it can be refunded; ValidationError if not."""
    payment = StripePayment.objects.select_for_update().filter(order=order).first()
    if payment is None:
        raise ValidationError(_("找不到这笔订单的在线付款记录，不能原路退款；请联系技术人员。"))
    if payment.status != StripePayment.Status.SUCCEEDED:
        raise ValidationError(_("这笔订单的在线付款尚未完成，不能退款。"))
    if payment.disputed:
        raise ValidationError(
            _("买家已对这笔付款提出争议（拒付），争议处理完之前不能退款；请在 Stripe 后台处理。")
        )
    return payment


def _refund_at_stripe(payment: StripePayment, record: Refund) -> tuple[str, str]:
    """Ask Stripe to give the refund's amount back on the PaymentIntent.
    Returns (our status, the Stripe refund id); raises ValidationError with
    a message for staff if Stripe cannot be reached or refuses."""
    params = {
        "payment_intent": payment.intent_id,
        "amount": record.amount,
        "reason": "requested_by_customer",
        "metadata": {"order_number": payment.order_number, "refund_token": str(record.token)},
    }
    try:
        made = stripe_client.call(
            stripe_client.client().v1.refunds.create,
            params,
            {"idempotency_key": f"refund:{record.token}"},
        )
    except stripe_client.StripeUnavailable:
        raise ValidationError(
            _("暂时无法连接 Stripe，退款没有完成，也没有记录。请稍后再提交一次（不会重复退款）。"),
            code=STRIPE_UNAVAILABLE,
        ) from None
    except stripe.IdempotencyError:
        raise ValidationError(
            _(
                "这张退款表单刚才以不同的金额提交过，Stripe 可能已按那次的金额退款。"
                "请按上次的金额再提交一次，之后如需再退，请重新打开退款页面。"
            ),
            code=STRIPE_UNAVAILABLE,
        ) from None
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
        raise ValidationError(
            _("Stripe 拒绝了这笔退款，退款没有记录：%(message)s") % {"message": message},
            code=STRIPE_REFUSED,
        ) from None
    if made.status in ("failed", "canceled"):
        raise ValidationError(
            _("Stripe 退款失败（%(status)s），退款没有记录。") % {"status": made.status},
            code=STRIPE_REFUSED,
        )
    if made.status == "succeeded":
        return Refund.Status.SUCCEEDED, made.id
    # pending / requires_action: the money has left the Stripe balance; the
    # webhook tells us when it reaches the buyer.
    return Refund.Status.PENDING, made.id


def _event_type():
    found = PaymentEventType.objects.filter(code=EVENT_CODE).first()
    if found is None:
        found, _created = PaymentEventType.objects.get_or_create(
            name="退款", defaults={"code": EVENT_CODE}
        )
    return found


def _record_oscar_payment(order, record: Refund, wanted: dict[int, int], order_lines) -> None:
    """Oscar's view of the refund: the payment source's refunded amount and
    a "refunded" payment event naming the lines (the quantity is the whole
    units the amount covers, at least one)."""
    reference = record.stripe_refund_id or f"refund-{record.pk}"
    source = order.sources.select_related("source_type").order_by("pk").first()
    if source is not None:
        source.refund(from_fen(record.amount), reference=reference)
    event = PaymentEvent.objects.create(
        order=order, amount=from_fen(record.amount), reference=reference, event_type=_event_type()
    )
    quantities = []
    for line_id, fen in sorted(wanted.items()):
        line = order_lines[line_id]
        gross = to_fen(line.line_price_incl_tax)
        units = line.quantity * fen // gross if gross else 0
        quantities.append(
            PaymentEventQuantity(event=event, line=line, quantity=max(1, min(units, line.quantity)))
        )
    PaymentEventQuantity.objects.bulk_create(quantities)


def _follow_statuses(order, full_lines: list, by) -> None:
    """Lines refunded in full: cancelled (stock released) before hand-over,
    refunded after. The order follows: cancelled when every line is,
    refunded when every line is refunded or cancelled, else as its lines
    go (cooperatives.fulfilment)."""
    for line in full_lines:
        if line.status in BEFORE_HANDOVER:
            target = CANCELLED
        elif line.status in AFTER_HANDOVER:
            target = REFUNDED
        else:
            continue
        before = line.status
        line.set_status(target)
        FulfilmentEvent.objects.create(
            line=line, from_status=before, to_status=target, changed_by=by
        )
        if target == CANCELLED and line.stockrecord is not None:
            line.stockrecord.cancel_allocation(line.quantity)
    statuses = set(order.lines.values_list("status", flat=True))
    if statuses == {CANCELLED}:
        if "cancelled" in order.available_statuses():
            order.set_status("cancelled")
    elif statuses <= {CANCELLED, REFUNDED}:
        if "refunded" in order.available_statuses():
            order.set_status("refunded")
    elif full_lines:
        fulfilment.follow_lines(order)


def refunds_of(order):
    """The order's refunds, newest first, with their lines."""
    return (
        Refund.objects.filter(order=order)
        .select_related("requested_by", "partner")
        .prefetch_related("lines__line")
    )


def stripe_refund_changed(payment: StripePayment, refund_obj) -> str:
    """Stripe says how one of our refunds ended (``refund.updated`` /
    ``refund.failed``): a pending refund that succeeded is marked so; one
    that failed or was cancelled is marked failed and its ledger entry
    reversed (the money is still with the platform, the amount refundable
    again), with a note on the order for staff to contact the buyer. The
    line and order statuses it changed are left for staff."""
    refund_id = str(refund_obj["id"])
    status = str(refund_obj["status"] if "status" in refund_obj else "")
    with transaction.atomic():
        record = (
            Refund.objects.select_for_update()
            .filter(stripe_refund_id=refund_id, order_id=payment.order_id)
            .first()
        )
        if record is None:
            return "refund not ours"
        if status == "succeeded" and record.status == Refund.Status.PENDING:
            record.status = Refund.Status.SUCCEEDED
            record.completed_at = timezone.now()
            record.save(update_fields=["status", "completed_at"])
            return "refund succeeded"
        if status in ("failed", "canceled") and record.status != Refund.Status.FAILED:
            reason = str(refund_obj["failure_reason"] if "failure_reason" in refund_obj else "")
            record.status = Refund.Status.FAILED
            record.error = (reason or status)[:1000]
            record.completed_at = timezone.now()
            record.save(update_fields=["status", "error", "completed_at"])
            entry = accounting.refund_entry(record)
            if entry is not None:
                ledger.reverse(entry, memo=f"Stripe 退款 {refund_id} 失败，冲回")
            amount = from_fen(record.amount)
            for source in record.order.sources.select_for_update().filter(
                reference=payment.intent_id
            ):
                source.amount_refunded = max(source.amount_refunded - amount, 0)
                source.save(update_fields=["amount_refunded"])
            OrderNote.objects.create(
                order=record.order,
                note_type=OrderNote.SYSTEM,
                message=(
                    f"Stripe 退款 {refund_id}（¥{amount}）未能退回买家（{reason or status}），"
                    "款项仍在平台。请联系买家，重新退款或换其他方式退还。"
                ),
            )
            return "refund failed"
    return f"refund {status}"
