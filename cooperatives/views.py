"""Public cooperative pages and self-service registration (/cooperatives/).

* ``/cooperatives/``: verified cooperatives, with their district.
* ``/cooperatives/<pk>/``: a verified cooperative's page: names, district,
  description, photos, current certifications (expired ones drop out by
  themselves), its public credit record (cooperatives/credit_record.py)
  and its browsable products. A suspended cooperative keeps its page, which
  says so and shows its record but no products (its trace pages answer 410
  with the reason: cooperatives/traceability.public_batch). Applicants and
  rejected ones give 404.
* ``/cooperatives/apply/``: a signed-in person applies for a cooperative;
  someone who already belongs to one sees its review status instead (and,
  after a rejection, the reason and the form to correct and re-apply).
"""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, ListView
from oscar.core.loading import get_model

from cooperatives.credit_record import credit_record
from cooperatives.forms import RegistrationForm, entity_type_label
from cooperatives.listings import products_of
from cooperatives.models import Cooperative
from cooperatives.services import membership_for
from divisions.services import path_names
from shop.catalogue.listing import browsable_products

StockRecord = get_model("partner", "StockRecord")

PRODUCTS_ON_PAGE = 60


def cooperative_products(cooperative: Cooperative) -> QuerySet:
    """The cooperative's browsable products (empty while it is not selling)."""
    return (
        browsable_products()
        .filter(pk__in=products_of(cooperative).values("pk"))
        .order_by("-date_created", "pk")
    )


def district_of(cooperative: Cooperative) -> str:
    """Where it is, e.g. 天津市 西青区 辛口镇 小沙沃村委会 (no 市辖区)."""
    return " ".join(path_names(cooperative.division_id)) if cooperative.division_id else ""


class CooperativeListView(ListView):
    template_name = "cooperatives/public/list.html"
    context_object_name = "cooperatives"
    paginate_by = 30

    def get_queryset(self) -> QuerySet:
        return Cooperative.objects.filter(status=Cooperative.Status.VERIFIED).order_by(
            "division_id", "display_name", "pk"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["rows"] = [(coop, district_of(coop)) for coop in ctx["cooperatives"]]
        return ctx


class CooperativeDetailView(DetailView):
    template_name = "cooperatives/public/detail.html"
    context_object_name = "cooperative"

    def get_queryset(self) -> QuerySet:
        return Cooperative.objects.filter(
            status__in=(Cooperative.Status.VERIFIED, Cooperative.Status.SUSPENDED)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        coop = self.object
        products = cooperative_products(coop)
        if coop.status == Cooperative.Status.SUSPENDED:
            products = products.none()
        ctx.update(
            credit=credit_record(coop),
            district=district_of(coop),
            photos=list(coop.photos.all()),
            certifications=list(coop.current_certifications()),
            products=products[:PRODUCTS_ON_PAGE],
            product_count=products.count(),
            entity_type=entity_type_label(coop.credit_code),
        )
        return ctx


class ApplyView(LoginRequiredMixin, View):
    """Apply for a cooperative, or see how the application is doing."""

    form_template = "cooperatives/apply/form.html"
    status_template = "cooperatives/apply/status.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            self.membership = membership_for(request.user)
        return super().dispatch(request, *args, **kwargs)

    def _can_reapply(self) -> bool:
        m = self.membership
        return (
            m is not None and m.is_manager and m.cooperative.status == Cooperative.Status.REJECTED
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        if self.membership is None:
            return self.render_form(RegistrationForm())
        if self._can_reapply():
            return self.render_status(RegistrationForm(instance=self.membership.cooperative))
        return self.render_status(None)

    def post(self, request: HttpRequest) -> HttpResponse:
        if self.membership is not None and not self._can_reapply():
            return redirect("cooperatives:apply")
        instance = self.membership.cooperative if self.membership else None
        form = RegistrationForm(request.POST, request.FILES, instance=instance)
        if form.is_valid() and form.register(request.user) is not None:
            return redirect("cooperatives:apply-done")
        form.lost_files = bool(request.FILES) and not form.is_narrowing
        if instance is not None:
            return self.render_status(form)
        return self.render_form(form)

    def render_form(self, form: RegistrationForm) -> HttpResponse:
        return render(self.request, self.form_template, {"form": form})

    def render_status(self, form: RegistrationForm | None) -> HttpResponse:
        coop = self.membership.cooperative
        coop.refresh_from_db()
        return render(
            self.request,
            self.status_template,
            {
                "cooperative": coop,
                "membership": self.membership,
                "form": form,
                "district": district_of(coop),
                "entity_type": entity_type_label(coop.credit_code),
            },
        )


class ApplyDoneView(LoginRequiredMixin, View):
    template_name = "cooperatives/apply/done.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        membership = membership_for(request.user)
        if membership is None:
            return redirect("cooperatives:apply")
        coop = membership.cooperative
        if coop.status != Cooperative.Status.APPLIED:
            return redirect("cooperatives:apply")
        return render(
            request,
            self.template_name,
            {
                "cooperative": coop,
                "membership": membership,
                "entity_type": entity_type_label(coop.credit_code),
                "district": district_of(coop),
                "portal_url": reverse("coop:home"),
            },
        )
