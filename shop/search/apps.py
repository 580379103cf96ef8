from django.urls import path
from django.utils.translation import gettext_lazy as _
from oscar.core.application import OscarConfig
from oscar.core.loading import get_class


class SearchConfig(OscarConfig):
    """Oscar's search app, replaced: product search and catalogue browsing on
    the database (see shop/search/backends.py and docs/architecture.md),
    without haystack."""

    label = "search"
    name = "shop.search"
    verbose_name = _("搜索")
    namespace = "search"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from shop.search import page_signals, signals  # noqa: F401  (keep the index current)

        self.search_view = get_class("search.views", "ProductSearchView")

    def get_urls(self):
        urlpatterns = [path("", self.search_view.as_view(), name="search")]
        return self.post_process_urls(urlpatterns)
