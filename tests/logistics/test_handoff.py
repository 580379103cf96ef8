"""Handing shipments to carriers (logistics/handoff.py, logistics/tasks.py):
the outbox row commits with the order, survives a broker outage and is
re-sent by the sweep; an attempt is made once however often the task runs;
retries back off and end with the shipment flagged for staff."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
import requests
from celery.signals import task_prerun
from django.core import mail
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from logistics import handoff, shipments
from logistics.adapters import CarrierError
from logistics.models import OutboxMessage, Shipment, ShipmentLog
from logistics.tasks import hand_off
from tests import factories
from tests.logistics.builders import CRAB_COOP, RADISH_COOP, goods, make_shipment, place
from tests.logistics.conftest import make_http_carrier

pytestmark = pytest.mark.django_db

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


def stats(simulator) -> dict:
    session = requests.Session()
    session.trust_env = False
    response = session.get(f"{simulator.url}/_control/stats", timeout=5)
    assert response.status_code == 200
    return response.json()


def set_faults(simulator, **faults) -> None:
    session = requests.Session()
    session.trust_env = False
    response = session.post(f"{simulator.url}/_control/faults", json=faults, timeout=5)
    assert response.status_code == 200


@contextlib.contextmanager
def broker_down():
    """The Celery app publishes to a Redis nobody listens on (eager mode
    off), so ``delay`` fails the way it does when the broker is down."""
    saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    _drop_connections()
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = UNREACHABLE_BROKER
    try:
        yield
    finally:
        _drop_connections()
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = saved


def _drop_connections() -> None:
    """Forget the app's broker connections and producers (made for whatever
    broker URL was configured when they were first used)."""
    celery_app.close()
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def tasks_run():
    """Names and arguments of the Celery tasks that actually ran."""
    ran = []

    def record(sender=None, args=None, **kwargs):
        ran.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield ran
    task_prerun.disconnect(record)


@pytest.fixture
def two_coop_order(china, carriers):
    radish = goods("沙窝萝卜", factories.partner(RADISH_COOP), weight_g=2500)
    crab = goods("七里海河蟹", factories.partner(CRAB_COOP), weight_g=1500, storage="chilled")
    return place([(radish, 2), (crab, 1)])


@pytest.fixture
def sim_shipment(china, carriers, http_carrier):
    """A pending shipment booked with the simulator's carrier (the cheapest
    for ambient goods: ¥10 first kg); its hand-off not yet run."""
    radish = goods("沙窝萝卜", factories.partner(RADISH_COOP), weight_g=2500)
    order = place([(radish, 1)])
    [shipment] = shipments.create_for_order(order)
    assert shipment.carrier == http_carrier
    return shipment


# --- the outbox row and the transaction ---------------------------------------------


def test_outbox_rows_commit_with_the_order_and_only_then_queue_tasks(
    two_coop_order, tasks_run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            shipments.create_for_order(two_coop_order)
            assert OutboxMessage.objects.count() == 2  # written in the transaction
            raise RuntimeError("the order's transaction fails after the shipments")
    assert callbacks == []
    assert not Shipment.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert tasks_run == []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            created = shipments.create_for_order(two_coop_order)
            assert tasks_run == []  # nothing queued before commit
    assert len(callbacks) == 2
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert [m.shipment_id for m in messages] == [s.pk for s in created]
    assert sorted(tasks_run) == sorted(("logistics.hand_off", (m.pk,)) for m in messages)
    assert all(m.done_at is not None for m in OutboxMessage.objects.all())


def test_broker_down_keeps_the_row_and_the_sweep_sends_it_later(
    two_coop_order, tasks_run, django_capture_on_commit_callbacks
):
    with broker_down():
        with django_capture_on_commit_callbacks(execute=True):
            created = shipments.create_for_order(two_coop_order)
        # The order stands; its hand-offs wait in the outbox.
        assert tasks_run == []
        rows = list(OutboxMessage.objects.order_by("pk"))
        assert len(rows) == 2
        assert all(r.done_at is None and r.failed_at is None and r.attempts == 0 for r in rows)
        # The sweep runs while the broker is still down: nothing lost either.
        assert handoff.resend() == 0
        assert OutboxMessage.objects.filter(done_at__isnull=True).count() == 2

    # The broker is back: the next sweep (a minute later) hands them off.
    assert handoff.resend(timezone.now() + dt.timedelta(seconds=60)) == 2
    assert sorted(tasks_run) == sorted(("logistics.hand_off", (r.pk,)) for r in rows)
    for row in OutboxMessage.objects.all():
        assert row.done_at is not None and row.attempts == 1
    assert {s.status for s in Shipment.objects.filter(pk__in=[s.pk for s in created])} == {
        Shipment.Status.AWAITING_TRACKING
    }
    # And the sweep after that has nothing to do.
    assert handoff.resend(timezone.now() + dt.timedelta(hours=2)) == 0


# --- one attempt, exactly once -------------------------------------------------------


def test_process_twice_calls_the_carrier_once(sim_shipment, simulator):
    message = sim_shipment.outbox.get()

    assert handoff.process(message.pk) == "done"
    assert handoff.process(message.pk) == "already done"

    counts = stats(simulator)
    assert counts["create_requests"] == 1
    assert counts["created"] == 1
    sim_shipment.refresh_from_db()
    assert sim_shipment.status == Shipment.Status.HANDED_OFF
    assert (
        sim_shipment.tracking_number
        == (counts["tracking_numbers"][str(sim_shipment.idempotency_key)])
    )
    assert sim_shipment.handed_off_at is not None
    message.refresh_from_db()
    assert message.attempts == 1 and message.done_at is not None

    # A second outbox row for the same shipment (the sweep re-queued it)
    # finds it handed off and does not call the carrier.
    extra = OutboxMessage.objects.create(shipment=sim_shipment, kind="create")
    assert handoff.process(extra.pk) == "already done"
    assert stats(simulator)["create_requests"] == 1


def test_retry_after_a_timeout_books_the_same_shipment(sim_shipment, simulator):
    """The carrier booked it but the answer was lost: the retry carries the
    same idempotency key and gets the same tracking number back."""
    message = sim_shipment.outbox.get()
    set_faults(simulator, timeout_rate=1.0, hang_seconds=2.0)  # carrier timeout is 1 s

    with pytest.raises(CarrierError) as info:
        handoff.process(message.pk)
    assert info.value.retryable
    sim_shipment.refresh_from_db()
    message.refresh_from_db()
    assert sim_shipment.status == Shipment.Status.PENDING
    assert "超时" in sim_shipment.last_error and message.last_error == sim_shipment.last_error
    assert message.attempts == 1 and message.done_at is None and message.failed_at is None
    assert ShipmentLog.objects.filter(shipment=sim_shipment, is_error=True).count() == 1

    set_faults(simulator, timeout_rate=0.0)
    assert handoff.process(message.pk) == "done"
    counts = stats(simulator)
    assert counts["create_requests"] == 2
    assert counts["created"] == 1 and counts["repeats"] == 1
    sim_shipment.refresh_from_db()
    assert sim_shipment.status == Shipment.Status.HANDED_OFF
    assert (
        sim_shipment.tracking_number
        == counts["tracking_numbers"][str(sim_shipment.idempotency_key)]
    )
    assert sim_shipment.last_error == ""


# --- giving up ---------------------------------------------------------------------


def test_gives_up_after_the_last_retry_and_alerts_staff(
    sim_shipment, simulator, settings, django_capture_on_commit_callbacks
):
    settings.WANGNONG_HANDOFF_MAX_RETRIES = 2
    settings.WANGNONG_LOGISTICS_ALERT_EMAILS = ["logistics@example.com"]
    set_faults(simulator, fail_rate=1.0)
    message = sim_shipment.outbox.get()

    # Without a broker (eager) each run is one attempt and the sweep brings
    # the next; the row counts attempts across runs (a worker's retries and
    # the sweep's copies alike): the first try and 2 retries, then give up.
    with django_capture_on_commit_callbacks(execute=True):
        results = [hand_off.apply(args=(message.pk,)).get() for _attempt in range(3)]

    assert results == ["retry later", "retry later", "failed"]
    assert stats(simulator)["create_requests"] == 3  # the first try and 2 retries
    message.refresh_from_db()
    sim_shipment.refresh_from_db()
    assert message.attempts == 3
    assert message.failed_at is not None and message.done_at is None
    assert "HTTP 500" in message.last_error
    assert sim_shipment.needs_attention
    assert sim_shipment.status == Shipment.Status.PENDING
    assert "HTTP 500" in sim_shipment.last_error
    assert ShipmentLog.objects.filter(
        shipment=sim_shipment, is_error=True, message__startswith="已停止自动重试"
    ).exists()
    [alert] = mail.outbox
    assert alert.to == ["logistics@example.com"]
    assert f"#{sim_shipment.pk}" in alert.subject and "模拟快递" in alert.subject
    assert "HTTP 500" in alert.body
    # Given up: the sweep leaves it to staff.
    assert handoff.resend(timezone.now() + dt.timedelta(hours=2)) == 0

    # Staff retry once the carrier works again.
    set_faults(simulator, fail_rate=0.0)
    with django_capture_on_commit_callbacks(execute=True):
        shipments.retry(sim_shipment, by=None)
    sim_shipment.refresh_from_db()
    assert sim_shipment.status == Shipment.Status.HANDED_OFF
    assert not sim_shipment.needs_attention
    assert stats(simulator)["created"] == 1


def test_an_error_retrying_cannot_fix_flags_at_once(
    china, carriers, simulator, settings, django_capture_on_commit_callbacks
):
    """The carrier refuses our signature (a wrong secret): no retries."""
    settings.WANGNONG_LOGISTICS_ALERT_EMAILS = ["logistics@example.com"]
    carrier = make_http_carrier(simulator.url)
    carrier.api_secret = "not-the-shared-secret"
    carrier.save()
    shipment = make_shipment(carrier)
    message = handoff.queue(shipment, "create")

    with django_capture_on_commit_callbacks(execute=True):
        result = hand_off.delay(message.pk)

    assert result.get() == "failed"
    counts = stats(simulator)
    assert counts["create_requests"] == 0 and counts["refused"] == 1
    message.refresh_from_db()
    shipment.refresh_from_db()
    assert message.attempts == 1 and message.failed_at is not None
    assert shipment.needs_attention
    assert "签名或账号" in shipment.last_error and "401" in shipment.last_error
    assert len(mail.outbox) == 1


# --- back-off ----------------------------------------------------------------------


def test_countdown_is_exponential_with_jitter_and_capped(settings):
    settings.WANGNONG_HANDOFF_RETRY_BASE = 10
    settings.WANGNONG_HANDOFF_RETRY_MAX = 100
    expected = {0: 10, 1: 20, 2: 40, 3: 80, 4: 100, 5: 100, 12: 100}
    for retries, ceiling in expected.items():
        samples = [handoff.countdown_for(retries) for _ in range(200)]
        assert max(samples) <= ceiling, retries
        assert min(samples) >= 0.75 * ceiling, retries
        assert len(set(samples)) > 1  # jitter: retries do not stampede together
    # Growing until the cap.
    assert handoff.countdown_for(3) > handoff.countdown_for(1)


# --- the sweep ---------------------------------------------------------------------


def test_resend_picks_idle_rows_and_skips_done_failed_and_collecting(carriers, settings):
    settings.WANGNONG_OUTBOX_RESEND_AFTER = 900
    express, _cold = carriers
    now = timezone.now()
    long_ago = now - dt.timedelta(seconds=1000)
    recently = now - dt.timedelta(seconds=100)

    def row(name, *, status="pending", **fields):
        shipment = make_shipment(express, status=status, recipient_name=name)
        return OutboxMessage.objects.create(shipment=shipment, kind="create", **fields)

    rows = {
        "never queued": row("a"),
        "queued long ago, never tried": row("b", enqueued_at=long_ago),
        "tried long ago": row("c", enqueued_at=long_ago, last_attempt_at=long_ago, attempts=1),
        "queued just now": row("d", enqueued_at=recently),
        "tried just now": row("e", enqueued_at=long_ago, last_attempt_at=recently, attempts=1),
        "done": row("f", enqueued_at=long_ago, done_at=long_ago),
        "given up": row("g", enqueued_at=long_ago, failed_at=long_ago, attempts=9),
        "collecting, never queued": row("h", status="collecting"),
        "collecting, queued long ago": row("i", status="collecting", enqueued_at=long_ago),
    }
    before = {name: (m.attempts, m.enqueued_at) for name, m in rows.items()}

    sent = handoff.resend(now)

    picked = set()
    for name, message in rows.items():
        message.refresh_from_db()
        if (message.attempts, message.enqueued_at) != before[name]:
            picked.add(name)
    assert picked == {"never queued", "queued long ago, never tried", "tried long ago"}
    assert sent == 3
    # The picked rows were handed off (manual carrier: awaiting the number).
    for name in picked:
        assert rows[name].done_at is not None
        shipment = Shipment.objects.get(pk=rows[name].shipment_id)
        assert shipment.status == Shipment.Status.AWAITING_TRACKING


def test_cancelled_shipment_queued_create_is_not_sent(carriers):
    express, _cold = carriers
    shipment = make_shipment(express, cost=Decimal("12.00"))
    message = handoff.queue(shipment, "create")
    shipments.cancel(shipment, reason="买家取消")
    assert handoff.process(message.pk) == "already done"
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.CANCELLED
    assert shipment.tracking_number == ""
