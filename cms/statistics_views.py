"""The statistics' open data: the latest complete snapshot as CSV, the same
figures the statistics page shows (cms/statistics.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from cms import statistics
from config.spreadsheets import csv_response

# Retry-After (seconds) before the first snapshot exists.
RETRY_AFTER = 600


@require_safe
def figures_csv(request: HttpRequest) -> HttpResponse:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the
    Chinese correctly. Headers are always in Chinese (the site's source
    language), so scripts reading the file can rely on them; the code column
    is the stable key."""
    figures = statistics.latest()
    if figures is None:
        response = HttpResponse(
            _("统计数据正在生成，请稍后再试。"),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(RETRY_AFTER)
        response["Cache-Control"] = "no-store"
        return response
    stamp = figures.as_of.astimezone(statistics.CALENDAR_ZONE).strftime("%Y%m%d-%H%M")
    with translation.override("zh-hans"):
        table = figures.csv_rows()
    response = csv_response(f"wangnong-statistics-{stamp}.csv", table, private=False)
    # Open data, the same for everyone until the next snapshot.
    patch_cache_control(response, public=True, max_age=300)
    return response
