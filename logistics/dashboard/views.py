"""Platform staff's logistics pages in Oscar's dashboard
(/dashboard/logistics/): shipments and the ones needing attention, a
shipment's items, timeline, log and hand-off attempts with the actions on
it, tracking events nobody claimed, the cost report and the carriers.

Every change goes through logistics.shipments and logistics.tracking; these
views read, validate what staff typed and report the services' answers.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView, View
from oscar.core.loading import get_model
from oscar.views.decorators import permissions_required

from config.spreadsheets import csv_response, safe_cell
from cooperatives import fulfilment
from divisions import services as divisions
from logistics import costs, tracking
from logistics import shipments as shipping
from logistics.adapters import CarrierError, get_adapter
from logistics.forms import (
    CancelForm,
    CarrierOverrideForm,
    DateRangeForm,
    TrackingNumberForm,
    TrackingStatusForm,
)
from logistics.models import Carrier, Shipment, ShipmentItem, TrackingEvent
from logistics.waybill import reference
from privacy import access_log

Partner = get_model("partner", "Partner")
Status = Shipment.Status

# Oscar's dashboard rule, as in the stations dashboard: staff only; others
# are sent to the dashboard login (signed-in non-staff get 403).
staff_required = method_decorator(
    permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login")),
    name="dispatch",
)


def paginate(request: HttpRequest, items, per_page: int) -> dict[str, Any]:
    """What Oscar's pagination partial expects, for views that are not ListViews."""
    paginator = Paginator(items, per_page)
    page_obj = paginator.get_page(request.GET.get("page"))
    return {
        "paginator": paginator,
        "page_obj": page_obj,
        "is_paginated": page_obj.has_other_pages(),
    }


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def attach_orders(shipments) -> None:
    """Set ``order_numbers`` on each shipment (one query for the page)."""
    by_shipment: dict[int, list[str]] = {s.pk: [] for s in shipments}
    rows = (
        ShipmentItem.objects.filter(shipment__in=list(by_shipment))
        .values_list("shipment_id", "line__order__number")
        .distinct()
        .order_by("shipment_id", "line__order__number")
    )
    for shipment_id, number in rows:
        by_shipment[shipment_id].append(number)
    for shipment in shipments:
        shipment.order_numbers = by_shipment[shipment.pk]


def unmatched_count() -> int:
    return TrackingEvent.objects.filter(shipment__isnull=True).count()


# --- Shipments ---------------------------------------------------------------------


@staff_required
class ShipmentListView(ListView):
    """Every shipment, newest first, filtered by attention, status, carrier,
    cooperative, or a tracking number / order number / WN reference."""

    template_name = "logistics/dashboard/list.html"
    context_object_name = "shipments"
    paginate_by = 50
    attention_only = False

    def get_queryset(self) -> QuerySet:
        qs = Shipment.objects.select_related("carrier", "partner", "destination")
        get = self.request.GET
        self.attention = self.attention_only or get.get("attention") == "1"
        if self.attention:
            qs = qs.filter(needs_attention=True)
        self.status = get.get("status", "")
        if self.status in Status.values:
            qs = qs.filter(status=self.status)
        else:
            self.status = ""
        self.carriers = list(Carrier.objects.order_by("name").values_list("pk", "name"))
        self.carrier = _int(get.get("carrier"))
        if self.carrier in {pk for pk, _name in self.carriers}:
            qs = qs.filter(carrier_id=self.carrier)
        else:
            self.carrier = None
        self.partners = list(
            Partner.objects.filter(
                pk__in=Shipment.objects.values("partner_id").order_by().distinct()
            )
            .order_by("name")
            .values_list("pk", "name")
        )
        self.partner = _int(get.get("partner"))
        if self.partner in {pk for pk, _name in self.partners}:
            qs = qs.filter(partner_id=self.partner)
        else:
            self.partner = None
        self.query = "".join(get.get("q", "").split())[:64]
        if self.query:
            qs = qs.filter(self.search(self.query))
        return qs

    @staticmethod
    def search(query: str) -> Q:
        """A tracking number, an order number (also one of the orders in a
        consolidated shipment), or our reference WN<id>."""
        condition = Q(tracking_number__iexact=query) | Q(
            pk__in=ShipmentItem.objects.filter(line__order__number=query).values("shipment_id")
        )
        if query.upper().startswith("WN") and query[2:].isdigit():
            condition |= Q(pk=int(query[2:]))
        elif len(query) >= 4:
            condition |= Q(tracking_number__icontains=query)
        return condition

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        attach_orders(ctx["shipments"])
        counts = dict(Shipment.objects.values_list("status").annotate(n=Count("pk")).order_by())
        ctx.update(
            attention=self.attention,
            attention_only=self.attention_only,
            attention_total=Shipment.objects.filter(needs_attention=True).count(),
            unmatched_total=unmatched_count(),
            status=self.status,
            status_choices=[
                (value, label, counts.get(value, 0)) for value, label in Status.choices
            ],
            carriers=self.carriers,
            carrier=self.carrier,
            partners=self.partners,
            partner=self.partner,
            query=self.query,
            filtered=bool(self.status or self.carrier or self.partner or self.query),
        )
        return ctx


@staff_required
class AttentionListView(ShipmentListView):
    """Shipments flagged for staff: hand-offs that ran out of retries or
    that a carrier refused."""

    attention_only = True


class ShipmentMixin:
    """Loads ``self.shipment`` from the URL's ``pk`` (after the staff check)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.shipment = get_object_or_404(
            Shipment.objects.select_related(
                "carrier",
                "partner",
                "destination",
                "station",
                "order",
                "carrier_overridden_by",
            ).prefetch_related(
                Prefetch("events", queryset=TrackingEvent.objects.select_related("recorded_by"))
            ),
            pk=kwargs["pk"],
        )
        return super().dispatch(request, *args, **kwargs)


def can_override(shipment: Shipment) -> bool:
    return shipment.is_open or (
        shipment.status == Status.AWAITING_TRACKING and not shipment.tracking_number
    )


def can_record(shipment: Shipment, manual: bool) -> bool:
    """Staff may type a status once the parcel is with its carrier (or, for
    a manual carrier, once the waybill is out). Not before a carrier with
    an API has booked it: any event marks the shipment handed off, and the
    queued booking would then be skipped."""
    if shipment.status == Status.CANCELLED:
        return False
    return manual or shipment.status not in (Status.COLLECTING, Status.PENDING)


class ShipmentDetailMixin(ShipmentMixin):
    template_name = "logistics/dashboard/detail.html"

    def detail_context(self, **forms: Any) -> dict[str, Any]:
        shipment = self.shipment
        items = list(
            shipment.items.select_related("line__order", "line__product").order_by(
                "line__order__number", "pk"
            )
        )
        for item in items:
            item.status_label = fulfilment.status_label(item.line.status)
        orders = list({item.line.order.number: item.line.order for item in items}.values())
        manual = get_adapter(shipment.carrier).manual
        cancelled = shipment.status == Status.CANCELLED
        if not shipment.is_consolidated and self.request.method == "GET":
            # Staff see the recipient's full name, phone and address (a
            # manual carrier's courier needs them): logged.
            access_log.record(
                self.request,
                [access_log.subject_for_order(order) for order in orders],
                fields=[access_log.NAME, access_log.PHONE, access_log.ADDRESS],
                purpose="shipment",
            )
        return {
            "shipment": shipment,
            "reference": reference(shipment),
            "sender": shipping.sender_of(shipment),
            "destination_name": divisions.full_name(shipment.destination_id),
            "items": items,
            "orders": orders,
            "pieces": sum(item.line.quantity for item in items),
            "timeline": tracking.timeline(shipment),
            "log": shipment.log.select_related("by").order_by("-at", "-pk"),
            "outbox": shipment.outbox.order_by("-pk"),
            "manual": manual,
            "can_override": can_override(shipment),
            "can_retry": shipment.status == Status.PENDING,
            "can_cancel": not cancelled,
            "can_enter_tracking": not cancelled
            and (manual or shipment.status == Status.AWAITING_TRACKING),
            "can_record": can_record(shipment, manual),
            "can_close": shipment.status == Status.COLLECTING,
            "can_label": manual or bool(shipment.tracking_number),
            "override_form": forms.get("override_form")
            or CarrierOverrideForm(shipment=shipment, prefix="override"),
            "cancel_form": forms.get("cancel_form") or CancelForm(prefix="cancel"),
            "tracking_form": forms.get("tracking_form") or TrackingNumberForm(prefix="tracking"),
            "status_form": forms.get("status_form") or TrackingStatusForm(prefix="status"),
            "failed": forms.get("failed", ""),
        }

    def render_detail(self, **forms: Any) -> HttpResponse:
        return render(self.request, self.template_name, self.detail_context(**forms))

    def refused(self, exc: ValidationError, form=None, **forms: Any) -> HttpResponse:
        """Show the service's refusal on the page, keeping what was typed."""
        if form is not None:
            add_service_errors(form, exc)
        else:
            for message in exc.messages:
                messages.error(self.request, message)
        return self.render_detail(**forms)

    def done(self, message: str) -> HttpResponse:
        messages.success(self.request, message)
        return redirect("logistics-dashboard:detail", pk=self.shipment.pk)


def add_service_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError on ``form``: errors naming one of its
    fields go to that field, the rest to the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@staff_required
class ShipmentDetailView(ShipmentDetailMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_detail()


@staff_required
class OverrideCarrierView(ShipmentDetailMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = CarrierOverrideForm(request.POST, shipment=self.shipment, prefix="override")
        if form.is_valid():
            carrier = form.cleaned_data["carrier"]
            if carrier.pk == self.shipment.carrier_id:
                form.add_error("carrier", _("这就是当前的承运商。"))
            else:
                try:
                    shipping.override_carrier(self.shipment, carrier, by=request.user)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    return self.done(
                        _("已改由%(carrier)s承运 %(ref)s。")
                        % {"carrier": carrier.name, "ref": reference(self.shipment)}
                    )
        messages.error(request, _("承运商没有更换，请查看下面的提示。"))
        return self.render_detail(override_form=form, failed="override")


@staff_required
class RetryView(ShipmentDetailMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            shipping.retry(self.shipment, by=request.user)
        except ValidationError as exc:
            return self.refused(exc)
        return self.done(
            _("已重新交给%(carrier)s，结果稍后出现在交运记录中。")
            % {"carrier": self.shipment.carrier.name}
        )


@staff_required
class CancelView(ShipmentDetailMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = CancelForm(request.POST, prefix="cancel")
        if form.is_valid():
            if self.shipment.status == Status.CANCELLED:
                form.add_error(None, _("这个发货单已经取消了。"))
            else:
                try:
                    shipping.cancel(
                        self.shipment, by=request.user, reason=form.cleaned_data["reason"]
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    return self.done(_("已取消 %(ref)s。") % {"ref": reference(self.shipment)})
        messages.error(request, _("发货单没有取消，请查看下面的提示。"))
        return self.render_detail(cancel_form=form, failed="cancel")


@staff_required
class TrackingNumberView(ShipmentDetailMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = TrackingNumberForm(request.POST, prefix="tracking")
        if form.is_valid():
            try:
                shipment = shipping.enter_tracking_number(
                    self.shipment, form.cleaned_data["tracking_number"], by=request.user
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return self.done(_("已录入运单号 %(n)s。") % {"n": shipment.tracking_number})
        messages.error(request, _("运单号没有录入，请查看下面的提示。"))
        return self.render_detail(tracking_form=form, failed="tracking")


@staff_required
class RecordStatusView(ShipmentDetailMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = TrackingStatusForm(request.POST, prefix="status")
        if form.is_valid():
            if self.shipment.status == Status.CANCELLED:
                form.add_error(None, _("这个发货单已取消，不能再记录物流状态。"))
            elif not can_record(self.shipment, get_adapter(self.shipment.carrier).manual):
                form.add_error(
                    None,
                    _("%(carrier)s还没有接单，不能手工记录物流状态；请等交运完成后再记录。")
                    % {"carrier": self.shipment.carrier.name},
                )
            else:
                data = form.cleaned_data
                try:
                    shipment = tracking.record_by_staff(
                        self.shipment,
                        data["status"],
                        location=data["location"],
                        note=data["note"],
                        by=request.user,
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    return self.done(
                        _("已记录物流状态：%(s)s。") % {"s": shipment.get_tracking_status_display()}
                    )
        messages.error(request, _("物流状态没有记录，请查看下面的提示。"))
        return self.render_detail(status_form=form, failed="status")


@staff_required
class CloseView(ShipmentDetailMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if self.shipment.status != Status.COLLECTING:
            messages.error(request, _("只有合并中的发货单可以提前结束合并。"))
            return self.render_detail()
        shipment = shipping.close(self.shipment, by=request.user)
        if shipment.status == Status.CANCELLED:
            return self.done(_("合并包裹里没有商品，已取消。"))
        return self.done(
            _("已结束合并，%(ref)s 交给%(carrier)s。")
            % {"ref": reference(shipment), "carrier": shipment.carrier.name}
        )


@staff_required
class LabelView(ShipmentMixin, View):
    """The label as a PDF: the carrier's (HTTP carriers, once booked) or our
    waybill (manual carriers). A carrier that fails says so on the page."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        shipment = self.shipment
        adapter = get_adapter(shipment.carrier)
        if not adapter.manual and not shipment.tracking_number:
            messages.error(
                request,
                _("%(carrier)s还没有接单（没有运单号），面单要在交运之后才能下载。")
                % {"carrier": shipment.carrier.name},
            )
            return redirect("logistics-dashboard:detail", pk=pk)
        try:
            pdf = adapter.fetch_label(shipment)
        except CarrierError as exc:
            messages.error(
                request,
                _("没有拿到%(carrier)s的面单：%(error)s")
                % {"carrier": shipment.carrier.name, "error": exc},
            )
            return redirect("logistics-dashboard:detail", pk=pk)
        if not shipment.is_consolidated:
            # The label carries the full name, phone and address: logged.
            access_log.record(
                request,
                [
                    access_log.subject_for_order(item.line.order)
                    for item in shipment.items.select_related("line__order")
                ],
                fields=[access_log.NAME, access_log.PHONE, access_log.ADDRESS],
                purpose="waybill",
            )
        name = f"waybill-{reference(shipment)}.pdf"
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response


# --- Tracking events nobody claimed ----------------------------------------------------


@staff_required
class UnmatchedEventsView(TemplateView):
    """Events for tracking numbers we do not know. They attach themselves
    when the number is entered or learned from the carrier; one that stays
    here is a typo, another platform's parcel or a carrier's mistake."""

    template_name = "logistics/dashboard/unmatched.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        query = "".join(self.request.GET.get("q", "").split())[:64]
        events = (
            TrackingEvent.objects.filter(shipment__isnull=True)
            .select_related("carrier")
            .order_by("-received_at", "-pk")
        )
        if query:
            events = events.filter(tracking_number__icontains=query)
        ctx.update(query=query, **paginate(self.request, events, 50))
        return ctx


# --- Cost report ---------------------------------------------------------------------


CSV_TABLES = ("orders", "cooperatives", "carriers")


@staff_required
class CostReportView(TemplateView):
    """Shipping cost per order, cooperative and carrier over a date range;
    ?format=csv&table=orders|cooperatives|carriers downloads one table."""

    template_name = "logistics/dashboard/costs.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.form = DateRangeForm(request.GET or None)
        if request.GET and not self.form.is_valid():
            for error in self.form.non_field_errors():
                messages.error(request, error)
        self.start, self.end = self.form.dates()
        self.report = costs.report(self.start, self.end)
        if request.GET.get("format") == "csv":
            table = request.GET.get("table", "orders")
            if table not in CSV_TABLES:
                table = "orders"
            return self.csv(table)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            form=self.form,
            start=self.start,
            end=self.end,
            report=self.report,
            range_query=f"start={self.start:%Y-%m-%d}&end={self.end:%Y-%m-%d}",
            **paginate(self.request, self.report.orders, 50),
        )
        return ctx

    def csv(self, table: str) -> HttpResponse:
        report = self.report
        span = f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"
        if table == "orders":
            header = [
                _("订单号"),
                _("下单时间"),
                _("发货方式"),
                _("包裹数"),
                _("重量（千克）"),
                _("分摊运费成本（元）"),
                _("买家支付运费（元）"),
                _("差额（元）"),
            ]
            rows = [
                [
                    safe_cell(row.number),
                    timezone.localtime(row.placed_at).strftime("%Y-%m-%d %H:%M")
                    if row.placed_at
                    else "",
                    _via(row),
                    row.shipments,
                    row.weight_kg,
                    row.cost,
                    row.charge,
                    row.margin,
                ]
                for row in report.orders
            ]
        else:
            header = [
                _("合作社") if table == "cooperatives" else _("承运商"),
                _("发货单数"),
                _("包裹数"),
                _("重量（千克）"),
                _("运费成本（元）"),
                _("每包裹成本（元）"),
                _("每千克成本（元）"),
                _("买家支付运费（元）"),
                _("差额（元）"),
            ]
            groups = report.cooperatives if table == "cooperatives" else report.carriers
            rows = [
                [
                    safe_cell(row.name),
                    row.shipments,
                    row.parcels,
                    row.weight_kg,
                    row.cost,
                    _blank(row.cost_per_parcel),
                    _blank(row.cost_per_kg),
                    row.charge,
                    row.margin,
                ]
                for row in groups
            ]
        return csv_response(f"shipping-costs-{table}-{span}.csv", [header, *rows])


def _via(row: costs.OrderRow) -> str:
    if row.direct and row.consolidated:
        return _("直发+合并")
    return _("合并") if row.consolidated else _("直发")


def _blank(value) -> Any:
    return "" if value is None else value


# --- Carriers ------------------------------------------------------------------------


def _count(model, **filters) -> Subquery:
    rows = (
        model.objects.filter(carrier=OuterRef("pk"), **filters)
        .order_by()
        .values("carrier")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@staff_required
class CarrierListView(TemplateView):
    """Carriers at a glance; they are edited in the Django admin."""

    template_name = "logistics/dashboard/carriers.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from logistics.models import ServiceArea

        ctx = super().get_context_data(**kwargs)
        ctx["carriers"] = (
            Carrier.objects.annotate(
                area_count=_count(ServiceArea),
                open_count=_count(Shipment, status=Status.PENDING),
                attention_count=_count(Shipment, needs_attention=True),
            )
            .prefetch_related("zones")
            .order_by("-is_active", "name")
        )
        return ctx
