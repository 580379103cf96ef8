"""Match a query against product search documents, on PostgreSQL or SQLite.

PostgreSQL: the term lists become a weighted tsvector (title A, body B) with
``array_to_tsvector`` — no text-search parser touches the terms, so Chinese
is matched exactly as jieba and the bigrams cut it — and a GIN index on that
expression answers ``@@`` queries; ``ts_rank`` orders the hits.
SQLite (the embedded default): LIKE over the space-delimited term lists,
ranked by how many terms hit the title versus the body. Same terms, same
results, slower on a large catalogue.
Every term must match; if that finds nothing, any term may match (ranked),
so a query with one unknown word still finds something useful.
"""

from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from shop.search.tokens import query_terms

DOC = "search_productsearchdocument"
PG_VECTOR = (
    f"(setweight(array_to_tsvector(array_remove(string_to_array({DOC}.title_terms, ' '), '')), 'A')"
    f" || setweight(array_to_tsvector(array_remove(string_to_array({DOC}.body_terms, ' '), '')), 'B'))"
)


def _tsquery(terms: list[str], op: str) -> str:
    # Terms are letters and digits only (see tokens._WORD); quote each lexeme.
    return f" {op} ".join("'" + t.replace("'", "''") + "'" for t in terms)


def _postgres(products: QuerySet, terms: list[str], op: str) -> QuerySet:
    tsq = _tsquery(terms, op)
    return (
        products.filter(search_document__isnull=False)
        .extra(where=[f"{PG_VECTOR} @@ %s::tsquery"], params=[tsq])
        .annotate(search_rank=RawSQL(f"ts_rank({PG_VECTOR}, %s::tsquery)", [tsq]))
    )


def _generic(products: QuerySet, terms: list[str], op: str) -> QuerySet:
    conditions = []
    rank = Value(0)
    for term in terms:
        padded = f" {term} "
        in_title = Q(search_document__title_terms__contains=padded)
        in_body = Q(search_document__body_terms__contains=padded)
        conditions.append(in_title | in_body)
        rank = rank + Case(
            When(in_title, then=Value(3)),
            When(in_body, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    combined = conditions[0]
    for cond in conditions[1:]:
        combined = (combined & cond) if op == "&" else (combined | cond)
    return products.filter(combined).annotate(search_rank=rank)


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
