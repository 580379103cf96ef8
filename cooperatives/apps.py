from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CooperativesConfig(AppConfig):
    name = "cooperatives"
    verbose_name = _("合作社")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        # New-order and low-stock notices (e-mail and SMS) after commit.
        from cooperatives import notifications

        notifications.connect()
        # A listing withdrawn by the platform (平台下架) is never saved public.
        from cooperatives import reports

        reports.connect()
