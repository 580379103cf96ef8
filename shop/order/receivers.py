"""Oscar's analytics counters for a placed order, written after it commits.

Oscar's analytics app bumps one ProductRecord row per order line from the
``order_placed`` signal, which fires inside the order-placement transaction,
in basket-line order. Two buyers holding the same products in opposite order
then lock those rows in opposite order: PostgreSQL aborts one of them with
"deadlock detected" and that buyer gets a generic error instead of an order.
(Stock rows are allocated in a fixed order, so with tracked stock the stock
locks hide this; products without stock tracking deadlock.) And when two
first purchases of a product race to create its row, the IntegrityError
Oscar catches has already broken the placement transaction.

The counters are not worth either: they are written once the order has
committed, each row by its own statement, and a failure there is logged
without touching the order.
"""

from functools import partial

from django.db import transaction
from oscar.apps.order.signals import order_placed

DISPATCH_UID = "shop_order_analytics_after_commit"


def record_order_after_commit(sender, order, user, **kwargs):
    from oscar.apps.analytics.receivers import receive_order_placed

    transaction.on_commit(
        partial(receive_order_placed, sender, order=order, user=user, **kwargs), robust=True
    )


def connect() -> None:
    from oscar.apps.analytics.receivers import receive_order_placed

    order_placed.disconnect(receive_order_placed)
    order_placed.connect(record_order_after_commit, dispatch_uid=DISPATCH_UID)
