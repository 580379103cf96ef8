from django.db import models
from django.utils.translation import gettext_lazy as _
from oscar.apps.address.abstract_models import AbstractShippingAddress

from shop.address.chinese import DivisionAddressMixin


class ShippingAddress(DivisionAddressMixin, AbstractShippingAddress):
    class Meta(AbstractShippingAddress.Meta):
        pass


class OrderNumber(models.Model):
    """One row per issued order number.

    Oscar derives the number from the basket id and checks it outside the
    transaction; here each number comes from an insert, so two processes can
    never be handed the same one. Gaps (a refused checkout) are harmless.
    """

    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("订单号")
        verbose_name_plural = _("订单号")


from oscar.apps.order.models import *  # noqa: E402,F403
