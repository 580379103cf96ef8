"""The cooperative lifecycle: apply → verified → suspended (or rejected).

Views, the staff review queue, commands and tasks all change status through
these functions. Each change is one transaction: the cooperative's status,
its partner's ``is_selling`` flag (which hides or shows all its products at
once) and a StatusChange row saying who did it and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from cooperatives.models import Cooperative, ListingWithdrawal, Membership, StatusChange

if TYPE_CHECKING:
    from cooperatives.suspension import Outcome

Partner = get_model("partner", "Partner")
Status = Cooperative.Status

# Which transitions staff may make.
ALLOWED = {
    Status.APPLIED: {Status.VERIFIED, Status.REJECTED},
    Status.REJECTED: {Status.APPLIED},
    Status.VERIFIED: {Status.SUSPENDED},
    Status.SUSPENDED: {Status.VERIFIED},
}


def membership_for(user) -> Membership | None:
    """The user's membership of a cooperative, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = (
        Membership.objects.select_related("cooperative__partner")
        .annotate(
            # The portal's "平台下架" banner asks only when there is one
            # (report_tags.portal_withdrawals): no extra query per page.
            has_active_withdrawals=Exists(
                ListingWithdrawal.objects.filter(
                    cooperative=OuterRef("cooperative"), restored_at__isnull=True
                )
            )
        )
        .filter(user=user)
        .first()
    )
    if membership is not None:
        membership.cooperative.has_active_withdrawals = membership.has_active_withdrawals
    return membership


def change_status(
    cooperative: Cooperative, to_status: str, *, by=None, reason: str = ""
) -> Outcome | None:
    """Move ``cooperative`` to ``to_status``; raises ValidationError if that
    transition is not allowed or a reason is missing where one is needed.

    A suspension then handles what the cooperative still had to do, each
    order in its own transaction (cooperatives.suspension): its open
    reports are closed and its pending orders cancelled and refunded. That
    outcome is returned (None for other changes)."""
    _record_change(cooperative, to_status, by=by, reason=reason)
    if to_status == Status.SUSPENDED:
        from cooperatives import suspension

        return suspension.after_suspension(cooperative, by=by, reason=reason)
    return None


@transaction.atomic
def _record_change(cooperative: Cooperative, to_status: str, *, by=None, reason: str = "") -> None:
    coop = Cooperative.objects.select_for_update().get(pk=cooperative.pk)
    if to_status not in ALLOWED.get(coop.status, set()):
        raise ValidationError(
            _("不能从“%(from)s”改为“%(to)s”。")
            % {"from": coop.get_status_display(), "to": Status(to_status).label}
        )
    if to_status in (Status.REJECTED, Status.SUSPENDED) and not reason.strip():
        raise ValidationError(_("请填写原因，申请人或合作社会看到它。"))
    StatusChange.objects.create(
        cooperative=coop, from_status=coop.status, to_status=to_status, reason=reason, changed_by=by
    )
    coop.status = to_status
    coop.status_reason = reason
    coop.status_changed_at = timezone.now()
    coop.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    Partner.objects.filter(pk=coop.partner_id).update(is_selling=(to_status == Status.VERIFIED))
    cooperative.refresh_from_db()


def approve(cooperative: Cooperative, *, by=None) -> None:
    change_status(cooperative, Status.VERIFIED, by=by)


def reject(cooperative: Cooperative, *, by=None, reason: str) -> None:
    change_status(cooperative, Status.REJECTED, by=by, reason=reason)


def suspend(cooperative: Cooperative, *, by=None, reason: str) -> Outcome | None:
    return change_status(cooperative, Status.SUSPENDED, by=by, reason=reason)


def reinstate(cooperative: Cooperative, *, by=None, reason: str = "") -> None:
    change_status(cooperative, Status.VERIFIED, by=by, reason=reason)
