"""Oscar's partner app: stock records that can never be oversold.

Oscar's ``StockRecord.allocate`` is an unconditional ``F()`` increment and
availability is checked only before the order transaction starts, so
concurrent buyers can all take the last unit. Here allocation is a single
conditional UPDATE: it succeeds only while ``num_allocated + quantity`` stays
within ``num_in_stock``. The database evaluates the condition on the locked,
current row (PostgreSQL re-checks it after waiting for a concurrent writer),
so it is race-free without a separate SELECT … FOR UPDATE.
"""

from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext_lazy as _
from oscar.apps.partner.abstract_models import AbstractPartner, AbstractStockRecord

from shop.partner.exceptions import InsufficientStock


class Partner(AbstractPartner):
    """A seller. ``is_selling`` is kept by cooperatives.services from the
    cooperative's status: while it is off (applied, rejected, suspended) none
    of the partner's products are listed or can be bought."""

    is_selling = models.BooleanField(_("在售"), default=True, db_index=True)

    class Meta(AbstractPartner.Meta):
        pass


class StockRecord(AbstractStockRecord):
    def allocate(self, quantity: int) -> None:
        """Reserve ``quantity`` units or raise InsufficientStock; nothing partial."""
        if not self.can_track_allocations:
            return
        self.pre_save_signal()
        allocated = Coalesce(F("num_allocated"), 0)
        updated = (
            type(self)
            ._default_manager.filter(pk=self.pk, num_in_stock__gte=allocated + quantity)
            .update(num_allocated=allocated + quantity)
        )
        self.refresh_from_db(fields=["num_in_stock", "num_allocated"])
        if not updated:
            raise InsufficientStock(self, quantity)
        self.post_save_signal()

    allocate.alters_data = True

    class Meta(AbstractStockRecord.Meta):
        indexes = [
            # The portal's search by SKU, typed in any case (partner_sku__iexact
            # within one cooperative: cooperatives/portal/listings.py).
            models.Index(F("partner"), Upper("partner_sku"), name="stockrecord_partner_sku_upper"),
        ]


from oscar.apps.partner.models import *  # noqa: E402,F403
