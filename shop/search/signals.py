"""Keep product search documents current as the catalogue changes.

Re-indexing runs after the transaction commits, once per product per
transaction, so a bulk edit inside one transaction indexes each product once.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
Partner = get_model("partner", "Partner")
ProductCategory = get_model("catalogue", "ProductCategory")


class _Pending:
    """Product ids waiting for the current transaction to commit."""

    def __init__(self):
        self.ids: set[int] = set()
        self.flushed = False

    def flush(self) -> None:
        from shop.search.indexing import index_product_ids

        # Once run, later changes need a callback of their own, even if this
        # one is still listed (Django's captureOnCommitCallbacks runs
        # callbacks inside the test transaction and leaves them registered).
        self.flushed = True
        index_product_ids(self.ids)


def _schedule(product_id) -> None:
    if product_id is None:
        return
    conn = transaction.get_connection()
    pending = getattr(conn, "_wn_search_pending", None)
    registered = (
        pending is not None
        and not pending.flushed
        and any(entry[1] == pending.flush for entry in conn.run_on_commit)
    )
    if not (conn.in_atomic_block and registered):
        pending = conn._wn_search_pending = _Pending()
        pending.ids.add(product_id)
        # Robust: a failure is logged, never raised into the code that
        # committed (a checkout would report its placed order as failed).
        # `manage.py rebuild_product_index` repairs a missed update.
        transaction.on_commit(pending.flush, robust=True)
    else:
        pending.ids.add(product_id)


@receiver(post_save, sender=Product, dispatch_uid="search_product_saved")
def product_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _schedule(instance.parent_id or instance.pk)


@receiver(post_save, sender=StockRecord, dispatch_uid="search_stockrecord_saved")
def stockrecord_saved(sender, instance, raw=False, **kwargs):
    # Oscar's allocate/consume/cancel send post_save by hand, without the
    # update_fields argument a real save() always passes. Stock levels are
    # not in the search document, so those (one per order line) are skipped.
    if raw or "update_fields" not in kwargs:
        return
    _schedule(instance.product_id)


@receiver(post_save, sender=ProductCategory, dispatch_uid="search_productcategory_saved")
def product_category_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _schedule(instance.product_id)


@receiver(post_save, sender=Partner, dispatch_uid="search_partner_saved")
def partner_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or created:
        return
    ids = StockRecord.objects.filter(partner=instance).values_list("product_id", flat=True)
    for product_id in ids:
        _schedule(product_id)


@receiver(m2m_changed, sender=Product.categories.through, dispatch_uid="search_categories")
def categories_changed(sender, instance, action, reverse=False, pk_set=None, **kwargs):
    if not action.startswith("post_"):
        return
    if reverse:
        for product_id in pk_set or ():
            _schedule(product_id)
    else:
        _schedule(instance.pk)
