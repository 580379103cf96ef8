"""Oscar's dashboard order page, logged.

``config/urls.py`` routes ``/dashboard/orders/<number>/`` here ahead of
Oscar's dashboard: the same view (Oscar's class, loaded by Oscar) behind
the same permission rule (the orders dashboard's own decorator for
``order-detail``), plus one access-log row when the page, which shows the
buyer's full shipping address and phone, is served.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from oscar.core.loading import get_model

from privacy import access_log


@cache
def _oscar_view():
    config = apps.get_app_config("orders_dashboard")
    view = config.order_detail_view.as_view()
    decorator = config.get_url_decorator(SimpleNamespace(name="order-detail"))
    return decorator(view) if decorator else view


def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    response = _oscar_view()(request, number=number)
    if request.method == "GET" and response.status_code == 200:
        Order = get_model("order", "Order")
        order = Order.objects.filter(number=number).only("pk", "user_id").first()
        if order is not None:
            access_log.record(
                request,
                [access_log.subject_for_order(order)],
                fields=[access_log.NAME, access_log.PHONE, access_log.ADDRESS],
                view="dashboard:order-detail",
                purpose="staff order page",
            )
    return response
