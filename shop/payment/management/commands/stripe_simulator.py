"""Run the local Stripe (shop/payment/stripe_simulator.py) on loopback, for
the demo and manual testing.

    manage.py stripe_simulator --port 12111 \\
        --webhook-url http://127.0.0.1:8000/payments/stripe/webhook/

The keys are the site's own (STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY,
STRIPE_WEBHOOK_SECRET), so run the site with
STRIPE_API_BASE=http://127.0.0.1:12111 and the same keys. The buyer's side
and faults are driven with POST /_control/… (see the module's docstring).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop.payment.stripe_simulator import LOOPBACK, StripeSimulator


class Command(BaseCommand):
    help = "Serve a local stand-in for Stripe's API on loopback (demo and tests)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=12111)
        parser.add_argument(
            "--webhook-url",
            default="",
            help="where events are POSTed (default: WANGNONG_SITE_URL + /payments/stripe/webhook/)",
        )
        parser.add_argument("--no-webhooks", action="store_true", help="keep events, send none")
        parser.add_argument("--api-key", default="", help="default: STRIPE_SECRET_KEY")
        parser.add_argument("--webhook-secret", default="", help="default: STRIPE_WEBHOOK_SECRET")

    def handle(self, *args, **options):
        if options["host"] not in LOOPBACK:
            raise CommandError("The Stripe simulator listens on loopback only.")
        api_key = options["api_key"] or settings.STRIPE_SECRET_KEY
        secret = options["webhook_secret"] or settings.STRIPE_WEBHOOK_SECRET
        if not api_key or not secret:
            raise CommandError(
                "Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (e.g. sk_test_wangnong and "
                "whsec_test_wangnong), or pass --api-key and --webhook-secret."
            )
        webhook_url = None
        if not options["no_webhooks"]:
            webhook_url = options["webhook_url"] or (
                settings.WANGNONG_SITE_URL.rstrip("/") + "/payments/stripe/webhook/"
            )
        try:
            simulator = StripeSimulator(
                api_key,
                secret,
                webhook_url,
                host=options["host"],
                port=options["port"],
                publishable_key=settings.STRIPE_PUBLISHABLE_KEY or None,
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}")
        self.stdout.write(
            f"Stripe simulator on {simulator.base_url} (set STRIPE_API_BASE to it); "
            f"webhooks to {webhook_url or '(none)'}"
        )
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
