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


class PageSearchDocument(models.Model):
    """A live, public CMS page's terms, searched from the same box as the
    products (shop/search/page_indexing.py builds it). A page that is
    unpublished, deleted or made private loses its row; the row holds what
    the results list shows, so listing hits needs no per-page query."""

    class Kind(models.TextChoices):
        COURSE = "course", _("课程")
        LESSON = "lesson", _("课时")
        ARTICLE = "article", _("文章")
        PAGE = "page", _("页面")

    page = models.OneToOneField(
        "wagtailcore.Page",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="site_search_document",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The page title: ranked highest.
    title_terms = models.TextField(blank=True)
    # Intro, summary, text blocks, tags, audience, a lesson's course title.
    body_terms = models.TextField(blank=True)
    # Plain text the results list cuts its snippet from.
    excerpt = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("页面搜索索引")
        verbose_name_plural = _("页面搜索索引")
