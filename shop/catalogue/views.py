"""Oscar's product page, except that a product whose cooperative is not
selling (awaiting verification, rejected or suspended) is not found: the same
rule as listings and search (shop.catalogue.listing.selling_filter). Staff
still see it, as Oscar lets them see products that are not public.

Oscar's catalogue app loads ``ProductDetailView`` from here with get_class;
the catalogue and category views still come from shop/search/views.py.
"""

from typing import Any

from django.db.models import Q, QuerySet
from oscar.apps.catalogue.views import ProductDetailView as CoreProductDetailView

from cooperatives.models import Cooperative
from shop.catalogue import reviews
from shop.catalogue.listing import selling_filter


class ProductDetailView(CoreProductDetailView):
    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if self.request.user.is_staff:
            return queryset
        return queryset.filter(selling_filter())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["seller_cooperative"] = self.seller_cooperative()
        ctx["approved_reviews"], ctx["more_reviews"] = reviews.latest_approved(self.object)
        ctx["may_review"] = reviews.may_review(self.request.user, self.object)
        return ctx

    def seller_cooperative(self) -> Cooperative | None:
        """The verified cooperative selling this product, for a link to its page."""
        product = self.object
        return (
            Cooperative.objects.filter(status=Cooperative.Status.VERIFIED)
            .filter(
                Q(partner__stockrecords__product=product)
                | Q(partner__stockrecords__product__parent=product)
            )
            .order_by("pk")
            .first()
        )
