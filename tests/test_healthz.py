"""GET /healthz: database, cache and broker, each "ok", "not configured" or
the error; 200 only when every configured part answers."""

import time

import pytest
from django.core.cache import caches

from config import health
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

REAL_BROKER = "redis://127.0.0.1:6379/14"
CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker(settings, monkeypatch):
    """Point the settings and the Celery app at a broker URL (or none)."""

    def use(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        monkeypatch.setattr(celery_app.conf, "broker_url", url or None)
        monkeypatch.setattr(celery_app.conf, "broker_write_url", None)

    return use


def get(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    return response, response.json()


def test_all_parts_answer(client, settings, broker):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "run with REDIS_URL set"
    broker(REAL_BROKER)
    response, body = get(client)
    assert response.status_code == 200, body
    assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


def test_no_broker_is_not_configured_and_still_healthy(client, broker):
    broker("")
    response, body = get(client)
    assert response.status_code == 200, body
    assert body["checks"]["broker"] == "not configured"
    assert body["checks"]["database"] == body["checks"]["cache"] == "ok"


def test_cache_down_is_503(client, settings, broker):
    broker("")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT,
        }
    }
    try:
        response, body = get(client)
    finally:
        caches["default"].close()
    assert response.status_code == 503, body
    assert body["status"] == "error"
    assert body["checks"]["cache"].startswith("error: ConnectionError")
    assert body["checks"]["database"] == "ok"


def test_broker_down_is_503_and_quick(client, broker):
    broker(CLOSED_PORT)
    started = time.monotonic()
    response, body = get(client)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, body
    assert body["checks"]["broker"].startswith("error: ")
    assert body["checks"]["database"] == body["checks"]["cache"] == "ok"
    # A load balancer's probe must not hang on a dead broker.
    assert elapsed < 5


def test_database_down_is_503(client, monkeypatch):
    def broken():
        raise RuntimeError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response, body = get(client)
    assert response.status_code == 503
    assert body["checks"]["database"] == "error: RuntimeError: connection refused"


def test_cache_that_loses_writes_is_an_error(client, monkeypatch):
    class Forgetful:
        def set(self, *args, **kwargs):
            pass

        def get(self, *args, **kwargs):
            return None

        def delete(self, *args, **kwargs):
            pass

    monkeypatch.setattr(health, "cache", Forgetful())
    response, body = get(client)
    assert response.status_code == 503
    assert "cache did not return the value just written" in body["checks"]["cache"]


def test_only_get(client):
    assert client.post("/healthz").status_code == 405
