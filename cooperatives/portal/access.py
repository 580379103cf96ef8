"""Who may use the cooperative portal, and on which cooperative's data.

Every portal view uses CooperativePortalMixin: it requires a logged-in user
with a cooperative membership and sets ``self.membership`` and
``self.cooperative``. Every object lookup in the portal must go through the
scoping helpers below (or filter on ``self.cooperative`` itself), so another
cooperative's ids give 404. tests/cooperatives/test_isolation.py walks every
portal URL with another cooperative's ids to hold us to that.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from oscar.core.loading import get_model

from cooperatives.services import membership_for

Line = get_model("order", "Line")


class CooperativePortalMixin(LoginRequiredMixin):
    """Requires a cooperative membership; ``manager_required`` for views only
    managers may use (profile, roles, bank details)."""

    manager_required = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.membership = membership_for(request.user)
        if self.membership is None:
            raise Http404("not a cooperative member")
        if self.manager_required and not self.membership.is_manager:
            raise PermissionDenied
        self.cooperative = self.membership.cooperative
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["cooperative"] = self.cooperative
        ctx["membership"] = self.membership
        return ctx


def cooperative_lines(cooperative) -> QuerySet:
    """Order lines that belong to the cooperative (a basket may span several)."""
    return Line.objects.filter(partner_id=cooperative.partner_id)


def cooperative_shipments(cooperative) -> QuerySet:
    """Shipments the cooperative sends (one per cooperative, so never
    another cooperative's goods)."""
    from logistics.models import Shipment

    return Shipment.objects.filter(partner_id=cooperative.partner_id)


class ScopedObjectMixin:
    """Loads ``self.object`` (by the URL's ``pk``) from
    ``get_scoped_queryset()`` in dispatch, after CooperativePortalMixin has
    found the member's cooperative and before the method handler runs."""

    def get_scoped_queryset(self) -> QuerySet:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        self.object = get_object_or_404(self.get_scoped_queryset(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


def get_scoped_or_404(queryset: QuerySet, **lookup):
    """get_object_or_404 on an already scoped queryset (a readable reminder)."""
    return get_object_or_404(queryset, **lookup)
