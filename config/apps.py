from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The project package as an app: its system checks and signal receivers."""

    name = "config"
    label = "wangnong_site"
    verbose_name = "网农"

    def ready(self) -> None:
        from config import checks, page_cache, two_factor  # noqa: F401  (checks, receivers)

        page_cache.connect_receivers()
