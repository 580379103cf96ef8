"""Oscar's dashboard product form with the produce fields added, so platform
staff can edit unit, weight, origin, dates, storage class and certifications."""

from django import forms
from django.utils.translation import gettext_lazy as _
from oscar.apps.dashboard.catalogue import forms as oscar_forms
from oscar.apps.dashboard.catalogue.forms import *  # noqa: F403

from config.uploads import validate_image
from divisions.models import Division
from shop.catalogue.produce import Certification

PRODUCE_FIELDS = [
    "unit",
    "net_weight_g",
    "origin",
    "harvest_date",
    "shelf_life_days",
    "storage_class",
    "certifications",
]
# Variants have their own unit and weight; the rest comes from the parent.
CHILD_PRODUCE_FIELDS = ["unit", "net_weight_g"]


class ProductForm(oscar_forms.ProductForm):
    origin = forms.ModelChoiceField(
        label=_("产地"),
        queryset=Division.objects.all(),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("产地的行政区划代码（区 6 位、乡镇 9 位或村 12 位），如 120111 西青区。"),
        error_messages={"invalid_choice": _("没有这个行政区划代码。")},
    )
    certifications = forms.MultipleChoiceField(
        label=_("认证"),
        choices=Certification.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    harvest_date = forms.DateField(
        label=_("采收/生产日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta(oscar_forms.ProductForm.Meta):
        fields = oscar_forms.ProductForm.Meta.fields + PRODUCE_FIELDS

    def delete_non_child_fields(self):
        super().delete_non_child_fields()
        for name in set(PRODUCE_FIELDS) - set(CHILD_PRODUCE_FIELDS):
            self.fields.pop(name, None)


class ProductImageForm(oscar_forms.ProductImageForm):
    """Oscar's product image form through config.uploads' one validator: the
    content decides the type, and the stored image is re-encoded (no EXIF,
    nothing appended)."""

    def clean_original(self):
        original = self.cleaned_data.get("original")
        if not original or "original" not in self.changed_data:
            return original
        return validate_image(original)


class CategoryForm(oscar_forms.CategoryForm):
    """Oscar's category form; its image goes through config.uploads too."""

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if not image or "image" not in self.changed_data:
            return image
        return validate_image(image)
