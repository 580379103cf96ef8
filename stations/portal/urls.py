"""The station portal, mounted at /station/. Every view is scoped to the
signed-in staff member's station (see stations/access.py)."""

from django.urls import include, path

app_name = "station"
urlpatterns = [
    path("", include("stations.portal.home_urls")),
    path("residents/", include("stations.portal.residents_urls")),
    path("order/", include("stations.portal.ordering_urls")),
    path("orders/", include("stations.portal.orders_urls")),
    path("parcels/", include("stations.portal.parcels_urls")),
    path("cash/", include("stations.portal.cash_urls")),
    path("commission/", include("stations.portal.commission_urls")),
    path("statements/", include("stations.portal.statements_urls")),
    path("training/", include("stations.portal.training_urls")),
]
