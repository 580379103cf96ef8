"""Forms of the stations dashboard (/dashboard/stations/)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from cooperatives.forms import PhoneFieldMixin
from divisions.forms import DivisionPickerMixin, division_field
from stations import ordering
from stations.coverage import TIANJIN
from stations.models import Station

User = get_user_model()

TIANJIN_CITY = "1201"  # 天津市 → 市辖区 (the only city level of the municipality)


class StationForm(PhoneFieldMixin, DivisionPickerMixin, forms.ModelForm):
    """Create or edit a station. The village is picked district → town →
    village (Tianjin is preset; without JavaScript each "下一步" button
    re-shows the form with the next level's choices)."""

    division_levels = ("province", "city", "county", "town", "village")
    placeholders = {
        "province": (_("请选择"), _("请选择")),
        "city": (_("请选择"), _("请先选择省份")),
        "county": (_("请选择区"), _("请先选择城市")),
        "town": (_("请选择乡镇/街道"), _("请先选择区")),
        "village": (_("请选择服务的村"), _("请先选择乡镇/街道")),
    }
    province = division_field(_("省市"), _("服务站只在天津市设立，请选择天津市。"))
    city = division_field(_("城市"), _("请选择城市"))
    county = division_field(_("区"), _("请选择站点所在的区"))
    town = division_field(_("乡镇/街道"), _("请选择站点所在的乡镇/街道"))
    village = division_field(_("服务村"), _("请选择站点服务的村（村委会）"))

    class Meta:
        model = Station
        fields = [
            "name",
            "street_address",
            "opening_hours",
            "contact_phone",
            "operator",
            "is_pickup_point",
            "commission_fixed",
            "commission_rate",
        ]
        help_texts = {
            "name": _("例如：上辛口村益农信息社"),
            "street_address": _("站点在村里的位置、门牌号，居民取件时按此找到站点"),
            "opening_hours": _("例如：8:00–18:00，周一至周日"),
            "contact_phone": _("手机号码或带区号的固定电话，例如 13812345678 或 022-27391234"),
            "operator": _("负责站点的个人或单位，例如：上辛口村村民委员会"),
            "is_pickup_point": _("可作为自提点时，网店顾客也可以选择到本站取货"),
        }
        error_messages = {
            "name": {"required": _("请填写站点名称")},
            "street_address": {"required": _("请填写站点的详细地址")},
            "contact_phone": {"required": _("请填写联系电话")},
            "operator": {"required": _("请填写运营者")},
        }
        widgets = {
            "contact_phone": forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.original_village = self.instance.village_id
        if not self.instance.pk:
            self.initial.setdefault("province", TIANJIN)
            self.initial.setdefault("city", TIANJIN_CITY)
        self._init_divisions(self.instance.village_id or None)
        # Stations serve Tianjin's villages only: offer Tianjin alone.
        province = self.fields["province"].widget
        province.choices = [c for c in province.choices if c[0] in ("", TIANJIN)]
        fixed, rate = default_rates()
        fixed_field = self.fields["commission_fixed"]
        fixed_field.validators.append(_min_zero)
        fixed_field.help_text = _("留空则使用平台默认值：每单 ¥%(fixed)s") % {"fixed": fixed}
        rate_field = self.fields["commission_rate"]
        rate_field.validators += [_min_zero, _max_hundred]
        rate_field.help_text = _(
            "商品金额（不含运费）的百分比；留空则使用平台默认值：%(rate)s%%"
        ) % {"rate": rate}
        self.order_fields(
            [
                "name",
                *self.division_levels,
                "street_address",
                "opening_hours",
                "contact_phone",
                "operator",
                "is_pickup_point",
                "commission_fixed",
                "commission_rate",
            ]
        )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data.get("name", "").split())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        code = self.clean_division(cleaned)
        if code is not None:
            if not code.startswith(TIANJIN):
                self.add_error(
                    "province", forms.ValidationError(_("服务站只在天津市设立，请选择天津市。"))
                )
            else:
                # Station.clean() (run by the model form) holds the village
                # to a Tianjin village-level division.
                self.instance.village_id = code
        return cleaned

    def changed_labels(self) -> list:
        """Labels of the fields this form changed (for the station's history)."""
        labels = []
        if self.instance.village_id != self.original_village:
            labels.append(Station._meta.get_field("village").verbose_name)
        for name in self.changed_data:
            if name not in self.division_levels:
                labels.append(Station._meta.get_field(name).verbose_name)
        return labels


def default_rates() -> tuple[Decimal, Decimal]:
    """The programme's commission: (fixed yuan per order, percent of goods)."""
    return (
        Decimal(str(settings.WANGNONG_STATION_COMMISSION_FIXED)),
        Decimal(str(settings.WANGNONG_STATION_COMMISSION_RATE)),
    )


def _min_zero(value) -> None:
    if value is not None and value < 0:
        raise forms.ValidationError(_("不能小于 0。"), code="min_value")


def _max_hundred(value) -> None:
    if value is not None and value > 100:
        raise forms.ValidationError(_("比例不能超过 100%。"), code="max_value")


class StatusForm(forms.Form):
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    TARGET = {SUSPEND: Station.Status.SUSPENDED, REACTIVATE: Station.Status.ACTIVE}

    action = forms.ChoiceField(choices=[(SUSPEND, _("暂停站点")), (REACTIVATE, _("恢复运营"))])
    reason = forms.CharField(
        label=_("原因"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "暂停时必填。暂停期间，站点工作人员仍可登录、交付已到站的包裹，但不能代下单或收款。"
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["reason"] = " ".join(cleaned.get("reason", "").split())
        if cleaned.get("action") == self.SUSPEND and not cleaned["reason"]:
            self.add_error(
                "reason", forms.ValidationError(_("暂停站点必须填写原因。"), code="required")
            )
        return cleaned


class NewStaffForm(forms.Form):
    """A new account for a station's staff member; they sign in at the
    shop's login page with the e-mail address and password."""

    prefix = "new"

    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("字母、数字和 @ . + - _，例如 station-xinkou-liu"),
        error_messages={"required": _("请填写用户名")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        label=_("姓名"),
        max_length=150,
        help_text=_("显示在小票和操作记录中"),
        error_messages={"required": _("请填写工作人员的姓名")},
    )
    email = forms.EmailField(
        label=_("邮箱"),
        help_text=_("登录网农时使用这个邮箱和密码"),
        error_messages={
            "required": _("请填写邮箱：工作人员用它登录"),
            "invalid": _("邮箱格式不对"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    password1 = forms.CharField(
        label=_("初始密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请设置初始密码")},
    )
    password2 = forms.CharField(
        label=_("再输一次密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请再输一次密码")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields[
            "password1"
        ].help_text = password_validation.password_validators_help_text_html()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                _("用户名“%(u)s”已被使用；如是同一个人，请用“添加已有账号”。") % {"u": username}
            )
        return username

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data["display_name"].split())

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"].strip())
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("邮箱 %(e)s 已被其他账号使用；如是同一个人，请用“添加已有账号”。") % {"e": email}
            )
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", forms.ValidationError(_("两次输入的密码不一致")))
        elif one:
            probe = User(
                username=cleaned.get("username", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("display_name", ""),
            )
            try:
                password_validation.validate_password(one, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class ExistingStaffForm(forms.Form):
    prefix = "existing"

    identifier = forms.CharField(
        label=_("用户名或邮箱"),
        max_length=254,
        error_messages={"required": _("请填写要添加的账号的用户名或邮箱")},
        help_text=_("这个人已在网农注册过账号时使用。平台工作人员账号不能兼任站点工作人员。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RemittanceForm(forms.Form):
    """Cash the platform received from the station."""

    amount = forms.CharField(
        label=_("收到的现金（元）"),
        max_length=20,
        error_messages={"required": _("请填写收到的金额")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=200,
        help_text=_("可不填，例如：6 月上半月货款，收款人王会计"),
    )

    def __init__(self, *args: Any, outstanding: Decimal, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.outstanding = outstanding

    def clean_amount(self) -> Decimal:
        amount = ordering.parse_cash(self.cleaned_data["amount"])
        if amount is None or amount <= 0:
            raise forms.ValidationError(_("请填写大于 0 的金额，例如 500 或 500.50。"))
        if amount > self.outstanding:
            raise forms.ValidationError(
                _("上缴 ¥%(amount)s 超过了站点待上缴的 ¥%(outstanding)s，请核对金额。")
                % {"amount": amount, "outstanding": self.outstanding}
            )
        return amount

    def clean_note(self) -> str:
        return " ".join(self.cleaned_data.get("note", "").split())


class UnlockForm(forms.Form):
    note = forms.CharField(
        label=_("核实情况"),
        max_length=200,
        error_messages={"required": _("请写明如何核实了居民身份，再解锁。")},
        help_text=_("例如：已电话联系居民，核对身份证后由站点交付"),
    )

    def clean_note(self) -> str:
        note = " ".join(self.cleaned_data.get("note", "").split())
        if not note:
            raise forms.ValidationError(_("请写明如何核实了居民身份，再解锁。"))
        return note
