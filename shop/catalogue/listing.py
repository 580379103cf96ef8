"""The one definition of which products a shopper can browse, and how a
listing loads them without a query per product."""

from django.db.models import Exists, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from oscar.core.loading import get_model

Option = get_model("catalogue", "Option")
Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")


def selling_filter() -> Q:
    """Products (or, for a parent, variants) stocked by a seller that is
    selling: a suspended or unverified cooperative's products disappear."""
    # One EXISTS over the product and its variants, not two OR-ed: PostgreSQL
    # cannot make OR-ed EXISTS a semi-join, and hashes every selling stock
    # record up front (80 ms at 20,000 products) even for a page of eight.
    stocked = Product.objects.filter(
        Q(pk=OuterRef("pk")) | Q(parent=OuterRef("pk")), stockrecords__partner__is_selling=True
    )
    return Q(Exists(stocked))


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


def product_page_products() -> QuerySet:
    """Products with what the product page reads prefetched: class, origin,
    categories (breadcrumbs), images, stock records with their partner and
    its cooperative, public variants with theirs, and the annotations Oscar's
    add-to-basket form reads instead of asking whether there are options.
    A fixed few queries whatever the number of photos or variants; see
    ``prefetch_variant_attributes`` for the variants' attribute summaries."""
    stock = StockRecord.objects.select_related("partner", "partner__cooperative")
    return (
        Product.objects.select_related("product_class", "origin", "parent")
        .annotate(
            has_product_class_options=Exists(
                Option.objects.filter(productclass=OuterRef("product_class"))
            ),
            has_product_options=Exists(Option.objects.filter(product=OuterRef("pk"))),
        )
        .prefetch_related(
            "categories",
            Prefetch("images", queryset=ProductImage.objects.order_by("display_order", "pk")),
            Prefetch("stockrecords", queryset=stock),
            Prefetch(
                "children",
                queryset=Product.objects.filter(is_public=True)
                .order_by("pk")
                .prefetch_related(Prefetch("stockrecords", queryset=stock)),
                to_attr="_prefetched_public_children",
            ),
        )
    )


def prefetch_variant_attributes(product) -> None:
    """For a parent: its and its public variants' attribute values, where
    Oscar's ``get_attribute_values()`` looks first (the add-to-basket form
    labels each variant with its attribute summary). Two queries however
    many variants; nothing for a product without variants."""
    from django.db.models import prefetch_related_objects

    if not product.is_parent:
        return
    values = ProductAttributeValue.objects.select_related("attribute", "value_option")
    prefetch_related_objects(
        [product],
        Prefetch(
            "attribute_values", queryset=values, to_attr="_prefetched_parent_attribute_values"
        ),
    )
    prefetch_related_objects(
        list(product.get_public_children()),
        Prefetch("attribute_values", queryset=values, to_attr="_prefetched_attribute_values"),
    )


def with_min_price(products: QuerySet) -> QuerySet:
    """Annotate ``min_price``: own stock price, or the cheapest variant's.

    Two correlated subqueries on the stock records' product index rather
    than joins and a GROUP BY over every product column: sorting a city's
    catalogue by price groups nothing."""
    own = (
        StockRecord.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(low=Min("price"))
        .values("low")[:1]
    )
    variants = (
        StockRecord.objects.filter(product__parent=OuterRef("pk"))
        .order_by()
        .values("product__parent")
        .annotate(low=Min("price"))
        .values("low")[:1]
    )
    return products.annotate(min_price=Coalesce(Subquery(own), Subquery(variants)))
