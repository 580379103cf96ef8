"""Django admin (/django-admin/) for logistics: where carriers are set up.

A carrier is edited with its rate card (RateZone) and the regions it serves
(ServiceArea: a province, city or county, each priced by one of the
carrier's own zones). The signing secret is never shown back: the field is
a password input and leaving it blank keeps the stored secret. Shipments
and tracking events are read-only here (support looks them up); staff act
on shipments in the logistics dashboard (/dashboard/logistics/), which goes
through the services.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from divisions import services as divisions
from divisions.models import Division
from logistics.models import Carrier, RateZone, ServiceArea, Shipment, TrackingEvent
from logistics.vocabulary import Service

# Service areas are provinces, cities or counties (2, 4 or 6 digit codes).
AREA_LEVELS = (Division.Level.PROVINCE, Division.Level.CITY, Division.Level.COUNTY)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Carriers ---------------------------------------------------------------------


class CarrierForm(forms.ModelForm):
    services = forms.MultipleChoiceField(
        label=_("服务"),
        choices=Service.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一项服务。"),
            "invalid_choice": _(
                "“%(value)s”不是可选的服务；可选：快递、邮政、冷链、同城配送、送村服务站。"
            ),
        },
    )
    api_secret = forms.CharField(
        label=_("签名密钥"),
        required=False,
        max_length=128,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_api_secret = forms.BooleanField(label=_("清除已保存的签名密钥"), required=False)

    class Meta:
        model = Carrier
        fields = [
            "code",
            "name",
            "is_active",
            "services",
            "contact_phone",
            "pickup_cutoff",
            "cold_chain_surcharge",
            "adapter",
            "api_base_url",
            "api_key",
            "api_secret",
            "clear_api_secret",
            "timeout_seconds",
            "poll_tracking",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = bool(self.instance.pk and self.instance.api_secret)
        self.fields["api_secret"].help_text = (
            _("已保存密钥（不显示）。留空则保留原密钥，填写则替换。双方用它签名请求和回调。")
            if stored
            else _("双方用它签名请求和回调（HMAC-SHA256）。")
        )
        if not stored:
            del self.fields["clear_api_secret"]

    def clean_services(self) -> list[str]:
        chosen = self.cleaned_data.get("services") or []
        # Stored in the vocabulary's order, once each.
        return [value for value in Service.values if value in chosen]

    def clean_api_secret(self) -> str:
        secret = self.cleaned_data.get("api_secret", "")
        if not secret and self.instance.pk:
            return self.instance.api_secret  # left blank: keep what is stored
        return secret

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_api_secret"):
            cleaned["api_secret"] = ""
        if cleaned.get("adapter") == Carrier.Adapter.HTTP:
            needed = {
                "api_base_url": _("通过接口对接的承运商需要填写接口地址。"),
                "api_key": _("通过接口对接的承运商需要填写接口账号。"),
                "api_secret": _("通过接口对接的承运商需要签名密钥。"),
            }
            for name, message in needed.items():
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, message)
        if cleaned.get("poll_tracking") and cleaned.get("adapter") == Carrier.Adapter.MANUAL:
            self.add_error("poll_tracking", _("手工录单的承运商没有接口，不能主动查询轨迹。"))
        return cleaned


class RateZoneFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            zone = form.instance
            if zone.pk is None:
                continue
            in_use = zone.areas.count()
            if in_use:
                raise forms.ValidationError(
                    _(
                        "运价区域“%(name)s”还有 %(n)s 个服务地区在用：请先把这些地区改到"
                        "其他区域并保存，再删除它。"
                    )
                    % {"name": zone.name, "n": in_use}
                )


class RateZoneInline(admin.TabularInline):
    model = RateZone
    formset = RateZoneFormSet
    extra = 0
    fields = [
        "name",
        "first_weight_g",
        "first_price",
        "additional_weight_g",
        "additional_price",
        "transit_days",
    ]


class ServiceAreaForm(forms.ModelForm):
    """One region the carrier serves. The zone must be one of this carrier's
    own; the region a province, city or county."""

    # The carrier's zones, set by ServiceAreaInline for the page being shown.
    carrier_zones: list[RateZone] | None = None

    class Meta:
        model = ServiceArea
        fields = ["division", "zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        division = self.fields["division"]
        division.help_text = _("省、市或区县的区划代码，如 12（天津市）、1201、120111（西青区）")
        division.error_messages["invalid_choice"] = _(
            "没有这个行政区划代码，请输入 2、4 或 6 位的省、市、区县代码。"
        )
        zone = self.fields["zone"]
        zone.label = _("运价区域")
        zone.queryset = RateZone.objects.select_related("carrier")
        zone.label_from_instance = lambda z: f"{z.carrier.name} · {z.name}"
        zone.error_messages["invalid_choice"] = _("请选择本承运商的运价区域。")
        if self.carrier_zones is not None:
            zone.choices = [("", "---------")] + [(z.pk, z.name) for z in self.carrier_zones]
            if not self.carrier_zones:
                zone.help_text = _("请先在上面添加运价区域并保存，再添加服务地区。")

    def clean_division(self):
        division = self.cleaned_data.get("division")
        if division is not None and division.level not in AREA_LEVELS:
            raise forms.ValidationError(
                _(
                    "服务地区只能是省、市或区县（2、4 或 6 位代码）；"
                    "%(name)s（%(code)s）是%(level)s。"
                )
                % {
                    "name": divisions.full_name(division.code) or division.name,
                    "code": division.code,
                    "level": division.get_level_display(),
                }
            )
        return division

    def clean(self):
        cleaned = super().clean()
        zone = cleaned.get("zone")
        carrier = cleaned.get("carrier") or getattr(self.instance, "carrier", None)
        carrier_id = getattr(carrier, "pk", None)
        if zone is not None and zone.carrier_id != carrier_id:
            self.add_error(
                "zone",
                _(
                    "运价区域“%(zone)s”属于%(other)s，不能用于本承运商；"
                    "请选择本承运商自己的运价区域（新的区域要先保存）。"
                )
                % {"zone": zone.name, "other": zone.carrier.name},
            )
        return cleaned


class ServiceAreaInline(admin.TabularInline):
    model = ServiceArea
    form = ServiceAreaForm
    extra = 1
    fields = ["division", "place", "zone"]
    readonly_fields = ["place"]
    raw_id_fields = ["division"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        zones = list(RateZone.objects.filter(carrier=obj)) if obj and obj.pk else []
        formset.form = type("CarrierServiceAreaForm", (formset.form,), {"carrier_zones": zones})
        return formset

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("division", "zone")

    @admin.display(description=_("地区全称"))
    def place(self, obj) -> str:
        return divisions.full_name(obj.division_id) if obj and obj.division_id else ""


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    form = CarrierForm
    inlines = [RateZoneInline, ServiceAreaInline]
    list_display = [
        "name",
        "code",
        "service_list",
        "adapter",
        "is_active",
        "poll_tracking",
        "pickup_cutoff",
        "zone_count",
        "area_count",
    ]
    list_filter = ["is_active", "adapter"]
    search_fields = ["name", "code"]
    fieldsets = [
        (None, {"fields": ["code", "name", "is_active", "services", "contact_phone"]}),
        (_("揽收与运价"), {"fields": ["pickup_cutoff", "cold_chain_surcharge"]}),
        (
            _("对接"),
            {
                "fields": [
                    "adapter",
                    "api_base_url",
                    "api_key",
                    "api_secret",
                    "clear_api_secret",
                    "timeout_seconds",
                    "poll_tracking",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.api_secret:
            # Nothing stored to clear.
            fieldsets = [
                (name, {**opts, "fields": [f for f in opts["fields"] if f != "clear_api_secret"]})
                for name, opts in fieldsets
            ]
        return fieldsets

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_zones=Count("zones", distinct=True), n_areas=Count("areas", distinct=True))
        )

    @admin.display(description=_("服务"))
    def service_list(self, obj) -> str:
        return "、".join(obj.service_labels())

    @admin.display(description=_("运价区域"), ordering="n_zones")
    def zone_count(self, obj) -> int:
        return obj.n_zones

    @admin.display(description=_("服务地区"), ordering="n_areas")
    def area_count(self, obj) -> int:
        return obj.n_areas

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # shipments refer to carriers: deactivate instead


# --- Shipments and tracking (read-only, for support) ----------------------------------------

REFERENCE = re.compile(r"^WN(\d+)$", re.IGNORECASE)


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "created_at",
        "partner",
        "carrier",
        "status",
        "tracking_status",
        "tracking_number",
        "cost",
        "needs_attention",
        "dashboard_link",
    ]
    list_filter = ["status", "needs_attention", "tracking_status", "temperature", "carrier"]
    search_fields = ["tracking_number", "recipient_name", "items__line__order__number"]
    list_select_related = ["partner", "carrier"]
    date_hierarchy = "created_at"

    def get_search_results(self, request, queryset, search_term):
        match = REFERENCE.match(search_term.strip())
        if match:
            return queryset.filter(pk=int(match.group(1))), False
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset, True if search_term else may_have_duplicates

    @admin.display(description=_("发货单"), ordering="pk")
    def reference(self, obj) -> str:
        return f"WN{obj.pk}"

    @admin.display(description=_("处理"))
    def dashboard_link(self, obj) -> str:
        url = reverse("logistics-dashboard:detail", kwargs={"pk": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("在物流看板处理"))


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = [
        "tracking_number",
        "carrier",
        "status",
        "occurred_at",
        "location",
        "source",
        "shipment",
        "received_at",
    ]
    list_filter = ["source", "status", "carrier"]
    search_fields = ["tracking_number", "event_id"]
    list_select_related = ["carrier", "shipment"]
