"""The cooperative portal, mounted at /coop/. Every view here is scoped to
the signed-in member's cooperative (see cooperatives/portal/access.py)."""

from django.urls import include, path

from cooperatives.portal import home

app_name = "coop"
urlpatterns = [
    path("", home.PortalHomeView.as_view(), name="home"),
    path("products/", include("cooperatives.portal.listings_urls")),
    path("members/", include("cooperatives.portal.members_urls")),
    path("imports/", include("cooperatives.portal.imports_urls")),
    path("orders/", include("cooperatives.portal.orders_urls")),
    path("batches/", include("cooperatives.portal.batches_urls")),
    path("shipments/", include("cooperatives.portal.shipments_urls")),
    path("statements/", include("cooperatives.portal.statements_urls")),
    path("profile/", include("cooperatives.portal.profile_urls")),
    path("complaints/", include("cooperatives.portal.complaints_urls")),
]
