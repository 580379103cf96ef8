"""StreamField blocks editors compose pages from."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock

from cms.choosers import (
    category_chooser_viewset,
    cooperative_chooser_viewset,
    product_chooser_viewset,
)

ProductChooserBlock = product_chooser_viewset.get_block_class(
    name="ProductChooserBlock", module_path="cms.blocks"
)
CategoryChooserBlock = category_chooser_viewset.get_block_class(
    name="CategoryChooserBlock", module_path="cms.blocks"
)
CooperativeChooserBlock = cooperative_chooser_viewset.get_block_class(
    name="CooperativeChooserBlock", module_path="cms.blocks"
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


# --- Programme, training -------------------------------------------------------


class VideoBlock(blocks.StructBlock):
    """A video uploaded as a Wagtail document and played by the browser's
    own <video> player (no third-party player, no network). Only documents
    whose file is a video are accepted (cms/media_checks.py)."""

    video = DocumentChooserBlock(label=_("视频文件（MP4 / WebM）"))
    caption = blocks.CharBlock(label=_("说明"), required=False, max_length=120)
    poster = ImageChooserBlock(label=_("封面图"), required=False)

    class Meta:
        icon = "media"
        label = _("视频")
        template = "cms/blocks/video.html"

    def clean(self, value):
        from cms.media_checks import video_problem

        value = super().clean(value)
        problem = video_problem(value.get("video"))
        if problem:
            raise blocks.StructBlockValidationError(
                block_errors={"video": ValidationError(problem)}
            )
        return value


class DownloadBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("文件（如 PDF）"))
    label = blocks.CharBlock(label=_("链接文字"), required=False, max_length=60)

    class Meta:
        icon = "doc-full"
        label = _("下载")
        template = "cms/blocks/download.html"


class LessonStreamBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(
        label=_("文字"), features=["h2", "h3", "bold", "italic", "link", "ol", "ul", "image"]
    )
    image = ImageChooserBlock(label=_("图片"))
    video = VideoBlock()
    download = DownloadBlock()


class FeaturedCoursesBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), max_length=40)
    courses = blocks.ListBlock(
        blocks.PageChooserBlock(page_type="cms.CoursePage"),
        label=_("课程"),
        min_num=1,
        max_num=6,
    )

    class Meta:
        icon = "form"
        label = _("推荐课程")
        template = "cms/blocks/featured_courses.html"


class FeaturedCooperativesBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), max_length=40)
    cooperatives = blocks.ListBlock(
        CooperativeChooserBlock(), label=_("合作社"), min_num=1, max_num=8
    )

    class Meta:
        icon = "group"
        label = _("推荐合作社")
        template = "cms/blocks/featured_cooperatives.html"


class HomeStreamBlock(blocks.StreamBlock):
    hero = HeroBlock()
    featured_products = FeaturedProductsBlock()
    category_grid = CategoryGridBlock()
    latest_products = LatestProductsBlock()
    featured_courses = FeaturedCoursesBlock()
    featured_cooperatives = FeaturedCooperativesBlock()
    text = blocks.RichTextBlock(label=_("文字"), features=["h2", "h3", "bold", "link", "ol", "ul"])


class ContentStreamBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(
        label=_("文字"), features=["h2", "h3", "bold", "italic", "link", "ol", "ul", "image"]
    )
    image = ImageChooserBlock(label=_("图片"))
    featured_products = FeaturedProductsBlock()
