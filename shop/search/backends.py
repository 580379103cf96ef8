"""Match a query against product search documents, on PostgreSQL or SQLite.

PostgreSQL: the term lists become a tsvector with ``array_to_tsvector`` — no
text-search parser touches the terms, so Chinese is matched exactly as jieba
and the bigrams cut it — and a GIN index on that expression answers ``@@``
queries. (The expression's ``setweight`` calls change nothing: weights live on
positions and ``array_to_tsvector`` makes none, so ``ts_rank`` cannot tell the
title from the body. The expression stays as migration 0002 indexed it.)
SQLite (the embedded default): LIKE over the space-delimited term lists.
Both rank the hits the same way: a term in the title counts 3, a term only in
the body (cooperative, category, origin …) counts 1. Same terms, same
results, slower on a large catalogue.
Every term must match; if that finds nothing, any term may match (ranked),
so a query with one unknown word still finds something useful.
"""

from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from shop.search.tokens import query_terms

DOC = "search_productsearchdocument"
PG_VECTOR = (
    f"(setweight(array_to_tsvector(array_remove(string_to_array({DOC}.title_terms, ' '), '')), 'A')"
    f" || setweight(array_to_tsvector(array_remove(string_to_array({DOC}.body_terms, ' '), '')), 'B'))"
)


def _tsquery(terms: list[str], op: str) -> str:
    # Terms are letters and digits only (see tokens._WORD); quote each lexeme.
    return f" {op} ".join("'" + t.replace("'", "''") + "'" for t in terms)


def _in_title(term: str) -> Q:
    return Q(search_document__title_terms__contains=f" {term} ")


def _in_body(term: str) -> Q:
    return Q(search_document__body_terms__contains=f" {term} ")


def _rank(terms: list[str]):
    """3 for each term in the title, 1 for each term only in the body."""
    rank = Value(0)
    for term in terms:
        rank = rank + Case(
            When(_in_title(term), then=Value(3)),
            When(_in_body(term), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    return rank


def _postgres(products: QuerySet, terms: list[str], op: str) -> QuerySet:
    return (
        products.filter(search_document__isnull=False)
        .extra(where=[f"{PG_VECTOR} @@ %s::tsquery"], params=[_tsquery(terms, op)])
        .annotate(search_rank=_rank(terms))
    )


def _generic(products: QuerySet, terms: list[str], op: str) -> QuerySet:
    conditions = [_in_title(term) | _in_body(term) for term in terms]
    combined = conditions[0]
    for cond in conditions[1:]:
        combined = (combined & cond) if op == "&" else (combined | cond)
    return products.filter(combined).annotate(search_rank=_rank(terms))


def search_products(products: QuerySet, query: str) -> QuerySet:
    """``products`` narrowed to those matching ``query``, best match first."""
    terms = query_terms(query)
    if not terms:
        return products.none()
    matcher = _postgres if connection.vendor == "postgresql" else _generic
    hits = matcher(products, terms, "&")
    if len(terms) > 1 and not hits.exists():
        hits = matcher(products, terms, "|")
    return hits.order_by("-search_rank", "-date_created", "pk")
