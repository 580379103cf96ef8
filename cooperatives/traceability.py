"""Traceability (溯源): harvest batches, what went into them, their
inspections, which batch each order line was packed from, and the public
trace page at /t/<code>/ (cooperatives/trace_views.py).

The public side shows no personal data: a parcel's timeline is reached
through a signed token of the shipment id (``parcel_token``) and gives
status, time and place of each tracking event only, never the recipient,
the phone, the address or the order number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cooperatives.listings import products_of
from cooperatives.models import Cooperative, HarvestBatch, OrderLineBatch

PARCEL_SALT = "trace-parcel"

UNKNOWN = "unknown"
NOT_SELLING = "not_selling"
REFUSALS = {
    UNKNOWN: gettext_lazy("没有找到这个批次"),
    NOT_SELLING: gettext_lazy("该合作社目前暂停销售，溯源信息暂不公开"),
}
# Line statuses after which the shipped batch can no longer be changed.
_CLOSED_LINE_STATUSES = {"cancelled", "refunded"}


# --- Checks (used by the services and by the portal's forms) ---------------------------


def check_harvest_date(harvest_date: date | None) -> None:
    if harvest_date and harvest_date > timezone.localdate():
        raise ValidationError(_("采收日期不能晚于今天。"), code="future")


def check_product(cooperative: Cooperative, product) -> None:
    if product is None or not products_of(cooperative).filter(pk=product.pk).exists():
        raise ValidationError(_("只能为本社的商品登记批次。"), code="not_own_product")


def check_input_date(applied_on: date | None, harvest_date: date | None) -> None:
    if applied_on is None:
        return
    if applied_on > timezone.localdate():
        raise ValidationError(_("使用日期不能晚于今天。"), code="future")
    if harvest_date and applied_on > harvest_date:
        raise ValidationError(_("投入品的使用日期不能晚于采收日期。"), code="after_harvest")


def check_inspection_date(inspected_on: date | None) -> None:
    if inspected_on and inspected_on > timezone.localdate():
        raise ValidationError(_("检测日期不能晚于今天。"), code="future")


# --- Batches ---------------------------------------------------------------------------


def batches_of(cooperative: Cooperative):
    return HarvestBatch.objects.filter(cooperative=cooperative)


BATCH_FIELDS = ("product", "label", "harvest_date", "village", "field", "grower", "notes")


def _set_fields(batch: HarvestBatch, fields: dict) -> None:
    unknown = set(fields) - set(BATCH_FIELDS)
    if unknown:
        raise TypeError(f"not batch fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(batch, name, value)


def _validate(batch: HarvestBatch) -> None:
    errors: dict[str, list] = {}
    for name, check in (
        ("product", lambda: check_product(batch.cooperative, batch.product)),
        ("harvest_date", lambda: check_harvest_date(batch.harvest_date)),
    ):
        try:
            check()
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.error_list)
    if batch.village_id and batch.village.level != 5:
        errors.setdefault("village", []).append(ValidationError(_("产地请选择到村一级。")))
    if errors:
        raise ValidationError(errors)
    for item in batch.inputs.all() if batch.pk else ():
        check_input_date(item.applied_on, batch.harvest_date)


def _unique_code() -> str:
    from cooperatives.models import new_batch_code

    while True:
        code = new_batch_code()
        if not HarvestBatch.objects.filter(code=code).exists():
            return code


@transaction.atomic
def create_batch(cooperative: Cooperative, **fields) -> HarvestBatch:
    """A new batch with a fresh code. Raises ValidationError with the fields
    at fault."""
    batch = HarvestBatch(cooperative=cooperative, code=_unique_code())
    _set_fields(batch, fields)
    _validate(batch)
    batch.save()
    return batch


@transaction.atomic
def update_batch(batch: HarvestBatch, **fields) -> HarvestBatch:
    _set_fields(batch, fields)
    _validate(batch)
    batch.save()
    return batch


def add_input(batch: HarvestBatch, *, kind: str, name: str, applied_on: date, amount: str = ""):
    check_input_date(applied_on, batch.harvest_date)
    if not name.strip():
        raise ValidationError(_("请填写投入品名称。"), code="required")
    return batch.inputs.create(kind=kind, name=name.strip(), applied_on=applied_on, amount=amount)


def add_inspection(batch: HarvestBatch, *, inspected_on: date, agency: str, result: str, **extra):
    check_inspection_date(inspected_on)
    return batch.inspections.create(
        inspected_on=inspected_on, agency=agency, result=result, **extra
    )


# --- Order lines -----------------------------------------------------------------------


def batches_for_line(line):
    """Batches a line may be packed from: its product's (or its parent's),
    of the line's cooperative, newest harvest first."""
    product_ids = [
        pid for pid in (line.product_id, getattr(line.product, "parent_id", None)) if pid
    ]
    return HarvestBatch.objects.filter(
        cooperative__partner_id=line.partner_id, product_id__in=product_ids
    ).order_by("-harvest_date", "-pk")


@transaction.atomic
def choose_batch(line, batch: HarvestBatch, by) -> OrderLineBatch:
    """Record that ``line`` was (or is being) packed from ``batch``."""
    if line.product_id is None or not batches_for_line(line).filter(pk=batch.pk).exists():
        raise ValidationError(_("只能选择本社这个商品的批次。"), code="wrong_batch")
    if line.status in _CLOSED_LINE_STATUSES:
        raise ValidationError(_("这件商品已取消或已退款，不能再登记批次。"), code="closed")
    link, _created = OrderLineBatch.objects.update_or_create(
        line=line, defaults={"batch": batch, "chosen_by": by, "chosen_at": timezone.now()}
    )
    return link


# --- The public side -------------------------------------------------------------------


@dataclass
class PublicBatch:
    batch: HarvestBatch | None
    refusal: str = ""

    @property
    def message(self) -> str:
        return str(REFUSALS[self.refusal]) if self.refusal else ""


def public_batch(code: str) -> PublicBatch:
    """The batch behind a trace code, or why it is not shown."""
    batch = (
        HarvestBatch.objects.select_related("cooperative", "product", "village")
        .filter(code=(code or "").strip().upper())
        .first()
    )
    if batch is None:
        return PublicBatch(None, UNKNOWN)
    if batch.cooperative.status != Cooperative.Status.VERIFIED:
        return PublicBatch(None, NOT_SELLING)
    return PublicBatch(batch)


def trace_path(batch: HarvestBatch) -> str:
    return reverse("trace", kwargs={"code": batch.code})


def trace_url(batch: HarvestBatch) -> str:
    """The absolute URL printed in the QR code."""
    return settings.WANGNONG_SITE_URL.rstrip("/") + trace_path(batch)


def parcel_token(shipment) -> str:
    return signing.dumps(shipment.pk, salt=PARCEL_SALT, compress=False)


def parcel_path(batch: HarvestBatch, shipment) -> str:
    return reverse("trace-parcel", kwargs={"code": batch.code, "token": parcel_token(shipment)})


def parcel_timeline(batch: HarvestBatch, token: str) -> list[dict] | None:
    """The tracking events (status, time, place) of the shipment in
    ``token``, if it carries a line of ``batch``; None otherwise."""
    from logistics.models import Shipment
    from logistics.tracking import timeline

    try:
        shipment_id = signing.loads(token, salt=PARCEL_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(shipment_id, int):
        return None
    shipment = Shipment.objects.filter(pk=shipment_id, items__line__batch_link__batch=batch).first()
    if shipment is None:
        return None
    return [
        {
            "status": event.get_status_display(),
            "occurred_at": event.occurred_at,
            "location": event.location,
        }
        for event in timeline(shipment)
    ]


def order_trace_links(order) -> list[dict]:
    """For the buyer's order page: each line that has a batch, with its
    parcel trace URL (or the batch page while it is not shipped yet)."""
    from logistics import shipments

    links = []
    rows = OrderLineBatch.objects.filter(line__order=order).select_related("batch", "line")
    items = shipments.by_line(order)
    for link in rows.order_by("line_id"):
        shipment = items.get(link.line_id)
        url = parcel_path(link.batch, shipment) if shipment else trace_path(link.batch)
        links.append({"title": link.line.title, "url": url})
    return links
