"""Oscar's product page, except that a product whose cooperative is not
selling (awaiting verification, rejected or suspended) is not found: the same
rule as listings and search (shop.catalogue.listing.selling_filter). Staff
still see it, as Oscar lets them see products that are not public.

Oscar's catalogue app loads ``ProductDetailView`` from here with get_class;
the catalogue and category views still come from shop/search/views.py.
"""

from typing import Any

from django.db.models import QuerySet
from oscar.apps.catalogue.views import ProductDetailView as CoreProductDetailView

from cooperatives.models import Cooperative
from shop.catalogue import reviews
from shop.catalogue.listing import (
    prefetch_variant_attributes,
    product_page_products,
    selling_filter,
)


class ProductDetailView(CoreProductDetailView):
    def get_queryset(self) -> QuerySet:
        queryset = product_page_products()
        if self.request.user.is_staff:
            return queryset
        return queryset.filter(selling_filter())

    def get_object(self, queryset: QuerySet | None = None) -> Any:
        """Oscar's look-up on ``get_queryset()``, then the variants'
        attribute values its add-to-basket form reads."""
        if hasattr(self, "object"):
            return self.object
        product = super().get_object(queryset)
        prefetch_variant_attributes(product)
        return product

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["seller_cooperative"] = self.seller_cooperative()
        ctx["approved_reviews"], ctx["more_reviews"] = reviews.latest_approved(self.object)
        ctx["may_review"] = reviews.may_review(self.request.user, self.object)
        return ctx

    def seller_cooperative(self) -> Cooperative | None:
        """The verified cooperative selling this product (the first, if
        several do), for a link to its page: read from the prefetched stock
        records (shop/catalogue/listing.product_page_products)."""
        product = self.object
        records = list(product.stockrecords.all())
        for child in product.get_public_children() if product.is_parent else ():
            records.extend(child.stockrecords.all())
        cooperatives = {
            coop.pk: coop
            for record in records
            if (coop := getattr(record.partner, "cooperative", None)) is not None
            and coop.status == Cooperative.Status.VERIFIED
        }
        return cooperatives[min(cooperatives)] if cooperatives else None
