"""Platform staff manage village service stations in Oscar's dashboard
(/dashboard/stations/): coverage and the station list, creating and editing
stations, suspending and reactivating them, their staff accounts, the cash
they owe and hand over, commission, residents and their audit log, and
parcels locked after wrong pickup codes.

Every change goes through the services (stations.services, stations.cash,
stations.parcels); these views only read, validate forms and report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView, View
from oscar.views.decorators import permissions_required

from config.spreadsheets import csv_response, safe_cell
from cooperatives.privacy import mask_phone
from divisions.models import Division
from stations import audit, cash, commission, parcels, services
from stations.coverage import TIANJIN, coverage, coverage_by_district
from stations.dashboard.display import describe, place
from stations.dashboard.forms import (
    ExistingStaffForm,
    NewStaffForm,
    RemittanceForm,
    StationForm,
    StatusForm,
    UnlockForm,
    default_rates,
)
from stations.models import (
    CashEntry,
    DayClose,
    Resident,
    Station,
    StationOrder,
    StationStaff,
    staff_name,
)

Status = Station.Status
ZERO = Decimal("0.00")

# Oscar's dashboard rule: staff only; others are sent to the dashboard login
# (signed-in non-staff, station staff included, get 403).
staff_required = method_decorator(
    permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login")),
    name="dispatch",
)


def _count(model, **filters) -> Subquery:
    """A per-station count as a subquery (joins would multiply the sums
    that cash.balances() annotates)."""
    rows = (
        model.objects.filter(station=OuterRef("pk"), **filters)
        .order_by()
        .values("station")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def station_table() -> QuerySet:
    """Stations with what the list shows: outstanding cash, last close and
    difference (cash.balances()), active staff, residents, locked orders."""
    return (
        cash.balances()
        .select_related("village")
        .annotate(
            staff_count=_count(StationStaff, is_active=True),
            resident_count=_count(Resident),
            locked_count=_count(StationOrder, locked_at__isnull=False),
        )
    )


def tianjin_districts() -> list[tuple[str, str]]:
    return list(
        Division.objects.filter(level=Division.Level.COUNTY, code__startswith=TIANJIN)
        .order_by("code")
        .values_list("code", "name")
    )


def paginate(request: HttpRequest, items, per_page: int) -> dict[str, Any]:
    """What Oscar's pagination partial expects, for views that are not ListViews."""
    paginator = Paginator(items, per_page)
    page_obj = paginator.get_page(request.GET.get("page"))
    return {
        "paginator": paginator,
        "page_obj": page_obj,
        "is_paginated": page_obj.has_other_pages(),
    }


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


# --- The list ---------------------------------------------------------------------


@staff_required
class StationListView(ListView):
    template_name = "stations/dashboard/list.html"
    context_object_name = "stations"
    paginate_by = 30

    def get_queryset(self) -> QuerySet:
        qs = station_table()
        get = self.request.GET
        self.status = get.get("status", "")
        if self.status in Status.values:
            qs = qs.filter(status=self.status)
        else:
            self.status = ""
        self.districts = tianjin_districts()
        self.district = get.get("district", "")
        if self.district in {code for code, _name in self.districts}:
            qs = qs.filter(village__code__startswith=self.district)
        else:
            self.district = ""
        self.query = " ".join(get.get("q", "").split())[:50]
        if self.query:
            qs = qs.filter(Q(name__icontains=self.query) | Q(village__name__icontains=self.query))
        return qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        for station in ctx["stations"]:
            station.place = place(station.village_id)
        counts = dict(Station.objects.values_list("status").annotate(n=Count("pk")).order_by())
        ctx.update(
            coverage=coverage(),
            district_coverage=coverage_by_district(),
            tabs=[("", _("全部"), sum(counts.values()))]
            + [(value, label, counts.get(value, 0)) for value, label in Status.choices],
            status=self.status,
            district=self.district,
            districts=self.districts,
            query=self.query,
            total_outstanding=self.object_list.aggregate(s=Sum("outstanding"))["s"] or ZERO,
            locked_total=StationOrder.objects.filter(locked_at__isnull=False).count(),
        )
        return ctx


# --- Create and edit --------------------------------------------------------------


class StationFormMixin:
    template_name = "stations/dashboard/station_form.html"

    def render_form(self, form: StationForm, station: Station | None = None) -> HttpResponse:
        fixed, rate = default_rates()
        return render(
            self.request,
            self.template_name,
            {"form": form, "station": station, "default_fixed": fixed, "default_rate": rate},
        )


@staff_required
class StationCreateView(StationFormMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(StationForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StationForm(request.POST)
        if not form.is_valid():
            if not form.is_narrowing:
                messages.error(request, _("站点没有保存，请查看下面的提示。"))
            return self.render_form(form)
        station = form.save()
        services.station_created(station, request.user)
        messages.success(
            request,
            _("已新建站点“%(name)s”。下一步：为站点添加工作人员账号。") % {"name": station.name},
        )
        return redirect(reverse("stations-dashboard:detail", kwargs={"pk": station.pk}) + "#staff")


class StationObjectMixin:
    """Loads ``self.station`` from the URL's ``pk`` (after the staff check)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.station = get_object_or_404(Station.objects.select_related("village"), pk=kwargs["pk"])
        self.station.place = place(self.station.village_id)
        return super().dispatch(request, *args, **kwargs)


@staff_required
class StationUpdateView(StationFormMixin, StationObjectMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_form(StationForm(instance=self.station), self.station)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = StationForm(request.POST, instance=self.station)
        if not form.is_valid():
            if not form.is_narrowing:
                messages.error(request, _("修改没有保存，请查看下面的提示。"))
            return self.render_form(form, self.station)
        changed = form.changed_labels()
        station = form.save()
        services.station_changed(station, request.user, changed)
        if changed:
            messages.success(request, _("已保存站点“%(name)s”的修改。") % {"name": station.name})
        else:
            messages.info(request, _("没有需要保存的修改。"))
        return redirect("stations-dashboard:detail", pk=station.pk)


# --- Detail, status and staff -----------------------------------------------------


class StationDetailContextMixin(StationObjectMixin):
    template_name = "stations/dashboard/detail.html"

    def detail_context(self, **forms: Any) -> dict[str, Any]:
        station = self.station
        fixed, rate = commission.rates(station)
        return {
            "station": station,
            "status_form": forms.get("status_form") or StatusForm(),
            "new_form": forms.get("new_form") or NewStaffForm(),
            "existing_form": forms.get("existing_form") or ExistingStaffForm(),
            "staff_mode": forms.get("staff_mode", ""),
            "last_status_change": services.last_status_change(station),
            "history": services.history(station)[:20],
            "staff_members": station.staff.select_related("user", "added_by").order_by(
                "-is_active", "added_at", "pk"
            ),
            "recent_orders": StationOrder.objects.filter(station=station)
            .select_related("order", "resident", "placed_by")
            .order_by("-created_at", "-pk")[:10],
            "order_count": StationOrder.objects.filter(station=station).count(),
            "resident_count": Resident.objects.filter(station=station).count(),
            "locked_count": StationOrder.objects.filter(
                station=station, locked_at__isnull=False
            ).count(),
            "outstanding": cash.outstanding_balance(station),
            "drawer": cash.drawer(station),
            "last_close": cash.last_close(station),
            "rates": {
                "fixed": fixed,
                "rate": rate,
                "fixed_is_default": station.commission_fixed is None,
                "rate_is_default": station.commission_rate is None,
            },
        }

    def render_detail(self, **forms: Any) -> HttpResponse:
        return render(self.request, self.template_name, self.detail_context(**forms))


@staff_required
class StationDetailView(StationDetailContextMixin, View):
    """The station's page; POST suspends or reactivates it."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_detail()

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = StatusForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("站点状态没有改变，请查看下面的提示。"))
            return self.render_detail(status_form=form)
        target = StatusForm.TARGET[form.cleaned_data["action"]]
        try:
            services.set_status(self.station, target, form.cleaned_data["reason"], request.user)
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
            return redirect("stations-dashboard:detail", pk=pk)
        if target == Status.SUSPENDED:
            messages.success(
                request,
                _("已暂停“%(name)s”：工作人员仍可登录和交付包裹，但不能代下单或收款。")
                % {"name": self.station.name},
            )
        else:
            messages.success(request, _("“%(name)s”已恢复运营。") % {"name": self.station.name})
        return redirect("stations-dashboard:detail", pk=pk)


@staff_required
class StaffAddView(StationDetailContextMixin, View):
    """POST: add a staff member, by a new account or an existing one."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect(reverse("stations-dashboard:detail", kwargs={"pk": pk}) + "#staff")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("mode") == "existing":
            return self._existing()
        return self._new()

    def _done(self, staff: StationStaff) -> HttpResponse:
        messages.success(
            self.request,
            _("%(name)s（%(user)s）现在是“%(station)s”的工作人员，可以用邮箱和密码登录站点工作台。")
            % {
                "name": staff_name(staff.user),
                "user": staff.user.get_username(),
                "station": self.station.name,
            },
        )
        return redirect(
            reverse("stations-dashboard:detail", kwargs={"pk": self.station.pk}) + "#staff"
        )

    def _failed(self, **forms: Any) -> HttpResponse:
        messages.error(self.request, _("没有添加工作人员，请查看下面的提示。"))
        return self.render_detail(**forms)

    def _new(self) -> HttpResponse:
        form = NewStaffForm(self.request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                staff = services.create_staff_account(
                    self.station,
                    self.request.user,
                    username=data["username"],
                    display_name=data["display_name"],
                    password=data["password1"],
                    email=data["email"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return self._done(staff)
        return self._failed(new_form=form, staff_mode="new")

    def _existing(self) -> HttpResponse:
        form = ExistingStaffForm(self.request.POST)
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            try:
                user = services.find_user(identifier)
                if user is None:
                    raise ValidationError(
                        _("没有找到用户名或邮箱为“%(id)s”的账号；可以在左边为其新建账号。")
                        % {"id": identifier}
                    )
                staff = services.add_staff(self.station, user, self.request.user)
            except ValidationError as exc:
                form.add_error("identifier", exc)
            else:
                return self._done(staff)
        return self._failed(existing_form=form, staff_mode="existing")


@staff_required
class StaffDeactivateView(StationObjectMixin, View):
    def post(self, request: HttpRequest, pk: int, staff_pk: int) -> HttpResponse:
        staff = get_object_or_404(
            StationStaff.objects.select_related("user"), pk=staff_pk, station=self.station
        )
        try:
            services.deactivate_staff(staff, request.user)
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("已停用 %(name)s（%(user)s）：其不能再使用站点工作台。")
                % {"name": staff_name(staff.user), "user": staff.user.get_username()},
            )
        return redirect(reverse("stations-dashboard:detail", kwargs={"pk": pk}) + "#staff")


# --- Cash ledger ------------------------------------------------------------------


@staff_required
class LedgerView(StationObjectMixin, TemplateView):
    """What the station owes, its drawer, every cash entry and day close;
    POST records cash the platform received from the station."""

    template_name = "stations/dashboard/ledger.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        station = self.station
        outstanding = cash.outstanding_balance(station)
        entries = (
            CashEntry.objects.filter(station=station)
            .select_related("recorded_by", "station_order__order", "day_close")
            .order_by("-created_at", "-pk")
        )
        closes = DayClose.objects.filter(station=station).select_related("closed_by")
        Kind = CashEntry.Kind
        totals = CashEntry.objects.filter(station=station).aggregate(
            sales=Coalesce(Sum("amount", filter=Q(kind=Kind.SALE)), ZERO),
            refunds=Coalesce(Sum("amount", filter=Q(kind=Kind.REFUND)), ZERO),
            remittances=Coalesce(Sum("amount", filter=Q(kind=Kind.REMITTANCE)), ZERO),
        )
        ctx.update(
            station=station,
            outstanding=outstanding,
            drawer=cash.drawer(station),
            totals=totals,
            closes=closes.order_by("-business_date", "-pk")[:60],
            close_count=closes.count(),
            difference_total=closes.aggregate(s=Coalesce(Sum("difference"), ZERO))["s"],
            form=kwargs.get("form") or RemittanceForm(outstanding=outstanding),
            **paginate(self.request, entries, 50),
        )
        return ctx

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = RemittanceForm(request.POST, outstanding=cash.outstanding_balance(self.station))
        if form.is_valid():
            try:
                entry = cash.record_remittance(
                    self.station,
                    request.user,
                    form.cleaned_data["amount"],
                    form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form.add_error("amount" if hasattr(exc, "error_dict") else None, exc)
            else:
                messages.success(
                    request,
                    _("已记录收到“%(name)s”上缴的现金 ¥%(amount)s。")
                    % {"name": self.station.name, "amount": -entry.amount},
                )
                return redirect("stations-dashboard:ledger", pk=pk)
        messages.error(request, _("上缴没有记录，请查看下面的提示。"))
        return self.render_to_response(self.get_context_data(form=form))


# --- Commission -------------------------------------------------------------------


class MonthMixin:
    """``self.year`` and ``self.month`` from ?month=YYYY-MM (this month if
    missing; a message if it cannot be read)."""

    def read_month(self, request: HttpRequest) -> None:
        today = timezone.localdate()
        raw = request.GET.get("month", "")
        parsed = commission.parse_month(raw, allow_future=True)
        if raw and parsed is None:
            messages.warning(
                request, _("月份“%(m)s”无法识别，已显示本月。格式如 2025-06。") % {"m": raw[:20]}
            )
        self.year, self.month = parsed or (today.year, today.month)

    def month_context(self) -> dict[str, Any]:
        following = commission.shift_month(self.year, self.month, 1)
        return {
            "year": self.year,
            "month": self.month,
            "month_value": commission.month_value(self.year, self.month),
            "previous_month": commission.month_value(
                *commission.shift_month(self.year, self.month, -1)
            ),
            "next_month": commission.month_value(*following)
            if following <= commission.current_month()
            else "",
        }


@staff_required
class CommissionView(MonthMixin, TemplateView):
    """Every station's commission for a month; ?format=csv downloads it."""

    template_name = "stations/dashboard/commission.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.read_month(request)
        self.rows = self.statement_rows()
        if request.GET.get("format") == "csv":
            return self.csv_response()
        return super().get(request, *args, **kwargs)

    def statement_rows(self) -> list[dict]:
        rows = commission.statements_for_month(self.year, self.month)
        stations = Station.objects.in_bulk([r["pk"] for r in rows])
        for row in rows:
            station = stations[row["pk"]]
            row["station"] = station
            row["place"] = place(row["village_id"])
            row["goods"] = row["goods"] or ZERO
            row["commission_total"] = row["commission_total"] or ZERO
            row["fixed"], row["rate"] = commission.rates(station)
        return rows

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(self.month_context())
        ctx.update(
            rows=self.rows,
            total_orders=sum(r["n_orders"] for r in self.rows),
            total_goods=sum((r["goods"] for r in self.rows), ZERO),
            total_commission=sum((r["commission_total"] for r in self.rows), ZERO),
        )
        return ctx

    def csv_response(self) -> HttpResponse:
        month = commission.month_value(self.year, self.month)
        header = [
            _("月份"),
            _("站点编号"),
            _("站点名称"),
            _("区"),
            _("乡镇/街道"),
            _("服务村"),
            _("有效订单数"),
            _("商品金额（元）"),
            _("佣金（元）"),
        ]
        rows = [
            [
                month,
                row["pk"],
                safe_cell(row["name"]),
                row["place"].district,
                row["place"].town,
                row["place"].village,
                row["n_orders"],
                row["goods"],
                row["commission_total"],
            ]
            for row in self.rows
        ]
        return csv_response(f"station-commission-{month}.csv", [header, *rows])


@staff_required
class StationCommissionView(MonthMixin, StationObjectMixin, TemplateView):
    template_name = "stations/dashboard/station_commission.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.read_month(request)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(self.month_context())
        fixed, rate = commission.rates(self.station)
        ctx.update(
            station=self.station,
            statement=commission.monthly_statement(self.station, self.year, self.month),
            fixed=fixed,
            rate=rate,
        )
        return ctx


# --- Residents and their audit log --------------------------------------------------


@staff_required
class ResidentListView(StationObjectMixin, TemplateView):
    template_name = "stations/dashboard/residents.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        query = " ".join(self.request.GET.get("q", "").split())[:50]
        residents = (
            Resident.objects.filter(station=self.station)
            .select_related("village", "consent_recorded_by")
            .annotate(order_count=Count("orders"), event_count=_event_count())
            .order_by("name", "pk")
        )
        if query:
            residents = residents.filter(name__icontains=query)
        ctx.update(station=self.station, query=query, **paginate(self.request, residents, 50))
        for resident in ctx["page_obj"]:
            resident.masked_phone = mask_phone(resident.phone)
        return ctx


def _event_count() -> Subquery:
    from stations.models import AuditEvent

    rows = (
        AuditEvent.objects.filter(resident=OuterRef("pk"))
        .order_by()
        .values("resident")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@staff_required
class ResidentAuditView(TemplateView):
    """Everything a station did on the resident's behalf, newest first.
    Read-only: the log cannot be changed, and reading it is not logged
    (platform staff are not station staff)."""

    template_name = "stations/dashboard/resident_audit.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        resident = get_object_or_404(
            Resident.objects.select_related("station__village", "village", "consent_recorded_by"),
            pk=kwargs["pk"],
        )
        ctx.update(
            resident=resident,
            station=resident.station,
            masked_phone=mask_phone(resident.phone),
            **paginate(self.request, audit.events_for_resident(resident), 100),
        )
        for event in ctx["page_obj"]:
            event.details = describe(event.detail)
        return ctx


# --- Locked parcels -----------------------------------------------------------------


@staff_required
class LockedListView(TemplateView):
    template_name = "stations/dashboard/locked.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        orders = list(parcels.locked_orders().order_by("locked_at", "pk"))
        failed = kwargs.get("failed")  # (station order pk, bound form) after an error
        for so in orders:
            so.masked_phone = mask_phone(so.resident.phone)
            so.place = place(so.station.village_id)
            so.form = (
                failed[1] if failed and failed[0] == so.pk else UnlockForm(prefix=f"unlock-{so.pk}")
            )
        ctx["orders"] = orders
        return ctx


@staff_required
class UnlockView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        station_order = get_object_or_404(
            StationOrder.objects.select_related("order", "station", "resident"), pk=pk
        )
        form = UnlockForm(request.POST, prefix=f"unlock-{pk}")
        if not form.is_valid():
            messages.error(request, _("没有解锁，请查看下面的提示。"))
            view = LockedListView()
            view.setup(request)
            return view.render_to_response(view.get_context_data(failed=(pk, form)))
        try:
            parcels.unlock(station_order, request.user, form.cleaned_data["note"])
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("已解锁“%(station)s”订单 %(number)s 的包裹：站点可以重新核对取件码后交付。")
                % {"station": station_order.station.name, "number": station_order.order.number},
            )
        return redirect("stations-dashboard:locked")
