from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("物流")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        # Under `make run` (no broker, no celery beat) the periodic tasks of
        # CELERY_BEAT_SCHEDULE run in runserver's serving process; nowhere
        # else (config/inprocess_beat.py decides).
        from config import inprocess_beat

        inprocess_beat.start_if_wanted()
