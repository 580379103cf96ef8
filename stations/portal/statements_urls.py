"""/station/statements/: the station's settlement statements
(stations/portal/statements.py)."""

from django.urls import path

from stations.portal import statements

urlpatterns = [
    path("", statements.StatementListView.as_view(), name="statements"),
    path("<slug:statement_number>/", statements.StatementDetailView.as_view(), name="statement"),
    path(
        "<slug:statement_number>.pdf", statements.StatementPdfView.as_view(), name="statement-pdf"
    ),
    path(
        "<slug:statement_number>.csv", statements.StatementCsvView.as_view(), name="statement-csv"
    ),
]
