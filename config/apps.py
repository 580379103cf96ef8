from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The project package as an app: its system checks and signal receivers."""

    name = "config"
    label = "wangnong_site"
    verbose_name = "网农"

    def ready(self) -> None:
        from config import checks, two_factor  # noqa: F401  (register checks and receivers)
