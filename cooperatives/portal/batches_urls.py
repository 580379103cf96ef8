"""/coop/batches/: harvest batches (溯源)."""

from django.urls import path

from cooperatives.portal import batches

urlpatterns = [
    path("", batches.BatchListView.as_view(), name="batches"),
    path("new/", batches.BatchFormView.as_view(), name="batch-create"),
    path("<int:pk>/", batches.BatchFormView.as_view(), name="batch-edit"),
    path("<int:pk>/qr.png", batches.BatchQrView.as_view(kind="png"), name="batch-qr-png"),
    path("<int:pk>/qr.svg", batches.BatchQrView.as_view(kind="svg"), name="batch-qr-svg"),
    path("<int:pk>/label/", batches.BatchLabelView.as_view(), name="batch-label"),
]
