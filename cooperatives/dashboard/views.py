"""The review queue for platform staff: applications first, each with its
data and business licence; approve, reject (with a reason), suspend (with a
reason) and reinstate all go through cooperatives.services, which keeps the
partner's ``is_selling`` flag and records who did it and why."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView
from oscar.views.decorators import permissions_required

from cooperatives import services
from cooperatives.dashboard import notify
from cooperatives.dashboard.forms import ReviewActionForm, ReviewActions
from cooperatives.forms import entity_type_label
from cooperatives.models import Cooperative
from divisions.services import path_names

Status = Cooperative.Status

# Oscar's dashboard rule: staff only; others are sent to the dashboard login
# (signed-in non-staff get 403).
staff_required = method_decorator(
    permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login")),
    name="dispatch",
)

QUEUE_ORDER = Case(
    When(status=Status.APPLIED, then=Value(0)),
    When(status=Status.SUSPENDED, then=Value(1)),
    When(status=Status.REJECTED, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


@staff_required
class ReviewListView(ListView):
    template_name = "cooperatives/dashboard/list.html"
    context_object_name = "cooperatives"
    paginate_by = 25

    def get_queryset(self) -> QuerySet:
        qs = Cooperative.objects.select_related("applied_by").annotate(queue=QUEUE_ORDER)
        self.status = self.request.GET.get("status", "")
        if self.status in Status.values:
            qs = qs.filter(status=self.status)
        else:
            self.status = ""
        self.query = self.request.GET.get("q", "").strip()[:100]
        if self.query:
            qs = qs.filter(
                Q(legal_name__icontains=self.query)
                | Q(display_name__icontains=self.query)
                | Q(credit_code__icontains=self.query.replace(" ", "").upper())
            )
        # Applications waiting longest first, then the rest.
        return qs.order_by("queue", "status_changed_at", "created_at", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        counts = dict(Cooperative.objects.values_list("status").annotate(n=Count("pk")).order_by())
        ctx["tabs"] = [("", _("全部"), sum(counts.values()))] + [
            (value, label, counts.get(value, 0)) for value, label in Status.choices
        ]
        ctx["status"] = self.status
        ctx["query"] = self.query
        return ctx


@staff_required
class ReviewDetailView(TemplateView):
    template_name = "cooperatives/dashboard/detail.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.cooperative = get_object_or_404(
            Cooperative.objects.select_related("partner", "applied_by", "division"),
            pk=kwargs["pk"],
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        coop = self.cooperative
        ctx.update(
            cooperative=coop,
            district=" ".join(path_names(coop.division_id)),
            entity_type=entity_type_label(coop.credit_code),
            history=coop.status_changes.select_related("changed_by"),
            memberships=coop.memberships.select_related("user").order_by("role", "pk"),
            certifications=coop.certifications.all(),
            photos=coop.photos.all(),
            actions=[
                (a, ReviewActions.LABELS[a], a in ReviewActions.NEEDS_REASON)
                for a in ReviewActions.for_status(coop.status)
            ],
            form=kwargs.get("form") or ReviewActionForm(cooperative=coop),
        )
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        coop = self.cooperative
        form = ReviewActionForm(request.POST, cooperative=coop)
        if not form.is_valid():
            messages.error(request, _("操作没有完成，请查看下面的提示。"))
            return self.render_to_response(self.get_context_data(form=form))
        action = form.cleaned_data["action"]
        try:
            outcome = services.change_status(
                coop,
                ReviewActions.TARGET[action],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("cooperatives-dashboard:detail", pk=coop.pk)
        sent = notify.status_changed(coop, request)
        done = {
            ReviewActions.APPROVE: _("已通过“%(name)s”的入驻申请，其商品现在可以销售。"),
            ReviewActions.REJECT: _("已驳回“%(name)s”的入驻申请，申请人会看到原因。"),
            ReviewActions.SUSPEND: _("已暂停“%(name)s”的销售，其全部商品已下架。"),
            ReviewActions.REINSTATE: _("已恢复“%(name)s”的销售。"),
        }[action] % {"name": coop}
        if sent:
            done += " " + _("已发邮件通知合作社。")
        messages.success(request, done)
        if outcome is not None:  # a suspension: what happened to its pending orders
            from cooperatives.report_views import suspension_messages

            suspension_messages(request, outcome)
        return redirect("cooperatives-dashboard:detail", pk=coop.pk)
