"""Shared fixtures. The suite runs on PostgreSQL and Redis (make test sets
DATABASE_URL and REDIS_URL); set WANGNONG_ALLOW_SQLITE_TESTS=1 to run the
parts that do not need PostgreSQL on the embedded database."""

import os

import pytest
from django.conf import settings
from django.db import connection
from django.db.models.signals import post_migrate

from tests import factories
from tests.stripe_fixtures import stripe_sim, stripe_sim_session, stripe_sim_shared  # noqa: F401


def pytest_sessionstart(session):
    if connection.vendor != "postgresql" and not os.environ.get("WANGNONG_ALLOW_SQLITE_TESTS"):
        raise pytest.UsageError(
            "The test suite runs on PostgreSQL: use `make test`, or set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangnong (and REDIS_URL)."
        )


def pytest_configure(config):
    # WhiteNoise warns on every request when STATIC_ROOT does not exist.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    # Demo carriers loaded by tests point at a port nobody listens on (the
    # discard port), never at a developer's running `make run` simulator;
    # tests that need a carrier start their own simulator.
    os.environ.setdefault("WANGNONG_DEMO_CARRIER_URL", "http://127.0.0.1:9")
    # Hashing a password the production way takes most of a second here, and
    # cooperatives, stations and their staff come with accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ensure_wagtail_roots(**kwargs) -> None:
    """Put back the rows Wagtail's migrations create and its code assumes
    (the default locale, the root collection, the root page).

    Transactional tests (transaction=True, live_server) end with a flush that
    empties every table, and with --reuse-db the next run starts from that
    empty database. Django's post_migrate handlers restore content types,
    the Site and the divisions; this does the same for Wagtail.
    """
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Collection, Locale, Page

    locale, _ = Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root", locale=locale))


def _restore_after_flush(sender, **kwargs):
    if sender.label == "wagtailcore":
        ensure_wagtail_roots()


post_migrate.connect(_restore_after_flush, dispatch_uid="tests-wagtail-roots")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's set-up, then Wagtail's roots if a reused database
    was left flushed by an earlier run."""
    with django_db_blocker.unblock():
        ensure_wagtail_roots()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Pages render {% static %}; without collectstatic there is no manifest
    for the production storage to read, so tests use the plain one."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters (config/ratelimit.py) and cached two-factor flags
    live in the cache, which outlives a test's database rollback: every test
    starts with none, so one test's failures never lock out the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def china(db):
    """The shipping country (Oscar's address models need one)."""
    return factories.china()


@pytest.fixture
def vegetables(db):
    """A stock-tracked product class."""
    return factories.product_class("蔬菜", track_stock=True)


@pytest.fixture
def carriers(db):
    """A nationwide express carrier and a Beijing–Tianjin cold chain
    (tests/factories.py), so orders can be shipped."""
    return factories.carriers()


@pytest.fixture
def cooperative(carriers):
    return factories.partner("天津市西青区辛口沙窝萝卜种植专业合作社")


@pytest.fixture
def radish(vegetables, cooperative):
    """沙窝萝卜: 10 in stock at ¥20.00."""
    return factories.product(
        "沙窝萝卜", price="20.00", stock=10, partner_obj=cooperative, product_class_obj=vegetables
    )
