from django.contrib import admin as django_admin  # noqa: E402
from oscar.apps.payment.admin import *

from shop.payment.models import CommissionRule  # noqa: E402


@django_admin.register(CommissionRule)
class CommissionRuleAdmin(django_admin.ModelAdmin):
    list_display = ("partner", "category", "rate", "note", "updated_at")
    list_filter = ("partner",)
    raw_id_fields = ("partner", "category")
