"""The report pages: anyone's "举报" form for a product on sale
(/cooperatives/report/<product pk>/) and platform staff's queue
(/dashboard/reports/). Thin: the rules are cooperatives/reports.py; a
refusal comes back on the form as it was typed."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from oscar.core.loading import get_model

from cooperatives import reports
from cooperatives.complaint_forms import add_service_errors
from cooperatives.models import ListingReport
from shop.payment.dashboard.views import staff_required

Product = get_model("catalogue", "Product")


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("举报类型"),
        choices=ListingReport.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择举报类型。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("举报理由"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=reports.REASON_MAX,
        help_text=gettext_lazy("请写明您发现的问题，例如包装、产地或证书与实际不符之处。"),
        error_messages={"required": gettext_lazy("请写明举报理由。")},
    )
    contact = forms.CharField(
        label=gettext_lazy("联系方式（选填）"),
        required=False,
        max_length=reports.CONTACT_MAX,
        help_text=gettext_lazy("留下电子邮箱，处理后我们会告诉您结果。"),
    )


def _client_ip(request) -> str:
    # Behind trusted proxies, the address the outermost one saw.
    from config.ratelimit import client_ip

    return client_ip(request)


class ReportCreateView(View):
    template_name = "cooperatives/reports/create.html"

    def dispatch(self, request, *args, **kwargs):
        self.product = get_object_or_404(reports.reportable_products(), pk=kwargs["product_pk"])
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form):
        return render(self.request, self.template_name, {"product": self.product, "form": form})

    def get(self, request, product_pk):
        return self.render_page(ReportForm())

    def post(self, request, product_pk):
        form = ReportForm(request.POST)
        if form.is_valid():
            if not request.user.is_authenticated and not request.session.session_key:
                request.session.save()
            try:
                reports.file_report(
                    self.product,
                    user=request.user,
                    session_key=request.session.session_key or "",
                    ip=_client_ip(request),
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    contact=form.cleaned_data["contact"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("cooperatives:report-done", product_pk=self.product.pk)
        return self.render_page(form)


class ReportDoneView(View):
    def get(self, request, product_pk):
        product = get_object_or_404(reports.reportable_products(), pk=product_pk)
        return render(request, "cooperatives/reports/done.html", {"product": product})


# --- Staff -------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            (reports.Decision.DISMISS, gettext_lazy("不予处理")),
            (reports.Decision.UNPUBLISH, gettext_lazy("下架商品")),
            (reports.Decision.SUSPEND, gettext_lazy("暂停合作社")),
        ],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=gettext_lazy("处理说明"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=reports.REASON_MAX,
        error_messages={"required": gettext_lazy("请写明处理说明，举报人和合作社会看到它。")},
    )


class RestoreForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("恢复说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=reports.REASON_MAX,
    )


@staff_required
class StaffReportListView(View):
    template_name = "cooperatives/reports/staff_list.html"

    def get(self, request):
        return render(request, self.template_name, {"rows": reports.open_queue()})


@staff_required
class StaffReportDetailView(View):
    template_name = "cooperatives/reports/staff_detail.html"

    def dispatch(self, request, *args, **kwargs):
        self.product = get_object_or_404(Product.objects.filter(parent=None), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form=None, restore_form=None, status=200):
        product = self.product
        all_reports = list(reports.reports_of(product))
        ctx = {
            "product": product,
            "cooperative": reports.cooperative_of(product),
            "reports": all_reports,
            "open_count": sum(1 for r in all_reports if r.status == ListingReport.Status.OPEN),
            "withdrawal": reports.active_withdrawal(product),
            "form": form or DecisionForm(),
            "restore_form": restore_form or RestoreForm(),
        }
        return render(self.request, self.template_name, ctx, status=status)

    def get(self, request, pk):
        return self.render_page()

    def post(self, request, pk):
        if request.POST.get("decision") == "restore":
            restore_form = RestoreForm(request.POST)
            if restore_form.is_valid():
                try:
                    reports.restore(
                        self.product, by=request.user, note=restore_form.cleaned_data["note"]
                    )
                except ValidationError as exc:
                    add_service_errors(restore_form, exc)
                else:
                    messages.success(request, _("已解除平台下架，合作社可以重新上架。"))
                    return redirect("reports-dashboard:detail", pk=pk)
            return self.render_page(restore_form=restore_form)
        form = DecisionForm(request.POST)
        if form.is_valid():
            decision = form.cleaned_data["decision"]
            try:
                outcome = reports.decide(
                    self.product, decision, by=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    {
                        reports.Decision.DISMISS: _("已处理：不予处理。"),
                        reports.Decision.UNPUBLISH: _("商品已下架，合作社不能自行重新上架。"),
                        reports.Decision.SUSPEND: _("合作社已暂停销售，其商品已全部下架。"),
                    }[decision],
                )
                if outcome is not None:
                    suspension_messages(request, outcome)
                return redirect("reports-dashboard:detail", pk=pk)
        return self.render_page(form=form)


def suspension_messages(request, outcome) -> None:
    """What the suspension did with pending orders, for staff."""
    done = len(outcome.cancelled) + len(outcome.station_cancelled)
    if done:
        messages.info(
            request,
            _("已取消并退款 %(n)s 笔订单中未发出的商品：%(numbers)s")
            % {"n": done, "numbers": "、".join(outcome.cancelled + outcome.station_cancelled)},
        )
    for number, why in outcome.left:
        messages.warning(
            request,
            _("订单 %(number)s 需要人工处理：%(why)s") % {"number": number, "why": why},
        )
