"""Benchmark: the hand-off at full size — 1,000 shipments from 300 orders
reach a carrier that fails 30% of create requests and hangs on 10%, through
a real Redis broker and real Celery workers, the first killed with SIGKILL
in the middle; every shipment must be created at the carrier exactly once.

Run against a migrated PostgreSQL database and a Redis database the run
may flush (the broker):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangnong_bench
    export REDIS_URL=redis://127.0.0.1:6379/10
    export STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/logistics_reliability.py --broker redis://127.0.0.1:6379/7 \\
        --write bench/results/logistics-reliability-$(date +%F).md

It starts the carrier simulator (logistics/simulator.py) in this process on
loopback, makes two carriers on it (express and cold chain), six
cooperatives selling ambient and chilled goods, and ``--orders`` orders with
lines from three or four cooperative × temperature groups each, split into
``--shipments`` shipments by logistics.shipments.create_for_order (the hand-off
tasks are published as each order commits). Then a worker
(``celery -A config worker --pool threads``) is started, killed with SIGKILL
once ``--kill-at`` of the shipments are handed off, and a second one started;
this process runs the outbox sweep (logistics.handoff.resend, what the beat
task runs) every few seconds until every shipment is handed off. The
scenario's code is shared with tests/logistics/test_reliability.py
(tests/logistics/worker.py). The exit status is 1 if anything is wrong.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import celery  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from logistics.models import OutboxMessage, Shipment  # noqa: E402
from logistics.simulator import Account, CarrierSimulator, Faults  # noqa: E402
from tests.logistics import worker as rel  # noqa: E402


def machine(broker_url: str) -> list[str]:
    load = os.getloadavg()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    client = redis.Redis.from_url(broker_url)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    busy = (
        " — busy with other work, so the times are upper bounds"
        if load[0] > (os.cpu_count() or 1)
        else ""
    )
    return [
        f"- Machine: `{platform.node()}`, `nproc` = {os.cpu_count()}, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) at the start"
        + busy,
        f"- Python {platform.python_version()}, Django {django.get_version()}, "
        f"Celery {celery.__version__}, PostgreSQL {pg}, Redis {redis_version}",
    ]


def close_leftovers() -> int:
    """An earlier run that was interrupted may have left outbox rows for the
    benchmark's carriers; close them so this run's sweep leaves them alone."""
    return OutboxMessage.objects.filter(
        shipment__carrier__code__in=[rel.EXPRESS_CODE, rel.COLD_CODE],
        done_at__isnull=True,
    ).update(done_at=timezone.now())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--shipments", type=int, default=1000)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7", help="flushed!")
    parser.add_argument("--concurrency", type=int, default=4, help="worker threads")
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--timeout-rate", type=float, default=0.1)
    parser.add_argument("--carrier-timeout", type=float, default=0.5)
    parser.add_argument("--hang", type=float, default=1.0)
    parser.add_argument("--kill-at", type=float, default=0.3)
    parser.add_argument("--retry-base", type=float, default=0.2)
    parser.add_argument("--retry-max", type=float, default=2.0)
    parser.add_argument("--max-retries", type=int, default=30)
    parser.add_argument("--resend-after", type=float, default=10.0)
    parser.add_argument("--visibility-timeout", type=int, default=60)
    parser.add_argument("--sweep-every", type=float, default=3.0)
    parser.add_argument("--deadline", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--write", help="write the results as Markdown to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL (DATABASE_URL=postgres://…).")

    conditions = machine(args.broker)
    print("\n".join(conditions))
    started_at = timezone.localtime()
    config = rel.WorkerSettings(
        database_url=rel.database_url(),
        broker_url=args.broker,
        concurrency=args.concurrency,
        retry_base=args.retry_base,
        retry_max=args.retry_max,
        max_retries=args.max_retries,
        resend_after=args.resend_after,
        visibility_timeout=args.visibility_timeout,
    )
    # This process sweeps the outbox with the workers' settings.
    settings.WANGNONG_OUTBOX_RESEND_AFTER = args.resend_after
    simulator = CarrierSimulator(
        [Account(rel.EXPRESS_CODE, rel.KEY, rel.SECRET, prefix="RB")],
        faults=Faults(
            fail_rate=args.fail_rate, timeout_rate=args.timeout_rate, hang_seconds=args.hang
        ),
        seed=args.seed,
    ).start()
    log_dir = Path(tempfile.mkdtemp(prefix="logistics-bench-"))
    rel.flush(args.broker)
    state = None
    try:
        with rel.broker(args.broker, visibility_timeout=args.visibility_timeout):
            leftovers = close_leftovers()
            express, cold = rel.carriers(simulator.url, timeout=args.carrier_timeout)
            began = time.monotonic()
            orders, ids = rel.build_orders(args.orders, args.shipments, seed=args.seed)
            built_in = time.monotonic() - began
            carriers = set(Shipment.objects.filter(pk__in=ids).values_list("carrier_id", flat=True))
            lines = sum(o.lines.count() for o in orders)
            cold_count = Shipment.objects.filter(pk__in=ids, carrier=cold).count()
            print(
                f"{len(orders)} orders, {lines} lines, {len(ids)} shipments "
                f"({cold_count} cold chain) in {built_in:.1f} s"
            )
            if len(ids) != args.shipments or not carriers <= {express.pk, cold.pk}:
                sys.exit("the orders did not make the expected shipments with the bench carriers")

            def report(run, count):
                if int(time.monotonic() - run.started) % 10 == 0:
                    print(f"  {time.monotonic() - run.started:6.1f} s: {count} handed off")

            state = rel.run(
                ids,
                config,
                log_dir,
                kill_at=args.kill_at,
                deadline=args.deadline,
                sweep_every=args.sweep_every,
                on_progress=report,
            )
            stats = rel.simulator_stats(simulator)
            found = rel.problems(ids, stats)
            summary = rel.describe(state, stats)
    finally:
        if state is not None:
            rel.stop_all(state)
        simulator.stop()
        rel.flush(args.broker)
    load = os.getloadavg()
    for key, value in summary.items():
        print(f"{key}: {value}")
    print(f"load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print("result: " + ("PASS" if state.done and not found else f"FAIL {found[:20]}"))
    if found or not state.done:
        print(state.logs())
        print(f"worker logs: {log_dir}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)

    if args.write:
        ok = state.done and not found
        milestones = thin(state.progress, 10.0)
        out = [
            f"# Logistics hand-off reliability: {args.shipments:,} shipments from "
            f"{args.orders:,} orders",
            "",
            f"`bench/logistics_reliability.py --orders {args.orders} --shipments "
            f"{args.shipments} --concurrency {args.concurrency}` — the carrier simulator on "
            "loopback failing create requests with HTTP 500 and hanging past the client's "
            "timeout (after booking: the answer is lost, the booking is not); a real Redis "
            "broker; real `celery -A config worker --pool threads` processes, the first "
            "killed with SIGKILL in the middle of the run; the outbox sweep "
            "(`logistics.handoff.resend`) run every "
            f"{args.sweep_every:g} s by the benchmark as the beat task would.",
            "",
            *conditions,
            f"- Run: {started_at:%Y-%m-%d %H:%M} CST; load average at the end: "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
            f"- Faults: {args.fail_rate:.0%} of create requests answer 500, "
            f"{args.timeout_rate:.0%} hang {args.hang:g} s (carrier timeout "
            f"{args.carrier_timeout:g} s); seed {args.seed}",
            f"- Worker: {args.concurrency} threads; retries every "
            f"{args.retry_base:g} × 2ⁿ s up to {args.retry_max:g} s, at most "
            f"{args.max_retries}; sweep re-queues rows idle {args.resend_after:g} s; "
            f"visibility timeout {args.visibility_timeout} s",
            f"- Dataset: {len(orders)} orders, {lines} lines from 6 cooperatives, "
            f"{len(ids)} shipments ({cold_count} cold chain), made in {built_in:.1f} s "
            f"(`create_for_order` per order, tasks published on commit)"
            + (f"; {leftovers} outbox rows left by an earlier run closed" if leftovers else ""),
            "",
            "| | |",
            "|---|---:|",
            f"| shipments handed off | {len(ids) - pending(ids):,} / {len(ids):,} |",
            f"| all handed off after | {fmt_s(state.finished_after)} |",
            f"| worker 1 killed after | {state.killed_after:.1f} s |",
            f"| … with shipments handed off | {state.handed_off_at_kill:,} |",
            f"| … with outbox rows not done | {state.undone_at_kill:,} |",
            f"| … with tasks delivered and not acknowledged | {state.unacked_at_kill:,} |",
            f"| worker 2 started after | {state.second_started_after:.1f} s |",
            f"| create requests at the carrier | {stats['create_requests']:,} |",
            f"| … answered 500 | {stats['failed']:,} |",
            f"| … hung past the timeout | {stats['hung']:,} |",
            f"| … repeats of a booked key (same number returned) | {stats['repeats']:,} |",
            f"| shipments asked for more than once | {summary['keys_requested_more_than_once']:,} |",
            f"| most requests for one shipment | {summary['most_requests_for_one_key']} |",
            f"| bookings at the carrier | {stats['created']:,} |",
            f"| shipments booked more than once | "
            f"{sum(1 for n in stats['create_count_by_key'].values() if n > 1)} |",
            f"| outbox sweeps / rows re-queued | {state.sweeps} / {state.resent:,} |",
            "",
            "Every create request for a shipment carries its idempotency key, so a retry "
            "after a lost answer (a hang, or a worker killed mid-call) gets the booking "
            "made the first time (the repeats above). The sweep re-queues any row idle "
            f"longer than {args.resend_after:g} s, including rows still waiting in the "
            "broker behind the backlog; those copies find the row done or locked and "
            "do nothing, which is why rows re-queued far outnumber shipments.",
            "",
            "Progress (shipments handed off):",
            "",
            "| seconds | handed off |",
            "|---:|---:|",
            *(f"| {t:.0f} | {n:,} |" for t, n in milestones),
            "",
            (
                "Result: **every shipment created at the carrier exactly once, with the "
                "carrier's tracking number; none lost, none flagged for staff, no outbox row "
                "left**."
                if ok
                else "Result: **FAILED** — "
                + ("; ".join(found[:20]) or "not all handed off before the deadline")
                + "."
            ),
            "",
        ]
        Path(args.write).write_text("\n".join(out), encoding="utf-8")
        print(f"written to {args.write}")
    sys.exit(0 if state.done and not found else 1)


def pending(ids: list[int]) -> int:
    return Shipment.objects.filter(pk__in=ids).exclude(status=Shipment.Status.HANDED_OFF).count()


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def thin(progress: list[tuple[float, int]], every: float) -> list[tuple[float, int]]:
    """One sample per ``every`` seconds, and the last."""
    out, next_at = [], 0.0
    for t, n in progress:
        if t >= next_at:
            out.append((t, n))
            next_at = t + every
    if progress and (not out or out[-1] != progress[-1]):
        out.append(progress[-1])
    return out


if __name__ == "__main__":
    main()
