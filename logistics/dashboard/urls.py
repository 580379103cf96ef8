"""Platform staff's logistics pages, mounted at /dashboard/logistics/
(config/urls.py). Staff only, like the rest of Oscar's dashboard."""

from django.urls import path

from logistics.dashboard import views

app_name = "logistics-dashboard"
urlpatterns = [
    path("", views.ShipmentListView.as_view(), name="list"),
    path("attention/", views.AttentionListView.as_view(), name="attention"),
    path("unmatched/", views.UnmatchedEventsView.as_view(), name="unmatched"),
    path("costs/", views.CostReportView.as_view(), name="costs"),
    path("carriers/", views.CarrierListView.as_view(), name="carriers"),
    path("<int:pk>/", views.ShipmentDetailView.as_view(), name="detail"),
    path("<int:pk>/carrier/", views.OverrideCarrierView.as_view(), name="override"),
    path("<int:pk>/retry/", views.RetryView.as_view(), name="retry"),
    path("<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("<int:pk>/tracking-number/", views.TrackingNumberView.as_view(), name="tracking-number"),
    path("<int:pk>/status/", views.RecordStatusView.as_view(), name="record-status"),
    path("<int:pk>/close/", views.CloseView.as_view(), name="close"),
    path("<int:pk>/label/", views.LabelView.as_view(), name="label"),
]
