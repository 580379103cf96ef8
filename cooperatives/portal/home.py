"""The portal's landing page: sales at a glance.

This week's orders, items and revenue, the best sellers, what is waiting
to be accepted, and a server-drawn chart of daily revenue for the last 90
days (with the same numbers as a table).
"""

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from cooperatives import charts, fulfilment, sales
from cooperatives.portal.access import CooperativePortalMixin, cooperative_lines
from cooperatives.portal.orders import SalesExportForm


def yuan(value) -> str:
    """¥1,234.50"""
    return f"¥{intcomma(f'{value:.2f}', use_l10n=False)}"


class PortalHomeView(CooperativePortalMixin, TemplateView):
    template_name = "cooperatives/portal/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        coop = self.cooperative
        today = sales.local_today()
        week = sales.this_week(coop, today=today)
        series = sales.daily_revenue(coop, today=today)
        total = sum((day.revenue for day in series), sales.ZERO)
        best = max(series, key=lambda day: day.revenue)
        if best.revenue > 0:
            desc = _(
                "%(start)s 至 %(end)s 每天的销售额。合计 %(total)s，最高一天是 %(best_day)s（%(best)s）。"
            ) % {
                "start": series[0].day.isoformat(),
                "end": series[-1].day.isoformat(),
                "total": yuan(total),
                "best_day": best.day.isoformat(),
                "best": yuan(best.revenue),
            }
        else:
            desc = _("%(start)s 至 %(end)s 没有销售额。") % {
                "start": series[0].day.isoformat(),
                "end": series[-1].day.isoformat(),
            }
        ctx.update(
            week=week,
            week_revenue=yuan(week.revenue),
            top_products=[
                {"title": p.title, "quantity": p.quantity, "revenue": yuan(p.revenue)}
                for p in week.top_products
            ],
            pending_count=cooperative_lines(coop).filter(status=fulfilment.PENDING).count(),
            accepted_count=cooperative_lines(coop).filter(status=fulfilment.ACCEPTED).count(),
            series_days=len(series),
            series_total=yuan(total),
            series_rows=[
                {"day": day.day, "revenue": yuan(day.revenue), "orders": day.orders}
                for day in reversed(series)
                if day.revenue or day.orders
            ],
            chart=charts.bar_chart_svg(
                [(day.day, day.revenue) for day in series],
                title=_("近 %(days)s 天每日销售额") % {"days": len(series)},
                desc=desc,
                id_prefix="sales-chart",
                value_label=yuan,
                axis_prefix="¥",
            ),
            export_form=SalesExportForm(),
        )
        return ctx
