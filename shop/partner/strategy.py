"""Pricing and availability: Oscar's default strategy, except that nothing
can be bought from a seller that is not selling (a cooperative awaiting
verification or suspended)."""

from django.utils.translation import gettext_lazy as _
from oscar.apps.partner import availability
from oscar.apps.partner.strategy import Default as CoreDefault
from oscar.apps.partner.strategy import Selector as CoreSelector


class SellerNotSelling(availability.Unavailable):
    message = _("该合作社暂停销售")

    def is_purchase_permitted(self, quantity):
        # Oscar's base answer is its generic "unavailable" (translated as
        # 库存不足, "out of stock"): say why instead.
        return False, self.message


class Default(CoreDefault):
    def availability_policy(self, product, stockrecord):
        if stockrecord is not None and not stockrecord.partner.is_selling:
            return SellerNotSelling()
        return super().availability_policy(product, stockrecord)


class Selector(CoreSelector):
    def strategy(self, request=None, user=None, **kwargs):
        return Default(request)
