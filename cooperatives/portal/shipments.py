"""The cooperative's shipments (/coop/shipments/): what it sends, with
which carrier, where each parcel is; printing the label or waybill, typing
the tracking number a manual carrier's courier gives, and closing a
consolidated station shipment before the carrier's cut-off.

Every shipment is looked up through ``cooperative_shipments`` (a shipment
belongs to one cooperative), so another cooperative's ids are a 404. The
rules live in logistics (shipments, stages, adapters); these views read the
form, call them and show what they say.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView

from cooperatives.portal.access import (
    CooperativePortalMixin,
    ScopedObjectMixin,
    cooperative_shipments,
)
from logistics import shipments as logistics_shipments
from logistics import stages
from logistics.adapters import CarrierError, get_adapter
from logistics.models import Carrier, Shipment, ShipmentItem
from privacy import access_log
from privacy.masking import mask_phone

logger = logging.getLogger("wangnong.logistics")

PER_PAGE = 20
Status = Shipment.Status


def decorate(shipment: Shipment) -> Shipment:
    """What the templates show about a shipment, worked out once."""
    shipment.stage_badge = stages.badge_class(shipment)
    shipment.attention = stages.attention_reason(shipment)
    return shipment


def order_numbers(shipment: Shipment) -> list[str]:
    """The orders in a shipment (from prefetched items), in order."""
    return list(dict.fromkeys(item.line.order.number for item in shipment.items.all()))


def can_print_label(shipment: Shipment) -> bool:
    """A label exists once the shipment is no longer collecting orders: our
    waybill for a manual carrier, the carrier's label once it has a number."""
    if shipment.status in (Status.COLLECTING, Status.CANCELLED):
        return False
    return shipment.carrier.adapter == Carrier.Adapter.MANUAL or bool(shipment.tracking_number)


def can_enter_tracking_number(shipment: Shipment) -> bool:
    """A manual carrier's number may be typed (or corrected) until the
    carrier has reported anything about the parcel."""
    return (
        shipment.carrier.adapter == Carrier.Adapter.MANUAL
        and shipment.status in (Status.PENDING, Status.AWAITING_TRACKING, Status.HANDED_OFF)
        and not shipment.tracking_status
    )


class ShipmentListView(CooperativePortalMixin, ListView):
    """The cooperative's shipments, newest first, filtered by stage."""

    template_name = "cooperatives/portal/shipments/list.html"
    context_object_name = "shipments"
    paginate_by = PER_PAGE

    def get_stage(self) -> str:
        stage = self.request.GET.get("stage", "")
        return stage if stage in stages.Stage.values else ""

    def get_queryset(self) -> QuerySet:
        items = ShipmentItem.objects.select_related("line__order").order_by("pk")
        qs = (
            cooperative_shipments(self.cooperative)
            .select_related("carrier", "station")
            .prefetch_related(Prefetch("items", queryset=items))
        )
        stage = self.get_stage()
        if stage:
            qs = qs.filter(stages.condition(stage))
        return qs.order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for shipment in ctx["shipments"]:
            decorate(shipment)
            shipment.order_numbers = order_numbers(shipment)
        counts = stages.counts(cooperative_shipments(self.cooperative))
        stage = self.get_stage()
        ctx["stage"] = stage
        ctx["stage_filters"] = [
            {"code": "", "label": _("全部"), "count": counts[""], "current": not stage}
        ] + [
            {"code": code, "label": str(label), "count": counts[code], "current": code == stage}
            for code, label in stages.Stage.choices
        ]
        return ctx


class ShipmentDetailView(CooperativePortalMixin, ScopedObjectMixin, TemplateView):
    """One shipment: what is in it, where it goes, its timeline, and what
    the cooperative can do with it."""

    template_name = "cooperatives/portal/shipments/detail.html"

    def get_scoped_queryset(self) -> QuerySet:
        return (
            cooperative_shipments(self.cooperative)
            .select_related("carrier", "station", "destination")
            .prefetch_related("events")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        shipment = decorate(self.object)
        ctx["shipment"] = shipment
        ctx["items"] = list(
            shipment.items.select_related("line__order").order_by("line__order__number", "pk")
        )
        ctx["order_count"] = len({item.line.order_id for item in ctx["items"]})
        ctx["recipient_phone"] = (
            shipment.recipient_phone
            if shipment.is_consolidated
            else mask_phone(shipment.recipient_phone)
        )
        if not shipment.is_consolidated and self.request.method == "GET":
            # The packer sees the recipient and full address: logged.
            access_log.record(
                self.request,
                _shipment_subjects(ctx["items"]),
                fields=[access_log.NAME, access_log.ADDRESS],
                purpose="shipment",
            )
        ctx["can_print_label"] = can_print_label(shipment)
        ctx["can_enter_tracking_number"] = can_enter_tracking_number(shipment)
        ctx["can_close"] = shipment.status == Status.COLLECTING
        ctx.setdefault("tracking_value", shipment.tracking_number)
        ctx.setdefault("tracking_errors", [])
        return ctx


def _shipment_subjects(items) -> list:
    """The buyers of a (home-delivery) shipment's orders, for the access log."""
    return [access_log.subject_for_order(item.line.order) for item in items]


def detail_url(shipment: Shipment) -> str:
    return reverse("coop:shipment", kwargs={"pk": shipment.pk})


class ShipmentLabelView(CooperativePortalMixin, ScopedObjectMixin, TemplateView):
    """GET: the label (the carrier's) or waybill (ours, for a manual
    carrier) as a PDF to print."""

    def get_scoped_queryset(self) -> QuerySet:
        return cooperative_shipments(self.cooperative).select_related("carrier", "partner")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = self.object
        if not can_print_label(shipment):
            messages.error(request, _("这个发货单现在没有面单可打印。"))
            return HttpResponseRedirect(detail_url(shipment))
        try:
            pdf = get_adapter(shipment.carrier).fetch_label(shipment)
        except CarrierError as exc:
            logger.warning("Label of shipment %s from %s: %s", shipment.pk, shipment.carrier, exc)
            messages.error(
                request,
                _("暂时取不到%(carrier)s的面单，请稍后再试。如果一直不行，请联系平台工作人员。")
                % {"carrier": shipment.carrier.name},
            )
            return HttpResponseRedirect(detail_url(shipment))
        if not shipment.is_consolidated:
            # The label carries the full name, phone and address: logged.
            access_log.record(
                request,
                _shipment_subjects(shipment.items.select_related("line__order")),
                fields=[access_log.NAME, access_log.PHONE, access_log.ADDRESS],
                purpose="waybill",
            )
        response = HttpResponse(pdf, content_type="application/pdf")
        name = shipment.tracking_number or f"WN{shipment.pk}"
        response["Content-Disposition"] = f'inline; filename="waybill-{name}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response


class ShipmentTrackingNumberView(ShipmentDetailView):
    """POST ``tracking_number``: the number a manual carrier's courier gave.
    A wrong one shows the detail page again with the typed value."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = self.object
        number = request.POST.get("tracking_number", "")[:100]
        if not can_enter_tracking_number(shipment):
            messages.error(request, _("这个发货单不能录入运单号。"))
            return HttpResponseRedirect(detail_url(shipment))
        try:
            shipment = logistics_shipments.enter_tracking_number(shipment, number, by=request.user)
        except ValidationError as exc:
            errors = exc.message_dict.get("tracking_number") if hasattr(exc, "error_dict") else None
            errors = errors or exc.messages
            return self.render_to_response(
                self.get_context_data(tracking_value=number.strip(), tracking_errors=errors)
            )
        messages.success(
            request, _("已录入运单号 %(number)s。") % {"number": shipment.tracking_number}
        )
        return HttpResponseRedirect(detail_url(shipment))


class ShipmentCloseView(CooperativePortalMixin, ScopedObjectMixin, TemplateView):
    """POST: stop collecting a consolidated station shipment and hand it to
    the carrier now instead of at the cut-off."""

    http_method_names = ["post"]

    def get_scoped_queryset(self) -> QuerySet:
        return cooperative_shipments(self.cooperative)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = self.object
        if shipment.status != Status.COLLECTING:
            messages.error(request, _("这个发货单不在合并中，无需结束合并。"))
            return HttpResponseRedirect(detail_url(shipment))
        shipment = logistics_shipments.close(shipment, by=request.user)
        if shipment.status == Status.CANCELLED:
            messages.success(request, _("这个合并发货单里已经没有商品，已取消。"))
        else:
            messages.success(request, _("已结束合并，发货单已交给承运商处理。"))
        return HttpResponseRedirect(detail_url(shipment))
