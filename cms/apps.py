from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("内容管理")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from cms.workflows import ensure_after_migrate, ensure_for_new_section

        # The article moderation workflow (cms/workflows.py): set up by the
        # first migrate (and after a flush), assigned to sections editors add.
        post_migrate.connect(ensure_after_migrate, dispatch_uid="cms_article_workflow")
        post_save.connect(
            ensure_for_new_section,
            sender="cms.ProgrammeIndexPage",
            dispatch_uid="cms_article_workflow_new_section",
        )
