"""GET /healthz: the state of each configured backing service.

Returns 200 only when every configured part answers; each part reports
"ok" or the error text. A part that is not configured (no broker in the
embedded set-up) reports "not configured" and does not fail the check.
"""

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    if not ok:
        raise RuntimeError("cache did not return the value just written")
    return "ok"


def _check_broker() -> str | None:
    if not settings.CELERY_BROKER_URL:
        return None
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@never_cache
@require_GET
def healthz(request):
    results, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            state = check()
            results[name] = "not configured" if state is None else state
        except Exception as exc:  # noqa: BLE001 - any failure is the report
            results[name] = f"error: {exc.__class__.__name__}: {exc}"
            healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results},
        status=200 if healthy else 503,
    )
