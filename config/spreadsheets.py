"""CSV downloads that open correctly in Excel and WPS, app-neutral.

Text starting with ``= + - @`` (or a tab or carriage return) is run as a
formula by spreadsheet programs, so a product or resident name could carry
one into a staff member's computer: ``safe_cell`` quotes such text.
``csv_response`` writes UTF-8 with a BOM, so Excel on Chinese Windows reads
the Chinese as UTF-8.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """``value`` as text that no spreadsheet program takes for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_response(
    filename: str, rows: Iterable[Iterable[Any]], *, private: bool = True
) -> HttpResponse:
    """A CSV download of ``rows`` (already safe cells) as ``filename``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if private:
        response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")
    writer = csv.writer(response)
    for row in rows:
        writer.writerow(row)
    return response
