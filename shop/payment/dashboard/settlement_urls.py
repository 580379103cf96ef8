"""Platform staff's settlement statements, mounted at /dashboard/settlements/
(config/urls.py). Staff only, like the rest of Oscar's dashboard."""

from django.urls import path

from shop.payment.dashboard import settlement_views as views

app_name = "settlements-dashboard"
urlpatterns = [
    path("", views.StatementListView.as_view(), name="list"),
    path("<slug:statement_number>/", views.StatementDetailView.as_view(), name="detail"),
    path("<slug:statement_number>.pdf", views.StatementPdfView.as_view(), name="pdf"),
    path("<slug:statement_number>.csv", views.StatementCsvView.as_view(), name="csv"),
]
