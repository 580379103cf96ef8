"""Recording cash-on-delivery payments against an order."""

from decimal import Decimal

from django.conf import settings
from django.utils import translation
from oscar.core.loading import get_model

from shop.payment.methods import COD

SourceType = get_model("payment", "SourceType")
Source = get_model("payment", "Source")

COD_SOURCE_CODE = COD.source_code


def cod_source(amount: Decimal, currency: str):
    """An unsaved Source for a COD order: the whole total, nothing debited yet.

    The cash is collected at delivery; the debit is recorded then.
    """
    with translation.override(settings.LANGUAGE_CODE):
        name = str(COD.label)
    source_type, _created = SourceType.objects.get_or_create(
        code=COD_SOURCE_CODE, defaults={"name": name}
    )
    return Source(source_type=source_type, currency=currency, amount_allocated=amount)
