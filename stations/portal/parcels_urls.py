"""/station/parcels/: the parcel desk, arrivals and hand-overs."""

from django.urls import path

from stations.portal import parcels

urlpatterns = [
    path("", parcels.ParcelListView.as_view(), name="parcels"),
    path("arrival/", parcels.ArrivalView.as_view(), name="parcel-arrival"),
    path("handover/", parcels.HandoverView.as_view(), name="parcel-handover"),
]
