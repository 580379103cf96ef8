"""Consumer complaints (消费者投诉): the one place their rules live.

A buyer opens a complaint on a line of their own placed order, within
``WANGNONG_COMPLAINT_WINDOW_DAYS`` of delivery (of the order, if the line
was never delivered), one unresolved complaint per line. The line's
cooperative has ``WANGNONG_COMPLAINT_DEADLINE_HOURS`` to answer — a reply,
an offer to send a replacement, or a refund within its own limits (through
``refunds.refund(partner=...)``). After an answer the buyer may escalate to
platform staff; a complaint still unanswered at its deadline is flagged
overdue and escalated by ``flag_overdue`` (periodic task
``cooperatives.flag_overdue_complaints``). Staff arbitrate: a refund from
the ledger (``refunds.refund(by=staff)``) or a rejection with a reason.
Every step writes a ComplaintEvent; the parties are told by e-mail after
the transaction commits.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.messaging import email_later
from config.uploads import validate_image
from cooperatives import fulfilment
from cooperatives.models import (
    Complaint,
    ComplaintEvent,
    ComplaintPhoto,
    Cooperative,
    FulfilmentEvent,
)
from shop.payment import refunds

Actor = ComplaintEvent.Actor
Action = ComplaintEvent.Action
Status = Complaint.Status
Resolution = Complaint.Resolution

MAX_PHOTOS = 4
# Order statuses that are not a placed order one may complain about.
NOT_PLACED = ("cancelled",)


def deadline_hours() -> int:
    return int(getattr(settings, "WANGNONG_COMPLAINT_DEADLINE_HOURS", 48))


def window_days() -> int:
    return int(getattr(settings, "WANGNONG_COMPLAINT_WINDOW_DAYS", 15))


def delivered_at(line) -> datetime | None:
    """When the line was delivered (its last move to 已送达), if it was."""
    event = (
        FulfilmentEvent.objects.filter(line=line, to_status=fulfilment.DELIVERED)
        .order_by("-changed_at")
        .first()
    )
    return event.changed_at if event else None


def window_ends(line) -> datetime:
    start = delivered_at(line) or line.order.date_placed
    return start + timedelta(days=window_days())


def open_complaint_of(line) -> Complaint | None:
    return Complaint.objects.filter(line=line).exclude(status=Status.RESOLVED).first()


def by_line(order) -> list[tuple]:
    """``[(line, its latest complaint or None)]`` for the buyer's order page:
    two queries however many lines."""
    latest: dict[int, Complaint] = {}
    for complaint in Complaint.objects.filter(order=order).order_by("-created_at", "-pk"):
        latest.setdefault(complaint.line_id, complaint)
    return [(line, latest.get(line.pk)) for line in order.lines.all()]


def can_complain(user, line) -> bool:
    return (
        user.is_authenticated
        and line.order.user_id == user.pk
        and line.order.status not in NOT_PLACED
        and timezone.now() <= window_ends(line)
        and open_complaint_of(line) is None
    )


def _event(complaint, actor, action, text="", by=None, at=None) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        complaint=complaint, actor=actor, action=action, text=text, by=by, at=at or timezone.now()
    )


def _tell_cooperative(complaint: Complaint, subject: str, body: str) -> None:
    emails = set(
        complaint.cooperative.memberships.filter(role="manager")
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    for address in sorted(emails):
        email_later(address, subject, body)


def _tell_buyer(complaint: Complaint, subject: str, body: str) -> None:
    if complaint.buyer.email:
        email_later(complaint.buyer.email, subject, body)


def open_complaint(
    user, line, *, kind: str, description: str, photos=(), now: datetime | None = None
) -> Complaint:
    """Open a complaint on ``line`` for ``user``. Raises ValidationError
    (keyed by field where it can) and records nothing when it cannot. The
    caller makes someone else's order a 404 before calling; here it is a
    refusal all the same."""
    now = now or timezone.now()
    order = line.order
    if not user.is_authenticated or order.user_id != user.pk:
        raise ValidationError(_("只能投诉自己的订单。"), code="not_buyer")
    if order.status in NOT_PLACED:
        raise ValidationError(_("订单已取消，不能投诉。"), code="not_placed")
    if now > window_ends(line):
        raise ValidationError(
            _("已超过投诉期限（收货后 %(days)s 天）。") % {"days": window_days()},
            code="window",
        )
    if kind not in Complaint.Kind.values:
        raise ValidationError({"kind": _("请选择投诉类型。")})
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("请写明遇到的问题。")})
    photos = [p for p in photos if p]
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS}})
    try:  # re-encoded: EXIF (the buyer's location) and appended payloads gone
        photos = [validate_image(photo) for photo in photos]
    except ValidationError as exc:
        raise ValidationError({"photos": exc.messages}) from exc
    cooperative = Cooperative.objects.filter(partner_id=line.partner_id).first()
    if cooperative is None:
        raise ValidationError(
            _("这件商品不是合作社销售的，请联系平台客服。"), code="no_cooperative"
        )
    if open_complaint_of(line) is not None:
        raise ValidationError(_("这件商品已有一个处理中的投诉。"), code="duplicate")
    try:
        with transaction.atomic():
            complaint = Complaint.objects.create(
                order=order,
                line=line,
                buyer=user,
                cooperative=cooperative,
                kind=kind,
                description=description,
                created_at=now,
                deadline=now + timedelta(hours=deadline_hours()),
            )
            for photo in photos:
                if hasattr(photo, "seek"):
                    photo.seek(0)
                ComplaintPhoto.objects.create(complaint=complaint, image=photo, uploaded_at=now)
            _event(complaint, Actor.BUYER, Action.OPENED, description, by=user, at=now)
    except IntegrityError as exc:
        raise ValidationError(_("这件商品已有一个处理中的投诉。"), code="duplicate") from exc
    _tell_cooperative(
        complaint,
        _("新的消费者投诉 #%(pk)s") % {"pk": complaint.pk},
        _("订单 %(number)s 的「%(title)s」收到投诉，请在 %(deadline)s 前答复。")
        % {
            "number": order.number,
            "title": line.title,
            "deadline": timezone.localtime(complaint.deadline).strftime("%Y-%m-%d %H:%M"),
        },
    )
    return complaint


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def _mark_answered(c: Complaint, now: datetime) -> None:
    if c.answered_at is None:
        c.answered_at = now
    if c.status == Status.OPEN:
        c.status = Status.ANSWERED


def cooperative_answer(
    complaint: Complaint,
    *,
    by,
    action: str,
    text: str,
    amount: int = 0,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Complaint:
    """The cooperative answers: ``action`` is "reply", "replacement" or
    "refund" (``amount`` fen of the complained line, within the
    cooperative's refund limit). Only while the complaint is open or
    answered (not once staff have it)."""
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("请写下给买家的答复。")})
    if action not in ("reply", "replacement", "refund"):
        raise ValidationError({"action": _("请选择答复方式。")})
    with transaction.atomic():
        c = _locked(complaint)
        if c.status not in (Status.OPEN, Status.ANSWERED):
            raise ValidationError(_("投诉已转平台处理或已解决，合作社不能再答复。"), code="closed")
        if action == "refund":
            if amount <= 0:
                raise ValidationError({"amount": _("请填写退款金额。")})
            done = refunds.refund(
                c.order,
                lines={c.line_id: amount},
                reason=text,
                by=by,
                token=token or uuid.uuid4(),
                partner=c.cooperative.partner,
            )
            c.refund = done
            c.resolution = Resolution.REFUND
            c.status = Status.RESOLVED
            c.resolved_at = now
            if c.answered_at is None:
                c.answered_at = now
            _event(
                c,
                Actor.COOPERATIVE,
                Action.REFUNDED,
                _("退款 ¥%(amount)s：%(text)s")
                % {"amount": refunds.yuan(done.amount), "text": text},
                by=by,
                at=now,
            )
        else:
            _mark_answered(c, now)
            c.resolution = Resolution.REPLACEMENT if action == "replacement" else Resolution.REPLY
            _event(
                c,
                Actor.COOPERATIVE,
                Action.REPLACEMENT if action == "replacement" else Action.REPLIED,
                text,
                by=by,
                at=now,
            )
        c.save()
    _tell_buyer(
        c,
        _("您的投诉 #%(pk)s 有了答复") % {"pk": c.pk},
        _("合作社答复：%(text)s") % {"text": text},
    )
    return c


def escalate(complaint: Complaint, *, by, text: str = "", now: datetime | None = None) -> Complaint:
    """The buyer asks platform staff to arbitrate (after an answer)."""
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint)
        if c.buyer_id != by.pk:
            raise ValidationError(_("只能处理自己的投诉。"), code="not_buyer")
        if c.status != Status.ANSWERED:
            raise ValidationError(_("合作社答复后才能申请平台介入。"), code="not_answered")
        c.status = Status.ESCALATED
        c.escalated_at = now
        c.save()
        _event(c, Actor.BUYER, Action.ESCALATED, (text or "").strip(), by=by, at=now)
    return c


def flag_overdue(now: datetime | None = None) -> int:
    """Complaints still unanswered at their deadline: overdue, and escalated
    to staff (an event by the system). Returns how many were flagged."""
    now = now or timezone.now()
    flagged = 0
    due = Complaint.objects.filter(
        status=Status.OPEN, answered_at__isnull=True, overdue_at__isnull=True, deadline__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            c = Complaint.objects.select_for_update().get(pk=pk)
            if c.status != Status.OPEN or c.overdue_at is not None:
                continue
            c.overdue_at = now
            c.status = Status.ESCALATED
            c.escalated_at = now
            c.save()
            _event(
                c,
                Actor.SYSTEM,
                Action.OVERDUE,
                _("合作社未在期限内答复，已转平台处理。"),
                at=now,
            )
        flagged += 1
    return flagged


def staff_refund(
    complaint: Complaint,
    *,
    by,
    amount: int,
    reason: str,
    token: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Staff refund ``amount`` fen of the complained line from the ledger."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请写明退款原因。")})
    if amount <= 0:
        raise ValidationError({"amount": _("请填写退款金额。")})
    with transaction.atomic():
        c = _locked(complaint)
        if c.status == Status.RESOLVED:
            raise ValidationError(_("投诉已解决。"), code="closed")
        done = refunds.refund(
            c.order, lines={c.line_id: amount}, reason=reason, by=by, token=token or uuid.uuid4()
        )
        c.refund = done
        c.resolution = Resolution.REFUND
        c.status = Status.RESOLVED
        c.resolved_at = now
        c.save()
        _event(
            c,
            Actor.STAFF,
            Action.REFUNDED,
            _("平台退款 ¥%(amount)s：%(reason)s")
            % {"amount": refunds.yuan(done.amount), "reason": reason},
            by=by,
            at=now,
        )
    _tell_buyer(
        c,
        _("您的投诉 #%(pk)s 已退款") % {"pk": c.pk},
        _("平台已退款 ¥%(amount)s。") % {"amount": refunds.yuan(done.amount)},
    )
    return c


def staff_reject(
    complaint: Complaint, *, by, reason: str, now: datetime | None = None
) -> Complaint:
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请写明驳回理由。")})
    with transaction.atomic():
        c = _locked(complaint)
        if c.status == Status.RESOLVED:
            raise ValidationError(_("投诉已解决。"), code="closed")
        c.resolution = Resolution.REJECTED
        c.status = Status.RESOLVED
        c.resolved_at = now
        c.save()
        _event(c, Actor.STAFF, Action.REJECTED, reason, by=by, at=now)
    _tell_buyer(c, _("您的投诉 #%(pk)s 已处理") % {"pk": c.pk}, reason)
    return c


def line_refundable(complaint: Complaint) -> int:
    """Fen of the complained line still refundable."""
    return refunds.refundable(complaint.order).lines.get(complaint.line_id, 0)


@dataclass(frozen=True)
class Record:
    count: int
    answered_in_time: float | None  # share 0..1, None without complaints
    median_response_hours: float | None


def cooperative_record(cooperative, now: datetime | None = None) -> Record:
    """The public figures: complaints in the last 12 months, the share the
    cooperative answered before its deadline, the median hours to answer."""
    now = now or timezone.now()
    recent = list(
        Complaint.objects.filter(
            cooperative=cooperative, created_at__gte=now - timedelta(days=365)
        ).values_list("created_at", "deadline", "answered_at")
    )
    if not recent:
        return Record(0, None, None)
    in_time = sum(1 for _c, d, a in recent if a is not None and a <= d)
    hours = [(a - c).total_seconds() / 3600 for c, _d, a in recent if a is not None]
    return Record(
        count=len(recent),
        answered_in_time=in_time / len(recent),
        median_response_hours=round(statistics.median(hours), 1) if hours else None,
    )
