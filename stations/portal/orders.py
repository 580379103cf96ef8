"""The station's orders: list, detail, cancel, and the printable receipt.

The pickup code is shown only on the receipt (which is audit-logged as
printed each time it is opened), never on the list or the detail page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView

from cooperatives import fulfilment
from stations import ordering
from stations.access import StationPortalMixin, get_scoped_or_404, station_orders
from stations.models import Resident, staff_name

PAPERS = ("80mm", "a4")


class StationOrderMixin:
    """Loads ``self.station_order`` (URL ``pk``) from the station's orders."""

    def dispatch(self, request, *args, **kwargs):
        self.station_order = get_scoped_or_404(
            station_orders(self.station).select_related(
                "order", "resident", "resident__village", "placed_by", "cancelled_by", "station"
            ),
            pk=kwargs["pk"],
        )
        return super().dispatch(request, *args, **kwargs)

    def order_lines(self):
        lines = list(self.station_order.order.lines.order_by("pk"))
        for line in lines:
            line.status_label = fulfilment.status_label(line.status)
        return lines

    def can_cancel(self, lines) -> bool:
        so = self.station_order
        return not so.is_cancelled and all(
            line.status in ordering.CANCELLABLE_LINE_STATUSES for line in lines
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["so"] = self.station_order
        ctx["order"] = self.station_order.order
        return ctx


class OrderListView(StationPortalMixin, ListView):
    template_name = "stations/portal/orders.html"
    context_object_name = "station_orders"
    paginate_by = 20

    def get_queryset(self):
        self.query = " ".join(self.request.GET.get("q", "").split())[:50]
        qs = station_orders(self.station).select_related("order", "resident")
        if self.query:
            digits = "".join(ch for ch in self.query if ch.isdigit())
            condition = Q(resident__name__icontains=self.query)
            if digits:
                condition |= Q(order__number__contains=digits)
            qs = qs.filter(condition)
        return qs.order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["query"] = self.query
        return ctx


class OrderDetailView(StationPortalMixin, StationOrderMixin, TemplateView):
    template_name = "stations/portal/order_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        lines = self.order_lines()
        so = self.station_order
        ctx.update(
            lines=lines,
            can_cancel=self.can_cancel(lines),
            parcels=so.parcels.select_related("partner").order_by("pk"),
            cash_entries=so.cash_entries.select_related("recorded_by").order_by("created_at", "pk"),
            placed_by_name=staff_name(so.placed_by),
            is_home=so.delivery == Resident.Delivery.HOME,
        )
        return ctx


class OrderCancelView(StationPortalMixin, StationOrderMixin, TemplateView):
    template_name = "stations/portal/order_cancel.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        lines = self.order_lines()
        ctx.setdefault("lines", lines)
        ctx.setdefault("can_cancel", self.can_cancel(lines))
        ctx.setdefault("reason", "")
        ctx.setdefault("errors", {})
        return ctx

    def post(self, request, *args, **kwargs):
        reason = request.POST.get("reason", "")
        try:
            ordering.cancel_assisted_order(self.station_order, request.user, reason)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors = {
                    ("reason" if k == "reason" else "general"): v
                    for k, v in exc.message_dict.items()
                }
            else:
                errors = {"general": exc.messages}
            return self.render_to_response(self.get_context_data(reason=reason, errors=errors))
        messages.success(
            request,
            _("订单 %(number)s 已取消，请把 ¥%(total)s 现金退还给居民。")
            % {"number": self.station_order.order.number, "total": self.station_order.total},
        )
        return redirect("station:order-detail", pk=self.station_order.pk)


class ReceiptView(StationPortalMixin, StationOrderMixin, TemplateView):
    """The printable receipt (A4 or 80 mm thermal paper). Opening it is
    recorded in the audit log as a print."""

    template_name = "stations/portal/receipt.html"

    def get(self, request, *args, **kwargs):
        ordering.log_receipt_printed(self.station_order, request.user)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        so = self.station_order
        paper = self.request.GET.get("paper", "")
        ctx.update(
            lines=self.order_lines(),
            paper=paper if paper in PAPERS else "",
            placed_by_name=staff_name(so.placed_by),
            is_home=so.delivery == Resident.Delivery.HOME,
            shipping=so.order.shipping_incl_tax,
        )
        return ctx
