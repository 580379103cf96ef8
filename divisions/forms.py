"""The Chinese delivery address form shared by checkout and the address book.

Province → city → county → town are chosen from the national division codes,
followed by a free detail line (详细地址), the recipient (收货人) and a mainland
mobile number. The chosen division is stored on the address' ``division`` and
its names are copied into Oscar's lines (see shop/address/chinese.py), so
Oscar's own screens show a complete address.

Without JavaScript the selects narrow step by step: each one is filled from
the level above as submitted, and a "下一步" button (``name="_narrow"``)
re-renders the form with the next level's choices, keeping everything typed
and saving nothing. With JavaScript (static/divisions/picker.js) the next
select is filled as soon as one changes and the buttons are hidden.
"""

import re
import unicodedata
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model
from phonenumber_field.phonenumber import PhoneNumber

from divisions import services

NARROW = "_narrow"
COUNTRY_CODE = "CN"

# Form field for each level, top first; the town may be left empty.
LEVELS = ("province", "city", "county", "town")

MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# Separators people type inside phone numbers (ASCII and full-width forms are
# folded together by NFKC first).
PHONE_SEPARATORS_RE = re.compile(r"[\s\-‐-―−.·()]")

PHONE_INVALID = _("请输入正确的 11 位手机号码")
NOTHING_TO_CHOOSE = _("（此地区无下级可选）")


def normalise_mobile(value: Any) -> str | None:
    """The 11 digits of a mainland mobile number, or None if it is not one.

    Accepts spaces, dashes, brackets, full-width digits and a +86 / 0086 / 86
    prefix: "+86 138-1234-5678" → "13812345678".
    """
    if value is None:
        return None
    text = PHONE_SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", str(value)))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        if text.startswith("86") and len(text) == 13:
            text = text[2:]
    return text if MOBILE_RE.fullmatch(text) else None


def display_mobile(value: Any) -> str:
    """A stored number as the buyer typed it: 11 digits for mainland mobiles."""
    if not value:
        return ""
    digits = normalise_mobile(value)
    return digits if digits else str(value)


def division_field(label: Any, required_message: Any = None) -> forms.CharField:
    """A level's select; required when it has a ``required_message``."""
    return forms.CharField(
        label=label,
        required=required_message is not None,
        widget=forms.Select,
        error_messages={"required": required_message} if required_message else None,
    )


class DivisionPickerMixin:
    """Division selects (province → city → …) on a form, one per level.

    The form declares a field for each of :attr:`division_levels` (see
    :func:`division_field`) and calls :meth:`_init_divisions` in ``__init__``.
    Each select is filled from the level above as submitted (or stored); the
    no-JavaScript "下一步" buttons only re-show the form; :meth:`clean_division`
    returns the deepest chosen code. The last level may always be left empty.
    """

    division_levels: tuple[str, ...] = LEVELS
    # For each level: (first option when it has choices, first option while
    # the level above is not chosen yet).
    placeholders: dict[str, tuple[Any, Any]] = {}
    # Text of the no-JavaScript button under each select but the last.
    narrow_labels = {
        "province": _("下一步：选择城市"),
        "city": _("下一步：选择区县"),
        "county": _("下一步：选择乡镇"),
        "town": _("下一步：选择村/社区"),
    }
    # Each level's error message when a choice lies outside its parent.
    outside_parent = {
        "city": _("所选城市不属于所选省份，请重新选择"),
        "county": _("所选区县不属于所选城市，请重新选择"),
        "town": _("所选乡镇/街道不属于所选区县，请重新选择"),
        "village": _("所选村/社区不属于所选乡镇/街道，请重新选择"),
    }
    is_narrowing = False

    def _init_divisions(self, division_code: str | None) -> None:
        self.is_narrowing = self.is_bound and NARROW in self.data
        if not self.is_bound and division_code:
            codes = services.ancestor_codes(str(division_code))
            for name, code in zip(self.division_levels, codes, strict=False):
                self.initial.setdefault(name, code)
        self._build_division_choices()

    @property
    def division_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.division_levels]

    def _chosen(self, name: str) -> str:
        if self.is_bound:
            value = self.data.get(self.add_prefix(name), "")
        else:
            value = self.initial.get(name, "")
        return str(value or "").strip()

    def _build_division_choices(self) -> None:
        """Fill each select from the level above as submitted (or stored).

        A level whose parent offers exactly one child (天津市 → 市辖区) is
        chosen automatically, so municipalities need one step less.
        """
        last = self.division_levels[-1]
        parent: str | None = None
        parent_ok = True
        for name in self.division_levels:
            field = self.fields[name]
            options = services.child_choices(parent) if parent_ok else ()
            value = self._chosen(name)
            if self.is_bound and not value and len(options) == 1 and name != last:
                value = options[0][0]
                self.data = self.data.copy()
                self.data[self.add_prefix(name)] = value
            chosen_label, empty_label = self.placeholders[name]
            if options:
                first = chosen_label
            elif parent_ok and parent:
                first = NOTHING_TO_CHOOSE  # e.g. a county without towns
            else:
                first = empty_label
            field.widget.choices = [("", first), *options]
            field.widget.attrs.update(
                {
                    "data-division-level": name,
                    "data-placeholder": str(chosen_label),
                    "data-empty-label": str(empty_label),
                    "data-none-label": str(NOTHING_TO_CHOOSE),
                }
            )
            field.narrow_label = self.narrow_labels.get(name) if name != last else None
            parent_ok = bool(value) and any(code == value for code, _label in options)
            parent = value

    def full_clean(self) -> None:
        if self.is_narrowing:
            # Only re-showing the form with the next level's choices: nothing
            # is validated (so no "required" errors yet) and nothing saved.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    def is_valid(self) -> bool:
        return not self.is_narrowing and super().is_valid()

    def clean_division(self, cleaned: dict[str, Any]) -> str | None:
        """Check each level lies in the one above; the deepest code, or None."""
        parent: str | None = None
        deepest: str | None = None
        for name in self.division_levels:
            if name in self.errors:  # required and missing
                return None
            code = cleaned.get(name) or ""
            if not code:
                break  # an optional level left empty
            if parent:
                inside = services.is_child_of(code, parent)
            else:
                inside = any(c == code for c, _name in services.children(None))
            if not inside:
                message = self.outside_parent.get(name, self.placeholders[name][0])
                self.add_error(name, forms.ValidationError(message, code="outside_parent"))
                return None
            parent = deepest = code
        return deepest


class ChineseAddressForm(DivisionPickerMixin, forms.ModelForm):
    """Base form; subclasses give ``Meta.model`` and ``Meta.fields``.

    ``Meta.fields`` should be :data:`MODEL_FIELDS`: the division, country and
    Oscar's name and city lines are filled in by :meth:`clean`, not typed.
    """

    MODEL_FIELDS = ["last_name", "phone_number", "line1", "postcode", "notes"]

    last_name = forms.CharField(
        label=_("收货人"),
        max_length=255,
        error_messages={"required": _("请填写收货人姓名")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone_number = forms.CharField(
        label=_("手机号码"),
        max_length=32,
        help_text=_("11 位手机号码，快递员送货时联系您"),
        error_messages={"required": _("请填写收货人的手机号码")},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    province = division_field(_("省份"), _("请选择省份"))
    city = division_field(_("城市"), _("请选择城市"))
    county = division_field(_("区县"), _("请选择区县"))
    town = division_field(_("乡镇/街道"))
    line1 = forms.CharField(
        label=_("详细地址"),
        max_length=255,
        help_text=_("街道、小区、楼栋、门牌号等"),
        error_messages={"required": _("请填写详细地址（街道、门牌号等）")},
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label=_("邮政编码"),
        max_length=6,
        required=False,
        help_text=_("可不填"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    notes = forms.CharField(
        label=_("配送备注"),
        required=False,
        help_text=_("可不填，如：放门卫室、工作日白天送货"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    placeholders = {
        "province": (_("请选择省份"), _("请选择省份")),
        "city": (_("请选择城市"), _("请先选择省份")),
        "county": (_("请选择区县"), _("请先选择城市")),
        "town": (_("请选择乡镇/街道（可不选）"), _("请先选择区县")),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        code = self.initial.get("division_id") or self.initial.get("division")
        self._init_divisions(getattr(code, "pk", code) or self.instance.division_id)
        if not self.is_bound and self.initial.get("phone_number"):
            self.initial["phone_number"] = display_mobile(self.initial["phone_number"])
        self.order_fields(["last_name", "phone_number", *LEVELS, "line1", "postcode", "notes"])

    # --- Validation ---------------------------------------------------------

    def clean_phone_number(self) -> PhoneNumber | str:
        raw = self.cleaned_data.get("phone_number", "")
        digits = normalise_mobile(raw)
        if digits is None:
            raise forms.ValidationError(PHONE_INVALID, code="invalid")
        return PhoneNumber.from_string(f"+86{digits}")

    def clean_postcode(self) -> str:
        postcode = unicodedata.normalize("NFKC", self.cleaned_data.get("postcode", "")).strip()
        if postcode and not re.fullmatch(r"[0-9]{6}", postcode):
            raise forms.ValidationError(_("邮政编码应为 6 位数字"), code="invalid")
        return postcode

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        division = self.clean_division(cleaned)
        country = get_model("address", "Country").objects.filter(iso_3166_1_a2=COUNTRY_CODE).first()
        if country is None:
            self.add_error(
                None,
                forms.ValidationError(
                    _("网店尚未设置收货国家（中国），暂时无法保存地址，请联系客服。"),
                    code="no_country",
                ),
            )
        else:
            self.instance.country = country
        if division is not None:
            self._copy_division_names(division)
        # Oscar's name is first + last; a Chinese recipient is one name.
        self.instance.first_name = ""
        return cleaned

    def _copy_division_names(self, code: str) -> None:
        from shop.address.chinese import copy_division_names

        copy_division_names(self.instance, code)

    def _get_validation_exclusions(self) -> set[str]:
        # The number was checked against the mainland mobile pattern above;
        # the model field's libphonenumber check lags new number ranges.
        exclude = super()._get_validation_exclusions()
        exclude.add("phone_number")
        return exclude
