from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("内容管理")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from cms.site_cache import tree_changed
        from cms.workflows import ensure_after_migrate, ensure_for_new_section

        # What cms/site_cache.py keeps about the page tree: any page, view
        # restriction or site saved or deleted (the receiver ignores other
        # models), published, unpublished or moved.
        post_save.connect(tree_changed, dispatch_uid="cms_tree_save")
        post_delete.connect(tree_changed, dispatch_uid="cms_tree_delete")
        page_published.connect(tree_changed, dispatch_uid="cms_tree_published")
        page_unpublished.connect(tree_changed, dispatch_uid="cms_tree_unpublished")
        post_page_move.connect(tree_changed, dispatch_uid="cms_tree_moved")

        # The article moderation workflow (cms/workflows.py): set up by the
        # first migrate (and after a flush), assigned to sections editors add.
        post_migrate.connect(ensure_after_migrate, dispatch_uid="cms_article_workflow")
        post_save.connect(
            ensure_for_new_section,
            sender="cms.ProgrammeIndexPage",
            dispatch_uid="cms_article_workflow_new_section",
        )
