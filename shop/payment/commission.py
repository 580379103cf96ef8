"""The platform's commission on a sale line.

Rules (``CommissionRule``) are set per cooperative, per category (covering
its subcategories) or per cooperative in a category. For a line, the most
specific rule wins: cooperative + category, then cooperative, then
category; among category rules the deepest matching category. With no rule,
``WANGNONG_COMMISSION_RATE`` (percent). Amounts are fen; a commission is
rounded half up to the fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q

from shop.payment.models import CommissionRule


def default_rate() -> Decimal:
    return Decimal(str(settings.WANGNONG_COMMISSION_RATE))


def _category_paths(product) -> list[str]:
    """Tree paths of the product's categories (a variant has its parent's)."""
    base = product.parent if product.parent_id else product
    return [c.path for c in base.get_categories().all()]


def rules_for(partner_ids) -> list[CommissionRule]:
    """The rules that can apply to sales of ``partner_ids``: theirs and the
    category-only ones (load once for an order, pass to ``rate_for``)."""
    return list(
        CommissionRule.objects.filter(
            Q(partner__isnull=True) | Q(partner_id__in=[p for p in partner_ids if p is not None])
        ).select_related("category")
    )


def rate_for(partner_id: int | None, product, rules: list[CommissionRule] | None = None) -> Decimal:
    """The commission percent for ``product`` sold by ``partner_id`` (from
    ``rules`` when given, e.g. ``rules_for`` an order's cooperatives)."""
    paths: list[str] | None = None  # read only when a category rule applies
    if rules is None:
        rules = rules_for([partner_id])
    best: tuple[int, int, Decimal] | None = None  # (specificity, depth, rate)
    for rule in rules:
        if rule.partner_id is not None and rule.partner_id != partner_id:
            continue
        if rule.category_id is not None:
            if paths is None:
                paths = _category_paths(product) if product is not None else []
            path = rule.category.path
            if not any(p.startswith(path) for p in paths):
                continue
            depth = len(path)
        else:
            depth = 0
        if rule.partner_id is not None and rule.category_id is not None:
            specificity = 3
        elif rule.partner_id is not None:
            specificity = 2
        else:
            specificity = 1
        candidate = (specificity, depth, rule.rate)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else default_rate()


def commission_fen(amount_fen: int, rate: Decimal) -> int:
    """``rate`` percent of ``amount_fen``, rounded half up to the fen."""
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise TypeError("amounts are int fen")
    value = Decimal(amount_fen) * Decimal(rate) / 100
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
