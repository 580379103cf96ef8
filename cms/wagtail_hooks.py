from wagtail import hooks

from cms.choosers import (
    category_chooser_viewset,
    cooperative_chooser_viewset,
    product_chooser_viewset,
)


@hooks.register("register_admin_viewset")
def register_product_chooser():
    return product_chooser_viewset


@hooks.register("register_admin_viewset")
def register_category_chooser():
    return category_chooser_viewset


@hooks.register("register_admin_viewset")
def register_cooperative_chooser():
    return cooperative_chooser_viewset
