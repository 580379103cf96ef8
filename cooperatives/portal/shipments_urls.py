"""/coop/shipments/: the cooperative's shipments (cooperatives/portal/shipments.py)."""

from django.urls import path

from cooperatives.portal import shipments

urlpatterns = [
    path("", shipments.ShipmentListView.as_view(), name="shipments"),
    path("<int:pk>/", shipments.ShipmentDetailView.as_view(), name="shipment"),
    path("<int:pk>/label/", shipments.ShipmentLabelView.as_view(), name="shipment-label"),
    path(
        "<int:pk>/tracking-number/",
        shipments.ShipmentTrackingNumberView.as_view(),
        name="shipment-tracking-number",
    ),
    path("<int:pk>/close/", shipments.ShipmentCloseView.as_view(), name="shipment-close"),
]
