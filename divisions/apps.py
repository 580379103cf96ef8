from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_divisions(sender, using="default", **kwargs):
    """Load the division codes after migrate when the table is not complete.

    Reference data, like content types: it must exist in every database,
    including after a test flush, so it is (re)loaded on post_migrate rather
    than by a one-off data migration.
    """
    from divisions.loader import ensure_loaded

    ensure_loaded(using=using)


class DivisionsConfig(AppConfig):
    name = "divisions"
    verbose_name = _("行政区划")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        post_migrate.connect(ensure_divisions, sender=self, dispatch_uid="divisions_ensure_loaded")
