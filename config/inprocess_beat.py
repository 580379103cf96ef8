"""Celery beat's periodic tasks, run in-process for the embedded set-up.

`make run` has no broker, no worker and no ``celery beat``: tasks run
eagerly in the web process. The periodic ones (``CELERY_BEAT_SCHEDULE``:
re-send the hand-off outbox, close due consolidations, poll tracking) still
have to run, so this small scheduler runs each entry's task in a daemon
thread at the entry's interval.

It starts only when all of these hold (``wanted``):

* ``WANGNONG_INPROCESS_BEAT=1`` (set by `make run`, nowhere else);
* the process is ``manage.py runserver``'s serving process (with the
  autoreloader that is the child, ``RUN_MAIN=true``; with ``--noreload``
  the only one), so the reloader's watcher does not run a second copy.

So never in tests, Celery workers or production web servers, which run the
schedule with ``celery -A config beat``. A job that raises is logged and
runs again at its next time; the thread never dies of it. Entries run one
after another (a slow poll delays the next sweep, never overlaps it).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.db import close_old_connections

logger = logging.getLogger("wangnong.beat")

ENV_FLAG = "WANGNONG_INPROCESS_BEAT"
THREAD_NAME = "wangnong-inprocess-beat"
# Seconds after start-up before the first round, so the site (and the
# carrier simulator `make run` starts next to it) is listening.
DEFAULT_INITIAL_DELAY = 10.0

_started: InProcessBeat | None = None
_lock = threading.Lock()


@dataclass
class Entry:
    name: str
    task: str
    interval: float
    args: tuple = ()
    kwargs: dict | None = None
    due: float = 0.0  # monotonic time of the next run


def interval_of(schedule) -> float:
    """Seconds between runs for a beat entry's ``schedule``: a number, a
    timedelta or a celery ``schedule`` (crontab is not supported here)."""
    if isinstance(schedule, int | float):
        seconds = float(schedule)
    elif isinstance(schedule, dt.timedelta):
        seconds = schedule.total_seconds()
    elif isinstance(getattr(schedule, "run_every", None), dt.timedelta):
        seconds = schedule.run_every.total_seconds()
    else:
        raise ValueError(f"unsupported schedule {schedule!r}")
    if seconds <= 0:
        raise ValueError(f"schedule must be positive, not {schedule!r}")
    return seconds


def find_task(name: str):
    """The Celery task called ``name``, importing the task modules a worker
    would (CELERY_IMPORTS and every app's tasks.py) if it is not registered
    yet. Not ``app.loader.import_default_modules()``: its Django fix-up
    runs ``django.setup()`` and the system checks again on every call."""
    from django.apps import apps
    from django.conf import settings

    from config.celery import app

    if name not in app.tasks:
        modules = list(getattr(settings, "CELERY_IMPORTS", ()))
        for config in apps.get_app_configs():
            if importlib.util.find_spec(f"{config.name}.tasks") is not None:
                modules.append(f"{config.name}.tasks")
        for module in modules:
            importlib.import_module(module)
    return app.tasks[name]


def run_task(name: str, args: Sequence = (), kwargs: Mapping | None = None):
    """Run the Celery task called ``name`` here and now (``apply``: in this
    process whatever the broker settings) and return its result; its
    exception propagates. The result is read, not ``get()``: Celery's
    "never wait inside a task" guard is one flag for the whole process, set
    while any thread (a request queuing an eager task) runs one."""
    task = find_task(name)
    return task.apply(args=tuple(args), kwargs=dict(kwargs or {}), throw=True).result


class InProcessBeat:
    """Run ``schedule`` (``CELERY_BEAT_SCHEDULE``'s shape) every interval.

    ``runner(task_name, args, kwargs)`` runs one task (default
    :func:`run_task`); ``clock`` is a monotonic clock in seconds."""

    def __init__(
        self,
        schedule: Mapping[str, Mapping],
        *,
        runner: Callable = run_task,
        clock: Callable[[], float] = time.monotonic,
        initial_delay: float = DEFAULT_INITIAL_DELAY,
    ):
        self.runner = runner
        self.clock = clock
        self.entries: list[Entry] = []
        start = clock() + initial_delay
        for name, spec in schedule.items():
            try:
                interval = interval_of(spec["schedule"])
            except (KeyError, ValueError) as exc:
                logger.warning("Beat entry %s skipped in-process: %s", name, exc)
                continue
            self.entries.append(
                Entry(
                    name=name,
                    task=spec["task"],
                    interval=interval,
                    args=tuple(spec.get("args", ())),
                    kwargs=dict(spec.get("kwargs", {})),
                    due=start,
                )
            )
        self.runs: dict[str, int] = {e.name: 0 for e in self.entries}
        self.failures: dict[str, int] = {e.name: 0 for e in self.entries}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pending(self) -> list[str]:
        """Run every entry that is due now; returns their names."""
        ran = []
        for entry in self.entries:
            now = self.clock()
            if now < entry.due:
                continue
            self._run(entry)
            ran.append(entry.name)
            # The next run is an interval after this one was due; an entry
            # that fell behind (a suspended laptop, a slow job) runs once and
            # then an interval from now, never several times in a row.
            entry.due += entry.interval
            if entry.due <= now:
                entry.due = now + entry.interval
        return ran

    def _run(self, entry: Entry) -> None:
        try:
            result = self.runner(entry.task, entry.args, entry.kwargs)
        except Exception:  # noqa: BLE001 - a failing job must not stop the others
            self.failures[entry.name] += 1
            logger.exception("Periodic task %s (%s) failed", entry.name, entry.task)
        else:
            logger.debug("Periodic task %s (%s): %r", entry.name, entry.task, result)
        finally:
            self.runs[entry.name] += 1

    def seconds_to_next(self) -> float:
        if not self.entries:
            return 60.0
        return max(0.0, min(e.due for e in self.entries) - self.clock())

    def loop(self) -> None:
        while not self._stop.is_set():
            # This thread's database connections are handled as a request's
            # are: dropped when broken or past CONN_MAX_AGE (SQLite: always).
            close_old_connections()
            try:
                self.run_pending()
            except Exception:  # noqa: BLE001 - the scheduler itself keeps going
                logger.exception("In-process beat round failed")
            finally:
                close_old_connections()
            self._stop.wait(min(self.seconds_to_next(), 60.0))

    def start(self) -> InProcessBeat:
        self._thread = threading.Thread(target=self.loop, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def wanted(environ: Mapping[str, str] | None = None, argv: Sequence[str] | None = None) -> bool:
    """True in runserver's serving process with ``WANGNONG_INPROCESS_BEAT=1``."""
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    if environ.get(ENV_FLAG) != "1":
        return False
    if len(argv) < 2 or argv[1] != "runserver":
        return False
    # With the autoreloader, the watcher starts a child with RUN_MAIN=true
    # that serves; only that one runs the schedule.
    return environ.get("RUN_MAIN") == "true" or "--noreload" in argv


def start_if_wanted(
    environ: Mapping[str, str] | None = None, argv: Sequence[str] | None = None
) -> InProcessBeat | None:
    """Start the in-process beat once per process if :func:`wanted`."""
    global _started
    if not wanted(environ, argv):
        return None
    from django.conf import settings

    with _lock:
        if _started is None:
            schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", {}) or {}
            _started = InProcessBeat(schedule).start()
            names = ", ".join(e.name for e in _started.entries) or "nothing"
            logger.info("In-process beat started: %s", names)
        return _started
