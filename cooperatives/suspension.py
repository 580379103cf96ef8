"""What happens to a cooperative's pending work when it is suspended.

``cooperatives.services.change_status`` calls ``after_suspension`` once the
suspension has committed (so the dashboard's suspend button and the report
queue's both do it). Each order is handled in its own transaction, through
the existing paths only:

* an ordinary order: the cooperative's lines not yet handed to a carrier
  (pending, accepted, packed) are refunded in full through
  ``shop.payment.refunds.refund`` by the suspending staff member. That
  service cancels them and releases their stock, books the ledger, gives
  the money back the way it came (Stripe for online payments; cash on
  delivery not collected yet is simply no longer owed) and moves the order
  (cancelled when nothing else is left). The shipping charge goes back too:
  all of it when the order is cancelled, otherwise the charge of this
  cooperative's shipments of the order that no longer carry anything,
  which are cancelled (at the carrier too, through logistics).
* a station's assisted order whose lines are all this cooperative's and
  all cancellable: the station's own ``stations.ordering.cancel_assisted_order``
  (cash back from the drawer, parcels and commission follow).
* lines already with the carrier (shipped, delivered) continue to delivery;
  the buyer can still complain.

Not automated (too easy to get wrong without a person): a station order
that mixes cooperatives, a station order during a suspension without a
staff member (a command), and any order whose refund fails (Stripe down,
a dispute). They are returned in ``Outcome.left`` with the reason, shown to
staff and logged; nothing is half-done for them.

Buyers of handled orders are told by e-mail after commit.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from config.messaging import email_later
from cooperatives.models import Cooperative

logger = logging.getLogger(__name__)

Line = get_model("order", "Line")
Order = get_model("order", "Order")

BEFORE_HANDOVER = ("pending", "accepted", "packed")


@dataclass
class Outcome:
    cancelled: list[str] = field(default_factory=list)  # order numbers, lines cancelled
    station_cancelled: list[str] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)  # (order number, why)
    reports_closed: int = 0


def after_suspension(cooperative: Cooperative, *, by=None, reason: str = "") -> Outcome:
    from cooperatives import reports

    outcome = Outcome()
    outcome.reports_closed = reports.close_reports_of_cooperative(cooperative, by=by, note=reason)
    handle_pending_orders(cooperative, by=by, reason=reason, outcome=outcome)
    return outcome


def pending_lines(cooperative: Cooperative):
    """The cooperative's lines not yet handed to a carrier, of live orders."""
    return Line.objects.filter(
        partner_id=cooperative.partner_id, status__in=BEFORE_HANDOVER
    ).exclude(order__status="cancelled")


def handle_pending_orders(
    cooperative: Cooperative, *, by=None, reason: str = "", outcome: Outcome | None = None
) -> Outcome:
    from stations.models import StationOrder

    outcome = outcome or Outcome()
    by_order: dict[int, list[int]] = defaultdict(list)
    for order_id, line_id in pending_lines(cooperative).values_list("order_id", "pk"):
        by_order[order_id].append(line_id)
    if not by_order:
        return outcome
    orders = Order.objects.in_bulk(list(by_order))
    stations = {s.order_id: s for s in StationOrder.objects.filter(order_id__in=list(by_order))}
    note = _("合作社“%(name)s”已被暂停销售：%(reason)s") % {
        "name": cooperative.display_name,
        "reason": reason,
    }
    for order_id in sorted(by_order):
        order = orders[order_id]
        try:
            if order_id in stations:
                _station_order(stations[order_id], order, cooperative, by=by, note=note)
                outcome.station_cancelled.append(order.number)
            else:
                _ordinary_order(order, by_order[order_id], cooperative, by=by, note=note)
                outcome.cancelled.append(order.number)
        except _LeftForStaff as exc:
            outcome.left.append((order.number, str(exc)))
        except ValidationError as exc:
            logger.warning("Suspension of %s: order %s not refunded", cooperative.pk, order.number)
            outcome.left.append((order.number, " ".join(exc.messages)))
            continue
        except Exception:
            # A deadlock or an outage: this order's transaction rolled back
            # whole (Stripe is its last step); the others still go on.
            logger.exception("Suspension of %s: order %s failed", cooperative.pk, order.number)
            outcome.left.append((order.number, _("处理时出错，未做任何改动，请人工处理。")))
            continue
        else:
            _tell_buyer(order, cooperative, reason)
    if outcome.left:
        logger.warning(
            "Suspension of cooperative %s left orders for staff: %s", cooperative.pk, outcome.left
        )
    return outcome


class _LeftForStaff(Exception):
    pass


def _token(order, cooperative: Cooperative, line_ids) -> uuid.UUID:
    """The same lines of the same order give the same refund token, so a
    repeated run refunds nothing twice."""
    key = f"suspension:{cooperative.pk}:{order.pk}:{','.join(map(str, sorted(line_ids)))}"
    return uuid.uuid5(uuid.NAMESPACE_URL, key)


def _ordinary_order(order, line_ids: list[int], cooperative: Cooperative, *, by, note: str) -> None:
    """Refund and cancel ``line_ids`` of ``order`` in one transaction whose
    last step is Stripe: every lock is taken and every write of ours made
    first, so a failure (a deadlock, a refusal) rolls back before any money
    moves, and once Stripe has refunded only the commit is left."""
    from logistics import shipments as logistics_shipments
    from logistics.models import Shipment, ShipmentItem
    from shop.payment import refunds
    from shop.payment.ledger import to_fen

    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        # Again under the order's lock: a carrier may have picked some up
        # since the list was made; those go on to delivery.
        line_ids = list(
            Line.objects.select_for_update()
            .filter(pk__in=line_ids, status__in=BEFORE_HANDOVER)
            .values_list("pk", flat=True)
        )
        if not line_ids:
            return
        token = _token(locked, cooperative, line_ids)
        if refunds.Refund.objects.filter(token=token).exists():
            return  # a repeated run
        left = refunds.refundable(locked)
        lines = {pk: left.lines.get(pk, 0) for pk in line_ids}
        others_going = (
            locked.lines.exclude(pk__in=line_ids)
            .exclude(status__in=("cancelled", "refunded"))
            .exists()
        )
        # This cooperative's shipments of the order, locked before any money
        # moves; those that carry only these lines are emptied.
        mine = list(
            Shipment.objects.select_for_update()
            .filter(order=locked, partner_id=cooperative.partner_id)
            .exclude(status=Shipment.Status.CANCELLED)
        )
        items = defaultdict(set)
        for shipment_id, line_id in ShipmentItem.objects.filter(shipment__in=mine).values_list(
            "shipment_id", "line_id"
        ):
            items[shipment_id].add(line_id)
        emptied = [s for s in mine if items[s.pk] <= set(line_ids)]
        if others_going:
            shipping = min(sum(to_fen(s.charge) for s in emptied), left.shipping)
        else:
            shipping = left.shipping
        done = None
        if sum(lines.values()) + shipping > 0:
            done = refunds.refund_locked(
                locked,
                lines=lines,
                shipping=shipping,
                reason=note[:300],
                by=by,
                token=token,
                defer_stripe=True,
            )
        # Lines with nothing left to refund (refunded in part before and
        # the rest written off) are cancelled here, as the station path does.
        for line in Line.objects.select_related("stockrecord").filter(
            pk__in=line_ids, status__in=BEFORE_HANDOVER
        ):
            line.set_status("cancelled")
            if line.stockrecord is not None:
                line.stockrecord.cancel_allocation(line.quantity)
        locked.refresh_from_db()
        if locked.status == "cancelled":
            logistics_shipments.remove_lines(locked, by=by, reason=note)
        else:
            for shipment in emptied:
                logistics_shipments.cancel(shipment, by=by, reason=note)
        if done is not None and done.via == refunds.Via.STRIPE:
            refunds.send_to_stripe(done, refunds._refundable_payment(locked))


def _station_order(station_order, order, cooperative: Cooperative, *, by, note: str) -> None:
    from stations import ordering

    if station_order.is_cancelled:
        return
    if by is None:
        raise _LeftForStaff(_("服务站订单需要由平台工作人员取消。"))
    lines = list(order.lines.values_list("partner_id", "status"))
    if any(partner != cooperative.partner_id for partner, _s in lines):
        raise _LeftForStaff(_("服务站订单含其他合作社的商品，请人工处理。"))
    if any(status not in ordering.CANCELLABLE_LINE_STATUSES for _p, status in lines):
        raise _LeftForStaff(_("服务站订单已有商品发出，请人工处理。"))
    ordering.cancel_assisted_order(station_order, by, note)


def _tell_buyer(order, cooperative: Cooperative, reason: str) -> None:
    address = (order.user.email if order.user_id else "") or order.guest_email
    if not address:
        return
    email_later(
        address,
        _("订单 %(number)s 中的部分商品已取消") % {"number": order.number},
        _(
            "很抱歉，合作社“%(name)s”已被平台暂停销售，订单 %(number)s 中它尚未发出的商品已取消，"
            "货款已原路退回（货到付款的订单无需再付这部分款项）。已经发出的商品会照常送达。"
        )
        % {"name": cooperative.display_name, "number": order.number},
    )
