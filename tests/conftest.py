"""Shared fixtures. The suite runs on PostgreSQL and Redis (make test sets
DATABASE_URL and REDIS_URL); set WANGNONG_ALLOW_SQLITE_TESTS=1 to run the
parts that do not need PostgreSQL on the embedded database."""

import os

import pytest
from django.db import connection


def pytest_sessionstart(session):
    if connection.vendor != "postgresql" and not os.environ.get("WANGNONG_ALLOW_SQLITE_TESTS"):
        raise pytest.UsageError(
            "The test suite runs on PostgreSQL: use `make test`, or set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/wangnong (and REDIS_URL)."
        )
