from django import forms
from django.utils.translation import gettext_lazy as _

MAX_QUERY_LENGTH = 100


class SearchInput(forms.TextInput):
    input_type = "search"


class SearchForm(forms.Form):
    """The site-wide search box (also used by the results page)."""

    q = forms.CharField(
        required=False,
        label=_("搜索"),
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": _("搜索词太长了（最多 %(limit_value)d 个字），请缩短后再试。"),
        },
        widget=SearchInput(
            attrs={
                "placeholder": _("搜索农产品、合作社、培训课程"),
                "autocomplete": "off",
                "enterkeyhint": "search",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Without maxlength in the HTML, an over-long query reaches the server
        # and gets the clear message above instead of being silently cut.
        self.fields["q"].widget.attrs.pop("maxlength", None)


class SortForm(forms.Form):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price-asc"
    PRICE_DESC = "price-desc"

    sort_by = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[
            (RELEVANCE, _("默认")),
            (NEWEST, _("最新上架")),
            (PRICE_ASC, _("价格从低到高")),
            (PRICE_DESC, _("价格从高到低")),
        ],
    )
