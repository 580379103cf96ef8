"""Forms of the staff logistics dashboard (/dashboard/logistics/): the
actions on a shipment and the cost report's date range. The rules
themselves live in logistics.shipments and logistics.tracking; these only
read what staff typed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from logistics import shipments as shipping
from logistics.models import Carrier, Shipment
from logistics.vocabulary import Service, TrackingStatus

# The longest range the cost report covers at once.
MAX_REPORT_DAYS = 366


def _squash(value: str) -> str:
    return " ".join((value or "").split())


class CarrierOverrideForm(forms.Form):
    """Send the shipment with another carrier. The select offers the
    carriers able to take it (shipments.carrier_choices, with their price);
    the service has the last word on any carrier posted."""

    carrier = forms.ModelChoiceField(
        label=_("改用承运商"),
        queryset=Carrier.objects.filter(is_active=True),
        error_messages={
            "required": _("请选择承运商。"),
            "invalid_choice": _("请从列表中选择承运商。"),
        },
    )

    def __init__(self, *args: Any, shipment: Shipment, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.options = shipping.carrier_choices(shipment)
        self.fields["carrier"].choices = [("", _("请选择"))] + [
            (
                rate.carrier.pk,
                _("%(name)s · %(service)s · ¥%(cost)s%(current)s")
                % {
                    "name": rate.carrier.name,
                    "service": _service_label(rate.service),
                    "cost": rate.cost,
                    "current": _("（当前）") if rate.carrier.pk == shipment.carrier_id else "",
                },
            )
            for rate in self.options
        ]


def _service_label(value: str) -> str:
    return str(dict(Service.choices).get(value, value))


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"),
        max_length=200,
        error_messages={"required": _("请写明取消原因。")},
        help_text=_("会记入发货单日志，例如：买家取消订单、地址无法送达"),
    )

    def clean_reason(self) -> str:
        reason = _squash(self.cleaned_data.get("reason", ""))
        if not reason:
            raise forms.ValidationError(_("请写明取消原因。"))
        return reason


class TrackingNumberForm(forms.Form):
    tracking_number = forms.CharField(
        label=_("运单号"),
        max_length=64,
        error_messages={"required": _("请输入快递员给的运单号（字母和数字）。")},
        help_text=_("手工承运商：按面单交给快递员后，录入快递员给的运单号"),
    )


class TrackingStatusForm(forms.Form):
    """A status staff learned some other way (a phone call, a manual carrier)."""

    status = forms.ChoiceField(
        label=_("物流状态"),
        choices=[("", _("请选择"))] + list(TrackingStatus.choices),
        error_messages={
            "required": _("请选择物流状态。"),
            "invalid_choice": _("请选择物流状态。"),
        },
    )
    location = forms.CharField(label=_("地点"), max_length=100, required=False)
    note = forms.CharField(
        label=_("说明"),
        max_length=300,
        required=False,
        help_text=_("例如：电话联系承运商客服确认已签收"),
    )

    def clean_location(self) -> str:
        return _squash(self.cleaned_data.get("location", ""))

    def clean_note(self) -> str:
        return _squash(self.cleaned_data.get("note", ""))


class DateRangeForm(forms.Form):
    """The cost report's range (the days shipments leave), inclusive.
    Missing dates mean the last 30 days (and tomorrow)."""

    start = forms.DateField(
        label=_("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日期格式如 2025-06-01。")},
    )
    end = forms.DateField(
        label=_("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日期格式如 2025-06-30。")},
    )

    @staticmethod
    def default_range() -> tuple[dt.date, dt.date]:
        """The last 30 days, and tomorrow: parcels booked after a carrier's
        pickup cut-off leave tomorrow and are already costed."""
        today = timezone.localdate()
        return today - dt.timedelta(days=29), today + dt.timedelta(days=1)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        default_start, default_end = self.default_range()
        end = cleaned.get("end") or default_end
        start = cleaned.get("start") or min(default_start, end)
        if start > end:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        if (end - start).days + 1 > MAX_REPORT_DAYS:
            raise forms.ValidationError(
                _("一次最多统计 %(n)s 天，请缩小日期范围。") % {"n": MAX_REPORT_DAYS}
            )
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def dates(self) -> tuple[dt.date, dt.date]:
        """The range to show: the form's if valid, else the default."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return self.default_range()
