"""Match a query against product and page search documents, on PostgreSQL
or SQLite.

PostgreSQL: each document table has a stored ``search_vector`` column that
PostgreSQL generates from the term lists with ``array_to_tsvector`` — no
text-search parser touches the terms, so Chinese is matched exactly as jieba
and the bigrams cut it — and a GIN index on it answers ``@@`` queries
(migration 0004; the column is not a model field, as SQLite has no tsvector).
SQLite (the embedded default): LIKE over the space-delimited term lists.
Both rank the hits the same way: a term in the title counts 3, a term only in
the body (cooperative, category, origin …) counts 1. Same terms, same
results, slower on a large catalogue.
Every term must match; if that finds nothing, any term may match (ranked),
so a query with one unknown word still finds something useful.
"""

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from shop.search.tokens import query_terms

DOC = "search_productsearchdocument"
PAGE_DOC = "search_pagesearchdocument"


def pg_vector(table: str) -> str:
    """A document table's stored, GIN-indexed tsvector column (migration 0004)."""
    return f"{table}.search_vector"


def _tsquery(terms: list[str], op: str) -> str:
    # Terms are letters and digits only (see tokens._WORD); quote each lexeme.
    return f" {op} ".join("'" + t.replace("'", "''") + "'" for t in terms)


class _Documents:
    """Where the term lists are: ``prefix`` is the lookup from the queried
    model to them ("search_document__" for products, "" on the document
    model itself), ``table`` the document table."""

    def __init__(self, prefix: str, table: str):
        self.prefix = prefix
        self.table = table

    def in_title(self, term: str) -> Q:
        return Q(**{f"{self.prefix}title_terms__contains": f" {term} "})

    def in_body(self, term: str) -> Q:
        return Q(**{f"{self.prefix}body_terms__contains": f" {term} "})

    def rank(self, terms: list[str]):
        """3 for each term in the title, 1 for each term only in the body."""
        rank = Value(0)
        for term in terms:
            rank = rank + Case(
                When(self.in_title(term), then=Value(3)),
                When(self.in_body(term), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        return rank

    def postgres(self, qs: QuerySet, terms: list[str], op: str) -> QuerySet:
        if self.prefix:
            qs = qs.filter(**{f"{self.prefix.rstrip('_')}__isnull": False})
        return qs.extra(
            where=[f"{pg_vector(self.table)} @@ %s::tsquery"], params=[_tsquery(terms, op)]
        ).annotate(search_rank=self.rank(terms))

    def generic(self, qs: QuerySet, terms: list[str], op: str) -> QuerySet:
        conditions = [self.in_title(term) | self.in_body(term) for term in terms]
        combined = conditions[0]
        for cond in conditions[1:]:
            combined = (combined & cond) if op == "&" else (combined | cond)
        return qs.filter(combined).annotate(search_rank=self.rank(terms))

    def match(self, qs: QuerySet, query: str) -> tuple[QuerySet, bool]:
        """``qs`` narrowed to rows matching ``query``, annotated with
        ``search_rank``, and whether they hold every term: every term
        first, any term if that finds nothing."""
        terms = query_terms(query)
        if not terms:
            return qs.none().annotate(search_rank=Value(0)), True
        matcher = self.postgres if connection.vendor == "postgresql" else self.generic
        hits = matcher(qs, terms, "&")
        if len(terms) > 1 and not hits.exists():
            return matcher(qs, terms, "|"), False
        return hits, True


_PRODUCTS = _Documents("search_document__", DOC)
_PAGES = _Documents("", PAGE_DOC)


def match_products(products: QuerySet, query: str) -> tuple[QuerySet, bool]:
    """``products`` matching ``query``, best match first, and whether they
    hold every term of it (False: only some, the any-term fallback)."""
    hits, every_term = _PRODUCTS.match(products, query)
    return hits.order_by("-search_rank", "-date_created", "pk"), every_term


def search_products(products: QuerySet, query: str) -> QuerySet:
    """``products`` narrowed to those matching ``query``, best match first."""
    return match_products(products, query)[0]


def match_page_documents(documents: QuerySet, query: str) -> tuple[QuerySet, bool]:
    """PageSearchDocument rows matching ``query``, best match first (title
    hits before body hits, then the most recently published), and whether
    they hold every term."""
    hits, every_term = _PAGES.match(documents, query)
    order = ("-search_rank", F("page__last_published_at").desc(nulls_last=True), "page_id")
    return hits.order_by(*order), every_term
