"""The cooperative's own profile in the portal (/coop/profile/).

Every member sees the profile, its photos and certifications (bank account
numbers masked); only managers change them (CooperativePortalMixin with
``manager_required``). Every object is looked up within ``self.cooperative``,
so another cooperative's photo or certificate id gives 404.
"""

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from cooperatives.forms import (
    BankDetailsForm,
    CertificationForm,
    PhotoForm,
    ProfileForm,
    entity_type_label,
)
from cooperatives.models import Certification, CooperativePhoto
from cooperatives.portal.access import CooperativePortalMixin, get_scoped_or_404
from divisions.services import path_names

MAX_PHOTOS = 12


def mask_account(number: str) -> str:
    """Only the last four digits of an account number (for members)."""
    if not number:
        return ""
    return "**** " + number[-4:]


def _delete_file_later(field_file) -> None:
    """Remove a replaced or deleted upload once the database change is committed."""
    if field_file:
        storage, name = field_file.storage, field_file.name
        transaction.on_commit(lambda: storage.delete(name))


class ProfileView(CooperativePortalMixin, TemplateView):
    template_name = "cooperatives/portal/profile.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        coop = self.cooperative
        today = timezone.localdate()
        ctx.update(
            district=" ".join(path_names(coop.division_id)),
            entity_type=entity_type_label(coop.credit_code),
            photos=coop.photos.all(),
            certifications=[(c, c.expires_on >= today) for c in coop.certifications.all()],
            can_edit=self.membership.is_manager,
            account_number=(
                coop.bank_account_number
                if self.membership.is_manager
                else mask_account(coop.bank_account_number)
            ),
            can_add_photo=coop.photos.count() < MAX_PHOTOS,
        )
        return ctx


class PortalFormView(CooperativePortalMixin, FormView):
    """A manager-only form page in the portal's look."""

    manager_required = True
    template_name = "cooperatives/portal/profile_form.html"
    success_url = reverse_lazy("coop:profile")
    page_title = ""
    submit_label = gettext_lazy("保存")
    success_message = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["page_title"] = self.page_title
        ctx["submit_label"] = self.submit_label
        ctx["cancel_url"] = self.success_url
        ctx["has_files"] = any(
            getattr(f.widget, "needs_multipart_form", False) for f in ctx["form"].fields.values()
        )
        return ctx

    def form_valid(self, form: BaseForm) -> HttpResponse:
        self.save(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return super().form_valid(form)

    def save(self, form: BaseForm) -> None:
        form.save()


class ProfileEditView(PortalFormView):
    form_class = ProfileForm
    page_title = gettext_lazy("修改合作社资料")
    success_message = gettext_lazy("合作社资料已保存。")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.cooperative}


class BankDetailsView(PortalFormView):
    form_class = BankDetailsForm
    page_title = gettext_lazy("结算银行账户")
    success_message = gettext_lazy("银行账户已保存。")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "instance": self.cooperative}


class PhotoCreateView(PortalFormView):
    form_class = PhotoForm
    page_title = gettext_lazy("上传合作社照片")
    submit_label = gettext_lazy("上传")
    success_message = gettext_lazy("照片已上传，会显示在合作社主页上。")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self._full():
            return redirect("coop:profile")
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self._full():
            return redirect("coop:profile")
        return super().post(request, *args, **kwargs)

    def _full(self) -> bool:
        if self.cooperative.photos.count() >= MAX_PHOTOS:
            messages.error(
                self.request,
                _("最多上传 %(n)s 张照片，请先删除不需要的照片。") % {"n": MAX_PHOTOS},
            )
            return True
        return False

    def save(self, form: PhotoForm) -> None:
        photo = form.save(commit=False)
        photo.cooperative = self.cooperative
        last = self.cooperative.photos.order_by("-display_order").first()
        photo.display_order = (last.display_order + 1) if last else 0
        photo.save()


class PhotoDeleteView(CooperativePortalMixin, TemplateView):
    manager_required = True
    template_name = "cooperatives/portal/profile_confirm_delete.html"

    def get_object(self) -> CooperativePhoto:
        return get_scoped_or_404(
            CooperativePhoto.objects.filter(cooperative=self.cooperative), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        photo = self.get_object()
        ctx.update(
            object=photo,
            image=photo.image,
            page_title=_("删除照片"),
            question=_("确定删除这张照片吗？删除后合作社主页上不再显示。"),
            cancel_url=reverse("coop:profile"),
        )
        return ctx

    @transaction.atomic
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        photo = self.get_object()
        _delete_file_later(photo.image)
        photo.delete()
        messages.success(request, _("照片已删除。"))
        return redirect("coop:profile")


class CertificationScopeMixin(CooperativePortalMixin):
    def certifications(self) -> QuerySet:
        return Certification.objects.filter(cooperative=self.cooperative)


class CertificationListView(CertificationScopeMixin, TemplateView):
    template_name = "cooperatives/portal/profile_certifications.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        ctx["certifications"] = [(c, c.expires_on >= today) for c in self.certifications()]
        ctx["can_edit"] = self.membership.is_manager
        return ctx


class CertificationCreateView(CertificationScopeMixin, PortalFormView):
    form_class = CertificationForm
    page_title = gettext_lazy("添加认证证书")
    success_url = reverse_lazy("coop:certifications")
    success_message = gettext_lazy("证书已添加。")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "cooperative": self.cooperative}


class CertificationEditView(CertificationScopeMixin, PortalFormView):
    form_class = CertificationForm
    page_title = gettext_lazy("修改认证证书")
    success_url = reverse_lazy("coop:certifications")
    success_message = gettext_lazy("证书已保存。")

    def get_form_kwargs(self) -> dict[str, Any]:
        self.object = get_scoped_or_404(self.certifications(), pk=self.kwargs["pk"])
        return {
            **super().get_form_kwargs(),
            "cooperative": self.cooperative,
            "instance": self.object,
        }

    @transaction.atomic
    def save(self, form: CertificationForm) -> None:
        old = Certification.objects.get(pk=self.object.pk).document
        certification = form.save()
        if old and old.name != certification.document.name:
            _delete_file_later(old)


class CertificationDeleteView(CertificationScopeMixin, TemplateView):
    manager_required = True
    template_name = "cooperatives/portal/profile_confirm_delete.html"

    def get_object(self) -> Certification:
        return get_scoped_or_404(self.certifications(), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        certification = self.get_object()
        ctx.update(
            object=certification,
            image=certification.document,
            page_title=_("删除认证证书"),
            question=_("确定删除证书“%(cert)s”吗？") % {"cert": certification},
            cancel_url=reverse("coop:certifications"),
        )
        return ctx

    @transaction.atomic
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        certification = self.get_object()
        _delete_file_later(certification.document)
        certification.delete()
        messages.success(request, _("证书已删除。"))
        return redirect("coop:certifications")
