"""Admin choosers that let editors pick Oscar products and categories."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.chooser import ChooserViewSet


class ProductChooserViewSet(ChooserViewSet):
    model = "catalogue.Product"
    icon = "tag"
    choose_one_text = _("选择商品")
    choose_another_text = _("换一个商品")
    edit_item_text = _("编辑商品")


class CategoryChooserViewSet(ChooserViewSet):
    model = "catalogue.Category"
    icon = "folder-open-inverse"
    choose_one_text = _("选择分类")
    choose_another_text = _("换一个分类")
    edit_item_text = _("编辑分类")


class CooperativeChooserViewSet(ChooserViewSet):
    model = "cooperatives.Cooperative"
    icon = "group"
    choose_one_text = _("选择合作社")
    choose_another_text = _("换一个合作社")
    edit_item_text = _("编辑合作社")


product_chooser_viewset = ProductChooserViewSet("product_chooser")
cooperative_chooser_viewset = CooperativeChooserViewSet("cooperative_chooser")
category_chooser_viewset = CategoryChooserViewSet("category_chooser")
