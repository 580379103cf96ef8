from django.utils.translation import gettext as _
from oscar.apps.order.exceptions import UnableToPlaceOrder


class InsufficientStock(UnableToPlaceOrder):
    """Raised when an allocation would take more than is in stock.

    A subclass of Oscar's UnableToPlaceOrder so the checkout treats it as an
    expected refusal (restore the basket, show the message), not a crash.
    """

    def __init__(self, stockrecord, requested: int):
        self.stockrecord = stockrecord
        self.requested = requested
        self.available = max(stockrecord.net_stock_level, 0)
        title = stockrecord.product.get_title()
        if self.available:
            msg = _("“%(title)s”库存不足：您要 %(requested)d 件，目前只剩 %(available)d 件。") % {
                "title": title,
                "requested": requested,
                "available": self.available,
            }
        else:
            msg = _("抱歉，“%(title)s”刚刚售罄。购物车里的其他商品已为您保留。") % {"title": title}
        super().__init__(msg)
