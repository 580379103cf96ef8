"""The station's cash: the drawer as it should be now, the entries not yet
counted, what the station owes the platform, today's close, and the past
closes.

The ledger rules (signed entries, one close per business day, what the close
counts) live in ``stations.cash``; these views read the form, call it and
show the result. A second close of the same day is refused by the service
and nothing is counted twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from stations import cash, ordering
from stations.access import StationPortalMixin, get_scoped_or_404
from stations.models import DayClose, staff_name

CLOSES_PER_PAGE = 15
OPEN_ENTRIES_SHOWN = 300


def station_closes(station):
    return DayClose.objects.filter(station=station).select_related("closed_by")


def describe_difference(difference: Decimal) -> dict:
    """``{"kind": "over"|"short"|"even", "amount": |difference|}``: 长款
    when more cash was counted than expected, 短款 when less."""
    if difference > 0:
        kind = "over"
    elif difference < 0:
        kind = "short"
    else:
        kind = "even"
    return {"kind": kind, "amount": abs(difference)}


def difference_text(difference: Decimal) -> str:
    d = describe_difference(difference)
    if d["kind"] == "over":
        return _("长款 ¥%(amount)s（实点比应有多）") % {"amount": d["amount"]}
    if d["kind"] == "short":
        return _("短款 ¥%(amount)s（实点比应有少）") % {"amount": d["amount"]}
    return _("账实相符")


def decorate_entries(entries) -> list:
    """Entries with ``sign``, ``magnitude`` and ``recorded_by_name``."""
    rows = list(entries)
    for entry in rows:
        entry.sign = "+" if entry.amount >= 0 else "−"
        entry.magnitude = abs(entry.amount)
        entry.recorded_by_name = staff_name(entry.recorded_by)
    return rows


def decorate_close(close: DayClose) -> DayClose:
    close.diff = describe_difference(close.difference)
    close.closed_by_name = staff_name(close.closed_by)
    return close


class CashView(StationPortalMixin, TemplateView):
    """/station/cash/: the drawer, open entries, today's close, past closes."""

    template_name = "stations/portal/cash.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        station = self.station
        today = cash.today()
        open_qs = cash.open_entries(station)
        open_count = open_qs.count()
        closes = Paginator(station_closes(station), CLOSES_PER_PAGE)
        page = closes.get_page(self.request.GET.get("page"))
        for close in page.object_list:
            decorate_close(close)
        today_close = station_closes(station).filter(business_date=today).first()
        ctx.update(
            today=today,
            drawer=cash.drawer(station),
            entries=decorate_entries(open_qs[:OPEN_ENTRIES_SHOWN]),
            open_count=open_count,
            entries_capped=open_count > OPEN_ENTRIES_SHOWN,
            outstanding=cash.outstanding_balance(station),
            today_close=decorate_close(today_close) if today_close else None,
            closes=page.object_list,
            page_obj=page,
            paginator=closes,
            is_paginated=closes.num_pages > 1,
        )
        ctx.setdefault("counted", "")
        ctx.setdefault("note", "")
        ctx.setdefault("errors", {})
        return ctx

    def post(self, request, *args, **kwargs):
        raw = request.POST.get("counted", "").strip()[:30]
        note = request.POST.get("note", "")[:200]
        counted = ordering.parse_cash(raw)
        if counted is None:
            errors = {"counted": [_("请填写清点出的现金金额，如 128 或 128.50。")]}
            return self.render_to_response(
                self.get_context_data(counted=raw, note=note, errors=errors)
            )
        try:
            close = cash.close_day(self.station, request.user, counted, note=note)
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "counted" in exc.message_dict:
                errors = {"counted": exc.message_dict["counted"]}
                return self.render_to_response(
                    self.get_context_data(counted=raw, note=note, errors=errors)
                )
            # Already closed (maybe by a colleague a moment ago): nothing
            # was counted again; show the close that stands.
            for message in exc.messages:
                messages.error(request, message)
            return redirect("station:cash")
        messages.success(
            request,
            _("%(date)s 日结完成：应有 ¥%(expected)s，实点 ¥%(counted)s，%(difference)s。")
            % {
                "date": close.business_date.isoformat(),
                "expected": close.expected,
                "counted": close.counted,
                "difference": difference_text(close.difference),
            },
        )
        return redirect("station:cash-close", pk=close.pk)


class CloseDetailView(StationPortalMixin, TemplateView):
    """/station/cash/closes/<pk>/: one of the station's closes and the
    entries it counted; prints on A4."""

    template_name = "stations/portal/cash_close.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        close = decorate_close(get_scoped_or_404(station_closes(self.station), pk=kwargs["pk"]))
        entries = close.entries.select_related("station_order__order", "recorded_by").order_by(
            "created_at", "pk"
        )
        ctx.update(close=close, entries=decorate_entries(entries))
        return ctx
