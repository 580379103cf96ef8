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
    """Ids waiting for the current transaction to commit, and the function
    that indexes them."""

    def __init__(self, index_ids):
        self.ids: set[int] = set()
        self.flushed = False
        self.index_ids = index_ids

    def flush(self) -> None:
        # Once run, later changes need a callback of their own, even if this
        # one is still listed (Django's captureOnCommitCallbacks runs
        # callbacks inside the test transaction and leaves them registered).
        self.flushed = True
        self.index_ids(self.ids)


def schedule_after_commit(key: str, index_ids, obj_id) -> None:
    """Run ``index_ids({obj_id, ...})`` once after the current transaction
    commits, with every id scheduled under ``key`` in that transaction
    (immediately, outside a transaction)."""
    if obj_id is None:
        return
    conn = transaction.get_connection()
    attr = f"_wn_search_pending_{key}"
    pending = getattr(conn, attr, None)
    registered = (
        pending is not None
        and not pending.flushed
        and any(entry[1] == pending.flush for entry in conn.run_on_commit)
    )
    if not (conn.in_atomic_block and registered):
        pending = _Pending(index_ids)
        setattr(conn, attr, pending)
        pending.ids.add(obj_id)
        # Robust: a failure is logged, never raised into the code that
        # committed (a checkout would report its placed order as failed).
        # `manage.py rebuild_product_index` repairs a missed update.
        transaction.on_commit(pending.flush, robust=True)
    else:
        pending.ids.add(obj_id)


def _index_product_ids(ids) -> None:
    from shop.search.indexing import index_product_ids

    index_product_ids(ids)


def _schedule(product_id) -> None:
    schedule_after_commit("products", _index_product_ids, product_id)


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
