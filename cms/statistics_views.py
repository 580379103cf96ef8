"""The statistics' open data: the latest complete snapshot as CSV, the same
figures the statistics page shows (cms/statistics.py)."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from cms import statistics

# Retry-After (seconds) before the first snapshot exists.
RETRY_AFTER = 600


@require_safe
@cache_control(public=True, max_age=300)
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
        return response
    stamp = figures.as_of.astimezone(statistics.CALENDAR_ZONE).strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wangnong-statistics-{stamp}.csv"'
    response.write("\ufeff")
    with translation.override("zh-hans"):
        table = figures.csv_rows()
    csv.writer(response, lineterminator="\r\n").writerows(table)
    return response
