"""The cooperative's settlement statements (/coop/statements/): what the
platform owes it (待结算: earned, not on a statement yet; 待付款: on
statements not paid yet), its statements, each with its order lines, as
PDF and CSV.

Statements are looked up among the cooperative's own
(``settlement.cooperative_statements``), so another cooperative's number is
a 404. The rules are in shop/payment/settlement.py.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.generic import ListView, TemplateView, View

from cooperatives.portal.access import CooperativePortalMixin
from shop.payment import settlement, statement_documents

PER_PAGE = 20


class StatementScopeMixin:
    """Loads ``self.statement`` by its number among the cooperative's own."""

    def get_statement(self):
        return get_object_or_404(
            settlement.cooperative_statements(self.cooperative.partner),
            number=self.kwargs["statement_number"],
        )


class StatementListView(CooperativePortalMixin, ListView):
    template_name = "cooperatives/portal/statements/list.html"
    context_object_name = "statements"
    paginate_by = PER_PAGE

    def get_queryset(self):
        return settlement.cooperative_statements(self.cooperative.partner).order_by(
            "-period_end", "-pk"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["balance"] = settlement.balance(self.cooperative.partner)
        ctx["return_window_days"] = settings.WANGNONG_RETURN_WINDOW_DAYS
        return ctx


class StatementDetailView(CooperativePortalMixin, StatementScopeMixin, TemplateView):
    template_name = "cooperatives/portal/statements/detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        statement = self.get_statement()
        ctx["statement"] = statement
        ctx["rows"] = statement_documents.statement_rows(statement)
        ctx["return_window_days"] = settings.WANGNONG_RETURN_WINDOW_DAYS
        return ctx


class StatementPdfView(CooperativePortalMixin, StatementScopeMixin, View):
    def get(self, request: HttpRequest, statement_number: str) -> HttpResponse:
        return statement_documents.pdf_download(self.get_statement())


class StatementCsvView(CooperativePortalMixin, StatementScopeMixin, View):
    def get(self, request: HttpRequest, statement_number: str) -> HttpResponse:
        return statement_documents.csv_download(self.get_statement())
