"""Public cooperative pages and self-service registration (/cooperatives/)."""

from django.urls import path

from cooperatives import report_views, views

app_name = "cooperatives"
urlpatterns = [
    path("", views.CooperativeListView.as_view(), name="list"),
    path("apply/", views.ApplyView.as_view(), name="apply"),
    path("apply/done/", views.ApplyDoneView.as_view(), name="apply-done"),
    path("<int:pk>/", views.CooperativeDetailView.as_view(), name="detail"),
    path("report/<int:product_pk>/", report_views.ReportCreateView.as_view(), name="report"),
    path(
        "report/<int:product_pk>/done/", report_views.ReportDoneView.as_view(), name="report-done"
    ),
]
