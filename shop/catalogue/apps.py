import oscar.apps.catalogue.apps as apps


class CatalogueConfig(apps.CatalogueConfig):
    name = "shop.catalogue"

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_delete, post_save
        from oscar.core.loading import get_model

        from shop.catalogue.category_menu import category_changed

        Category = get_model("catalogue", "Category")
        post_save.connect(category_changed, sender=Category, dispatch_uid="category_menu_save")
        post_delete.connect(category_changed, sender=Category, dispatch_uid="category_menu_delete")
