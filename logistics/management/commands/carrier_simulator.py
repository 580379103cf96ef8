"""Run the carrier simulator (logistics/simulator.py) on loopback.

    manage.py carrier_simulator --port 8765 --auto-advance 30
    manage.py carrier_simulator --account sim-express:key:secret --fail-rate 0.3

Without ``--account``, every carrier configured in the database with the
HTTP adapter and a base URL on this port is served (what ``load_demo``
sets up), its tracking webhooks going to ``WANGNONG_SITE_URL``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from logistics.simulator import Account, CarrierSimulator, Faults


class Command(BaseCommand):
    help = "Serve the generic carrier protocol on loopback, for the demo and tests."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="CODE:KEY:SECRET",
            help="a carrier account (repeatable); default: the carriers in the database",
        )
        parser.add_argument(
            "--webhook-url",
            default="",
            help="where tracking webhooks go; {carrier} becomes the carrier code",
        )
        parser.add_argument("--fail-rate", type=float, default=0.0)
        parser.add_argument("--timeout-rate", type=float, default=0.0)
        parser.add_argument("--malformed-rate", type=float, default=0.0)
        parser.add_argument("--hang-seconds", type=float, default=5.0)
        parser.add_argument("--duplicate-webhooks", action="store_true")
        parser.add_argument("--reorder-webhooks", action="store_true")
        parser.add_argument(
            "--auto-advance",
            type=float,
            default=0,
            metavar="SECONDS",
            help="move every parcel one step along this often (0: only on /_control/advance)",
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        accounts = [self._parse(a) for a in options["account"]] or self._from_db(options)
        if not accounts:
            raise CommandError(
                "No accounts: pass --account CODE:KEY:SECRET or run load_demo first."
            )
        webhook_url = options["webhook_url"] or (
            settings.WANGNONG_SITE_URL.rstrip("/") + "/logistics/webhooks/{carrier}/"
        )
        simulator = CarrierSimulator(
            accounts,
            webhook_url=webhook_url,
            host=options["host"],
            port=options["port"],
            faults=Faults(
                fail_rate=options["fail_rate"],
                timeout_rate=options["timeout_rate"],
                malformed_rate=options["malformed_rate"],
                hang_seconds=options["hang_seconds"],
                duplicate_webhooks=options["duplicate_webhooks"],
                reorder_webhooks=options["reorder_webhooks"],
            ),
            seed=options["seed"],
            auto_advance=options["auto_advance"],
        )
        names = ", ".join(a.code for a in accounts)
        self.stdout.write(
            f"Carrier simulator on {simulator.url} for {names}; webhooks to {webhook_url}"
        )
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.server.server_close()

    def _parse(self, value: str) -> Account:
        parts = value.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise CommandError(f"--account must be CODE:KEY:SECRET, not {value!r}")
        return Account(code=parts[0], key=parts[1], secret=parts[2])

    def _from_db(self, options) -> list[Account]:
        from logistics.models import Carrier

        accounts = []
        for carrier in Carrier.objects.filter(adapter=Carrier.Adapter.HTTP, is_active=True):
            parts = urlsplit(carrier.api_base_url)
            if parts.port == options["port"] and parts.hostname in ("127.0.0.1", "localhost"):
                prefix = "".join(ch for ch in carrier.code.upper() if ch.isalpha())[:2]
                accounts.append(
                    Account(carrier.code, carrier.api_key, carrier.api_secret, prefix=prefix)
                )
        return accounts
