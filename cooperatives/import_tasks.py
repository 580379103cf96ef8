"""The Celery tasks that run a bulk product import (cooperatives.models.ImportJob).

How it stays safe when things go wrong:

- Rows are written in small batches. Each batch is one transaction that also
  advances the job's progress counters, and each row inside it is its own
  savepoint: a bad row is rolled back alone and reported, the good rows of
  the batch are kept. Because progress and rows commit together, a worker
  that dies mid-batch loses exactly that batch, and the re-delivered task
  (acks_late) resumes where the committed progress says.
- A large file is split into "lanes" that worker processes import side by
  side (``run_import`` runs lane 0 and queues ``run_import_lane`` for the
  others). The split is deterministic and keeps a product's variants (and
  any rows sharing a SKU) in one lane, in file order. Each lane's batches
  hold a PostgreSQL advisory lock, so two deliveries of the same lane take
  turns; the job row is locked only for the moment a batch records its
  progress; the last lane to finish finishes the job. A finished job is
  never run again.
- Rows are upserts by the cooperative's SKU (cooperatives.listings), so even
  a repeated row only updates. A row identical to the product it names is
  skipped (re-importing an export changes nothing); a row that only changes
  price and stock goes through the listing service's stock-and-price call.
- Transient database errors retry with backoff (at most RETRY_BACKOFF_MAX
  seconds, far below the broker's visibility timeout); anything else marks
  the job failed with a message; the rows already imported stay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from cooperatives import imports, listings
from cooperatives.listings import resolve_category, set_stock_and_price, upsert_listing_by_sku
from cooperatives.models import ImportJob

StockRecord = get_model("partner", "StockRecord")
logger = logging.getLogger(__name__)

RETRYABLE = (OperationalError, InterfaceError)
RETRY_BACKOFF_MAX = (
    300  # seconds; must stay below CELERY_BROKER_TRANSPORT_OPTIONS' visibility_timeout
)
MAX_BATCH_ROWS = 50
# Aim for at least this many progress steps, so small files show movement too.
PROGRESS_STEPS = 20
# A lane (worker process) is worth starting for this many products.
MIN_UNITS_PER_LANE = 200
LOCK_NAMESPACE = 0x494D0000  # pg_advisory_xact_lock(namespace + lane, job id)

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


def batch_size(total: int) -> int:
    configured = int(getattr(settings, "WANGNONG_IMPORT_BATCH_ROWS", MAX_BATCH_ROWS))
    return max(1, min(configured, total // PROGRESS_STEPS or 1))


def start_import(job: ImportJob) -> None:
    """Queue the job's task once the job row is committed (a worker must
    find it). If the broker cannot be reached, the job fails with a message
    instead of waiting for ever."""

    def send() -> None:
        try:
            run_import.delay(job.pk)
        except Exception:  # noqa: BLE001 - broker down, or an eager run that raised
            logger.exception("could not run import job %s", job.pk)
            _finish(job.pk, ImportJob.Status.FAILED, _("后台任务服务暂时不可用，请稍后重新上传。"))

    transaction.on_commit(send)


TASK_OPTIONS = {
    "bind": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 5,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(**TASK_OPTIONS)
def run_import(self, job_id: int) -> str:
    """Import the job's file: plan it, start the other lanes' tasks, run
    lane 0 here. Returns the job's status (or "skipped" if it was done)."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    return _guarded(self, job, _coordinate)


@shared_task(**TASK_OPTIONS)
def run_import_lane(self, job_id: int, lane: int) -> str:
    """Import one lane of a job that run_import has planned."""
    job = ImportJob.objects.select_related("cooperative").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return "skipped"
    return _guarded(self, job, lambda job: _run_lane(job, _plan(job), lane))


def _guarded(task, job: ImportJob, work) -> str:
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            return work(job)
        except imports.ImportFileError as exc:
            return _finish(job.pk, ImportJob.Status.FAILED, exc.message)
        except RETRYABLE:
            if task.request.retries >= task.max_retries:
                _finish_quietly(
                    job.pk,
                    _("数据库暂时不可用，导入中断。已导入的行已保存，请稍后重新上传同一文件。"),
                )
            raise
        except Exception:  # noqa: BLE001 - a bug must not leave the job "running"
            logger.exception("import job %s failed", job.pk)
            _finish_quietly(
                job.pk, _("导入时出错，已导入的行已保存。请稍后重新上传同一文件，或联系平台。")
            )
            return ImportJob.Status.FAILED


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .select_related("cooperative")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.is_finished:
            return None
        if job.status == ImportJob.Status.QUEUED:
            job.status = ImportJob.Status.RUNNING
            job.started_at = timezone.now()
            job.save(update_fields=["status", "started_at"])
    return job


def lane_count(units: int) -> int:
    """How many worker processes share a file: one for small files, and one
    when tasks run in-process (no broker) or without PostgreSQL's locks."""
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        return 1
    configured = int(getattr(settings, "WANGNONG_IMPORT_LANES", 2))
    return max(1, min(configured, units // MIN_UNITS_PER_LANE))


def _coordinate(job: ImportJob, lanes: int | None = None) -> str:
    plan = _plan(job, lanes=lanes)
    for lane in range(1, plan.lane_total):
        run_import_lane.delay(job.pk, lane)
    return _run_lane(job, plan, 0)


@dataclass
class Plan:
    """A job's file read and split into lanes. Deterministic: every lane's
    task reads the same file and gets the same split."""

    sheet: imports.Sheet
    lanes: list[list[imports.SheetRow]]
    duplicates: dict[int, str]
    current: dict[str, dict[str, Any]]
    categories: CategoryCache = field(default_factory=lambda: CategoryCache())

    @property
    def lane_total(self) -> int:
        return len(self.lanes)


def _plan(job: ImportJob, lanes: int | None = None) -> Plan:
    with job.file.open("rb") as handle:
        data = handle.read()
    sheet = imports.read_sheet(data, job.original_name)
    units = _units(sheet.rows)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        total = locked.lane_progress.get("lanes")
        if not total:  # the first task to plan decides, once
            total = lanes or lane_count(len(units))
            locked.lane_progress = {"lanes": total, **{str(n): 0 for n in range(total)}}
            locked.total_rows = len(sheet.rows)
            locked.save(update_fields=["lane_progress", "total_rows"])
    if total > 1:
        listings.product_class()  # created once here, not raced for by the lanes
    split: list[list[imports.SheetRow]] = [[] for _n in range(total)]
    for unit in units:  # each to the lane with the fewest rows so far
        min(split, key=len).extend(unit)
    current = {row["sku"]: row for row in imports.export_rows(job.cooperative)}
    return Plan(sheet, split, _duplicate_skus(sheet.rows), current)


def _units(rows: list[imports.SheetRow]) -> list[list[imports.SheetRow]]:
    """Rows that must be imported one after the other by the same lane: a
    product's variants (one parent SKU), and any rows sharing a SKU. In file
    order, a product's own row before its variants."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys = []
    for row in rows:
        sku = imports.cell_text(row.cells.get("sku"))
        parent_sku = imports.cell_text(row.cells.get("parent_sku"))
        key = f"sku:{sku}" if sku else f"row:{row.number}"
        if parent_sku:
            parent[find(key)] = find(f"sku:{parent_sku}")
        keys.append(key)
    units: dict[str, list[imports.SheetRow]] = {}
    for row, key in zip(rows, keys, strict=True):
        units.setdefault(find(key), []).append(row)
    return [imports.ordered_rows(unit) for unit in units.values()]


def _lane_lock(job_id: int, lane: int) -> None:
    """Two deliveries of the same lane's task take turns (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE + lane, job_id])


def _run_lane(job: ImportJob, plan: Plan, lane: int) -> str:
    rows = plan.lanes[lane]
    size = batch_size(sum(len(r) for r in plan.lanes))
    while True:
        with transaction.atomic():
            _lane_lock(job.pk, lane)
            state = ImportJob.objects.filter(pk=job.pk).values("status", "lane_progress").get()
            if state["status"] in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
                return state["status"]
            start = int(state["lane_progress"].get(str(lane), 0))
            batch = rows[start : start + size]
            if not batch:
                break
            counts = {CREATED: 0, UPDATED: 0}
            errors = []
            for row in batch:
                outcome, messages = _import_row(job, row, plan)
                if outcome in counts:
                    counts[outcome] += 1
                if messages:
                    errors.append({"row": row.number, "errors": messages})
            # The job row is locked only from here to the commit.
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            locked.lane_progress = {**locked.lane_progress, str(lane): start + len(batch)}
            locked.processed_rows += len(batch)
            locked.created_count += counts[CREATED]
            locked.updated_count += counts[UPDATED]
            locked.error_rows = locked.error_rows + errors
            locked.save(
                update_fields=[
                    "lane_progress",
                    "processed_rows",
                    "created_count",
                    "updated_count",
                    "error_rows",
                ]
            )
    return _finish_if_complete(job.pk, plan)


def _finish_if_complete(job_id: int, plan: Plan) -> str:
    """The last lane to finish finishes the job."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job.status
        done = all(
            int(job.lane_progress.get(str(n), 0)) >= len(rows) for n, rows in enumerate(plan.lanes)
        )
        if not done:
            return job.status
    return _finish(job_id, ImportJob.Status.DONE)


def _duplicate_skus(rows: list[imports.SheetRow]) -> dict[int, str]:
    """Row number -> message, for every row repeating an earlier row's SKU."""
    first: dict[str, int] = {}
    messages = {}
    for row in rows:
        sku = imports.cell_text(row.cells.get("sku"))
        if not sku:
            continue
        if sku in first:
            messages[row.number] = _("商品编码“%(sku)s”与第 %(row)s 行重复，这一行没有导入。") % {
                "sku": sku,
                "row": first[sku],
            }
        else:
            first[sku] = row.number
    return messages


def _import_row(job: ImportJob, row: imports.SheetRow, plan: Plan) -> tuple[str, list[str]]:
    if row.number in plan.duplicates:
        return FAILED, [plan.duplicates[row.number]]
    try:
        sku = imports.cell_text(row.cells.get("sku"))
        existing = plan.current.get(sku)
        if existing is not None and not row.problems:
            changed = imports.changed_keys(row.cells, existing)
            if changed == set():
                return UNCHANGED, []
            if changed and changed <= STOCK_AND_PRICE and _set_stock_and_price(row, existing):
                return UPDATED, []
        data = imports.to_listing(row, None if plan.sheet.has_all_columns else existing)
        data.category = plan.categories.resolve(data.category)
        with transaction.atomic():
            _product, created = upsert_listing_by_sku(job.cooperative, data)
    except imports.RowError as exc:
        return FAILED, exc.messages
    except ValidationError as exc:
        return FAILED, _messages(exc)
    except (IntegrityError, DataError):
        logger.warning("import job %s row %s not saved", job.pk, row.number, exc_info=True)
        return FAILED, [_("这一行无法保存，请检查内容后重新上传。")]
    return (CREATED if created else UPDATED), []


STOCK_AND_PRICE = {"price", "stock"}


def _set_stock_and_price(row: imports.SheetRow, existing: dict[str, Any]) -> bool:
    """The common re-import (new prices, counted stock): only the stock
    record changes, through the listing service's own call for that.
    False when the row needs the full upsert (e.g. a blank price)."""
    values = imports.cells_to_values(row.cells)
    price, stock = values.get("price"), values.get("stock")
    if price is None or stock is None or not existing.get("_stockrecord"):
        return False
    with transaction.atomic():
        set_stock_and_price(StockRecord(pk=existing["_stockrecord"]), price, stock)
    return True


class CategoryCache:
    """Each distinct category text in a file is looked up once (a file of
    thousands of rows names a handful of categories)."""

    def __init__(self):
        self.found: dict[str, Any] = {}

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            return value  # the listing service reports a missing category
        key = value.strip()
        if key not in self.found:
            try:
                self.found[key] = resolve_category(key)
            except ValidationError as exc:
                self.found[key] = exc
        result = self.found[key]
        if isinstance(result, ValidationError):
            raise ValidationError({"category": result.messages})
        return result


def _messages(exc: ValidationError) -> list[str]:
    """A ValidationError's messages, in the file's column order."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    order = {column.key: n for n, column in enumerate(imports.COLUMNS)}
    out: list[str] = []
    for key in sorted(exc.error_dict, key=lambda k: order.get(k, len(order))):
        for error in exc.error_dict[key]:
            out.extend(error.messages)
    return out


def _finish(job_id: int, status: str, message: str = "") -> str:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job.status
        job.status = status
        job.finished_at = timezone.now()
        job.error_rows = sorted(job.error_rows, key=lambda e: e["row"])
        if status == ImportJob.Status.DONE and not message:
            unchanged = job.processed_rows - job.created_count - job.updated_count - job.error_count
            message = _(
                "共 %(total)s 行：新增 %(created)s，更新 %(updated)s，未变化 %(unchanged)s，出错 %(errors)s。"
            ) % {
                "total": job.total_rows,
                "created": job.created_count,
                "updated": job.updated_count,
                "unchanged": max(unchanged, 0),
                "errors": job.error_count,
            }
        job.message = message
        job.save(update_fields=["status", "finished_at", "error_rows", "message"])
        return status


def _finish_quietly(job_id: int, message: str) -> None:
    try:
        _finish(job_id, ImportJob.Status.FAILED, message)
    except Exception:  # noqa: BLE001 - the database may be the thing that is down
        logger.exception("could not mark import job %s failed", job_id)
