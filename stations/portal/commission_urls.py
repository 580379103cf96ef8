"""/station/commission/: the station's monthly commission statement."""

from django.urls import path

from stations.portal import commission

urlpatterns = [
    path("", commission.CommissionView.as_view(), name="commission"),
]
