"""The one definition of which products a shopper can browse, and how a
listing loads them without a query per product."""

from django.db.models import Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from oscar.core.loading import get_model

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")


def selling_filter() -> Q:
    """Products (or, for a parent, variants) stocked by a seller that is
    selling: a suspended or unverified cooperative's products disappear."""
    selling = StockRecord.objects.filter(partner__is_selling=True)
    return Q(Exists(selling.filter(product=OuterRef("pk")))) | Q(
        Exists(selling.filter(product__parent=OuterRef("pk")))
    )


def browsable_products() -> QuerySet:
    """Top-level public products of selling cooperatives, with what a
    product card needs prefetched."""
    return (
        Product.objects.browsable()
        .filter(selling_filter())
        .select_related("product_class", "origin")
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("display_order", "pk")),
            Prefetch("stockrecords", queryset=StockRecord.objects.select_related("partner")),
            # Into the attribute Oscar's get_public_children() reads, so its
            # pricing strategy prices a parent without a query per product.
            Prefetch(
                "children",
                queryset=Product.objects.filter(is_public=True).prefetch_related(
                    Prefetch("stockrecords", queryset=StockRecord.objects.select_related("partner"))
                ),
                to_attr="_prefetched_public_children",
            ),
        )
    )


def with_min_price(products: QuerySet) -> QuerySet:
    """Annotate ``min_price``: own stock price, or the cheapest variant's."""
    return products.annotate(
        min_price=Coalesce(Min("stockrecords__price"), Min("children__stockrecords__price"))
    )
