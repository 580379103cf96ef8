"""Residents at the station: find, register (with consent), view, edit.

Phone numbers are shown masked everywhere; the full number is shown on
purpose (a POST, one resident at a time) and that is audit-logged by
``stations.residents.reveal_contact``. The rules live in that module; the
forms here only carry what was typed and show its errors.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, ListView, TemplateView

from divisions.forms import normalise_mobile
from stations import residents
from stations.access import StationPortalMixin, get_scoped_or_404, station_orders, station_residents
from stations.models import Resident

# Service error keys → form field names.
FIELD_FOR_ERROR = {"village_code": "village"}


class ResidentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    phone = forms.CharField(
        label=gettext_lazy("手机号（选填）"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("用于到货短信通知。居民没有手机可以不填。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    village = forms.ChoiceField(label=gettext_lazy("所在村"))
    address_detail = forms.CharField(
        label=gettext_lazy("门牌地址"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("送货上门时必填，如“三排五号”。"),
    )
    delivery_preference = forms.ChoiceField(
        label=gettext_lazy("收货方式"),
        choices=Resident.Delivery.choices,
        initial=Resident.Delivery.STATION,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, station, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = residents.village_choices(station)
        self.fields["village"].initial = station.village_id

    def resident_data(self) -> residents.ResidentData:
        data = self.cleaned_data
        return residents.ResidentData(
            name=data["name"],
            village_code=data["village"],
            phone=data["phone"],
            address_detail=data["address_detail"],
            delivery_preference=data["delivery_preference"],
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for key, errors in exc.message_dict.items():
                field = FIELD_FOR_ERROR.get(key, key)
                for message in errors:
                    self.add_error(field if field in self.fields else None, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


class RegisterForm(ResidentForm):
    consent = forms.BooleanField(
        label=gettext_lazy("已向居民宣读以上内容，居民同意"),
        error_messages={"required": gettext_lazy("请先向居民说明并取得同意，再登记。")},
    )


def with_masked_phone(rows):
    for resident in rows:
        resident.masked = residents.masked_phone(resident)
    return rows


class ResidentMixin:
    """Loads ``self.resident`` (URL ``pk``) from the station's residents."""

    def dispatch(self, request, *args, **kwargs):
        self.resident = get_scoped_or_404(
            station_residents(self.station).select_related("village"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["resident"] = self.resident
        ctx["masked_phone"] = residents.masked_phone(self.resident)
        return ctx


class ResidentListView(StationPortalMixin, ListView):
    template_name = "stations/portal/residents.html"
    context_object_name = "residents"
    paginate_by = 20

    def get_queryset(self):
        self.query = " ".join(self.request.GET.get("q", "").split())[:50]
        return residents.find_residents(self.station, self.query)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        with_masked_phone(ctx["residents"])
        ctx["query"] = self.query
        return ctx


class ResidentCreateView(StationPortalMixin, FormView):
    template_name = "stations/portal/residents_form.html"
    form_class = RegisterForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "station": self.station}

    def form_valid(self, form):
        try:
            resident = residents.register_resident(
                self.station,
                self.request.user,
                form.resident_data(),
                consent_given=form.cleaned_data["consent"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
            return self.form_invalid(form)
        messages.success(
            self.request, _("已登记居民“%(name)s”。现在可以为其代下单。") % {"name": resident.name}
        )
        return redirect("station:order", pk=resident.pk)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["consent_statement"] = residents.consent_statement()
        ctx["existing_resident"] = self.existing_resident(ctx["form"])
        return ctx

    def existing_resident(self, form):
        """The station's resident a rejected phone number already belongs to."""
        if not form.is_bound or "phone" not in form.errors:
            return None
        phone = normalise_mobile(form.data.get("phone", ""))
        if not phone:
            return None
        return station_residents(self.station).filter(phone=phone).first()


class ResidentDetailView(StationPortalMixin, ResidentMixin, TemplateView):
    template_name = "stations/portal/residents_detail.html"
    full_phone = None

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["full_phone"] = self.full_phone
        ctx["orders"] = (
            station_orders(self.station)
            .filter(resident=self.resident)
            .select_related("order")
            .order_by("-created_at", "-pk")[:20]
        )
        return ctx


class ResidentContactView(ResidentDetailView):
    """POST: the detail page with the full phone number, audit-logged."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if self.resident.phone:
            self.full_phone = residents.reveal_contact(self.resident, request.user, request)
        return self.render_to_response(self.get_context_data())


class ResidentEditView(StationPortalMixin, ResidentMixin, FormView):
    template_name = "stations/portal/residents_form.html"
    form_class = ResidentForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "station": self.station}

    def get(self, request, *args, **kwargs):
        # The form shows the full number to edit it: that is a view of the
        # contact details, and logged like one.
        if self.resident.phone:
            residents.reveal_contact(self.resident, request.user, request)
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        r = self.resident
        return {
            "name": r.name,
            "phone": r.phone,
            "village": r.village_id,
            "address_detail": r.address_detail,
            "delivery_preference": r.delivery_preference,
        }

    def form_valid(self, form):
        try:
            residents.update_resident(self.resident, self.request.user, form.resident_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
            return self.form_invalid(form)
        messages.success(self.request, _("居民信息已保存。"))
        return redirect("station:resident-detail", pk=self.resident.pk)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["editing"] = True
        form = ctx["form"]
        ctx["existing_resident"] = None
        if form.is_bound and "phone" in form.errors:
            phone = normalise_mobile(form.data.get("phone", ""))
            if phone:
                ctx["existing_resident"] = (
                    station_residents(self.station)
                    .filter(phone=phone)
                    .exclude(pk=self.resident.pk)
                    .first()
                )
        return ctx
