"""Who may use the station portal (/station/), and on which station's data.

Every portal view uses StationPortalMixin: a signed-in user with an active
StationStaff record at an active station; it sets ``self.staff`` and
``self.station``. Every object lookup must go through the scoped querysets
below (or filter on ``self.station``), so another station's ids give 404.
tests/stations/test_isolation.py walks every URL in the ``station``
namespace with another station's ids to hold us to that.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from stations.models import Parcel, Resident, StationOrder, StationStaff


def staff_record_for(user) -> StationStaff | None:
    """The user's active staff record at a station, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        StationStaff.objects.select_related("station", "station__village")
        .filter(user=user, is_active=True)
        .first()
    )


class StationPortalMixin(LoginRequiredMixin):
    """Requires an active staff record. A suspended station's staff may
    still see their records and hand over parcels, but not place orders
    or take cash (``active_station_required``)."""

    active_station_required = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.staff = staff_record_for(request.user)
        if self.staff is None:
            raise Http404("not station staff")
        self.station = self.staff.station
        if self.active_station_required and not self.station.is_active:
            from django.contrib import messages
            from django.shortcuts import redirect
            from django.utils.translation import gettext as _

            messages.error(request, _("本站已暂停服务，不能代下单或收款。"))
            return redirect("station:home")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["station"] = self.station
        ctx["station_staff"] = self.staff
        return ctx


def station_residents(station) -> QuerySet:
    return Resident.objects.filter(station=station)


def station_orders(station) -> QuerySet:
    return StationOrder.objects.filter(station=station)


def station_parcels(station) -> QuerySet:
    return Parcel.objects.filter(station=station)


def get_scoped_or_404(queryset: QuerySet, **lookup):
    """get_object_or_404 on an already scoped queryset (a readable reminder)."""
    return get_object_or_404(queryset, **lookup)
