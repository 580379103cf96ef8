"""URL layout: Django admin, Oscar's shop at the root (minus its home
redirect), Oscar's dashboard, Wagtail's admin and documents, and finally
Wagtail's catch-all page serving, which must stay last."""

import re

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import set_language
from wagtail import urls as wagtail_urls
from wagtail import views as wagtail_views
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import statistics_views
from config import health, views
from privacy import dashboard_views as privacy_dashboard_views

# Oscar's root patterns without its "/" redirect to the catalogue and without
# the dashboard (mounted directly below); "home" is re-pointed at Wagtail.
oscar_urls = [
    p
    for p in apps.get_app_config("oscar").urls[0]
    if getattr(p, "name", None) != "home" and str(p.pattern) != "dashboard/"
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("django-admin/", admin.site.urls),
    path("cms-admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("dashboard/cooperatives/", include("cooperatives.dashboard.urls")),
    path("dashboard/stations/", include("stations.dashboard.urls")),
    path("dashboard/logistics/", include("logistics.dashboard.urls")),
    path("dashboard/settlements/", include("shop.payment.dashboard.settlement_urls")),
    path("dashboard/payments/", include("shop.payment.dashboard.urls")),
    path("dashboard/complaints/", include("cooperatives.dashboard.complaint_urls")),
    path("dashboard/privacy/", include("privacy.dashboard_urls")),
    # Oscar's order page, with the access to the buyer's address logged
    # (named as Oscar's, so its dashboard menu finds the permissions).
    re_path(
        r"^dashboard/orders/(?P<number>(?!statistics/)[^/]+)/$",
        privacy_dashboard_views.order_detail,
        name="order-detail",
    ),
    # Not /dashboard/reports/: that is Oscar's own reports dashboard.
    path("dashboard/listing-reports/", include("cooperatives.dashboard.report_urls")),
    path("dashboard/", apps.get_app_config("dashboard").urls),
    path("accounts/two-factor/", include("config.two_factor")),
    path("divisions/", include("divisions.urls")),
    path("coop/", include("cooperatives.portal.urls")),
    path("complaints/", include("cooperatives.complaint_urls")),
    path("cooperatives/", include("cooperatives.urls")),
    path("t/", include("cooperatives.trace_urls")),
    path("station/", include("stations.portal.urls")),
    path("logistics/", include("logistics.urls")),
    path("payments/", include("shop.payment.urls")),
    path("accounts/privacy/", include("privacy.urls")),
    path("", include("cms.learning_urls")),  # /learning/, /certificates/
    path("statistics/figures.csv", statistics_views.figures_csv, name="statistics-csv"),
    path("", wagtail_views.serve, {"path": ""}, name="home"),
    path("", include(oscar_urls)),
]

if settings.SERVE_MEDIA and settings.MEDIA_URL.startswith("/"):
    # django.conf.urls.static.static() does nothing when DEBUG is off, but
    # SERVE_MEDIA also serves media to production-like runs (the load
    # harness, bench/page_weight.py) that have no separate media server.
    from django.views.static import serve as serve_media

    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            serve_media,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

urlpatterns += [path("", include(wagtail_urls))]

handler404 = views.page_not_found
handler500 = views.server_error
