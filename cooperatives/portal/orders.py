"""The cooperative's orders: its own lines of each order, their delivery
details (only as far as needed to ship), status changes, a printable
packing list and a CSV export of sales.

A consumer's basket may span several cooperatives, so everything here is a
*line* looked up through ``cooperative_lines(self.cooperative)``: another
cooperative's line (even in the same order) is a 404. Oscar's dashboard is
not used for this: there a partner user can open other partners' lines of a
mixed order, and every scope is off for staff.
"""

from __future__ import annotations

import csv
from collections import OrderedDict
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from config.spreadsheets import safe_cell
from cooperatives import fulfilment, sales
from cooperatives.portal.access import (
    CooperativePortalMixin,
    cooperative_lines,
    cooperative_shipments,
    get_scoped_or_404,
)
from cooperatives.portal.shipments import decorate
from privacy import access_log
from privacy.masking import mask_phone

PER_PAGE = 20


def delivery_details(order) -> dict | None:
    """What the packer needs to ship an order: recipient, masked phone,
    full address and delivery notes. Never the buyer's e-mail."""
    address = order.shipping_address
    if address is None:
        return None
    return {
        "recipient": address.name or address.salutation,
        "phone": mask_phone(address.phone_number),
        "region": address.region_text,
        "detail": address.line1,
        "notes": address.notes,
    }


def _decorate(lines) -> list:
    """Give each line its status label (for templates)."""
    lines = list(lines)
    for line in lines:
        line.status_label = fulfilment.status_label(line.status)
    return lines


class OrderLineListView(CooperativePortalMixin, ListView):
    """The cooperative's lines, newest order first, filtered by status."""

    template_name = "cooperatives/portal/orders/line_list.html"
    context_object_name = "lines"
    paginate_by = PER_PAGE

    def get_status(self) -> str:
        status = self.request.GET.get("status", "")
        return status if status in fulfilment.STATUS_LABELS else ""

    def get_queryset(self):
        qs = cooperative_lines(self.cooperative).select_related("order")
        status = self.get_status()
        if status:
            qs = qs.filter(status=status)
        return qs.order_by("-order__date_placed", "-pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["lines"] = _decorate(ctx["lines"])
        counts = dict(
            cooperative_lines(self.cooperative)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        status = self.get_status()
        ctx["status"] = status
        ctx["status_filters"] = [
            {"code": "", "label": _("全部"), "count": sum(counts.values()), "current": not status}
        ] + [
            {
                "code": code,
                "label": str(label),
                "count": counts.get(code, 0),
                "current": code == status,
            }
            for code, label in fulfilment.STATUS_LABELS.items()
        ]
        return ctx


class OrderLineDetailView(CooperativePortalMixin, DetailView):
    """One line with what is needed to ship it, and the next step's button."""

    template_name = "cooperatives/portal/orders/line_detail.html"
    context_object_name = "line"

    def get_queryset(self):
        return cooperative_lines(self.cooperative).select_related(
            "order__shipping_address", "order__shipping_address__country", "stockrecord"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        line = self.object
        line.status_label = fulfilment.status_label(line.status)
        ctx["delivery"] = delivery_details(line.order)
        if ctx["delivery"] and self.request.method == "GET":
            # The packer sees the recipient and full address: logged.
            access_log.record(
                self.request,
                [access_log.subject_for_order(line.order)],
                fields=[access_log.NAME, access_log.ADDRESS],
                purpose="packing",
            )
        ctx["actions"] = fulfilment.next_actions(line)
        # Which harvest batch the line is packed from (溯源).
        from cooperatives import traceability

        ctx["batch_link"] = getattr(line, "batch_link", None)
        ctx["batch_choices"] = (
            list(traceability.batches_for_line(line))
            if line.status in (fulfilment.ACCEPTED, fulfilment.PACKED)
            else []
        )
        ctx["history"] = [
            {
                "event": event,
                "from_label": fulfilment.status_label(event.from_status),
                "to_label": fulfilment.status_label(event.to_status),
            }
            for event in fulfilment.history(line)
        ]
        # The cooperative's other lines in the same order (never other
        # cooperatives' lines: the buyer's basket is not theirs to see).
        ctx["sibling_lines"] = _decorate(
            cooperative_lines(self.cooperative)
            .filter(order_id=line.order_id)
            .exclude(pk=line.pk)
            .order_by("pk")
        )
        # The cooperative's shipments carrying this order's lines.
        ctx["shipments"] = [
            decorate(shipment)
            for shipment in cooperative_shipments(self.cooperative)
            .filter(items__line__order_id=line.order_id)
            .distinct()
            .select_related("carrier", "station")
            .order_by("pk")
        ]
        # Refunds of the cooperative's lines of this order (the refund view
        # extends this one, hence imported here).
        from cooperatives.portal.refunds import refund_context

        ctx.update(
            refund_context(
                self.cooperative, self.membership, line, getattr(self, "refund_form", None)
            )
        )
        return ctx


class OrderLineStatusView(CooperativePortalMixin, View):
    """POST ``action`` = accept | pack | hand_over for one of the cooperative's lines."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        line = get_scoped_or_404(cooperative_lines(self.cooperative), pk=pk)
        action = request.POST.get("action", "")
        try:
            line = fulfilment.advance(line, action, cooperative=self.cooperative, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("“%(title)s”（订单 %(number)s）已改为“%(status)s”。")
                % {
                    "title": line.title,
                    "number": line.order.number,
                    "status": fulfilment.status_label(line.status),
                },
            )
        return HttpResponseRedirect(self.next_url(line))

    def next_url(self, line) -> str:
        target = self.request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return reverse("coop:order-line", kwargs={"pk": line.pk})


class PackingListView(CooperativePortalMixin, TemplateView):
    """Printable: the selected lines (``?line=1&line=2``), or every accepted
    line, grouped by order with recipient and address."""

    template_name = "cooperatives/portal/orders/packing_list.html"

    def get_lines(self):
        qs = cooperative_lines(self.cooperative).select_related(
            "order__shipping_address", "order__shipping_address__country"
        )
        selected = [v for v in self.request.GET.getlist("line") if v.isdigit()]
        if selected:
            qs = qs.filter(pk__in=selected)
        else:
            qs = qs.filter(status=fulfilment.ACCEPTED)
        return qs.order_by("order__date_placed", "order_id", "pk"), bool(selected)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        lines, selected = self.get_lines()
        groups: OrderedDict[int, dict] = OrderedDict()
        for line in _decorate(lines):
            group = groups.get(line.order_id)
            if group is None:
                group = groups[line.order_id] = {
                    "order": line.order,
                    "delivery": delivery_details(line.order),
                    "lines": [],
                    "items": 0,
                }
            group["lines"].append(line)
            group["items"] += line.quantity
        ctx["groups"] = list(groups.values())
        # One access-log row per order on the printed list, in one query.
        access_log.record(
            self.request,
            [access_log.subject_for_order(g["order"]) for g in ctx["groups"] if g["delivery"]],
            fields=[access_log.NAME, access_log.ADDRESS],
            purpose="packing list",
        )
        ctx["selected"] = selected
        ctx["printed_at"] = timezone.localtime()
        return ctx


class SalesExportForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=gettext_lazy("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError(_("开始日期不能晚于结束日期。"))
        return data


class _Echo:
    """A file-like object whose write returns the row (for streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def sales_csv_rows(cooperative, start: date | None, end: date | None):
    """The header, then one row per sold line (strings, formula-safe)."""
    yield [
        _("日期"),
        _("订单号"),
        _("商品"),
        _("货号"),
        _("数量"),
        _("单价（元）"),
        _("金额（元）"),
        _("状态"),
    ]
    tz = timezone.get_default_timezone()
    for placed, number, title, sku, quantity, unit, total, status in sales.export_rows(
        cooperative, start=start, end=end
    ):
        if unit is None and quantity:
            unit = (total / quantity).quantize(Decimal("0.01"))
        yield [
            timezone.localtime(placed, tz).date().isoformat(),
            safe_cell(number),
            safe_cell(title),
            safe_cell(sku),
            str(quantity),
            "" if unit is None else f"{unit:.2f}",
            f"{total:.2f}",
            safe_cell(fulfilment.status_label(status)),
        ]


class SalesExportView(CooperativePortalMixin, View):
    """CSV of the cooperative's sold lines (UTF-8 with BOM, so Excel reads
    the Chinese correctly); ``?start=YYYY-MM-DD&end=YYYY-MM-DD`` optional."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = SalesExportForm(request.GET or None)
        if request.GET and not form.is_valid():
            for error in form.errors.get("__all__", []) or [_("请输入正确的日期。")]:
                messages.error(request, error)
            return HttpResponseRedirect(reverse("coop:home"))
        data = form.cleaned_data if form.is_bound else {}
        start, end = data.get("start"), data.get("end")
        writer = csv.writer(_Echo())

        def stream():
            yield "\ufeff"
            for row in sales_csv_rows(self.cooperative, start, end):
                yield writer.writerow(row)

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        span = "-".join(d.strftime("%Y%m%d") for d in (start, end) if d) or "all"
        filename = f"wangnong-sales-{self.cooperative.pk}-{span}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
