"""Read-only look-ups over the division tree, cached per process.

Divisions change only when the national code list is reloaded, so names and
child lists are cached in memory after the first read.
"""

from functools import lru_cache

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import pgettext_lazy

from divisions.models import CODE_LENGTHS, Division

# Placeholder names the NBS data uses for municipalities' city level.
PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# Lazy, so that choices cached by child_choices() follow the active language.
COUNTIES_LABEL = pgettext_lazy(
    "select label for the counties (县) of a municipality", "{municipality}（县）"
)


@lru_cache(maxsize=4096)
def get_name(code: str) -> str | None:
    return Division.objects.filter(code=code).values_list("name", flat=True).first()


@lru_cache(maxsize=2048)
def children(code: str | None) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs of a division's children; provinces for None."""
    qs = Division.objects.filter(parent_id=code) if code else Division.objects.filter(level=1)
    return tuple(qs.order_by("code").values_list("code", "name"))


def ancestor_codes(code: str) -> list[str]:
    """The code itself and every level above it, top first."""
    return [code[:n] for n in CODE_LENGTHS.values() if n <= len(code)]


def path_names(code: str, *, skip_placeholders: bool = True) -> list[str]:
    """Names from province down to ``code``: ['天津市', '西青区', '辛口镇'].

    Cached like the other look-ups: product pages and the search indexer ask
    for the same few origins over and over."""
    names = _path_names(code)
    if skip_placeholders:
        return [n for n in names if n not in PLACEHOLDER_NAMES]
    return list(names)


@lru_cache(maxsize=8192)
def _path_names(code: str) -> tuple[str, ...]:
    rows = dict(Division.objects.filter(code__in=ancestor_codes(code)).values_list("code", "name"))
    return tuple(rows[c] for c in ancestor_codes(code) if c in rows)


def full_name(code: str) -> str:
    return "".join(path_names(code))


def is_child_of(code: str, parent_code: str) -> bool:
    """Whether ``code`` lies directly under ``parent_code`` in the tree."""
    return any(c == code for c, _ in children(parent_code))


def label(code: str, name: str) -> str | Promise:
    """How a division is shown in a select.

    The NBS list names the city level of municipalities 市辖区 (and 县 for
    Chongqing's counties); on their own those read as nonsense, so they are
    shown under the province's name: 天津市, 重庆市（县）.
    """
    if name == "市辖区":
        return get_name(code[:2]) or name
    if name == "县":
        return format_lazy(COUNTIES_LABEL, municipality=get_name(code[:2]) or "")
    return name


@lru_cache(maxsize=2048)
def child_choices(code: str | None) -> tuple[tuple[str, str | Promise], ...]:
    """(code, label) pairs of a division's children, ready for a select."""
    return tuple((c, label(c, n)) for c, n in children(code))


def clear_caches() -> None:
    """Forget every cached look-up (after reloading the table, in tests)."""
    get_name.cache_clear()
    _path_names.cache_clear()
    children.cache_clear()
    child_choices.cache_clear()
