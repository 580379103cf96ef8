"""/coop/batches/: the cooperative's harvest batches (溯源), with their
inputs and inspections, QR codes and printable labels; and, on an order
line, which batch was packed. Rules live in cooperatives.traceability."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView, TemplateView

from config.documents import qr_svg
from cooperatives import traceability
from cooperatives.listings import products_of
from cooperatives.models import BatchInput, BatchInspection, HarvestBatch
from cooperatives.portal.access import (
    CooperativePortalMixin,
    ScopedObjectMixin,
    cooperative_lines,
    get_scoped_or_404,
)
from cooperatives.uploads import ImageUploadField
from divisions.models import Division

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {
    "required": gettext_lazy("请填写日期"),
    "invalid": gettext_lazy("请按“年-月-日”填写日期，例如 2026-09-15"),
}


class BatchForm(forms.ModelForm):
    class Meta:
        model = HarvestBatch
        fields = ["product", "label", "harvest_date", "village", "field", "grower", "notes"]
        widgets = {"harvest_date": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "label": gettext_lazy("合作社自己的批次编号，可不填"),
            "field": gettext_lazy("例如：东洼 3 号地"),
            "grower": gettext_lazy("只在本社后台显示，不公开"),
        }
        error_messages = {
            "product": {"required": gettext_lazy("请选择商品")},
            "harvest_date": DATE_ERRORS,
        }

    def __init__(self, *args: Any, cooperative, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.cooperative = cooperative
        self.instance.cooperative = cooperative
        self.fields["product"].queryset = products_of(cooperative).order_by("title", "pk")
        self.fields["village"].queryset = Division.objects.filter(
            level=5, code__startswith=cooperative.division_id[:6]
        ).order_by("code")

    def clean_product(self):
        product = self.cleaned_data.get("product")
        traceability.check_product(self.cooperative, product)
        return product

    def clean_harvest_date(self):
        value = self.cleaned_data.get("harvest_date")
        traceability.check_harvest_date(value)
        return value


class InputForm(forms.ModelForm):
    class Meta:
        model = BatchInput
        fields = ["kind", "name", "applied_on", "amount"]
        widgets = {"applied_on": DATE_WIDGET}
        error_messages = {
            "kind": {"required": gettext_lazy("请选择类别")},
            "name": {"required": gettext_lazy("请填写名称")},
            "applied_on": DATE_ERRORS,
        }

    def __init__(self, *args: Any, harvest_date=None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.harvest_date = harvest_date

    def clean_applied_on(self):
        value = self.cleaned_data.get("applied_on")
        traceability.check_input_date(value, self.harvest_date)
        return value


class InspectionForm(forms.ModelForm):
    report = ImageUploadField(label=gettext_lazy("检测报告（照片或扫描件）"), required=False)

    class Meta:
        model = BatchInspection
        fields = ["inspected_on", "agency", "result", "summary", "report"]
        widgets = {"inspected_on": DATE_WIDGET}
        error_messages = {
            "inspected_on": DATE_ERRORS,
            "agency": {"required": gettext_lazy("请填写检测机构")},
            "result": {"required": gettext_lazy("请选择检测结果")},
        }

    def __init__(self, *args: Any, harvest_date=None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_inspected_on(self):
        value = self.cleaned_data.get("inspected_on")
        traceability.check_inspection_date(value)
        return value


InputFormSet = forms.inlineformset_factory(
    HarvestBatch, BatchInput, form=InputForm, extra=2, can_delete=True
)
InspectionFormSet = forms.inlineformset_factory(
    HarvestBatch, BatchInspection, form=InspectionForm, extra=1, can_delete=True
)


def batches_of(cooperative):
    return traceability.batches_of(cooperative).select_related("product")


class BatchListView(CooperativePortalMixin, ListView):
    template_name = "cooperatives/portal/batches/list.html"
    context_object_name = "batches"
    paginate_by = 30

    def get_queryset(self):
        return batches_of(self.cooperative)


class BatchFormView(CooperativePortalMixin, TemplateView):
    """Create (no pk) or edit a batch with its inputs and inspections."""

    template_name = "cooperatives/portal/batches/form.html"

    def get_batch(self) -> HarvestBatch | None:
        pk = self.kwargs.get("pk")
        return get_scoped_or_404(batches_of(self.cooperative), pk=pk) if pk else None

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        batch = self.get_batch()
        instance = batch or HarvestBatch(cooperative=self.cooperative)
        form = BatchForm(instance=instance, cooperative=self.cooperative)
        kwargs = {"harvest_date": batch.harvest_date if batch else None}
        return self.show(
            batch,
            form,
            InputFormSet(instance=instance, prefix="inputs", form_kwargs=kwargs),
            InspectionFormSet(instance=instance, prefix="inspections", form_kwargs=kwargs),
        )

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        batch = self.get_batch()
        instance = batch or HarvestBatch(cooperative=self.cooperative)
        form = BatchForm(request.POST, instance=instance, cooperative=self.cooperative)
        form_ok = form.is_valid()
        kwargs = {"harvest_date": form.cleaned_data.get("harvest_date") if form_ok else None}
        inputs = InputFormSet(request.POST, instance=instance, prefix="inputs", form_kwargs=kwargs)
        inspections = InspectionFormSet(
            request.POST, request.FILES, instance=instance, prefix="inspections", form_kwargs=kwargs
        )
        if not (form_ok and inputs.is_valid() and inspections.is_valid()):
            return self.show(batch, form, inputs, inspections, status=400)
        fields = {name: form.cleaned_data.get(name) for name in traceability.BATCH_FIELDS}
        try:
            with transaction.atomic():
                if batch is None:
                    batch = traceability.create_batch(self.cooperative, **fields)
                else:
                    batch = traceability.update_batch(batch, **fields)
                inputs.instance = inspections.instance = batch
                inputs.save()
                inspections.save()
                traceability.update_batch(batch)  # inputs checked against the harvest date
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.show(batch if pk else None, form, inputs, inspections, status=400)
        messages.success(request, _("批次 %(code)s 已保存。") % {"code": batch.code})
        return HttpResponseRedirect(reverse("coop:batch-edit", kwargs={"pk": batch.pk}))

    def show(self, batch, form, inputs, inspections, status: int = 200) -> HttpResponse:
        ctx = self.get_context_data(batch=batch, form=form, inputs=inputs, inspections=inspections)
        if batch is not None:
            ctx["trace_url"] = traceability.trace_url(batch)
        return render(self.request, self.template_name, ctx, status=status)


class BatchQrView(CooperativePortalMixin, ScopedObjectMixin, View):
    """The batch's public trace URL as a QR code to download (PNG or SVG)."""

    kind = "png"

    def get_scoped_queryset(self):
        return batches_of(self.cooperative)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        import segno

        qr = segno.make_qr(traceability.trace_url(self.object), error="m")
        buffer = io.BytesIO()
        if self.kind == "svg":
            qr.save(buffer, kind="svg", scale=10, border=4)
            content_type = "image/svg+xml"
        else:
            qr.save(buffer, kind="png", scale=10, border=4)
            content_type = "image/png"
        response = HttpResponse(buffer.getvalue(), content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="trace-{self.object.code}.{self.kind}"'
        )
        return response


class BatchLabelView(CooperativePortalMixin, ScopedObjectMixin, TemplateView):
    """A printable box label: QR code, product, harvest date, code."""

    template_name = "cooperatives/portal/batches/label.html"

    def get_scoped_queryset(self):
        return batches_of(self.cooperative)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        url = traceability.trace_url(self.object)
        ctx.update(batch=self.object, trace_url=url, qr=qr_svg(url))
        return ctx


class OrderLineBatchView(CooperativePortalMixin, View):
    """POST ``batch``: the batch one of the cooperative's lines is packed from."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        line = get_scoped_or_404(cooperative_lines(self.cooperative), pk=pk)
        raw = request.POST.get("batch", "")
        batch = batches_of(self.cooperative).filter(pk=raw).first() if raw.isdigit() else None
        if batch is None:
            messages.error(request, _("请选择发货的批次。"))
        else:
            try:
                traceability.choose_batch(line, batch, request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request, _("已记录发货批次 %(code)s。") % {"code": batch.label or batch.code}
                )
        return HttpResponseRedirect(reverse("coop:order-line", kwargs={"pk": line.pk}))
