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


# A transactional test (transaction=True, live_server: every browser test)
# ends with Django's flush. As Django does it, that cost 25 s a test here:
# TRUNCATE of some 400 tables (new files for each table and index, synced to
# disk) and re-inserting, on post_migrate, the whole country's administrative
# divisions and every content type and permission. Instead: leave those
# reference tables alone (no test changes them), and on PostgreSQL (as the
# superuser the suite runs as) DELETE the few rows a test left.
KEPT_BY_FLUSH = {"divisions_division", "django_content_type", "auth_permission"}


def _superuser(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.fixture(autouse=True, scope="session")
def _flush_keeps_reference_data():
    from django.core.management.commands import flush

    original = flush.sql_flush

    def sql_flush(style, connection, reset_sequences=True, allow_cascade=False):
        tables = [
            table
            for table in connection.introspection.django_table_names(
                only_existing=True, include_views=False
            )
            if table not in KEPT_BY_FLUSH
        ]
        if connection.vendor == "postgresql" and not reset_sequences and _superuser(connection):
            quote = connection.ops.quote_name
            # Replica mode skips triggers: the ledger's append-only guard
            # (payment/ledger) and the foreign-key checks, for this
            # transaction only; every row goes anyway.
            return ["SET LOCAL session_replication_role = replica;"] + [
                f"DELETE FROM {quote(table)};" for table in tables
            ]
        return connection.ops.sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )

    flush.sql_flush = sql_flush
    yield
    flush.sql_flush = original


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
def _page_cache_only_where_asked(request, settings):
    """Most tests read ``response.context``, which a page served from the
    anonymous page cache (config/page_cache.py) does not have, and change
    rows without the signals that age cached pages. The cache is off unless
    a test is marked ``page_cache``; tests/test_page_cache.py covers it."""
    if request.node.get_closest_marker("page_cache") is None:
        settings.WANGNONG_PAGE_CACHE_SECONDS = 0


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
