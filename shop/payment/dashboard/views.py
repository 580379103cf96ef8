"""Platform staff's payment pages in Oscar's dashboard (/dashboard/payments/).

* the overview: recent refunds, and online payments that need someone to
  look at them (paid but the order could not be placed and the automatic
  refund has not gone through; disputes; refunds made at Stripe that our
  books do not know; errors);
* an order's refund page: what each line and the shipping cost, what is
  refunded and what is left, one amount per line, and "全额退款".

The views only read and validate; every rule is in shop/payment/refunds.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View
from oscar.core.loading import get_model
from oscar.views.decorators import permissions_required

from shop.payment import accounting, refunds
from shop.payment.ledger import LedgerError
from shop.payment.models import Refund, StripePayment
from shop.payment.refund_forms import RefundForm, refused_by_stripe, rows_for

Order = get_model("order", "Order")

# Oscar's dashboard rule, as in the stations and logistics dashboards: staff
# only; others are sent to the dashboard login (signed-in non-staff get 403).
staff_required = method_decorator(
    permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login")),
    name="dispatch",
)

RECENT_REFUNDS = 50
ATTENTION_LIMIT = 100


def payments_needing_attention() -> list[dict[str, Any]]:
    """Online payments someone must look at, each with why, newest first."""
    ours = (
        Refund.objects.filter(
            order_id=OuterRef("order_id"), via=Refund.Via.STRIPE, status__in=refunds.COUNTED
        )
        .order_by()
        .values("order_id")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    automatic = Case(
        # An automatic refund ("re_…"; a released card authorisation is
        # "pi_…" and moved no money).
        When(auto_refund_id__startswith="re_", then=F("amount_received")),
        default=0,
        output_field=IntegerField(),
    )
    unplaced = Q(
        placement=StripePayment.Placement.REFUSED,
        auto_refund_id="",
        status__in=(StripePayment.Status.SUCCEEDED, StripePayment.Status.AUTHORISED),
    )
    payments = (
        StripePayment.objects.annotate(
            ours=Coalesce(Subquery(ours, output_field=IntegerField()), 0),
            known=F("ours") + automatic,
        )
        .filter(unplaced | Q(disputed=True) | ~Q(last_error="") | Q(amount_refunded__gt=F("known")))
        .select_related("order")
        .order_by("-updated_at", "-pk")[:ATTENTION_LIMIT]
    )
    rows = []
    for payment in payments:
        reasons = []
        if (
            payment.placement == StripePayment.Placement.REFUSED
            and not payment.auto_refund_id
            and payment.status in (StripePayment.Status.SUCCEEDED, StripePayment.Status.AUTHORISED)
        ):
            reasons.append(_("已付款但未能下单，自动退款还没有完成"))
        if payment.disputed:
            reasons.append(
                _("买家提出争议（拒付）：%(status)s")
                % {"status": payment.dispute_status or _("处理中")}
            )
        if payment.amount_refunded > payment.known:
            reasons.append(
                _("Stripe 上有 ¥%(amount)s 的退款不是在本平台发起的")
                % {"amount": refunds.yuan(payment.amount_refunded - payment.known)}
            )
        if payment.last_error:
            reasons.append(_("最近错误：%(error)s") % {"error": payment.last_error[:300]})
        rows.append({"payment": payment, "reasons": reasons})
    return rows


@staff_required
class OverviewView(TemplateView):
    template_name = "payment/dashboard/overview.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        number = "".join(request.GET.get("number", "").split())[:128]
        if number:
            if Order.objects.filter(number=number).exists():
                return redirect("payments-dashboard:refund", number=number)
            messages.error(request, _("没有找到订单 %(number)s。") % {"number": number})
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["attention"] = payments_needing_attention()
        ctx["refunds"] = list(
            Refund.objects.select_related("order", "requested_by", "partner").order_by(
                "-created_at", "-pk"
            )[:RECENT_REFUNDS]
        )
        ctx["number"] = self.request.GET.get("number", "")
        return ctx


def via_hint(order) -> str:
    """How a refund of ``order`` goes back, in words, before one is made."""
    try:
        code = accounting.payment_account_code(order)
    except LedgerError:
        return _("这笔订单没有付款记录，不能退款。")
    if code == "provider:stripe":
        return _("在线付款：通过 Stripe 原路退回买家的付款账户。")
    if code == "receivable:cod":
        if refunds.choose_via(order, 1) == Refund.Via.UNCOLLECTED:
            return _("货到付款，尚未收款：退款部分买家不用再付，无需退现金。")
        return _("货到付款，已收款：由配送员或平台退还现金。")
    return _("服务站现金付款：由服务站从钱箱退还现金。")


@staff_required
class OrderRefundView(View):
    """GET the form; POST refunds through the service and comes back here."""

    template_name = "payment/dashboard/refund.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.order = get_object_or_404(Order, number=kwargs["number"])
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data=None) -> RefundForm:
        left = refunds.refundable(self.order)
        return RefundForm(data, rows=rows_for(self.order, left), shipping=left.shipping)

    def render_page(self, form: RefundForm) -> HttpResponse:
        left = refunds.refundable(self.order)
        ctx = {
            "order": self.order,
            "form": form,
            "left": left,
            "via_hint": via_hint(self.order),
            "stripe_payment": refunds.stripe_payment_of(self.order),
            "refunds": refunds.refunds_of(self.order),
        }
        return render(self.request, self.template_name, ctx)

    def get(self, request: HttpRequest, number: str) -> HttpResponse:
        return self.render_page(self.get_form())

    def post(self, request: HttpRequest, number: str) -> HttpResponse:
        form = self.get_form(request.POST)
        if form.is_valid():
            lines, shipping = form.amounts()
            try:
                done = refunds.refund(
                    self.order,
                    lines=lines,
                    shipping=shipping,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    token=form.cleaned_data["token"],
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
                        "number": self.order.number,
                        "amount": refunds.yuan(done.amount),
                        "via": done.get_via_display(),
                    },
                )
                return redirect("payments-dashboard:refund", number=self.order.number)
        messages.error(request, _("没有退款，请查看下面的提示。"))
        return self.render_page(form)
