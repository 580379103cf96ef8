"""The station's settlement statements (/station/statements/): what the
platform owes it for its commission (待结算: earned, not on a statement
yet; 待付款: on statements not paid yet), its statements with their orders,
as PDF and CSV. (The monthly commission page, stations/portal/commission.py,
counts orders by month; a statement is what is actually paid.)

Statements are looked up among the station's own
(``settlement.station_statements``), so another station's number is a 404.
The rules are in shop/payment/settlement.py.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.generic import ListView, TemplateView, View

from shop.payment import settlement, statement_documents
from stations.access import StationPortalMixin

PER_PAGE = 20


class StatementScopeMixin:
    """``get_statement()``: the URL's statement among the station's own."""

    def get_statement(self):
        return get_object_or_404(
            settlement.station_statements(self.station), number=self.kwargs["statement_number"]
        )


class StatementListView(StationPortalMixin, ListView):
    template_name = "stations/portal/statements/list.html"
    context_object_name = "statements"
    paginate_by = PER_PAGE

    def get_queryset(self):
        return settlement.station_statements(self.station).order_by("-period_end", "-pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["balance"] = settlement.station_balance(self.station)
        return ctx


class StatementDetailView(StationPortalMixin, StatementScopeMixin, TemplateView):
    template_name = "stations/portal/statements/detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        statement = self.get_statement()
        ctx["statement"] = statement
        ctx["rows"] = statement_documents.statement_rows(statement)
        return ctx


class StatementPdfView(StationPortalMixin, StatementScopeMixin, View):
    def get(self, request: HttpRequest, statement_number: str) -> HttpResponse:
        return statement_documents.pdf_download(self.get_statement())


class StatementCsvView(StationPortalMixin, StatementScopeMixin, View):
    def get(self, request: HttpRequest, statement_number: str) -> HttpResponse:
        return statement_documents.csv_download(self.get_statement())
