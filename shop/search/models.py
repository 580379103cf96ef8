"""The product search index: one row of pre-tokenised terms per product.

A table of its own (rather than columns on Product) so re-indexing never
touches the product row or fires its signals. On PostgreSQL a GIN index over
a weighted tsvector built straight from the term lists serves the queries
(migration 0002); on SQLite the same rows are matched with LIKE.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductSearchDocument(models.Model):
    product = models.OneToOneField(
        "catalogue.Product",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    # Title and variant names: ranked highest.
    title_terms = models.TextField(blank=True)
    # Cooperative, category, origin, description.
    body_terms = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商品搜索索引")
        verbose_name_plural = _("商品搜索索引")
