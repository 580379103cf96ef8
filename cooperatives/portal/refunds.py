"""A cooperative refunds its own lines of an order (the order page in the
portal, /coop/orders/lines/<pk>/).

Only managers may refund, only the cooperative's own lines, never the
shipping, and at most WANGNONG_COOP_REFUND_LIMIT yuan per order in all;
larger refunds go to the platform. The rules are the refund service's
(shop/payment/refunds.py, called with ``partner=``); this view shows the
form on the order page and reports the service's answer there.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from cooperatives.portal.orders import OrderLineDetailView
from shop.payment import refunds
from shop.payment.refund_forms import RefundForm, refused_by_stripe, rows_for


def refund_context(cooperative, membership, line, form: RefundForm | None = None) -> dict[str, Any]:
    """What the order page shows about refunds of the cooperative's lines:
    the form (managers only), the limit and what is already refunded."""
    order = line.order
    partner = cooperative.partner
    done = refunds.cooperative_refunded(order, partner)
    limit = refunds.cooperative_limit()
    if form is None and membership.is_manager:
        form = RefundForm(rows=rows_for(order, refunds.refundable(order), partner=partner))
    return {
        "refund_form": form,
        "refund_limit": limit,
        "refund_done": done,
        "refund_room": max(limit - done, 0),
    }


class OrderLineRefundView(OrderLineDetailView):
    """POST a refund of the cooperative's lines of the line's order; on a
    refusal the order page comes back with the form as it was typed."""

    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        line = self.get_object()
        return HttpResponseRedirect(reverse("coop:order-line", kwargs={"pk": line.pk}) + "#refund")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = line = self.get_object()
        if not self.membership.is_manager:
            raise PermissionDenied("only managers refund")
        partner = self.cooperative.partner
        order = line.order
        form = RefundForm(
            request.POST, rows=rows_for(order, refunds.refundable(order), partner=partner)
        )
        if form.is_valid():
            lines, _shipping = form.amounts()
            try:
                done = refunds.refund(
                    order,
                    lines=lines,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    token=form.cleaned_data["token"],
                    partner=partner,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
                if refused_by_stripe(exc):
                    form.new_token()
            else:
                messages.success(
                    request,
                    _("订单 %(number)s 已退款 ¥%(amount)s（%(via)s）。")
                    % {
                        "number": order.number,
                        "amount": refunds.yuan(done.amount),
                        "via": done.get_via_display(),
                    },
                )
                return HttpResponseRedirect(
                    reverse("coop:order-line", kwargs={"pk": line.pk}) + "#refund"
                )
        messages.error(request, _("没有退款，请查看下面的提示。"))
        self.refund_form = form
        return self.render_to_response(self.get_context_data(object=line))
