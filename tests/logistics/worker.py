"""The hand-off under fire: many shipments, a carrier simulator that fails
and hangs, a real Redis broker and real Celery worker processes, one of
them killed in the middle of the run.

Shared by tests/logistics/test_reliability.py (suite size) and
bench/logistics_reliability.py (full size). The caller provides a migrated
PostgreSQL database the worker can reach (``database_url``), a Redis
database for the broker, and a running simulator; ``build_orders`` makes
the orders and their shipments (their hand-off tasks are published to the
broker as each order commits), ``run`` starts a worker, kills it with
SIGKILL once some shipments are handed off, starts another, and calls the
outbox sweep (logistics.handoff.resend, the beat task's code) every few
seconds until every shipment is handed off or the deadline passes.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import pools as kombu_pools
from oscar.core.loading import get_model

from logistics import handoff, shipments
from logistics.models import Carrier, OutboxMessage, RateZone, ServiceArea, Shipment
from shop.address.china import ensure_china

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"

Order = get_model("order", "Order")
Line = get_model("order", "Line")
ShippingAddress = get_model("order", "ShippingAddress")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")

EXPRESS_CODE = "rel-express"
COLD_CODE = "rel-cold"
KEY = "rel-key"
SECRET = "rel-secret-for-the-reliability-run"
COOPERATIVES = [
    "天津市西青区辛口沙窝萝卜种植专业合作社",
    "天津市宁河区七里海河蟹养殖专业合作社",
    "天津市津南区小站稻种植专业合作社",
    "天津市滨海新区崔庄冬枣专业合作社",
    "天津市宝坻区大蒜种植专业合作社",
    "天津市武清区黄板泥鳅养殖专业合作社",
]
# (title, grams per unit, price) for each temperature class.
GOODS = {
    "ambient": [("沙窝萝卜", 2500, "20.00"), ("小站稻", 5000, "45.00")],
    "chilled": [("七里海河蟹", 1500, "88.00"), ("黄板泥鳅", 1000, "56.00")],
}
VILLAGES = ["120111102203", "120111102201", "120117110201"]


# --- Pointing this process at the broker ------------------------------------------------


@contextlib.contextmanager
def broker(url: str, *, visibility_timeout: int):
    """Make ``handoff.dispatch`` really publish to ``url`` (the test
    settings run tasks eagerly in-process), then put everything back."""
    from config.celery import app

    conf = app.conf
    saved_conf = {
        name: conf.get(name)
        for name in (
            "broker_url",
            "broker_write_url",
            "task_always_eager",
            "broker_transport_options",
        )
    }
    saved_settings = {
        name: getattr(settings, name)
        for name in (
            "CELERY_BROKER_URL",
            "CELERY_TASK_ALWAYS_EAGER",
            "CELERY_BROKER_TRANSPORT_OPTIONS",
        )
    }

    def reset_pool():
        pool = app._pool
        app._pool = None
        with contextlib.suppress(AttributeError, KeyError):
            app.__dict__["amqp"]._producer_pool = None
        if pool is not None:
            pool.force_close_all()
        # Celery's producer pool comes from kombu's process-wide registry,
        # keyed by connection: forget the closed ones too, or the next task
        # published (eager tests after this one) acquires a closed pool.
        kombu_pools.reset()

    options = {"visibility_timeout": visibility_timeout}
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    conf.broker_url = url
    conf.broker_write_url = None
    conf.task_always_eager = False
    conf.broker_transport_options = options
    reset_pool()
    try:
        yield
    finally:
        reset_pool()
        for name, value in saved_conf.items():
            conf[name] = value
        for name, value in saved_settings.items():
            setattr(settings, name, value)


def flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def database_url() -> str:
    """The URL of the database this process uses (under pytest, the test
    database), for the worker processes."""
    db = connection.settings_dict
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


# --- Worker processes -----------------------------------------------------------------


@dataclass
class WorkerSettings:
    database_url: str
    broker_url: str
    concurrency: int = 4
    retry_base: float = 0.2
    retry_max: float = 2.0
    max_retries: int = 30
    resend_after: float = 5.0
    visibility_timeout: int = 20

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": self.database_url,
                "CELERY_BROKER_URL": self.broker_url,
                "CELERY_VISIBILITY_TIMEOUT": str(self.visibility_timeout),
                "WANGNONG_HANDOFF_RETRY_BASE": str(self.retry_base),
                "WANGNONG_HANDOFF_RETRY_MAX": str(self.retry_max),
                "WANGNONG_HANDOFF_MAX_RETRIES": str(self.max_retries),
                "WANGNONG_OUTBOX_RESEND_AFTER": str(self.resend_after),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env


class Worker:
    """``celery -A config worker`` in its own process group, its output in
    ``log_path``."""

    def __init__(self, name: str, config: WorkerSettings, log_path: Path):
        self.name = name
        self.config = config
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [
            str(CELERY),
            "-A",
            "config",
            "worker",
            "--pool",
            "threads",
            "-c",
            str(self.config.concurrency),
            "-Q",
            "celery",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"{self.name}@%h",
            "-l",
            "info",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.config.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged or handed back."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# --- The orders -------------------------------------------------------------------------


def carriers(base_url: str, *, timeout: float) -> tuple[Carrier, Carrier]:
    """An express and a cold-chain carrier, both on the simulator and the
    cheapest for every destination in the country."""
    from divisions.models import Division

    provinces = list(Division.objects.filter(level=1).values_list("code", flat=True))
    made = []
    for code, name, services, surcharge in (
        (EXPRESS_CODE, "可靠性快递", ["express"], Decimal("0.00")),
        (COLD_CODE, "可靠性冷链", ["cold_chain"], Decimal("1.00")),
    ):
        carrier, _created = Carrier.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "services": services,
                "is_active": True,
                "adapter": Carrier.Adapter.HTTP,
                "api_base_url": base_url,
                "api_key": KEY,
                "api_secret": SECRET,
                "timeout_seconds": timeout,
                "cold_chain_surcharge": surcharge,
            },
        )
        if not carrier.zones.exists():
            zone = RateZone.objects.create(
                carrier=carrier,
                name="全国",
                first_price=Decimal("1.00"),
                additional_price=Decimal("0.10"),
            )
            ServiceArea.objects.bulk_create(
                ServiceArea(carrier=carrier, zone=zone, division_id=code) for code in provinces
            )
        made.append(carrier)
    return made[0], made[1]


def catalogue() -> dict[tuple[int, str], list]:
    """``{(partner id, temperature): [stock records]}``: each cooperative
    sells two ambient and two chilled products."""
    product_class, _created = ProductClass.objects.get_or_create(
        name="农产品", defaults={"track_stock": False, "requires_shipping": True}
    )
    offers: dict[tuple[int, str], list] = {}
    for n, name in enumerate(COOPERATIVES):
        partner, _created = Partner.objects.get_or_create(name=name)
        for temperature, goods in GOODS.items():
            for title, grams, price in goods:
                sku = f"REL-{n}-{title}"
                record = (
                    StockRecord.objects.filter(partner=partner, partner_sku=sku)
                    .select_related("product", "partner")
                    .first()
                )
                if record is None:
                    product = Product.objects.create(
                        title=f"{title}（{name[3:6]}）",
                        structure=Product.STANDALONE,
                        product_class=product_class,
                        unit="jin",
                        net_weight_g=grams,
                        storage_class=temperature,
                        is_public=True,
                    )
                    record = StockRecord.objects.create(
                        product=product,
                        partner=partner,
                        partner_sku=sku,
                        price=Decimal(price),
                        price_currency="CNY",
                        num_in_stock=None,
                    )
                offers.setdefault((partner.pk, temperature), []).append(record)
    return offers


def build_orders(orders: int, total: int, *, seed: int = 5) -> tuple[list, list[int]]:
    """``orders`` orders making ``total`` shipments together (three or four
    each: lines from several cooperatives, chilled and ambient), then
    ``logistics.shipments.create_for_order`` for each, in its own
    transaction as at checkout: the hand-off tasks are published as each
    order commits. Returns (orders, shipment ids)."""
    offers = catalogue()
    groups = sorted(offers)
    per_order = [total // orders + (1 if i < total % orders else 0) for i in range(orders)]
    assert max(per_order) <= len(groups), "more shipments per order than cooperative × class"
    rng = random.Random(seed)
    stamp = timezone.localtime().strftime("%y%m%d%H%M%S")
    specs = []
    for i, count in enumerate(per_order):
        lines = []
        for group in rng.sample(groups, count):
            for record in rng.sample(offers[group], rng.choice((1, 2))):
                lines.append((record, rng.choice((1, 1, 2, 3))))
        specs.append({"number": f"REL{stamp}{i:05d}", "lines": lines})
    country_id = ensure_china()[0].pk
    addresses = [
        ShippingAddress(
            country_id=country_id,
            last_name=f"收件人{i}",
            phone_number="+8613812345678",
            state="天津市",
            line1=f"{i % 30 + 1} 号",
            division_id=VILLAGES[i % len(VILLAGES)],
        )
        for i in range(orders)
    ]
    ShippingAddress.objects.bulk_create(addresses)
    made = []
    placed = timezone.now()
    for spec, address in zip(specs, addresses, strict=True):
        goods = sum((r.price * q for r, q in spec["lines"]), Decimal("0.00"))
        made.append(
            Order(
                number=spec["number"],
                currency="CNY",
                total_incl_tax=goods,
                total_excl_tax=goods,
                shipping_incl_tax=Decimal("0.00"),
                shipping_excl_tax=Decimal("0.00"),
                shipping_address=address,
                shipping_method="快递配送",
                shipping_code="carrier-delivery",
                guest_email="buyer@example.com",
                status="Pending",
                date_placed=placed,
            )
        )
    Order.objects.bulk_create(made)
    Line.objects.bulk_create(
        Line(
            order=order,
            partner_id=record.partner_id,
            partner_name=record.partner.name,
            partner_sku=record.partner_sku,
            stockrecord_id=record.pk,
            product_id=record.product_id,
            title=record.product.title,
            quantity=quantity,
            line_price_incl_tax=record.price * quantity,
            line_price_excl_tax=record.price * quantity,
            line_price_before_discounts_incl_tax=record.price * quantity,
            line_price_before_discounts_excl_tax=record.price * quantity,
            unit_price_incl_tax=record.price,
            unit_price_excl_tax=record.price,
            status="pending",
            num_allocated=quantity,
        )
        for spec, order in zip(specs, made, strict=True)
        for record, quantity in spec["lines"]
    )
    ids = []
    for order in made:
        ids += [s.pk for s in shipments.create_for_order(order)]
    return made, ids


# --- The run ----------------------------------------------------------------------------


@dataclass
class Run:
    total: int
    started: float = field(default_factory=time.monotonic)
    handed_off_at_kill: int = -1
    undone_at_kill: int = -1
    # Messages the killed worker held unacknowledged (late acknowledgement:
    # they stay in the broker and are delivered again).
    unacked_at_kill: int = -1
    killed_after: float = 0.0
    second_started_after: float = 0.0
    finished_after: float | None = None
    sweeps: int = 0
    resent: int = 0
    progress: list[tuple[float, int]] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.finished_after is not None

    def logs(self) -> str:
        return "\n".join(
            f"--- worker {w.name} ({w.log_path}) ---\n{w.log_tail()}" for w in self.workers
        )


def handed_off(ids: list[int]) -> int:
    return Shipment.objects.filter(pk__in=ids, status=Shipment.Status.HANDED_OFF).count()


def undone(ids: list[int]) -> int:
    return OutboxMessage.objects.filter(
        shipment_id__in=ids, done_at__isnull=True, failed_at__isnull=True
    ).count()


def unacked(broker_url: str) -> int:
    """Messages delivered to a worker and not yet acknowledged (kombu's
    Redis transport keeps them in the ``unacked`` hash)."""
    client = redis.Redis.from_url(broker_url)
    try:
        return client.hlen("unacked")
    finally:
        client.close()


def run(
    ids: list[int],
    config: WorkerSettings,
    log_dir: Path,
    *,
    kill_at: float = 0.3,
    deadline: float = 150,
    sweep_every: float = 3.0,
    on_progress=None,
) -> Run:
    """Start a worker; SIGKILL it once ``kill_at`` of the shipments are
    handed off; start another; sweep the outbox every ``sweep_every``
    seconds until all are handed off with no outbox row left undone, or
    ``deadline`` seconds pass. The caller kills ``run.workers`` (they are
    left running so it can look around first) — use ``stop_all``."""
    state = Run(total=len(ids))
    first = Worker("reliability-1", config, log_dir / "worker-1.log")
    state.workers.append(first)
    first.start()
    last_sweep = time.monotonic()
    last_report = 0.0
    try:
        while time.monotonic() - state.started < deadline:
            time.sleep(0.1)
            now = time.monotonic()
            count = handed_off(ids)
            if first.running and count >= kill_at * state.total:
                first.kill()
                state.handed_off_at_kill = count
                state.undone_at_kill = undone(ids)
                state.unacked_at_kill = unacked(config.broker_url)
                state.killed_after = now - state.started
                second = Worker("reliability-2", config, log_dir / "worker-2.log")
                state.workers.append(second)
                second.start()
                state.second_started_after = time.monotonic() - state.started
            if not first.running and first.process.returncode != -signal.SIGKILL:
                raise RuntimeError(f"worker 1 died by itself:\n{state.logs()}")
            if len(state.workers) > 1 and not state.workers[1].running:
                raise RuntimeError(f"worker 2 died:\n{state.logs()}")
            if count == state.total and undone(ids) == 0:
                state.finished_after = now - state.started
                state.progress.append((state.finished_after, count))
                break
            if now - last_sweep >= sweep_every:
                state.resent += handoff.resend()
                state.sweeps += 1
                last_sweep = now
            if now - last_report >= 1.0:
                state.progress.append((now - state.started, count))
                last_report = now
                if on_progress:
                    on_progress(state, count)
    except BaseException:
        stop_all(state)
        raise
    return state


def stop_all(state: Run) -> None:
    for worker in state.workers:
        worker.kill()


def simulator_stats(simulator) -> dict:
    with simulator.state.lock:
        return {
            **simulator.state.counts,
            "create_count_by_key": dict(simulator.state.create_count_by_key),
            "create_requests_by_key": dict(simulator.state.create_requests_by_key),
            "tracking_numbers": {k: s.tracking_number for k, s in simulator.state.by_key.items()},
        }


def problems(ids: list[int], stats: dict) -> list[str]:
    """Everything wrong with the outcome (empty: every shipment created at
    the carrier exactly once, with the carrier's number, nothing lost)."""
    found = []
    rows = list(
        Shipment.objects.filter(pk__in=ids).values_list(
            "pk", "idempotency_key", "status", "tracking_number", "needs_attention"
        )
    )
    if len(rows) != len(ids):
        found.append(f"{len(ids) - len(rows)} shipments missing")
    keys = {str(key) for _pk, key, *_rest in rows}
    booked = stats["create_count_by_key"]
    numbers = stats["tracking_numbers"]
    for pk, key, status, number, attention in rows:
        key = str(key)
        if status != Shipment.Status.HANDED_OFF:
            found.append(f"shipment {pk} is {status}")
        if not number:
            found.append(f"shipment {pk} has no tracking number")
        if attention:
            found.append(f"shipment {pk} needs attention")
        if booked.get(key) != 1:
            found.append(f"shipment {pk} booked {booked.get(key, 0)} times at the carrier")
        if numbers.get(key) != number:
            found.append(f"shipment {pk} has {number!r}, the carrier {numbers.get(key)!r}")
    strangers = set(booked) - keys
    if strangers:
        found.append(f"{len(strangers)} bookings at the carrier for keys of no shipment")
    left = undone(ids)
    if left:
        found.append(f"{left} outbox rows not done")
    failed = OutboxMessage.objects.filter(shipment_id__in=ids, failed_at__isnull=False).count()
    if failed:
        found.append(f"{failed} outbox rows given up on")
    return found


def describe(state: Run, stats: dict) -> dict:
    requests_by_key = stats["create_requests_by_key"]
    return {
        "shipments": state.total,
        "create_requests": stats["create_requests"],
        "failed_500": stats["failed"],
        "hung": stats["hung"],
        "bookings": stats["created"],
        "repeats": stats["repeats"],
        "keys_requested_more_than_once": sum(1 for n in requests_by_key.values() if n > 1),
        "most_requests_for_one_key": max(requests_by_key.values(), default=0),
        "handed_off_at_kill": state.handed_off_at_kill,
        "undone_at_kill": state.undone_at_kill,
        "unacked_at_kill": state.unacked_at_kill,
        "killed_after_s": round(state.killed_after, 1),
        "finished_after_s": round(state.finished_after, 1) if state.done else None,
        "sweeps": state.sweeps,
        "resent": state.resent,
    }


__all__ = [
    "Run",
    "Worker",
    "WorkerSettings",
    "broker",
    "build_orders",
    "carriers",
    "database_url",
    "describe",
    "flush",
    "problems",
    "run",
    "simulator_stats",
    "stop_all",
]
