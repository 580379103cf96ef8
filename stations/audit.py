"""The audit log of what a station did on a resident's behalf.

Every service that acts for a resident calls ``record`` in the same
transaction as the act itself, so an act and its record commit or roll
back together. Nobody edits the log: the model and (on PostgreSQL) a
database trigger refuse updates and deletes; platform staff read it per
resident in the dashboard.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from stations.models import AuditEvent, Resident, Station

Action = AuditEvent.Action


def record(
    *,
    station: Station,
    actor,
    action: str,
    resident: Resident | None = None,
    order=None,
    **detail: Any,
) -> AuditEvent:
    """Write one audit event. ``detail`` values must be JSON-serialisable
    (amounts as strings)."""
    return AuditEvent.objects.create(
        station=station,
        resident=resident,
        actor=actor,
        action=action,
        order=order,
        detail={
            k: (str(v) if not isinstance(v, (int, bool, type(None), list)) else v)
            for k, v in detail.items()
        },
    )


def events_for_resident(resident: Resident) -> QuerySet:
    return AuditEvent.objects.filter(resident=resident).select_related("actor", "order", "station")


def events_for_station(station: Station) -> QuerySet:
    return AuditEvent.objects.filter(station=station).select_related("actor", "order", "resident")
