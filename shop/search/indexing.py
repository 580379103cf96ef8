"""Build and store a product's search document.

Called from signals when a product, its stock records, its cooperative or its
categories change, and by ``manage.py rebuild_product_index`` after bulk loads
(which rebuilds the CMS pages' documents too).
Only top-level products (standalone and parents) are indexed: browsing and
search list those, and a parent's document includes its variants' titles.
"""

from django.conf import settings
from django.utils import translation
from django.utils.html import strip_tags
from oscar.core.loading import get_model

from config import page_cache
from shop.search.models import ProductSearchDocument
from shop.search.tokens import document_terms, join_terms

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")


def _top_level(product):
    return product.parent if product.is_child and product.parent_id else product


def build_document(product, category_paths: dict | None = None) -> ProductSearchDocument:
    """The (unsaved) search document for a top-level product.

    Built in the site's default language whatever the language of the request
    that triggered it, so the index does not depend on who saved last.
    ``category_paths`` (from ``category_paths()``) saves a query per category
    when many products are built at once.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _build_document(product, category_paths)


def category_paths() -> dict[int, list[str]]:
    """Every category's name and its ancestors' names, root first, by pk
    (treebeard's materialised path: an ancestor's path is a prefix)."""
    rows = list(Category.objects.values_list("pk", "path", "name"))
    names = {path: name for _pk, path, name in rows}
    step = Category.steplen
    return {
        pk: [names[path[:end]] for end in range(step, len(path) + 1, step) if path[:end] in names]
        for pk, path, _name in rows
    }


def _build_document(product, paths: dict | None = None) -> ProductSearchDocument:
    variants = list(product.children.all()) if product.is_parent else []
    title_text = " ".join([product.title] + [v.title for v in variants])

    body_parts: list[str] = []
    partners = {sr.partner.name for sr in product.stockrecords.all()}
    for v in variants:
        partners.update(sr.partner.name for sr in v.stockrecords.all())
    body_parts.extend(sorted(partners))
    for category in product.categories.all():
        if paths is not None and category.pk in paths:
            body_parts.extend(paths[category.pk])
        else:
            body_parts.extend(c.name for c in category.get_ancestors_and_self())
    origin = product.origin
    if origin is not None:
        from divisions.services import path_names

        body_parts.extend(path_names(origin.code))
    body_parts.extend(product.get_certification_labels())
    if product.product_class_id:
        body_parts.append(product.product_class.name)
    body_parts.append(strip_tags(product.description or ""))

    return ProductSearchDocument(
        product=product,
        title_terms=join_terms(document_terms(title_text, unigrams=True)),
        body_terms=join_terms(document_terms(" ".join(body_parts))),
    )


def index_product(product) -> None:
    """(Re)index the top-level product that ``product`` belongs to."""
    product = _top_level(product)
    if product.pk is None:
        return
    doc = build_document(product)
    ProductSearchDocument.objects.update_or_create(
        product=product,
        defaults={"title_terms": doc.title_terms, "body_terms": doc.body_terms},
    )


def index_product_ids(product_ids) -> None:
    for product in (
        Product.objects.filter(pk__in=list(product_ids))
        .select_related("parent", "product_class", "origin")
        .prefetch_related("stockrecords__partner", "categories", "children__stockrecords__partner")
    ):
        index_product(product)
    page_cache.site_changed()  # search results cached before the new documents


def rebuild_index(batch_size: int = 500) -> int:
    """Rebuild every top-level product's document and every CMS page's
    (shop/search/page_indexing.py); returns how many products."""
    from shop.search.page_indexing import rebuild_page_index

    rebuild_page_index()
    ids = list(Product.objects.filter(parent__isnull=True).values_list("pk", flat=True))
    ProductSearchDocument.objects.exclude(product_id__in=ids).delete()
    paths = category_paths()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        products = (
            Product.objects.filter(pk__in=chunk)
            .select_related("product_class", "origin")
            .prefetch_related(
                "stockrecords__partner", "categories", "children__stockrecords__partner"
            )
        )
        docs = [build_document(p, paths) for p in products]
        ProductSearchDocument.objects.filter(product_id__in=chunk).delete()
        ProductSearchDocument.objects.bulk_create(docs)
    page_cache.site_changed()  # bulk_create sends no signal
    return len(ids)
