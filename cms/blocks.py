"""StreamField blocks editors compose pages from."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

from cms.choosers import category_chooser_viewset, product_chooser_viewset

ProductChooserBlock = product_chooser_viewset.get_block_class(
    name="ProductChooserBlock", module_path="cms.blocks"
)
CategoryChooserBlock = category_chooser_viewset.get_block_class(
    name="CategoryChooserBlock", module_path="cms.blocks"
)


class HeroBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), max_length=60)
    text = blocks.TextBlock(label=_("说明"), required=False, max_length=200)
    image = ImageChooserBlock(label=_("图片"), required=False)
    link_text = blocks.CharBlock(label=_("按钮文字"), required=False, max_length=20)
    link_url = blocks.CharBlock(label=_("按钮链接"), required=False, max_length=200)

    class Meta:
        icon = "image"
        label = _("横幅")
        template = "cms/blocks/hero.html"


class FeaturedProductsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), max_length=40)
    products = blocks.ListBlock(ProductChooserBlock(), label=_("商品"), min_num=1, max_num=12)

    class Meta:
        icon = "tag"
        label = _("精选商品")
        template = "cms/blocks/featured_products.html"


class CategoryGridBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), max_length=40)
    categories = blocks.ListBlock(CategoryChooserBlock(), label=_("分类"), min_num=1, max_num=12)

    class Meta:
        icon = "folder-open-inverse"
        label = _("分类入口")
        template = "cms/blocks/category_grid.html"


class LatestProductsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), max_length=40)
    count = blocks.IntegerBlock(label=_("数量"), min_value=2, max_value=24, default=8)

    class Meta:
        icon = "list-ul"
        label = _("最新上架")
        template = "cms/blocks/latest_products.html"


class HomeStreamBlock(blocks.StreamBlock):
    hero = HeroBlock()
    featured_products = FeaturedProductsBlock()
    category_grid = CategoryGridBlock()
    latest_products = LatestProductsBlock()
    text = blocks.RichTextBlock(label=_("文字"), features=["h2", "h3", "bold", "link", "ol", "ul"])


class ContentStreamBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(
        label=_("文字"), features=["h2", "h3", "bold", "italic", "link", "ol", "ul", "image"]
    )
    image = ImageChooserBlock(label=_("图片"))
    featured_products = FeaturedProductsBlock()
