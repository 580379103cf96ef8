import oscar.apps.dashboard.catalogue.apps as apps


class CatalogueDashboardConfig(apps.CatalogueDashboardConfig):
    """Forked only to add the produce fields to the product form (forms.py)."""

    name = "shop.dashboard.catalogue"
