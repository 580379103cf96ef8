"""{% portal_withdrawals cooperative as withdrawn %}: the cooperative's
listings withdrawn by the platform (平台下架), for the portal's banner
(one query)."""

from django import template

from cooperatives.models import ListingWithdrawal

register = template.Library()


@register.simple_tag
def portal_withdrawals(cooperative) -> list:
    if cooperative is None or not getattr(cooperative, "has_active_withdrawals", True):
        return []
    return list(
        ListingWithdrawal.objects.filter(cooperative=cooperative, restored_at__isnull=True)
        .select_related("product")
        .order_by("-withdrawn_at", "-pk")
    )


@register.simple_tag
def withdrawn_product_ids(cooperative) -> set:
    """Ids of the cooperative's listings withdrawn by the platform (one query)."""
    if cooperative is None:
        return set()
    return set(
        ListingWithdrawal.objects.filter(
            cooperative=cooperative, restored_at__isnull=True
        ).values_list("product_id", flat=True)
    )
