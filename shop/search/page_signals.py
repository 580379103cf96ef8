"""Keep CMS pages' search documents current as editors publish, unpublish,
move and restrict pages.

Like the product signals, re-indexing runs once per page after the
transaction commits, so a page is indexed as committed and a rolled-back
publish leaves nothing behind. Deleting a page deletes its document through
the foreign key (ON DELETE CASCADE), with no signal needed.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from shop.search.signals import schedule_after_commit


def _index_page_ids(ids) -> None:
    from shop.search.page_indexing import index_page_ids

    index_page_ids(ids)


def schedule_page(page_id) -> None:
    """Re-index one page after the current transaction commits."""
    schedule_after_commit("pages", _index_page_ids, page_id)


def _schedule_subtree(page) -> None:
    from shop.search.page_indexing import subtree_ids

    for page_id in subtree_ids(page):
        schedule_page(page_id)


@receiver(page_published, dispatch_uid="search_page_published")
def page_was_published(sender, instance, **kwargs):
    schedule_page(instance.pk)
    from shop.search.page_indexing import SECTION_TYPES

    if isinstance(instance, SECTION_TYPES):
        # Its lessons, courses or articles carry its title.
        for child_id in Page.objects.child_of(instance).values_list("pk", flat=True):
            schedule_page(child_id)


@receiver(page_unpublished, dispatch_uid="search_page_unpublished")
def page_was_unpublished(sender, instance, **kwargs):
    schedule_page(instance.pk)


@receiver(post_page_move, dispatch_uid="search_page_moved")
def page_was_moved(sender, instance, **kwargs):
    # Under a new parent a page may now be private (or no longer), and a
    # lesson may have a new course.
    _schedule_subtree(instance)


@receiver(post_save, sender=PageViewRestriction, dispatch_uid="search_restriction_saved")
@receiver(post_delete, sender=PageViewRestriction, dispatch_uid="search_restriction_deleted")
def view_restriction_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # The page may be going too (its restrictions are deleted first).
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is not None:
        _schedule_subtree(page)
