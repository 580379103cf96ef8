"""Shared fixtures. The suite runs on PostgreSQL and Redis (make test sets
DATABASE_URL and REDIS_URL); set WANGNONG_ALLOW_SQLITE_TESTS=1 to run the
parts that do not need PostgreSQL on the embedded database."""

import os

import pytest
from django.db import connection

from tests import factories


def pytest_sessionstart(session):
    if connection.vendor != "postgresql" and not os.environ.get("WANGNONG_ALLOW_SQLITE_TESTS"):
        raise pytest.UsageError(
            "The test suite runs on PostgreSQL: use `make test`, or set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangnong (and REDIS_URL)."
        )


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Pages render {% static %}; without collectstatic there is no manifest
    for the production storage to read, so tests use the plain one."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def china(db):
    """The shipping country (Oscar's address models need one)."""
    return factories.china()


@pytest.fixture
def vegetables(db):
    """A stock-tracked product class."""
    return factories.product_class("蔬菜", track_stock=True)


@pytest.fixture
def cooperative(db):
    return factories.partner("天津市西青区辛口沙窝萝卜种植专业合作社")


@pytest.fixture
def radish(vegetables, cooperative):
    """沙窝萝卜: 10 in stock at ¥20.00."""
    return factories.product(
        "沙窝萝卜", price="20.00", stock=10, partner_obj=cooperative, product_class_obj=vegetables
    )
