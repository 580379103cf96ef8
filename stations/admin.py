"""Django admin (/django-admin/) for stations: a technician's view.

Day-to-day management is the staff dashboard (/dashboard/stations/), which
goes through the services. Here stations and staff records may be edited
(the staff rules are checked the same way), residents are shown without
their full phone number, and the ledgers, the audit log, orders and parcels
are read-only: their rows are written by the services only.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cooperatives.privacy import mask_phone
from stations import services
from stations.models import (
    AuditEvent,
    CashEntry,
    DayClose,
    Parcel,
    Resident,
    Station,
    StationOrder,
    StationStaff,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["name", "village", "status", "is_pickup_point", "contact_phone", "created_at"]
    list_filter = ["status", "is_pickup_point"]
    search_fields = ["name", "village__name", "village__code", "operator"]
    raw_id_fields = ["village"]
    # Status changes go through the dashboard (stations.services.set_status),
    # which records who made them and why.
    readonly_fields = ["status", "status_reason", "created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # stations are suspended, not deleted


class StationStaffForm(forms.ModelForm):
    class Meta:
        model = StationStaff
        fields = ["user", "station", "is_active"]

    def clean(self):
        cleaned = super().clean()
        user, station = cleaned.get("user"), cleaned.get("station")
        if user is not None and station is not None:
            reason = services.refusal(user, station)
            if reason:
                raise forms.ValidationError(reason)
        return cleaned


@admin.register(StationStaff)
class StationStaffAdmin(admin.ModelAdmin):
    form = StationStaffForm
    list_display = ["user", "station", "is_active", "added_at", "added_by"]
    list_filter = ["is_active"]
    search_fields = ["user__username", "user__email", "user__first_name", "station__name"]
    raw_id_fields = ["user", "station"]
    readonly_fields = ["added_at", "added_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: the audit log names them


@admin.register(Resident)
class ResidentAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "masked_phone",
        "station",
        "village",
        "delivery_preference",
        "created_at",
    ]
    list_filter = ["delivery_preference"]
    search_fields = ["name", "station__name"]
    exclude = ["phone"]
    readonly_fields = ["masked_phone"]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj) -> str:
        return mask_phone(obj.phone)


@admin.register(StationOrder)
class StationOrderAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "station",
        "resident",
        "total",
        "commission",
        "created_at",
        "cancelled_at",
        "locked_at",
    ]
    list_filter = ["station"]
    search_fields = ["order__number", "resident__name", "station__name"]
    exclude = ["pickup_code"]


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "station",
        "station_order",
        "partner",
        "status",
        "arrived_at",
        "handed_over_at",
    ]
    list_filter = ["status"]
    search_fields = ["station_order__order__number", "station__name"]


@admin.register(DayClose)
class DayCloseAdmin(ReadOnlyAdmin):
    list_display = ["station", "business_date", "expected", "counted", "difference", "closed_by"]
    list_filter = ["station"]
    date_hierarchy = "business_date"


@admin.register(CashEntry)
class CashEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "station",
        "kind",
        "amount",
        "station_order",
        "recorded_by",
        "day_close",
    ]
    list_filter = ["kind", "station"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "station", "resident", "actor", "action", "order"]
    list_filter = ["action"]
    search_fields = ["resident__name", "station__name", "order__number"]
