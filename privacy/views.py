"""The account's privacy pages (/accounts/privacy/): what we hold, the data
export (HTML and JSON) and deleting the account; and staff's pages
(/dashboard/privacy/): the contact-access log and the deletion records."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from privacy import erasure, export
from privacy.models import ContactAccess, DeletionRecord
from shop.payment.dashboard.views import staff_required

# Chinese labels for the export's keys (others are shown as they are).
FIELD_LABELS = {
    "id": N_("编号"),
    "username": N_("用户名"),
    "email": N_("电子邮箱"),
    "first_name": N_("名"),
    "last_name": N_("姓"),
    "date_joined": N_("注册时间"),
    "last_login": N_("最近登录"),
    "is_active": N_("账户有效"),
    "phone_number": N_("电话"),
    "phone": N_("电话"),
    "state": N_("省"),
    "line4": N_("市"),
    "line3": N_("区县"),
    "line2": N_("乡镇"),
    "line1": N_("详细地址"),
    "postcode": N_("邮编"),
    "notes": N_("备注"),
    "division_id": N_("行政区划代码"),
    "number": N_("订单号"),
    "date_placed": N_("下单时间"),
    "status": N_("状态"),
    "currency": N_("币种"),
    "total_incl_tax": N_("订单总额"),
    "shipping_incl_tax": N_("运费"),
    "guest_email": N_("下单邮箱"),
    "shipping_address": N_("收货地址"),
    "billing_address": N_("账单地址"),
    "lines": N_("商品"),
    "title": N_("标题"),
    "partner_name": N_("合作社"),
    "quantity": N_("数量"),
    "line_price_incl_tax": N_("金额"),
    "payments": N_("付款"),
    "method": N_("方式"),
    "amount_allocated": N_("应付"),
    "amount_debited": N_("已付"),
    "amount_refunded": N_("已退"),
    "reference": N_("流水号"),
    "payment_events": N_("付款记录"),
    "refunds": N_("退款"),
    "reason": N_("原因"),
    "amount": N_("金额"),
    "shipments": N_("发货"),
    "carrier": N_("承运商"),
    "tracking_number": N_("运单号"),
    "tracking_status": N_("物流状态"),
    "recipient_name": N_("收件人"),
    "recipient_phone": N_("收件电话"),
    "recipient_address": N_("收件地址"),
    "description": N_("问题描述"),
    "events": N_("经过"),
    "photos": N_("照片"),
    "text": N_("说明"),
    "at": N_("时间"),
    "created_at": N_("时间"),
    "name": N_("姓名"),
    "viewer": N_("查看人"),
    "fields": N_("查看的信息"),
    "view": N_("页面"),
    "station": N_("服务站"),
    "village": N_("村"),
    "consent_at": N_("同意时间"),
    "consent_statement": N_("告知内容"),
}


class Pairs(list):
    """A record of the export as (Chinese label, value) pairs."""


def _labelled(value):
    """The export with Chinese keys, for the HTML page."""
    if isinstance(value, dict):
        return Pairs(
            (_(FIELD_LABELS[k]) if k in FIELD_LABELS else k, _labelled(v)) for k, v in value.items()
        )
    if isinstance(value, list):
        return [_labelled(v) for v in value]
    return value


@method_decorator([never_cache, login_required], name="dispatch")
class PrivacyHomeView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "privacy/home.html",
            {
                "page_title": _("个人信息"),
                "active_tab": "privacy",
                "blockers": erasure.blockers(request.user),
            },
        )


@never_cache
@login_required
@require_GET
def export_html(request: HttpRequest) -> HttpResponse:
    data = export.collect(request.user)
    sections = [(key, title, _labelled(data.get(key))) for key, title in export.SECTION_TITLES]
    return render(
        request,
        "privacy/export.html",
        {
            "page_title": _("我的个人信息"),
            "active_tab": "privacy",
            "sections": sections,
            "generated_at": data["generated_at"],
        },
    )


@never_cache
@login_required
@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    data = export.collect(request.user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="wangnong-my-data-{stamp}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("登录密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("我已了解：账户删除后不能恢复，订单与账目记录将匿名保留。"),
        required=True,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("密码不正确。"))
        return password


@method_decorator([never_cache, login_required], name="dispatch")
class DeleteAccountView(View):
    template_name = "privacy/delete.html"

    def render_page(self, request, form):
        return render(
            request,
            self.template_name,
            {
                "page_title": _("删除账户"),
                "active_tab": "privacy",
                "form": form,
                "blockers": erasure.blockers(request.user),
            },
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(request, DeleteAccountForm(user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DeleteAccountForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.render_page(request, form)
        try:
            erasure.erase(request.user)
        except erasure.ErasureRefused as exc:
            messages.error(request, str(exc))
            return self.render_page(request, DeleteAccountForm(user=request.user))
        logout(request)
        messages.success(request, _("您的账户已删除。订单与账目记录已匿名保留。"))
        return redirect("/")


# --- Staff -------------------------------------------------------------------------------------

PER_PAGE = 50


@staff_required
class ContactAccessListView(View):
    """The access log, newest first, filtered by subject: a username,
    e-mail, order number or resident id (``?subject=``)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        from django.contrib.auth import get_user_model

        qs = ContactAccess.objects.select_related("viewer", "subject_user", "resident", "order")
        subject = " ".join(request.GET.get("subject", "").split())[:100]
        if subject:
            users = get_user_model()._default_manager.filter(
                Q(username=subject) | Q(email__iexact=subject)
            )
            condition = (
                Q(subject_user__in=users) | Q(order__number=subject) | Q(order__user__in=users)
            )
            if subject.isdigit():
                condition |= Q(resident_id=int(subject)) | Q(subject_user_id=int(subject))
            qs = qs.filter(condition)
        page = Paginator(qs.order_by("-at", "-pk"), PER_PAGE).get_page(request.GET.get("page"))
        return render(
            request,
            "privacy/dashboard/access_log.html",
            {"page_obj": page, "entries": page.object_list, "subject": subject},
        )


@staff_required
class DeletionRecordListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(DeletionRecord.objects.all(), PER_PAGE).get_page(request.GET.get("page"))
        return render(
            request,
            "privacy/dashboard/deletions.html",
            {"page_obj": page, "records": page.object_list},
        )


# A resident has no password and never signs in: they ask at the station,
# and platform staff export or delete for them.


def _resident(pk: int):
    from django.shortcuts import get_object_or_404

    from stations.models import Resident

    return get_object_or_404(Resident.objects.select_related("station", "user"), pk=pk)


@staff_required
class ResidentExportView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        resident = _resident(pk)
        body = json.dumps(export.collect(resident.user), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="resident-{resident.pk}.json"'
        response["Cache-Control"] = "private, no-store"
        return response


@staff_required
class ResidentEraseView(View):
    template_name = "privacy/dashboard/resident_erase.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        resident = _resident(pk)
        return render(
            request,
            self.template_name,
            {"resident": resident, "blockers": erasure.blockers(resident.user)},
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        resident = _resident(pk)
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("请勾选确认。"))
            return redirect("privacy-dashboard:resident-erase", pk=pk)
        try:
            erasure.erase(resident.user)
        except erasure.ErasureRefused as exc:
            messages.error(request, str(exc))
            return redirect("privacy-dashboard:resident-erase", pk=pk)
        messages.success(request, _("已按居民的要求删除其个人信息。"))
        return redirect("privacy-dashboard:deletions")
