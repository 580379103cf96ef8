"""Forms for cooperatives: self-service registration, the portal's profile,
photo, bank-details and certification forms.

The location is picked the way the address form picks it
(divisions/forms.py): province → city → county → town → village selects,
each filled from the level above; without JavaScript a "下一步" button
(``name="_narrow"``) re-shows the form with the next level's choices, keeping
everything typed and saving nothing; with JavaScript divisions/picker.js
fills the next select at once. A cooperative needs at least its town; the
village is offered where the table has villages (Tianjin).

Every upload goes through cooperatives.uploads (one image check for all).
"""

import re
import unicodedata
from typing import Any

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

from cooperatives import services as coop_services
from cooperatives.credit_code import EntityType, normalise, validate_credit_code
from cooperatives.models import Certification, Cooperative, CooperativePhoto, Membership
from cooperatives.uploads import ImageUploadField, upload_help
from divisions.forms import (
    PHONE_SEPARATORS_RE,
    DivisionPickerMixin,
    division_field,
    normalise_mobile,
)

Partner = get_model("partner", "Partner")

# A landline's local number (after the area code) and an extension.
LOCAL_NUMBER_RE = re.compile(r"[2-9][0-9]{6,7}")
EXTENSION_RE = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})$", re.IGNORECASE)

PHONE_INVALID = _("请填写手机号码或带区号的固定电话，例如 13812345678 或 022-27391234。")
DUPLICATE_CODE = _(
    "该统一社会信用代码已登记，同一主体不能重复申请。如需加入该合作社，请联系其负责人邀请你。"
)


def normalise_phone(value: Any) -> str | None:
    """A mainland mobile as 11 digits, a landline as "022-27391234" (with
    "-123" for an extension typed as 转123, ext 123 or #123), or None if it
    is neither."""
    mobile = normalise_mobile(value)
    if mobile:
        return mobile
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    extension = ""
    match = EXTENSION_RE.search(text)
    if match:
        extension, text = match.group(1), text[: match.start()]
    digits = PHONE_SEPARATORS_RE.sub("", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = "0" + digits[len(prefix) :]
            break
    if not digits.isdigit() or not digits.startswith("0"):
        return None
    # 010 and 02x are the three-digit area codes; all others have four.
    area_length = 3 if digits[1] in "12" else 4
    area, number = digits[:area_length], digits[area_length:]
    if not LOCAL_NUMBER_RE.fullmatch(number):
        return None
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


def entity_type_label(code: str) -> str:
    """The type as shown to people, e.g. 农民专业合作社（93）."""
    prefix = normalise(code)[:2]
    try:
        label = EntityType(prefix).label
    except ValueError:
        return prefix
    return _("%(label)s（%(code)s）") % {"label": label, "code": prefix}


class PhoneFieldMixin:
    def clean_contact_phone(self) -> str:
        phone = normalise_phone(self.cleaned_data.get("contact_phone", ""))
        if phone is None:
            raise forms.ValidationError(PHONE_INVALID, code="invalid")
        return phone


class RegistrationForm(PhoneFieldMixin, DivisionPickerMixin, forms.ModelForm):
    """Apply for a cooperative (or, after a rejection, correct and re-apply)."""

    division_levels = ("province", "city", "county", "town", "village")
    placeholders = {
        "province": (_("请选择省份"), _("请选择省份")),
        "city": (_("请选择城市"), _("请先选择省份")),
        "county": (_("请选择区县"), _("请先选择城市")),
        "town": (_("请选择乡镇/街道"), _("请先选择区县")),
        "village": (_("请选择村/社区（可不选）"), _("请先选择乡镇/街道")),
    }
    province = division_field(_("省份"), _("请选择省份"))
    city = division_field(_("城市"), _("请选择城市"))
    county = division_field(_("区县"), _("请选择区县"))
    town = division_field(_("乡镇/街道"), _("请选择乡镇/街道：合作社的所在地至少要选到乡镇一级"))
    village = division_field(_("村/社区"))
    # Longer than the 18 stored characters: spaces and dashes are typed too.
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=40,
        help_text=_("营业执照上的 18 位代码；农民专业合作社以 93 开头，企业 91，个体工商户 92。"),
        error_messages={"required": _("请填写统一社会信用代码"), "unique": DUPLICATE_CODE},
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    business_licence = ImageUploadField(
        label=_("营业执照照片"),
        help_text=format_lazy(
            "{} {}", _("拍摄或扫描营业执照正本或副本，四角完整、文字清晰。"), upload_help()
        ),
        error_messages={"required": _("请上传营业执照照片")},
    )

    class Meta:
        model = Cooperative
        fields = [
            "legal_name",
            "display_name",
            "credit_code",
            "legal_representative",
            "contact_phone",
            "address_detail",
            "description",
            "business_licence",
        ]
        labels = {
            "legal_name": _("法定名称（与营业执照一致）"),
            "display_name": _("简称（在网农上显示）"),
            "description": _("合作社简介"),
        }
        help_texts = {
            "legal_name": _("例如：天津市西青区辛口沙窝萝卜种植专业合作社"),
            "display_name": _("不超过 40 个字，例如：辛口沙窝萝卜合作社"),
            "legal_representative": _("营业执照上的法定代表人（负责人）姓名"),
            "contact_phone": _("手机号码或带区号的固定电话，平台审核时会联系您"),
            "address_detail": _("村内的具体位置、门牌号等"),
            "description": _("可不填，通过审核后显示在合作社主页上：种植养殖什么、规模、特色等"),
        }
        error_messages = {
            "legal_name": {"required": _("请填写合作社的法定名称")},
            "display_name": {"required": _("请填写简称")},
            "legal_representative": {"required": _("请填写法定代表人姓名")},
            "contact_phone": {"required": _("请填写联系电话")},
        }
        widgets = {
            "contact_phone": forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}
            ),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.entity_type_label = ""
        self.is_resubmission = bool(self.instance.pk)
        if self.is_resubmission and self.instance.business_licence:
            field = self.fields["business_licence"]
            field.required = False
            field.help_text = _("已上传过营业执照；如需更换，请重新选择图片，否则保留原图。")
        self.fields["address_detail"].required = True
        self.fields["address_detail"].error_messages["required"] = _(
            "请填写详细地址（村内位置、门牌号等）"
        )
        self._init_divisions(self.instance.division_id if self.instance.pk else None)
        self.order_fields(
            [
                "legal_name",
                "display_name",
                "credit_code",
                "legal_representative",
                "contact_phone",
                *self.division_levels,
                "address_detail",
                "description",
                "business_licence",
            ]
        )
        if not self.is_bound and self.instance.credit_code:
            self.entity_type_label = entity_type_label(self.instance.credit_code)

    def clean_credit_code(self) -> str:
        code = validate_credit_code(self.cleaned_data.get("credit_code", ""))
        taken = Cooperative.objects.filter(credit_code=code)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(DUPLICATE_CODE, code="duplicate")
        self.entity_type_label = entity_type_label(code)
        self.instance.entity_type = code[:2]
        return code

    def clean_legal_name(self) -> str:
        return " ".join(self.cleaned_data.get("legal_name", "").split())

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data.get("display_name", "").split())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        division = self.clean_division(cleaned)
        if division is not None:
            self.instance.division_id = division
        return cleaned

    @transaction.atomic
    def save_application(self, user) -> Cooperative:
        """Create the Partner (not selling), the Cooperative (applied, by
        ``user``) and the applicant's manager Membership, in one transaction;
        or, for a rejected application, update it and send it back to review."""
        coop = self.save(commit=False)
        if self.is_resubmission:
            coop.save()
            Partner.objects.filter(pk=coop.partner_id).update(name=coop.legal_name)
            if coop.status == Cooperative.Status.REJECTED:
                coop_services.change_status(coop, Cooperative.Status.APPLIED, by=user)
            return coop
        coop.partner = Partner.objects.create(name=coop.legal_name, is_selling=False)
        coop.status = Cooperative.Status.APPLIED
        coop.applied_by = user
        coop.status_changed_at = timezone.now()
        coop.save()
        Membership.objects.create(cooperative=coop, user=user, role=Membership.Role.MANAGER)
        return coop

    def register(self, user) -> Cooperative | None:
        """:meth:`save_application`, turning a race lost to another applicant
        (the same code saved a moment earlier) into a form error."""
        try:
            return self.save_application(user)
        except IntegrityError:
            if self.instance.business_licence and not self.is_resubmission:
                self.instance.business_licence.delete(save=False)
            if Cooperative.objects.filter(credit_code=self.cleaned_data["credit_code"]).exists():
                self.add_error(
                    "credit_code", forms.ValidationError(DUPLICATE_CODE, code="duplicate")
                )
            else:
                self.add_error(
                    None,
                    forms.ValidationError(
                        _("你的账户已经关联了一个合作社，不能再申请新的合作社。"), code="member"
                    ),
                )
            return None


class ProfileForm(PhoneFieldMixin, forms.ModelForm):
    """What a manager may change on the public page: the legal data (name,
    credit code, representative) can only change through a new review."""

    class Meta:
        model = Cooperative
        fields = ["display_name", "description", "contact_phone", "address_detail"]
        labels = {"display_name": _("简称（在网农上显示）"), "description": _("合作社简介")}
        help_texts = {
            "description": _("显示在合作社主页上：种植养殖什么、规模、特色等"),
            "contact_phone": _("手机号码或带区号的固定电话"),
        }
        error_messages = {
            "display_name": {"required": _("请填写简称")},
            "contact_phone": {"required": _("请填写联系电话")},
        }
        widgets = {
            "contact_phone": forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}
            ),
            "description": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data.get("display_name", "").split())


class PhotoForm(forms.ModelForm):
    image = ImageUploadField(label=_("照片"), error_messages={"required": _("请选择要上传的照片")})

    class Meta:
        model = CooperativePhoto
        fields = ["image", "caption"]
        labels = {"caption": _("照片说明（可不填）")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class BankDetailsForm(forms.ModelForm):
    """Where settlements are paid (managers only)."""

    class Meta:
        model = Cooperative
        fields = ["bank_account_name", "bank_name", "bank_account_number"]
        help_texts = {
            "bank_account_name": _("一般应与合作社的法定名称一致"),
            "bank_name": _("开户银行及支行，例如：中国农业银行天津西青支行"),
            "bank_account_number": _("可以带空格，保存时只保留数字"),
        }
        widgets = {
            "bank_account_number": forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "off"}
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name in self.fields:
            self.fields[name].required = True
        self.fields["bank_account_name"].error_messages["required"] = _("请填写开户名称")
        self.fields["bank_name"].error_messages["required"] = _("请填写开户银行")
        self.fields["bank_account_number"].error_messages["required"] = _("请填写银行账号")

    def clean_bank_account_number(self) -> str:
        raw = unicodedata.normalize("NFKC", self.cleaned_data.get("bank_account_number", ""))
        digits = re.sub(r"[\s\-]", "", raw)
        if not digits.isdigit() or not 8 <= len(digits) <= 32:
            raise forms.ValidationError(_("银行账号应为 8 到 32 位数字，请核对。"), code="invalid")
        return digits


class CertificationForm(forms.ModelForm):
    document = ImageUploadField(
        label=_("证书照片或扫描件"),
        error_messages={"required": _("请上传证书的照片或扫描件")},
    )

    class Meta:
        model = Certification
        fields = ["type", "number", "issuer", "expires_on", "document"]
        help_texts = {
            "issuer": _("例如：中国绿色食品发展中心"),
            "expires_on": _("过期后，证书会自动从合作社主页上消失"),
        }
        error_messages = {
            "type": {"required": _("请选择认证类型")},
            "number": {"required": _("请填写证书编号")},
            "issuer": {"required": _("请填写发证机构")},
            "expires_on": {
                "required": _("请填写有效期"),
                "invalid": _("请按“年-月-日”填写日期，例如 2027-06-30"),
            },
        }
        widgets = {"expires_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, cooperative: Cooperative, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.cooperative = cooperative
        self.instance.cooperative = cooperative
        if self.instance.pk and self.instance.document:
            field = self.fields["document"]
            field.required = False
            field.help_text = _("已上传；如需更换，请重新选择图片，否则保留原图。")

    def clean_number(self) -> str:
        return " ".join(self.cleaned_data.get("number", "").split())

    def clean_expires_on(self):
        expires_on = self.cleaned_data.get("expires_on")
        if expires_on and expires_on < timezone.localdate():
            raise forms.ValidationError(
                _("该证书已过期，过期证书不会展示，请上传有效期内的证书。"), code="expired"
            )
        return expires_on

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind, number = cleaned.get("type"), cleaned.get("number")
        if kind and number:
            same = Certification.objects.filter(
                cooperative=self.cooperative, type=kind, number=number
            )
            if self.instance.pk:
                same = same.exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error(
                    "number",
                    forms.ValidationError(_("这张证书已经登记过了。"), code="duplicate"),
                )
        return cleaned
