from django.utils import timezone
from oscar.apps.order.utils import OrderNumberGenerator as CoreOrderNumberGenerator

from shop.order.models import OrderNumber


class OrderNumberGenerator(CoreOrderNumberGenerator):
    """Order numbers like 2611270000123: the date (YYMMDD) then a unique serial.

    Short enough to read aloud at a village station, never reused.
    """

    def order_number(self, basket=None) -> str:
        serial = OrderNumber.objects.create().pk
        return f"{timezone.localdate():%y%m%d}{serial:07d}"
