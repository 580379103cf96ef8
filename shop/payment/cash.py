"""Recording cash-on-delivery payments against an order."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

SourceType = get_model("payment", "SourceType")
Source = get_model("payment", "Source")

COD_SOURCE_CODE = "cash-on-delivery"


def cod_source(amount: Decimal, currency: str):
    """An unsaved Source for a COD order: the whole total, nothing debited yet.

    The cash is collected at delivery; the debit is recorded then.
    """
    source_type, _created = SourceType.objects.get_or_create(
        code=COD_SOURCE_CODE, defaults={"name": str(_("货到付款"))}
    )
    return Source(source_type=source_type, currency=currency, amount_allocated=amount)
