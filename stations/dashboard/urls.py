"""Platform staff's station management, mounted at /dashboard/stations/
(config/urls.py). Staff only, like the rest of Oscar's dashboard."""

from django.urls import path

from stations.dashboard import views

app_name = "stations-dashboard"
urlpatterns = [
    path("", views.StationListView.as_view(), name="list"),
    path("new/", views.StationCreateView.as_view(), name="create"),
    path("commission/", views.CommissionView.as_view(), name="commission"),
    path("locked/", views.LockedListView.as_view(), name="locked"),
    path("locked/<int:pk>/unlock/", views.UnlockView.as_view(), name="unlock"),
    path("residents/<int:pk>/audit/", views.ResidentAuditView.as_view(), name="resident-audit"),
    path("<int:pk>/", views.StationDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.StationUpdateView.as_view(), name="edit"),
    path("<int:pk>/staff/", views.StaffAddView.as_view(), name="staff-add"),
    path(
        "<int:pk>/staff/<int:staff_pk>/deactivate/",
        views.StaffDeactivateView.as_view(),
        name="staff-deactivate",
    ),
    path("<int:pk>/ledger/", views.LedgerView.as_view(), name="ledger"),
    path("<int:pk>/commission/", views.StationCommissionView.as_view(), name="station-commission"),
    path("<int:pk>/residents/", views.ResidentListView.as_view(), name="residents"),
]
