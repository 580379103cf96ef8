"""/coop/imports/: bulk product upload (CSV/XLSX) with a progress page, the
template to fill in, and the catalogue export in the same format.

The upload is checked while the member waits (format, columns, merged header
cells, size, row count), so a file that cannot be imported at all is refused
with one message and no job; a file that can becomes an ImportJob run by
cooperatives.import_tasks.run_import, and the member is sent to its page.

Oversized uploads: a request body is read in chunks by Django's multipart
parser; ``LimitedUploadHandler`` stops storing the file once it passes
``WANGNONG_MAX_IMPORT_MB`` and lets Django drain the rest of the body, so
the member gets the form back with a clear message (not a 400, a 413 or a
reset connection), and nothing of the file is kept. Note that a proxy in
front (nginx ``client_max_body_size``) must allow a little more than the
limit, or it answers first with its own error page.
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView, TemplateView

from config import uploads
from cooperatives import imports
from cooperatives.import_tasks import start_import
from cooperatives.models import ImportJob
from cooperatives.portal.access import CooperativePortalMixin, get_scoped_or_404

RECENT_JOBS = 20
MAX_ERROR_ROWS_SHOWN = 1000


def max_import_bytes() -> int:
    return int(float(getattr(settings, "WANGNONG_MAX_IMPORT_MB", 10)) * 1024 * 1024)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


class LimitedUploadHandler(FileUploadHandler):
    """Refuses to keep an uploaded file past ``limit`` bytes; Django then
    reads and discards the rest of the request body."""

    def __init__(self, request: HttpRequest, limit: int):
        super().__init__(request)
        self.limit = limit
        self.too_large = False
        self.body_length: int | None = None  # (content_length is the file part's)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.body_length = content_length
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int):
        return None


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("商品表格（CSV 或 XLSX）"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
        error_messages={
            "required": gettext_lazy("请选择要上传的文件。"),
            "empty": gettext_lazy("上传的文件是空的，请重新选择。"),
        },
    )

    def __init__(self, *args, too_large: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large  # the body size when the upload was cut off
        self.sheet: imports.Sheet | None = None
        self.data_bytes = b""

    def full_clean(self) -> None:
        if self.too_large is not None and self.is_bound:
            # The file was dropped while uploading: say why, not "required".
            self._errors = ErrorDict()
            self.cleaned_data = {}
            self.add_error("file", too_large_message(self.too_large))
            return
        super().full_clean()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_import_bytes()
        if upload.size > limit:
            raise forms.ValidationError(too_large_message(upload.size))
        if upload.size == 0:
            raise forms.ValidationError(_("上传的文件是空的，请重新选择。"))
        data = upload.read()
        if uploads.looks_like_markup(data):  # kept as ImportJob.file: never HTML
            raise forms.ValidationError(uploads.MARKUP_REFUSED)
        try:
            self.sheet = imports.read_sheet(data, upload.name)
        except imports.ImportFileError as exc:
            raise forms.ValidationError(exc.message)
        if data.startswith(b"PK"):
            uploads.check_ooxml(data, "xlsx")  # no macros, no zip bomb
        self.data_bytes = data
        return upload


def too_large_message(size: int | None) -> str:
    limit_mb = _megabytes(max_import_bytes())
    if size:
        return _(
            "文件太大（约 %(size)s MB），一次最多上传 %(limit)s MB。"
            "请删除图片和多余的工作表，或把商品分成几个文件上传。"
        ) % {"size": _megabytes(size), "limit": limit_mb}
    return _("文件太大，一次最多上传 %(limit)s MB。请把商品分成几个文件上传。") % {
        "limit": limit_mb
    }


class ScopedJobMixin(CooperativePortalMixin):
    def get_queryset(self):
        return ImportJob.objects.filter(cooperative=self.cooperative)

    def get_object(self, queryset=None) -> ImportJob:
        return get_scoped_or_404(self.get_queryset(), pk=self.kwargs["pk"])


@method_decorator(
    csrf_exempt, name="dispatch"
)  # checked in post(), after the upload handler is set
class ImportListView(CooperativePortalMixin, TemplateView):
    """The upload form and the cooperative's recent imports."""

    template_name = "cooperatives/portal/imports.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", UploadForm())
        ctx["jobs"] = ImportJob.objects.filter(cooperative=self.cooperative)[:RECENT_JOBS]
        ctx["max_mb"] = _megabytes(max_import_bytes())
        ctx["max_bytes"] = max_import_bytes()
        ctx["max_rows"] = imports.max_rows()
        ctx["columns"] = imports.COLUMNS
        return ctx

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Must be in place before anything reads request.POST or FILES.
        handler = LimitedUploadHandler(request, max_import_bytes())
        request.upload_handlers.insert(0, handler)
        return csrf_protect(self._post)(request, handler)

    def _post(self, request: HttpRequest, handler: LimitedUploadHandler) -> HttpResponse:
        files = request.FILES  # parses the body
        too_large = (handler.body_length or 0) if handler.too_large else None
        form = UploadForm(request.POST, files, too_large=too_large)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        upload = form.cleaned_data["file"]
        job = ImportJob(
            cooperative=self.cooperative,
            uploaded_by=request.user,
            original_name=(upload.name or "")[:255],
            total_rows=len(form.sheet.rows),
            language=translation.get_language() or "",
        )
        job.file.save(
            upload.name or f"import.{form.sheet.format}", ContentFile(form.data_bytes), save=False
        )
        job.save()
        start_import(job)
        return redirect("coop:import-detail", pk=job.pk)


class ImportDetailView(ScopedJobMixin, DetailView):
    """One import: a progress bar while it runs (the page refreshes itself;
    with JavaScript the bar moves without reloading), then every bad row."""

    template_name = "cooperatives/portal/imports_detail.html"
    context_object_name = "job"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        job = self.object
        ctx["error_rows"] = job.error_rows[:MAX_ERROR_ROWS_SHOWN]
        ctx["errors_cut"] = job.error_count > MAX_ERROR_ROWS_SHOWN
        ctx["max_errors_shown"] = MAX_ERROR_ROWS_SHOWN
        ctx["unchanged_count"] = max(
            0, job.processed_rows - job.created_count - job.updated_count - job.error_count
        )
        return ctx

    @method_decorator(never_cache)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def job_status(job: ImportJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "finished": job.is_finished,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "created_count": job.created_count,
        "updated_count": job.updated_count,
        "error_count": job.error_count,
        "percent": job.percent,
        "message": job.message,
    }


class ImportStatusView(ScopedJobMixin, View):
    """The job's progress as JSON (polled by the detail page's script)."""

    @method_decorator(never_cache)
    def get(self, request, *args, **kwargs) -> JsonResponse:
        return JsonResponse(
            job_status(self.get_object()), json_dumps_params={"ensure_ascii": False}
        )


def _format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", imports.XLSX).lower()
    return fmt if fmt in imports.FORMATS else imports.XLSX


def _download(content: bytes, fmt: str, stem: str, ascii_stem: str) -> HttpResponse:
    """An attachment named in Chinese (RFC 5987), with an ASCII fallback."""
    response = HttpResponse(content, content_type=imports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_stem}.{fmt}\"; filename*=UTF-8''{quote(f'{stem}.{fmt}')}"
    )
    return response


class TemplateDownloadView(CooperativePortalMixin, View):
    """The file to fill in: Chinese headers and one example row."""

    def get(self, request, *args, **kwargs) -> HttpResponse:
        fmt = _format(request)
        content = imports.write_file(imports.template_rows(), fmt)
        return _download(content, fmt, "网农商品导入模板", "wangnong-import-template")


class ExportView(CooperativePortalMixin, View):
    """The cooperative's catalogue and stock, in the import format."""

    def get(self, request, *args, **kwargs) -> HttpResponse:
        fmt = _format(request)
        rows = imports.export_rows(self.cooperative)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return _download(
            imports.write_file(rows, fmt),
            fmt,
            f"{self.cooperative}-商品-{stamp}",
            f"wangnong-products-{stamp}",
        )
