"""The complaint pages: the buyer's (/complaints/), the cooperative
portal's (/coop/complaints/) and platform staff's (/dashboard/complaints/).
Thin: each looks the complaint up in its own scope (someone else's is a
404), parses the form and calls cooperatives/complaints.py; a refusal comes
back on the form as it was typed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView
from oscar.core.loading import get_model

from cooperatives import complaints
from cooperatives.complaint_forms import (
    AnswerForm,
    ComplaintForm,
    EscalateForm,
    StaffRefundForm,
    StaffRejectForm,
    add_service_errors,
)
from cooperatives.models import Complaint
from cooperatives.portal.access import CooperativePortalMixin
from shop.payment.dashboard.views import staff_required

Line = get_model("order", "Line")


def _related(qs):
    return qs.select_related("order", "line", "cooperative", "buyer", "refund")


# --- Buyer ------------------------------------------------------------------------------------


class ComplaintCreateView(LoginRequiredMixin, View):
    template_name = "cooperatives/complaints/create.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.line = get_object_or_404(
                Line.objects.select_related("order"), pk=kwargs["line_pk"], order__user=request.user
            )
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form):
        line = self.line
        closed = None
        if timezone.now() > complaints.window_ends(line):
            closed = _("已超过投诉期限（收货后 %(days)s 天）。") % {
                "days": complaints.window_days()
            }
        ctx = {
            "line": line,
            "order": line.order,
            "form": form,
            "closed": closed,
            "existing": complaints.open_complaint_of(line),
            "max_photos": complaints.MAX_PHOTOS,
        }
        return render(self.request, self.template_name, ctx)

    def get(self, request, line_pk):
        existing = complaints.open_complaint_of(self.line)
        if existing is not None:
            return redirect("complaints:detail", pk=existing.pk)
        return self.render_page(ComplaintForm())

    def post(self, request, line_pk):
        form = ComplaintForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                complaint = complaints.open_complaint(
                    request.user,
                    self.line,
                    kind=form.cleaned_data["kind"],
                    description=form.cleaned_data["description"],
                    photos=form.photos(),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("投诉已提交，合作社会在期限内答复。"))
                return redirect("complaints:detail", pk=complaint.pk)
        return self.render_page(form)


class BuyerComplaintMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.complaint = get_object_or_404(
                _related(Complaint.objects), pk=kwargs["pk"], buyer=request.user
            )
        return super().dispatch(request, *args, **kwargs)


class ComplaintDetailView(BuyerComplaintMixin, View):
    template_name = "cooperatives/complaints/detail.html"

    def get(self, request, pk, form=None):
        c = self.complaint
        ctx = {
            "complaint": c,
            "events": c.events.all(),
            "photos": c.photos.all(),
            "escalate_form": form or EscalateForm(),
            "can_escalate": c.status == Complaint.Status.ANSWERED,
        }
        return render(request, self.template_name, ctx)


class ComplaintEscalateView(BuyerComplaintMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        form = EscalateForm(request.POST)
        if form.is_valid():
            try:
                complaints.escalate(self.complaint, by=request.user, text=form.cleaned_data["text"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已申请平台介入。"))
                return redirect("complaints:detail", pk=pk)
        view = ComplaintDetailView()
        view.setup(request, pk=pk)
        view.complaint = self.complaint
        return view.get(request, pk, form=form)


# --- Cooperative portal -----------------------------------------------------------------------


def _queue_order(qs):
    """Waiting for someone first (escalated/overdue, then open by deadline)."""
    rank = Case(
        When(status=Complaint.Status.ESCALATED, then=Value(0)),
        When(status=Complaint.Status.OPEN, then=Value(1)),
        When(status=Complaint.Status.ANSWERED, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return qs.annotate(rank=rank).order_by("rank", "deadline", "pk")


class PortalComplaintListView(CooperativePortalMixin, ListView):
    template_name = "cooperatives/complaints/portal_list.html"
    context_object_name = "complaints"
    paginate_by = 30

    def get_queryset(self):
        return _queue_order(_related(Complaint.objects.filter(cooperative=self.cooperative)))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["now"] = timezone.now()
        return ctx


class PortalComplaintDetailView(CooperativePortalMixin, View):
    template_name = "cooperatives/complaints/portal_detail.html"
    http_method_names = ["get", "post"]

    def load(self):
        return get_object_or_404(
            _related(Complaint.objects.filter(cooperative=self.cooperative)), pk=self.kwargs["pk"]
        )

    def render_page(self, complaint, form):
        ctx = {
            "cooperative": self.cooperative,
            "membership": self.membership,
            "complaint": complaint,
            "events": complaint.events.all(),
            "photos": complaint.photos.all(),
            "form": form,
            "can_answer": complaint.status in (Complaint.Status.OPEN, Complaint.Status.ANSWERED),
            "refundable": complaints.line_refundable(complaint),
        }
        return render(self.request, self.template_name, ctx)

    def get(self, request, pk):
        return self.render_page(self.load(), AnswerForm())

    def post(self, request, pk):
        complaint = self.load()
        form = AnswerForm(request.POST)
        if form.is_valid():
            action = form.cleaned_data["action"]
            if action == "refund" and not self.membership.is_manager:
                raise PermissionDenied("only managers refund")
            try:
                complaints.cooperative_answer(
                    complaint,
                    by=request.user,
                    action=action,
                    text=form.cleaned_data["text"],
                    amount=form.cleaned_data["amount"] or 0,
                    token=form.cleaned_data["token"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已答复买家。"))
                return redirect("coop:complaint", pk=pk)
        return self.render_page(complaint, form)


# --- Platform staff ---------------------------------------------------------------------------


@staff_required
class StaffComplaintListView(ListView):
    template_name = "cooperatives/complaints/staff_list.html"
    context_object_name = "complaints"
    paginate_by = 50

    def get_queryset(self):
        qs = _related(Complaint.objects.all())
        if self.request.GET.get("all") != "1":
            qs = qs.exclude(status=Complaint.Status.RESOLVED)
        return _queue_order(qs)


@staff_required
class StaffComplaintDetailView(View):
    template_name = "cooperatives/complaints/staff_detail.html"

    def dispatch(self, request, *args, **kwargs):
        self.complaint = get_object_or_404(_related(Complaint.objects), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, refund_form=None, reject_form=None):
        c = self.complaint
        refundable = complaints.line_refundable(c)
        ctx = {
            "complaint": c,
            "events": c.events.all(),
            "photos": c.photos.all(),
            "refundable": refundable,
            "refund_form": refund_form or StaffRefundForm(),
            "reject_form": reject_form or StaffRejectForm(),
            "can_decide": c.status != Complaint.Status.RESOLVED,
        }
        return render(self.request, self.template_name, ctx)

    def get(self, request, pk):
        return self.render_page()

    def post(self, request, pk):
        if request.POST.get("decision") == "reject":
            form = StaffRejectForm(request.POST)
            if form.is_valid():
                try:
                    complaints.staff_reject(
                        self.complaint, by=request.user, reason=form.cleaned_data["reason"]
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("投诉已驳回。"))
                    return redirect("complaints-dashboard:detail", pk=pk)
            return self.render_page(reject_form=form)
        form = StaffRefundForm(request.POST)
        if form.is_valid():
            try:
                complaints.staff_refund(
                    self.complaint,
                    by=request.user,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    token=form.cleaned_data["token"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已退款，投诉已解决。"))
                return redirect("complaints-dashboard:detail", pk=pk)
        return self.render_page(refund_form=form)
