"""How many of Tianjin's administrative villages a station serves.

The programme's goal is a service station in 80 % of Tianjin's
administrative villages (村委会, see ``Division.is_administrative_village``;
urban communities, 居委会, do not count). A village counts as covered while
at least one ACTIVE station serves it; a suspended station does not cover
its village. Counted in the database (one query each), not by looping over
the 5,000-odd village-level divisions; the staff dashboard and the CMS
statistics both read these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr

from divisions.models import ADMINISTRATIVE_VILLAGE_SUFFIXES, Division
from stations.models import Station

TIANJIN = "12"
# Share of administrative villages the programme means to cover, in percent.
TARGET_PERCENT = Decimal("80")


def administrative_villages(prefix: str = TIANJIN) -> QuerySet:
    """Administrative villages (村委会) whose code starts with ``prefix``: the
    names ``Division.is_administrative_village`` recognises, as a query."""
    named = Q()
    for suffix in ADMINISTRATIVE_VILLAGE_SUFFIXES:
        named |= Q(name__endswith=suffix)
    return Division.objects.filter(named, level=Division.Level.VILLAGE, code__startswith=prefix)


def _has_active_station() -> Exists:
    return Exists(Station.objects.filter(village_id=OuterRef("code"), status=Station.Status.ACTIVE))


@dataclass(frozen=True)
class Coverage:
    covered: int
    total: int
    target_percent: Decimal = TARGET_PERCENT

    @property
    def percent(self) -> Decimal:
        """Covered share in percent, one decimal place."""
        if not self.total:
            return Decimal("0.0")
        share = Decimal(self.covered) * 100 / Decimal(self.total)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def target_villages(self) -> int:
        """Villages that must be covered to meet the target."""
        return math.ceil(self.total * self.target_percent / 100)

    @property
    def meets_target(self) -> bool:
        return self.total > 0 and self.covered >= self.target_villages

    @property
    def still_needed(self) -> int:
        return max(0, self.target_villages - self.covered)

    @property
    def progress_percent(self) -> Decimal:
        """How far along the way to the target, in percent (at most 100)."""
        if not self.target_villages:
            return Decimal("100")
        done = Decimal(self.covered) * 100 / Decimal(self.target_villages)
        return min(Decimal("100"), done.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def coverage(prefix: str = TIANJIN) -> Coverage:
    """Administrative villages under ``prefix`` (Tianjin by default, or a
    district's or town's code) with an active station, and in all."""
    counts = administrative_villages(prefix).aggregate(
        total=Count("code"), covered=Count("code", filter=Q(_has_active_station()))
    )
    return Coverage(covered=counts["covered"], total=counts["total"])


@dataclass(frozen=True)
class DistrictCoverage:
    code: str
    name: str
    coverage: Coverage


def coverage_by_district(prefix: str = TIANJIN) -> list[DistrictCoverage]:
    """Coverage per district (区) under ``prefix``, in code order; districts
    without administrative villages are left out."""
    rows = list(
        administrative_villages(prefix)
        .annotate(district=Substr("code", 1, 6))
        .values("district")
        .annotate(total=Count("code"), covered=Count("code", filter=Q(_has_active_station())))
        .order_by("district")
    )
    names = dict(
        Division.objects.filter(code__in=[r["district"] for r in rows]).values_list("code", "name")
    )
    return [
        DistrictCoverage(
            code=r["district"],
            name=names.get(r["district"], r["district"]),
            coverage=Coverage(covered=r["covered"], total=r["total"]),
        )
        for r in rows
    ]
