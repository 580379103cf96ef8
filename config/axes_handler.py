"""django-axes with two limits: per address and account, and per address.

``AXES_LOCKOUT_PARAMETERS`` is ``[["ip_address", "username"], "ip_address"]``
(in that order). Axes compares every combination with one limit; here the
address-and-account combination locks at ``AXES_FAILURE_LIMIT`` (10) and
the address alone at the larger ``WANGNONG_LOGIN_IP_FAILURE_LIMIT`` (100),
so one person mistyping a password locks only that account from that
address, while 100 failed logins from one address with any usernames lock
the address. Attempts are rows in the database (staff see them in
/django-admin/axes/); a lock lifts ``AXES_COOLOFF_TIME`` after the last
failure.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum


class WangnongAxesHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        counts = [
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        if not counts:
            return 0
        account = counts[0]
        address = max(counts[1:], default=0)
        if address >= settings.WANGNONG_LOGIN_IP_FAILURE_LIMIT:
            return max(account, get_failure_limit(request, credentials))
        return account


def lockout_response(request, original_response=None, credentials: dict | None = None):
    """``AXES_LOCKOUT_CALLABLE``: the Chinese lockout page, status 429."""
    from axes.helpers import get_cool_off
    from django.shortcuts import render

    cool_off = get_cool_off(request)
    minutes = max(1, int(cool_off.total_seconds() // 60)) if cool_off else None
    response = render(
        request,
        "security/lockout.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "cooloff_timedelta": cool_off,
            "cooloff_minutes": minutes,
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


class RequestOnlyAxesBackend(AxesStandaloneBackend):
    """django-axes' backend, for web logins only.

    Every login form (Django's, Oscar's, Wagtail's) passes the request to
    ``authenticate()``, and those are what the lockout is for. A call without
    a request (Django's test client ``login()``, a management command) is
    not a web login: axes would raise, so it is left to the other backends
    instead of breaking them."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
