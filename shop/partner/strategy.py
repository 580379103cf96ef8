"""Pricing and availability: Oscar's default strategy, except that nothing
can be bought from a seller that is not selling (a cooperative awaiting
verification or suspended), nor a product that is not public."""

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


class NotOnSale(availability.Unavailable):
    message = _("该商品已下架")

    def is_purchase_permitted(self, quantity):
        return False, self.message


class Default(CoreDefault):
    def select_stockrecord(self, product):
        """Oscar's first stock record, with its partner in the same query
        (``availability_policy`` asks whether the partner is selling).
        Stock records a listing prefetched are used as they are."""
        if "stockrecords" in getattr(product, "_prefetched_objects_cache", {}):
            return super().select_stockrecord(product)
        try:
            return product.stockrecords.select_related("partner")[0]
        except IndexError:
            return None

    def availability_policy(self, product, stockrecord):
        if stockrecord is not None and not stockrecord.partner.is_selling:
            return SellerNotSelling()
        # Oscar's basket does not look at is_public: a listing taken down
        # (by its cooperative, or by the platform with its variants,
        # cooperatives/reports.py) cannot be bought from a basket either.
        if not product.is_public:
            return NotOnSale()
        return super().availability_policy(product, stockrecord)


class Selector(CoreSelector):
    def strategy(self, request=None, user=None, **kwargs):
        return Default(request)
