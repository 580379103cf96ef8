"""A cooperative fulfils its own lines of an order.

A consumer's basket may span several cooperatives, so the unit of work is
the order *line*, moved along Oscar's line pipeline
(``OSCAR_LINE_STATUS_PIPELINE`` in config/settings.py) with
``Line.set_status``:

    pending 待接单 → accepted 已接单 → packed 已打包 → shipped 已交寄
    (handed to the carrier) → delivered 已送达; cancelled 已取消;
    refunded 已退款 (refunded in full after hand-over, shop/payment/refunds.py)

Oscar records nothing about who changed a line, so each change also writes a
FulfilmentEvent. The order follows its lines: it becomes ``processing`` once
any line is accepted and ``shipped`` once every line that is not cancelled
has been handed over. Handing a line over consumes its stock allocation, as
Oscar's shipping events do.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from oscar.core.loading import get_model

from cooperatives.models import Cooperative, FulfilmentEvent
from shop.payment import accounting

Line = get_model("order", "Line")
Order = get_model("order", "Order")

# Line statuses (keys of OSCAR_LINE_STATUS_PIPELINE).
PENDING = "pending"
ACCEPTED = "accepted"
PACKED = "packed"
SHIPPED = "shipped"  # handed to the carrier
DELIVERED = "delivered"
CANCELLED = "cancelled"
REFUNDED = "refunded"  # refunded in full after hand-over (shop/payment/refunds.py)
# Lines that no longer count towards the order's progress.
SETTLED = {CANCELLED, REFUNDED}

# Order statuses (keys of OSCAR_ORDER_STATUS_PIPELINE).
ORDER_PENDING = "pending"
ORDER_PROCESSING = "processing"
ORDER_SHIPPED = "shipped"

STATUS_LABELS = {
    PENDING: gettext_lazy("待接单"),
    ACCEPTED: gettext_lazy("已接单"),
    PACKED: gettext_lazy("已打包"),
    SHIPPED: gettext_lazy("已交寄"),
    DELIVERED: gettext_lazy("已送达"),
    CANCELLED: gettext_lazy("已取消"),
    REFUNDED: gettext_lazy("已退款"),
}

# What a cooperative member may do in the portal: action → target status.
ACCEPT, PACK, HAND_OVER = "accept", "pack", "hand_over"
ACTIONS = {ACCEPT: ACCEPTED, PACK: PACKED, HAND_OVER: SHIPPED}
ACTION_LABELS = {
    ACCEPT: gettext_lazy("接单"),
    PACK: gettext_lazy("标记为已打包"),
    HAND_OVER: gettext_lazy("标记为已交寄"),
}


def status_label(status: str) -> str:
    """The Chinese label of a line status ("" for an empty status)."""
    if not status:
        return ""
    return str(STATUS_LABELS.get(status, status))


def next_actions(line) -> list[tuple[str, str]]:
    """``[(action, label)]`` the portal offers for ``line`` in its status."""
    allowed = set(line.available_statuses())
    return [(action, str(ACTION_LABELS[action])) for action, to in ACTIONS.items() if to in allowed]


@transaction.atomic
def advance(line, action: str, *, cooperative: Cooperative, by=None):
    """Apply ``action`` (accept, pack, hand_over) to ``line`` for
    ``cooperative``; returns the updated line.

    Raises PermissionDenied if the line is not the cooperative's and
    ValidationError (with a message for the member) if the action is unknown
    or not allowed from the line's current status.
    """
    to_status = ACTIONS.get(action)
    if to_status is None:
        raise ValidationError(_("未知的操作。"))
    # Lock the order first: two cooperatives handing over the last lines of
    # one order at the same time must not both miss (or both make) the move
    # to shipped.
    order = Order.objects.select_for_update().get(pk=line.order_id)
    locked = (
        Line.objects.select_for_update(of=("self",))
        .select_related("stockrecord")
        .filter(pk=line.pk, partner_id=cooperative.partner_id)
        .first()
    )
    if locked is None:
        raise PermissionDenied("not this cooperative's line")
    if to_status not in locked.available_statuses():
        raise ValidationError(
            _("“%(title)s”当前状态为“%(from)s”，不能改为“%(to)s”。")
            % {
                "title": locked.title,
                "from": status_label(locked.status) or _("无"),
                "to": status_label(to_status),
            }
        )
    from_status = locked.status
    locked.set_status(to_status)
    FulfilmentEvent.objects.create(
        line=locked, from_status=from_status, to_status=to_status, changed_by=by
    )
    if to_status == SHIPPED:
        _consume_allocation(locked)
    _follow_lines(order)
    return locked


def _consume_allocation(line) -> None:
    """The goods have left: take them out of stock and out of the allocation."""
    if line.stockrecord is None or not line.can_track_allocations:
        return
    if line.is_allocation_consumption_possible(line.quantity):
        line.consume_allocation(line.quantity)


def _follow_lines(order) -> None:
    """Move the order forward to match its lines (never backwards)."""
    statuses = set(order.lines.values_list("status", flat=True)) - SETTLED
    if not statuses:
        return
    if statuses <= {SHIPPED, DELIVERED}:
        target = ORDER_SHIPPED
    elif statuses & {ACCEPTED, PACKED, SHIPPED, DELIVERED}:
        target = ORDER_PROCESSING
    else:
        return
    if order.status == ORDER_PENDING:
        order.set_status(ORDER_PROCESSING)
    if target == ORDER_SHIPPED and order.status == ORDER_PROCESSING:
        order.set_status(ORDER_SHIPPED)


def history(line) -> list[FulfilmentEvent]:
    """The line's fulfilment events, oldest first, with who made them."""
    return list(line.fulfilment_events.select_related("changed_by"))


# What the carrier's tracking implies for a line, step by step along the
# pipeline: picked up means accepted, packed and handed over.
_TO_SHIPPED = {PENDING: ACCEPTED, ACCEPTED: PACKED, PACKED: SHIPPED}


@transaction.atomic
def carrier_picked_up(lines) -> None:
    """The carrier has the goods: lines not yet handed over are moved to
    "handed to the carrier" (recorded with no person: the carrier said so)."""
    _carrier_moves(lines, _TO_SHIPPED, SHIPPED)


@transaction.atomic
def carrier_delivered(lines, *, by=None) -> None:
    """The carrier delivered (or, with ``by``, a station's staff member
    handed the parcel to the resident): handed-over lines become delivered,
    with the event settlement counts the return window from."""
    _carrier_moves(lines, {SHIPPED: DELIVERED}, DELIVERED, by=by)


def _carrier_moves(lines, steps: dict[str, str], target: str, *, by=None) -> None:
    ids = sorted({line.pk for line in lines})
    if not ids:
        return
    order_ids = sorted(set(Line.objects.filter(pk__in=ids).values_list("order_id", flat=True)))
    orders = list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"))
    locked = (
        Line.objects.select_for_update(of=("self",))
        .select_related("stockrecord")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    for line in locked:
        while line.status in steps and line.status != target:
            from_status, to_status = line.status, steps[line.status]
            line.set_status(to_status)
            FulfilmentEvent.objects.create(
                line=line, from_status=from_status, to_status=to_status, changed_by=by
            )
            if to_status == SHIPPED:
                _consume_allocation(line)
    for order in orders:
        _follow_lines(order)
        if target == DELIVERED:
            _order_delivered(order)


def follow_lines(order) -> None:
    """The order follows its lines after one of them left the pipeline (a
    refund cancelled it or marked it refunded): shipped, or delivered (and
    cash on delivery collected) when the lines still going are."""
    _follow_lines(order)
    _order_delivered(order)


def _order_delivered(order) -> None:
    statuses = set(order.lines.values_list("status", flat=True)) - SETTLED
    if statuses == {DELIVERED} and order.status == ORDER_SHIPPED:
        order.set_status("delivered")
        # Cash on delivery: the courier (or the station) has the cash now.
        accounting.record_cod_collected(order)


# --- When lines were delivered (for settlement: shop/payment/settlement.py) ---------


def lines_delivered_before(moment):
    """A subquery of the ids of order lines delivered before ``moment``:
    the time of their FulfilmentEvent to "delivered", which stays when a
    refund later marks the line refunded. Settlement counts a cooperative's
    return window from it."""
    return FulfilmentEvent.objects.filter(to_status=DELIVERED, changed_at__lt=moment).values(
        "line_id"
    )


def delivered_at(line_ids) -> dict:
    """``{line id: when it was delivered}`` for those of ``line_ids`` that were
    (the first delivery event, if a line somehow has two)."""
    found: dict = {}
    events = FulfilmentEvent.objects.filter(line_id__in=list(line_ids), to_status=DELIVERED)
    for line_id, changed_at in events.order_by("changed_at", "pk").values_list(
        "line_id", "changed_at"
    ):
        found.setdefault(line_id, changed_at)
    return found
