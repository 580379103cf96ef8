"""The public credit record (信用记录) on a cooperative's page: the
platform's part of the credit system. Five queries whatever the history.

Definitions (the page labels them the same way):

* verification: the status now, and when it last became 已认证;
* complaints: ``complaints.cooperative_record`` (last 12 months: count,
  share answered before the deadline, median hours to answer);
* complaint rate: complaints opened in the last 12 months per 100 order
  lines of the cooperative delivered in the last 12 months (a line is
  one product of one order, whatever the quantity); none without
  deliveries;
* suspensions: every period the platform suspended it, with the date,
  the reason and, if it ended, when it was reinstated;
* withdrawn listings: listings the platform took down (平台下架), now and
  in the last 12 months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from cooperatives import complaints, fulfilment
from cooperatives.models import Cooperative, FulfilmentEvent, ListingWithdrawal, StatusChange

Status = Cooperative.Status
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Suspension:
    since: datetime
    reason: str
    until: datetime | None  # reinstated then; None while it lasts


@dataclass
class CreditRecord:
    status: str
    status_label: str
    verified_at: datetime | None
    complaints: complaints.Record
    delivered_lines: int
    complaint_rate: float | None  # per 100 delivered lines
    suspensions: list[Suspension] = field(default_factory=list)
    withdrawn_now: int = 0
    withdrawn_last_year: int = 0

    @property
    def is_suspended(self) -> bool:
        return self.status == Status.SUSPENDED


def credit_record(cooperative: Cooperative, now: datetime | None = None) -> CreditRecord:
    now = now or timezone.now()
    since = now - YEAR
    changes = list(
        StatusChange.objects.filter(cooperative=cooperative)
        .filter(
            Q(to_status__in=(Status.VERIFIED, Status.SUSPENDED)) | Q(from_status=Status.SUSPENDED)
        )
        .order_by("changed_at", "pk")
        .values_list("from_status", "to_status", "changed_at", "reason")
    )
    verified_at = None
    suspensions: list[Suspension] = []
    for from_status, to_status, at, reason in changes:
        if to_status == Status.VERIFIED:
            verified_at = at
        if to_status == Status.SUSPENDED:
            suspensions.append(Suspension(since=at, reason=reason, until=None))
        elif from_status == Status.SUSPENDED and suspensions and suspensions[-1].until is None:
            last = suspensions[-1]
            suspensions[-1] = Suspension(since=last.since, reason=last.reason, until=at)
    figures = complaints.cooperative_record(cooperative, now=now)
    delivered = (
        FulfilmentEvent.objects.filter(
            to_status=fulfilment.DELIVERED,
            changed_at__gte=since,
            changed_at__lte=now,
            line__partner_id=cooperative.partner_id,
        )
        .values("line_id")
        .distinct()
        .count()
    )
    withdrawn = ListingWithdrawal.objects.filter(cooperative=cooperative).aggregate(
        now=Count("pk", filter=Q(restored_at__isnull=True)),
        year=Count("pk", filter=Q(withdrawn_at__gte=since)),
    )
    return CreditRecord(
        status=cooperative.status,
        status_label=str(cooperative.get_status_display()),
        verified_at=verified_at,
        complaints=figures,
        delivered_lines=delivered,
        complaint_rate=round(figures.count * 100 / delivered, 1) if delivered else None,
        suspensions=list(reversed(suspensions)),
        withdrawn_now=withdrawn["now"] or 0,
        withdrawn_last_year=withdrawn["year"] or 0,
    )
