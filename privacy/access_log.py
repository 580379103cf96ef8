"""The log of full contact details shown to someone other than their owner.

Every view that shows a buyer's or resident's full phone or address to
someone else calls ``record`` once per page view with all the people on
the page: one ``bulk_create`` (one query) however many rows there are.
Station staff revealing a resident's phone also stays in the station's own
audit log (stations/audit.py, the record of acts on a resident's behalf);
this log is the one place that answers "who saw my contact details", for
staff (/dashboard/privacy/) and in the person's data export.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from privacy.models import ContactAccess

# What a row says was shown.
PHONE = "phone"
ADDRESS = "address"
NAME = "name"


@dataclass(frozen=True)
class Subject:
    """One person whose details were shown: a user, a resident, and the
    order it was about (any of them may be missing)."""

    user_id: int | None = None
    resident_id: int | None = None
    order_id: int | None = None


def subject_for_order(order) -> Subject:
    """The buyer of ``order`` (the resident's user for a station order)."""
    return Subject(user_id=order.user_id, order_id=order.pk)


def ip_hash(request) -> str:
    """A keyed hash of the client address: enough to tell two requests from
    the same place apart, not to recover the address."""
    if request is None:
        return ""
    from config.ratelimit import client_ip

    address = client_ip(request)
    if not address:
        return ""
    key = settings.SECRET_KEY.encode()
    return hashlib.blake2b(address.encode(), key=key[:64], digest_size=16).hexdigest()


def record(
    request,
    subjects: Iterable[Subject],
    *,
    fields: Iterable[str],
    view: str = "",
    purpose: str = "",
    viewer=None,
) -> list[ContactAccess]:
    """One row per distinct subject shown on this page view, in one query.
    ``view`` defaults to the resolved URL name of ``request``."""
    unique = list(dict.fromkeys(s for s in subjects if s.user_id or s.resident_id or s.order_id))
    if not unique:
        return []
    if viewer is None and request is not None:
        viewer = request.user if request.user.is_authenticated else None
    if not view and request is not None and getattr(request, "resolver_match", None):
        view = request.resolver_match.view_name or ""
    view_id = uuid.uuid4()
    digest = ip_hash(request)
    field_list = list(dict.fromkeys(fields))
    return ContactAccess.objects.bulk_create(
        [
            ContactAccess(
                viewer=viewer,
                subject_user_id=s.user_id,
                resident_id=s.resident_id,
                order_id=s.order_id,
                fields=field_list,
                view=view[:100],
                purpose=purpose[:100],
                view_id=view_id,
                ip_hash=digest,
            )
            for s in unique
        ]
    )


def entries_about(user) -> QuerySet:
    """Every access to ``user``'s details: as a user, as a resident (if the
    user is one), and on their orders."""
    condition = Q(subject_user=user) | Q(order__user=user)
    resident_id = _resident_id(user)
    if resident_id:
        condition |= Q(resident_id=resident_id)
    return (
        ContactAccess.objects.filter(condition)
        .exclude(viewer=user)
        .select_related("viewer", "order")
        .order_by("-at", "-pk")
    )


def _resident_id(user) -> int | None:
    from stations.models import Resident

    return Resident.objects.filter(user=user).values_list("pk", flat=True).first()
