"""The programme's public figures, district by district: computed by a
periodic task into a snapshot, read by the statistics page and its CSV.

Why snapshots: the figures join orders, villages, cooperatives and training
records; a public page must not run those joins per request, and it must say
"as of when". ``compute_snapshot`` aggregates in the database (a constant
number of GROUP BY queries on the 6-digit district prefix of division codes,
never a loop over orders or villages), then writes one StatsSnapshot with a
DistrictFigures row per district plus the city row (code "12") and marks it
complete, all in ONE transaction: a page reads only complete snapshots, so
it never shows a half-written one, and a computation that fails leaves none.

What each figure counts (the choices a reader of the open data needs):

* **villages / villages_with_station** — administrative villages (村委会) and
  those served by at least one ACTIVE station (stations/coverage.py; a
  suspended station covers nothing). The six central urban districts have no
  administrative villages: their rows say 0 of 0.
* **cooperatives_selling** — cooperatives selling online: VERIFIED, their
  partner ``is_selling``, and at least one *listed* product, i.e. a stock
  record of theirs on a public product (for a variant: the variant and its
  parent public). A product that is listed but sold out today still counts:
  the cooperative is on the platform, the shop shows it as out of stock.
  Counted in the district of the cooperative's division (town or village).
* **orders / sales, this month and this year** — calendar month and year in
  Asia/Shanghai (``month_start``/``year_start`` are stored on the snapshot),
  up to the moment the task started. An order line belongs to the district of
  the cooperative whose partner sells it; lines of partners without a
  cooperative (or with one outside Tianjin) are not counted. Lines that are
  cancelled or refunded in full (status ``cancelled``/``refunded``) and every
  line of a cancelled order are left out; partial refunds of a line that stays
  delivered are not subtracted. Sales are the lines' ``line_price_incl_tax``
  (goods, after discounts, without shipping) in fen. Orders are *distinct*
  orders with at least one counted line in the district, so an order from two
  districts' cooperatives counts once in each district and once in the city
  row (the city row is not the sum of the districts). Orders placed at a
  village station count like any other.
* **course_completions** — certificates issued, all time. A certificate
  counts in a district when its learner is a cooperative member (the
  cooperative's district) or, failing that, station staff (the station's
  village's district); anyone else (consumers, farmers without an account
  tie) counts in the city row only. So the city row may exceed the sum.
* **training_sessions / session_attendees** — offline sessions recorded by
  stations, all time up to today, in the district of the station's village.

Consistency while orders are being placed: the queries run at READ
COMMITTED, each seeing the orders committed when it starts; the upper time
bound (``now``) keeps an order placed during the computation out of every
figure, so month and year agree with each other.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from cms.models import Certificate, DistrictFigures, StatsSnapshot, TrainingSession
from cooperatives import fulfilment
from cooperatives.models import Cooperative
from divisions.models import Division
from stations.coverage import TIANJIN, Coverage, coverage_by_district

Line = get_model("order", "Line")
StockRecord = get_model("partner", "StockRecord")

CALENDAR_ZONE = ZoneInfo("Asia/Shanghai")
CITY_CODE = TIANJIN
DISTRICT_CODE_LENGTH = 6
# Complete snapshots kept (at one every 15 minutes: half a day of history).
KEEP_SNAPSHOTS = 48
# An incomplete snapshot older than this was abandoned (the task died).
ABANDONED_AFTER = dt.timedelta(hours=1)
# Line statuses whose goods were not sold in the end.
NOT_SOLD_LINE_STATUSES = (fulfilment.CANCELLED, fulfilment.REFUNDED)
CANCELLED_ORDER_STATUS = "cancelled"

COUNTERS = (
    "villages",
    "villages_with_station",
    "cooperatives_selling",
    "orders_month",
    "sales_month",
    "orders_year",
    "sales_year",
    "course_completions",
    "training_sessions",
    "session_attendees",
)


# --- Computing ------------------------------------------------------------------------


def period_starts(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The first day of ``now``'s month and year on the Shanghai calendar."""
    local = now.astimezone(CALENDAR_ZONE).date()
    return local.replace(day=1), local.replace(month=1, day=1)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=CALENDAR_ZONE)


def _district(path: str) -> Substr:
    return Substr(path, 1, DISTRICT_CODE_LENGTH)


def _fen(amount: Decimal | None) -> int:
    """Yuan (as the database sums them) to whole fen, rounded, not truncated
    (SQLite may hand back 132.6399999… for 132.64)."""
    return int(((amount or Decimal(0)) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def divisions() -> list[tuple[str, str]]:
    """The city and its districts (区) as (code, name), in code order (the
    city, "12", first)."""
    return list(
        Division.objects.filter(
            Q(code=CITY_CODE) | Q(level=Division.Level.COUNTY, code__startswith=CITY_CODE)
        )
        .order_by("code")
        .values_list("code", "name")
    )


def _listed_products() -> Exists:
    """A stock record of the cooperative's partner on a public product."""
    return Exists(
        StockRecord.objects.filter(partner_id=OuterRef("partner_id"), product__is_public=True)
        .filter(Q(product__parent__isnull=True) | Q(product__parent__is_public=True))
        .values("pk")
    )


def selling_cooperatives():
    """Verified Tianjin cooperatives selling online (see the module docstring)."""
    return Cooperative.objects.filter(
        status=Cooperative.Status.VERIFIED,
        partner__is_selling=True,
        division__code__startswith=CITY_CODE,
    ).filter(_listed_products())


def counted_lines(since: dt.datetime, until: dt.datetime):
    """Order lines sold by Tianjin cooperatives in [since, until]."""
    return (
        Line.objects.filter(
            order__date_placed__gte=since,
            order__date_placed__lte=until,
            partner__cooperative__division__code__startswith=CITY_CODE,
        )
        .exclude(status__in=NOT_SOLD_LINE_STATUSES)
        .exclude(order__status=CANCELLED_ORDER_STATUS)
    )


def _sales_aggregates(month_since: dt.datetime) -> dict:
    in_month = Q(order__date_placed__gte=month_since)
    return {
        "orders_year": Count("order_id", distinct=True),
        "sales_year": Sum("line_price_incl_tax"),
        "orders_month": Count("order_id", distinct=True, filter=in_month),
        "sales_month": Sum("line_price_incl_tax", filter=in_month),
    }


def _sales(figures: dict[str, dict], month_start: dt.date, year_start: dt.date, now) -> None:
    lines = counted_lines(_start_of(year_start), now)
    aggregates = _sales_aggregates(_start_of(month_start))
    grouped = (
        lines.annotate(district=_district("partner__cooperative__division_id"))
        .values("district")
        .annotate(**aggregates)
        .order_by()
    )
    city = lines.aggregate(**aggregates)
    for code, values in [*((r["district"], r) for r in grouped), (CITY_CODE, city)]:
        if code not in figures:
            continue  # a code that is not a district (bad data): city row only
        row = figures[code]
        row["orders_year"] = values["orders_year"] or 0
        row["orders_month"] = values["orders_month"] or 0
        row["sales_year"] = _fen(values["sales_year"])
        row["sales_month"] = _fen(values["sales_month"])


def _certificates(figures: dict[str, dict], now: dt.datetime) -> None:
    grouped = (
        Certificate.objects.filter(issued_at__lte=now)
        .annotate(
            district=Coalesce(
                _district("user__cooperative_membership__cooperative__division_id"),
                _district("user__station_staff__station__village_id"),
            )
        )
        .values("district")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in grouped:
        figures[CITY_CODE]["course_completions"] += r["n"]
        if r["district"] in figures and r["district"] != CITY_CODE:
            figures[r["district"]]["course_completions"] += r["n"]


def _sessions(figures: dict[str, dict], today: dt.date) -> None:
    grouped = (
        TrainingSession.objects.filter(held_on__lte=today)
        .annotate(district=_district("station__village_id"))
        .values("district")
        .annotate(n=Count("pk"), people=Sum("attendees"))
        .order_by()
    )
    for r in grouped:
        for code in (r["district"], CITY_CODE):
            if code in figures:
                figures[code]["training_sessions"] += r["n"]
                figures[code]["session_attendees"] += r["people"] or 0


def compute_figures(now: dt.datetime) -> list[dict]:
    """Every district's figures and the city's, as dicts of DistrictFigures
    fields (city row first), computed with a constant number of queries."""
    month_start, year_start = period_starts(now)
    figures: dict[str, dict] = {CITY_CODE: {"code": CITY_CODE, "name": "天津市"}}
    figures.update((code, {"code": code, "name": name}) for code, name in divisions())
    for row in figures.values():
        row.update(dict.fromkeys(COUNTERS, 0))
    city = figures[CITY_CODE]

    for d in coverage_by_district(CITY_CODE):
        if d.code in figures:
            figures[d.code]["villages"] = d.coverage.total
            figures[d.code]["villages_with_station"] = d.coverage.covered
        city["villages"] += d.coverage.total
        city["villages_with_station"] += d.coverage.covered

    coops = (
        selling_cooperatives()
        .annotate(district=_district("division_id"))
        .values("district")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in coops:
        city["cooperatives_selling"] += r["n"]
        if r["district"] in figures:
            figures[r["district"]]["cooperatives_selling"] += r["n"]

    _sales(figures, month_start, year_start, now)
    _certificates(figures, now)
    _sessions(figures, now.astimezone(CALENDAR_ZONE).date())
    return list(figures.values())


def compute_snapshot(now: dt.datetime | None = None) -> StatsSnapshot:
    """Compute the figures as of ``now`` (default: the current time) into a
    new complete snapshot, and drop old ones.

    The snapshot row is created first (complete=False, so a stuck or failed
    computation can be seen in the admin but never on the page); its rows,
    the ``complete`` flag and the pruning are then written in one
    transaction."""
    started = time.monotonic()
    now = now or timezone.now()
    month_start, year_start = period_starts(now)
    snapshot = StatsSnapshot.objects.create(
        started_at=timezone.now(), month_start=month_start, year_start=year_start
    )
    rows = compute_figures(now)
    with transaction.atomic():
        DistrictFigures.objects.bulk_create(
            DistrictFigures(snapshot=snapshot, **row) for row in rows
        )
        snapshot.computed_at = now
        snapshot.complete = True
        snapshot.duration_ms = round((time.monotonic() - started) * 1000)
        snapshot.save(update_fields=["computed_at", "complete", "duration_ms"])
        prune()
    return snapshot


def prune(keep: int | None = None) -> int:
    """Delete all but the ``keep`` (default KEEP_SNAPSHOTS) latest complete
    snapshots, and incomplete ones abandoned long ago. Returns how many
    snapshots went."""
    keep = KEEP_SNAPSHOTS if keep is None else keep
    old_complete = StatsSnapshot.objects.filter(complete=True).order_by("-computed_at", "-pk")[
        keep:
    ]
    stale = Q(pk__in=Subquery(old_complete.values("pk"))) | Q(
        complete=False, started_at__lt=timezone.now() - ABANDONED_AFTER
    )
    _total, deleted = StatsSnapshot.objects.filter(stale).delete()  # rows cascade
    return deleted.get(StatsSnapshot._meta.label, 0)


# --- Reading --------------------------------------------------------------------------

# The figures' columns, in the order the page's table and the CSV show them
# (the CSV adds the period starts and the "as of" time after these).
COLUMNS = [
    ("code", _("区划代码")),
    ("name", _("地区")),
    ("villages", _("行政村数")),
    ("villages_with_station", _("有服务站的行政村")),
    ("coverage_percent", _("覆盖率（%）")),
    ("cooperatives_selling", _("在线销售的认证合作社")),
    ("orders_month", _("本月订单")),
    ("sales_month", _("本月销售额（元）")),
    ("orders_year", _("本年订单")),
    ("sales_year", _("本年销售额（元）")),
    ("course_completions", _("培训结业（累计）")),
    ("training_sessions", _("线下培训场次（累计）")),
    ("session_attendees", _("线下培训人次（累计）")),
]
CSV_EXTRA_COLUMNS = [_("本月起始日"), _("本年起始日"), _("数据截至")]


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Row:
    """One district's (or the city's) figures as the page and CSV show them."""

    code: str
    name: str
    villages: int
    villages_with_station: int
    cooperatives_selling: int
    orders_month: int
    sales_month: Decimal  # yuan
    orders_year: int
    sales_year: Decimal  # yuan
    course_completions: int
    training_sessions: int
    session_attendees: int
    coverage: Coverage = field(compare=False)

    @classmethod
    def of(cls, figures: DistrictFigures) -> Row:
        return cls(
            code=figures.code,
            name=figures.name,
            villages=figures.villages,
            villages_with_station=figures.villages_with_station,
            cooperatives_selling=figures.cooperatives_selling,
            orders_month=figures.orders_month,
            sales_month=_yuan(figures.sales_month),
            orders_year=figures.orders_year,
            sales_year=_yuan(figures.sales_year),
            course_completions=figures.course_completions,
            training_sessions=figures.training_sessions,
            session_attendees=figures.session_attendees,
            coverage=Coverage(covered=figures.villages_with_station, total=figures.villages),
        )

    @property
    def has_villages(self) -> bool:
        return self.villages > 0

    @property
    def coverage_percent(self) -> Decimal | None:
        """Covered share in percent (one decimal), None without villages."""
        return self.coverage.percent if self.villages else None


@dataclass
class Figures:
    """The latest complete snapshot: the city row and the districts'."""

    snapshot: StatsSnapshot
    city: Row
    districts: list[Row]

    @property
    def as_of(self) -> dt.datetime:
        return self.snapshot.computed_at

    @property
    def cache_key(self) -> str:
        """Names this snapshot for caching what is drawn from it: the id
        and both times, so a database reset that reuses ids cannot hit the
        drawing of another snapshot."""
        s = self.snapshot
        return f"{s.pk}-{s.started_at.timestamp():.6f}-{s.computed_at.timestamp():.6f}"

    @property
    def target_percent(self) -> Decimal:
        return self.city.coverage.target_percent

    @property
    def rows(self) -> list[Row]:
        """The city row first, then the districts (the CSV's order)."""
        return [self.city, *self.districts]

    @property
    def column_labels(self) -> list[str]:
        return [label for _key, label in COLUMNS]

    def csv_rows(self) -> list[list[str]]:
        """The open-data table: a header row, then the city and each
        district, numbers without separators, sales in yuan with two
        decimals, coverage empty where a district has no villages."""
        as_of = self.as_of.astimezone(CALENDAR_ZONE).isoformat(timespec="seconds")
        month = self.snapshot.month_start.isoformat()
        year = self.snapshot.year_start.isoformat()
        table = [[str(label) for _key, label in COLUMNS] + [str(c) for c in CSV_EXTRA_COLUMNS]]
        for row in self.rows:
            cells = []
            for key, _label in COLUMNS:
                value = getattr(row, key)
                cells.append("" if value is None else str(value))
            table.append([*cells, month, year, as_of])
        return table

    @cached_property
    def coverage_progress_chart(self) -> SafeString:
        from cms.statistics_charts import coverage_progress_svg

        return coverage_progress_svg(self.city.coverage)

    @cached_property
    def coverage_chart(self) -> SafeString:
        from cms.statistics_charts import coverage_bars_svg

        return coverage_bars_svg(self.districts, self.target_percent)

    @cached_property
    def sales_chart(self) -> SafeString:
        from cms.statistics_charts import sales_bars_svg

        return sales_bars_svg(self.districts)

    @cached_property
    def district_tiles(self) -> SafeString:
        from cms.statistics_charts import district_tiles_svg

        return district_tiles_svg(self.districts, self.target_percent)


def latest() -> Figures | None:
    """The latest complete snapshot with its rows, in one query; None before
    the first computation has finished."""
    newest = (
        StatsSnapshot.objects.filter(complete=True).order_by("-computed_at", "-pk").values("pk")[:1]
    )
    rows = list(
        DistrictFigures.objects.filter(snapshot_id=Subquery(newest))
        .select_related("snapshot")
        .order_by("code")
    )
    if not rows:
        return None
    city = next((r for r in rows if r.code == CITY_CODE), None)
    if city is None:
        return None
    return Figures(
        snapshot=city.snapshot,
        city=Row.of(city),
        districts=[Row.of(r) for r in rows if r.code != CITY_CODE],
    )
