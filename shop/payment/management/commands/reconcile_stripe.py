"""Compare Stripe's balance transactions with the ledger for a period.

    manage.py reconcile_stripe --from 2025-01-01 --to 2025-01-07
    manage.py reconcile_stripe            # yesterday

Days are Asia/Shanghai days. Prints the differences (``--all``: every
line) and exits with status 1 when there are any, so a cron job or CI can
act on it.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from shop.payment import reconciliation, stripe_client


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("日期格式应为 YYYY-MM-DD：%(value)s") % {"value": value}) from None


class Command(BaseCommand):
    help = "Reconcile Stripe's balance transactions with the ledger (days in Asia/Shanghai)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="first", help="first day, YYYY-MM-DD (default: yesterday)"
        )
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: --from)")
        parser.add_argument("--all", action="store_true", help="list matched lines too")

    def handle(self, *args, **options):
        if not stripe_client.is_configured():
            raise CommandError(_("未配置 Stripe（STRIPE_SECRET_KEY、STRIPE_PUBLISHABLE_KEY）。"))
        first = _date(options["first"]) if options["first"] else reconciliation.yesterday()
        last = _date(options["last"]) if options["last"] else first
        if last < first:
            raise CommandError(_("截止日期早于起始日期。"))
        try:
            result = reconciliation.reconcile(first, last)
        except stripe_client.StripeUnavailable as exc:
            raise CommandError(
                _("无法读取 Stripe 余额交易：%(error)s") % {"error": exc.cause or exc}
            ) from exc
        self.stdout.write(result.as_text(all_lines=options["all"]))
        if not result.ok:
            raise CommandError(_("发现 %(count)s 处差异。") % {"count": len(result.differences)})
