"""The station's commission statement for a calendar month (``?month=YYYY-MM``,
the current month by default), on screen or as CSV (``&format=csv``).

The sums and the rates come from ``stations.commission``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from config.spreadsheets import csv_response, safe_cell
from stations import commission
from stations.access import StationPortalMixin

# The screen shows the month's orders a page at a time (the totals above them
# cover the whole month); the CSV has every row.
ROWS_PER_PAGE = 50


class CommissionView(StationPortalMixin, TemplateView):
    template_name = "stations/portal/commission.html"

    def get(self, request, *args, **kwargs):
        raw = request.GET.get("month", "")
        parsed = commission.parse_month(raw) if raw else None
        wants_csv = request.GET.get("format") == "csv"
        if raw and parsed is None and not wants_csv:
            messages.warning(
                request, _("月份“%(month)s”不对，已显示本月的结算单。") % {"month": raw[:20]}
            )
        self.year, self.month = parsed or commission.current_month()
        self.statement = commission.monthly_statement(self.station, self.year, self.month)
        if wants_csv:
            return self.csv_response()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        year, month = self.year, self.month
        fixed, rate = commission.rates(self.station)
        previous = commission.shift_month(year, month, -1)
        following = commission.shift_month(year, month, 1)
        page = Paginator(self.statement.rows, ROWS_PER_PAGE).get_page(self.request.GET.get("page"))
        ctx.update(
            statement=self.statement,
            rows=page.object_list,
            page_obj=page,
            month_start=dt.date(year, month, 1),
            month_value=commission.month_value(year, month),
            max_month=commission.month_value(*commission.current_month()),
            previous_month=commission.month_value(*previous)
            if previous[0] >= commission.FIRST_YEAR
            else "",
            next_month=commission.month_value(*following)
            if following <= commission.current_month()
            else "",
            fixed=fixed,
            rate=rate,
        )
        return ctx

    def csv_rows(self):
        s = self.statement
        yield [
            _("日期"),
            _("订单号"),
            _("居民"),
            _("商品金额（元）"),
            _("订单金额（元）"),
            _("佣金（元）"),
            _("状态"),
        ]
        for so in s.rows.iterator(chunk_size=500):
            cancelled = so.is_cancelled
            yield [
                timezone.localtime(so.created_at).date().isoformat(),
                safe_cell(so.order.number),
                safe_cell(so.resident.name),
                f"{so.goods_total:.2f}",
                f"{so.total:.2f}",
                "0.00" if cancelled else f"{so.commission:.2f}",
                _("已取消（不计佣金）") if cancelled else _("有效"),
            ]
        yield [
            _("合计（不含已取消）"),
            "",
            _("有效 %(n)s 单，取消 %(c)s 单") % {"n": s.orders, "c": s.cancelled},
            f"{s.goods_total:.2f}",
            f"{s.sales_total:.2f}",
            f"{s.commission:.2f}",
            "",
        ]

    def csv_response(self) -> HttpResponse:
        month = commission.month_value(self.year, self.month)
        return csv_response(f"station-{self.station.pk}-commission-{month}.csv", self.csv_rows())
