"""/station/cash/: the drawer, the daily close and past closes."""

from django.urls import path

from stations.portal import cash

urlpatterns = [
    path("", cash.CashView.as_view(), name="cash"),
    path("closes/<int:pk>/", cash.CloseDetailView.as_view(), name="cash-close"),
]
