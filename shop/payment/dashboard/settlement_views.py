"""Platform staff's settlement statements in Oscar's dashboard
(/dashboard/settlements/): every cooperative's and station's statements,
filtered by party and status; generating the statements for a cut-off day
(the periodic task does it every week on its own); one statement with its
rows and the party's bank details; marking it paid with the bank transfer's
reference; its PDF and CSV.

The rules are in shop/payment/settlement.py; these views read forms, call
it and report. A form with an error is shown again with what was typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from oscar.views.decorators import permissions_required

from shop.payment import settlement, statement_documents
from shop.payment.models import Statement

# Oscar's dashboard rule: staff only; others are sent to the dashboard login
# (signed-in non-staff get 403).
staff_required = method_decorator(
    permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login")),
    name="dispatch",
)

PER_PAGE = 50
Party = Statement.Party

# ?status=: the statement's state as staff think of it.
STATUS_FILTERS = {
    "due": (gettext_lazy("待付款"), Q(status=Statement.Status.ISSUED, payable__gt=0)),
    "paid": (gettext_lazy("已付款"), Q(status=Statement.Status.PAID)),
    "none": (gettext_lazy("无需付款"), Q(status=Statement.Status.ISSUED, payable__lte=0)),
}


class GenerateForm(forms.Form):
    period_end = forms.DateField(
        label=gettext_lazy("截止日"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "包括截止日前送达并已过退货期的合作社订单，以及截止日（含）之前的服务站佣金。"
        ),
    )


class MarkPaidForm(forms.Form):
    bank_reference = forms.CharField(
        label=gettext_lazy("银行流水号"),
        max_length=settlement.BANK_REFERENCE_MAX,
        help_text=gettext_lazy("转账后银行回单上的流水号，标记后不能修改。"),
    )


def _filters(request: HttpRequest) -> dict[str, str]:
    party = request.GET.get("party", "")
    status = request.GET.get("status", "")
    return {
        "party": party if party in Party.values else "",
        "status": status if status in STATUS_FILTERS else "",
        "q": request.GET.get("q", "").strip()[:100],
    }


def filtered_statements(filters: dict[str, str]) -> QuerySet:
    qs = Statement.objects.select_related("partner__cooperative", "station")
    if filters["party"]:
        qs = qs.filter(party=filters["party"])
    if filters["status"]:
        qs = qs.filter(STATUS_FILTERS[filters["status"]][1])
    if filters["q"]:
        q = filters["q"]
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(partner__name__icontains=q)
            | Q(partner__cooperative__display_name__icontains=q)
            | Q(station__name__icontains=q)
        )
    return qs.order_by("-period_end", "party", "number")


@staff_required
class StatementListView(TemplateView):
    """GET: the statements, filtered; POST: generate them for a cut-off day."""

    template_name = "payment/dashboard/settlements/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        filters = _filters(self.request)
        paginator = Paginator(filtered_statements(filters), PER_PAGE)
        page_obj = paginator.get_page(self.request.GET.get("page"))
        ctx.update(
            filters=filters,
            party_choices=Party.choices,
            status_choices=[(code, label) for code, (label, _q) in STATUS_FILTERS.items()],
            statements=page_obj.object_list,
            paginator=paginator,
            page_obj=page_obj,
            is_paginated=page_obj.has_other_pages(),
            generate_form=kwargs.get("generate_form")
            or GenerateForm(initial={"period_end": settlement.latest_period_end()}),
            return_window_days=settings.WANGNONG_RETURN_WINDOW_DAYS,
            today=timezone.localdate(),
        )
        return ctx

    def post(self, request: HttpRequest) -> HttpResponse:
        form = GenerateForm(request.POST)
        if form.is_valid():
            period_end = form.cleaned_data["period_end"]
            try:
                created = settlement.generate_statements(period_end)
            except ValidationError as exc:
                form.add_error("period_end", exc)
            else:
                if created:
                    messages.success(
                        request,
                        _("已生成 %(n)s 张截止到 %(day)s 的结算单。")
                        % {"n": len(created), "day": f"{period_end:%Y-%m-%d}"},
                    )
                else:
                    messages.info(
                        request,
                        _("截止到 %(day)s 没有需要生成的结算单（已生成过，或没有可结算的款项）。")
                        % {"day": f"{period_end:%Y-%m-%d}"},
                    )
                return redirect("settlements-dashboard:list")
        messages.error(request, _("没有生成结算单，请查看下面的提示。"))
        return self.render_to_response(self.get_context_data(generate_form=form))


class StatementMixin:
    def dispatch(self, request, *args, **kwargs):
        self.statement = get_object_or_404(
            Statement.objects.select_related("partner__cooperative", "station", "paid_by"),
            number=kwargs["statement_number"],
        )
        return super().dispatch(request, *args, **kwargs)


@staff_required
class StatementDetailView(StatementMixin, TemplateView):
    """One statement; POST marks it paid."""

    template_name = "payment/dashboard/settlements/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        statement = self.statement
        ctx.update(
            statement=statement,
            party_name=settlement.party_name(statement),
            cooperative=getattr(statement.partner, "cooperative", None)
            if statement.partner_id
            else None,
            rows=statement_documents.statement_rows(statement),
            needs_payment=settlement.needs_payment(statement),
            paid_form=kwargs.get("paid_form") or MarkPaidForm(),
        )
        return ctx

    def post(self, request: HttpRequest, statement_number: str) -> HttpResponse:
        form = MarkPaidForm(request.POST)
        if form.is_valid():
            try:
                statement = settlement.mark_paid(
                    self.statement, form.cleaned_data["bank_reference"], request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("结算单 %(number)s 已标记为已付款（银行流水号 %(ref)s）。")
                    % {"number": statement.number, "ref": statement.bank_reference},
                )
                return redirect("settlements-dashboard:detail", statement_number=statement.number)
        messages.error(request, _("没有标记付款，请查看下面的提示。"))
        self.statement.refresh_from_db()
        return self.render_to_response(self.get_context_data(paid_form=form))


@staff_required
class StatementPdfView(StatementMixin, View):
    def get(self, request: HttpRequest, statement_number: str) -> HttpResponse:
        return statement_documents.pdf_download(self.statement)


@staff_required
class StatementCsvView(StatementMixin, View):
    def get(self, request: HttpRequest, statement_number: str) -> HttpResponse:
        return statement_documents.csv_download(self.statement)
