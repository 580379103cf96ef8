"""Wagtail pages. Wagtail serves ``/`` and every CMS page; the shop (Oscar)
owns /catalogue/, /basket/, /checkout/, /accounts/ and /search/."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import ContentStreamBlock, HomeStreamBlock


class HomePage(Page):
    """The site's front page, composed by editors from blocks that pull live
    products and categories from the catalogue (prices and stock are always
    the shop's own, never copied into the page)."""

    intro = StreamField(HomeStreamBlock(), blank=True, use_json_field=True, verbose_name=_("内容"))

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["cms.StandardPage"]
    max_count = 1

    class Meta:
        verbose_name = _("首页")


class StandardPage(Page):
    """A plain content page (about us, help, policies)."""

    body = StreamField(
        ContentStreamBlock(), blank=True, use_json_field=True, verbose_name=_("正文")
    )

    content_panels = Page.content_panels + [FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]
    parent_page_types = ["cms.HomePage", "cms.StandardPage"]

    class Meta:
        verbose_name = _("内容页")
