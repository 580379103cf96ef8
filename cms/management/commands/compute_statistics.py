"""``manage.py compute_statistics``: compute the statistics page's figures
now (the periodic task cms.compute_statistics does the same every quarter
of an hour), e.g. after importing data or when no worker runs."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import statistics


class Command(BaseCommand):
    help = _("计算统计数据页的各区数据（生成一个新的统计快照）。")

    def handle(self, *args, **options) -> None:
        snapshot = statistics.compute_snapshot()
        city = snapshot.rows.get(code=statistics.CITY_CODE)
        if options["verbosity"] >= 1:
            self.stdout.write(
                _(
                    "统计快照 #%(id)s（数据截至 %(as_of)s，用时 %(ms)s 毫秒）：全市 %(covered)s / "
                    "%(villages)s 个行政村有服务站，%(coops)s 家合作社在线销售，本年 %(orders)s 单。"
                )
                % {
                    "id": snapshot.pk,
                    "as_of": timezone.localtime(snapshot.computed_at).strftime("%Y-%m-%d %H:%M"),
                    "ms": snapshot.duration_ms,
                    "covered": city.villages_with_station,
                    "villages": city.villages,
                    "coops": city.cooperatives_selling,
                    "orders": city.orders_year,
                }
            )
