"""Django admin (/django-admin/) for looking things up. Staff review and
change a cooperative's status in Oscar's dashboard (/dashboard/cooperatives/),
which goes through cooperatives.services; here the status is read-only."""

from django.contrib import admin

from cooperatives.models import (
    Certification,
    Cooperative,
    CooperativePhoto,
    Invitation,
    Membership,
    StatusChange,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0


class PhotoInline(admin.TabularInline):
    model = CooperativePhoto
    extra = 0


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "reason", "changed_by", "changed_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Cooperative)
class CooperativeAdmin(admin.ModelAdmin):
    list_display = ["display_name", "legal_name", "credit_code", "entity_type", "status"]
    list_filter = ["status", "entity_type"]
    search_fields = ["legal_name", "display_name", "credit_code"]
    raw_id_fields = ["partner", "division", "applied_by"]
    readonly_fields = ["status", "status_reason", "status_changed_at", "created_at", "updated_at"]
    inlines = [MembershipInline, CertificationInline, PhotoInline, StatusChangeInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "cooperative", "role"]
    list_filter = ["role"]
    raw_id_fields = ["user", "cooperative"]


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["cooperative", "type", "number", "issuer", "expires_on"]
    list_filter = ["type"]
    search_fields = ["number", "cooperative__legal_name"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["cooperative", "phone", "email", "role", "created_at", "accepted_at"]
    raw_id_fields = ["cooperative", "invited_by", "accepted_by"]


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ["cooperative", "from_status", "to_status", "changed_by", "changed_at"]
    list_filter = ["to_status"]
    readonly_fields = [f.name for f in StatusChange._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
