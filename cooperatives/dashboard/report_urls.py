"""/dashboard/listing-reports/: platform staff review reports of listings
(/dashboard/reports/ is Oscar's own reports dashboard)."""

from django.urls import path

from cooperatives import report_views as views

app_name = "reports-dashboard"
urlpatterns = [
    path("", views.StaffReportListView.as_view(), name="list"),
    path("<int:pk>/", views.StaffReportDetailView.as_view(), name="detail"),
]
