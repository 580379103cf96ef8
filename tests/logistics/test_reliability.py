"""The issue's fault-injection test at suite size: 200 shipments from 60
orders handed to a carrier simulator that fails 30% of create requests
with 500 and hangs past the client's timeout on 10% (after booking, so the
answer is lost but not the booking), through a real Redis broker and real
Celery worker processes, the first killed with SIGKILL in the middle of
the run. Every shipment must end up created at the carrier exactly once,
with the carrier's tracking number, none lost and none flagged.

The full size (1,000 shipments from 300 orders) is bench/logistics_reliability.py.
"""

from __future__ import annotations

import os
import time

import pytest
from django.db import connections

from logistics.simulator import Account, CarrierSimulator, Faults
from tests.logistics import worker as rel

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

# Flushed before and after. Two suites running at once need different ones.
BROKER = os.environ.get("RELIABILITY_BROKER_URL", "redis://127.0.0.1:6379/12")
ORDERS = 60
SHIPMENTS = 200
TIMEOUT = 0.5  # the carrier's timeout_seconds
HANG = 1.0  # how long the simulator hangs (longer than the timeout)
DEADLINE = 150


@pytest.fixture
def faulty_simulator():
    sim = CarrierSimulator(
        [Account(rel.EXPRESS_CODE, rel.KEY, rel.SECRET, prefix="RE")],
        faults=Faults(fail_rate=0.3, timeout_rate=0.1, hang_seconds=HANG),
        seed=20261127,
    ).start()
    yield sim
    sim.stop()


@pytest.fixture
def worker_settings(settings):
    config = rel.WorkerSettings(
        database_url=rel.database_url(),
        broker_url=BROKER,
        concurrency=4,
        retry_base=0.2,
        retry_max=2.0,
        max_retries=30,
        resend_after=5.0,
        visibility_timeout=20,
    )
    # This process sweeps the outbox as the beat task would, with the
    # workers' settings.
    settings.WANGNONG_OUTBOX_RESEND_AFTER = config.resend_after
    settings.WANGNONG_HANDOFF_RETRY_BASE = config.retry_base
    settings.WANGNONG_HANDOFF_RETRY_MAX = config.retry_max
    settings.WANGNONG_HANDOFF_MAX_RETRIES = config.max_retries
    rel.flush(BROKER)
    with rel.broker(BROKER, visibility_timeout=config.visibility_timeout):
        yield config
    rel.flush(BROKER)


def test_every_shipment_reaches_the_carrier_exactly_once(
    faulty_simulator, worker_settings, tmp_path
):
    started = time.monotonic()
    rel.carriers(faulty_simulator.url, timeout=TIMEOUT)
    orders, ids = rel.build_orders(ORDERS, SHIPMENTS)
    built_in = round(time.monotonic() - started, 1)
    assert len(orders) == ORDERS and len(ids) == SHIPMENTS
    # Nothing has been handed off yet: the tasks wait in the broker.
    assert rel.handed_off(ids) == 0
    assert rel.undone(ids) == SHIPMENTS

    state = None
    try:
        state = rel.run(ids, worker_settings, tmp_path, kill_at=0.3, deadline=DEADLINE)
        stats = rel.simulator_stats(faulty_simulator)
        summary = {"built_in_s": built_in, **rel.describe(state, stats)}
        found = rel.problems(ids, stats)
    finally:
        if state is not None:
            rel.stop_all(state)
        # The workers' connections are gone; drop ours before the flush.
        connections.close_all()
    print(f"reliability: {summary}")  # shown when the test fails

    assert state.done, f"not all handed off in {DEADLINE} s: {summary}\n{state.logs()}"
    assert found == [], f"{found[:20]}\n{summary}\n{state.logs()}"
    # The worker was killed in the middle, with work left for the next one.
    assert 0 < state.handed_off_at_kill < SHIPMENTS, summary
    assert state.undone_at_kill > 0, summary
    # ... holding tasks it had not acknowledged, which the broker kept.
    assert state.unacked_at_kill > 0, summary
    # The faults happened, and retries after lost answers met the same booking.
    assert stats["failed"] > 0 and stats["hung"] > 0, summary
    assert stats["repeats"] > 0, summary
    assert stats["created"] == SHIPMENTS, summary
