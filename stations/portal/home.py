"""The station portal's landing page: find a resident, start an order, and
today's figures at a glance (orders placed, cash in the drawer, parcels)."""

from __future__ import annotations

from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.views.generic import TemplateView

from stations import cash, parcels, residents
from stations.access import StationPortalMixin, station_orders, station_residents

RECENT_RESIDENTS = 8


def recent_residents(station, limit: int = RECENT_RESIDENTS) -> list:
    """The residents the station served or registered most recently."""
    qs = (
        station_residents(station)
        .select_related("village")
        .annotate(last_seen=Coalesce(Max("orders__created_at"), "created_at"))
        .order_by("-last_seen", "-pk")[:limit]
    )
    rows = list(qs)
    for resident in rows:
        resident.masked = residents.masked_phone(resident)
    return rows


class HomeView(StationPortalMixin, TemplateView):
    template_name = "stations/portal/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        station = self.station
        today = timezone.localdate()
        ctx.update(
            today=today,
            orders_today=station_orders(station).filter(created_at__date=today).count(),
            drawer=cash.drawer(station),
            incoming_count=parcels.incoming(station).count(),
            waiting_count=parcels.waiting(station).count(),
            uncollected_count=parcels.uncollected(station).count(),
            uncollected_days=parcels.uncollected_days(),
            recent_residents=recent_residents(station),
        )
        return ctx
