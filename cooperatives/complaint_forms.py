"""Forms of the complaint pages (buyer, cooperative portal, staff). The rules
are in cooperatives/complaints.py; these only parse what was typed."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cooperatives.complaints import MAX_PHOTOS
from cooperatives.models import Complaint
from cooperatives.uploads import ImageUploadField
from shop.payment import refunds


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show the service's refusal on the form (by field where it can)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("遇到了什么问题"), choices=Complaint.Kind.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("问题描述"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, MAX_PHOTOS + 1):
            self.fields[f"photo{i}"] = ImageUploadField(
                label=_("照片 %(n)s") % {"n": i}, required=False
            )

    def photos(self) -> list:
        return [self.cleaned_data.get(f"photo{i}") for i in range(1, MAX_PHOTOS + 1)]


class EscalateForm(forms.Form):
    text = forms.CharField(
        label=_("为什么需要平台介入"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class YuanField(forms.CharField):
    """A yuan amount as typed → fen (refunds.parse_yuan)."""

    def clean(self, value):
        return refunds.parse_yuan(super().clean(value))


class AnswerForm(forms.Form):
    ACTIONS = [
        ("reply", _("答复")),
        ("replacement", _("补发")),
        ("refund", _("退款")),
    ]
    action = forms.ChoiceField(label=_("处理方式"), choices=ACTIONS, widget=forms.RadioSelect)
    text = forms.CharField(
        label=_("给买家的答复"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    amount = YuanField(label=_("退款金额（元）"), required=False)
    token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class StaffRefundForm(forms.Form):
    amount = YuanField(label=_("退款金额（元）"))
    reason = forms.CharField(
        label=_("退款原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class StaffRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
