"""Cache-backed fixed-window rate limits.

One counter per (scope, key, window): ``hit`` counts an attempt and says
whether it is still within the limit; ``is_limited`` only looks. Counters
live in the default cache (Redis in production, so every web process shares
them); a window starts at a multiple of its length, so a counter expires by
itself. Keys are hashed, so e-mail addresses and IPs never appear in the
cache as they are.

Used for registration and password-reset requests (config/ratelimit_middleware.py),
pickup-code checks per station staff member (stations/parcels.py) and
wrong two-factor codes (config/two_factor.py). Login failures are counted by
django-axes (config/axes_handler.py).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Limit:
    """``limit`` attempts per ``window`` seconds in ``scope``."""

    scope: str
    limit: int
    window: int

    def hit(self, key: str) -> bool:
        return hit(self.scope, key, self.limit, self.window)

    def is_limited(self, key: str) -> bool:
        return is_limited(self.scope, key, self.limit, self.window)

    def remaining(self, key: str) -> int:
        return remaining(self.scope, key, self.limit, self.window)

    def retry_after(self) -> int:
        return retry_after(self.window)

    def reset(self, key: str) -> None:
        reset(self.scope, key, self.window)


def _cache_key(scope: str, key: str, window: int, now: float | None = None) -> str:
    now = time.time() if now is None else now
    start = int(now // window) * window
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{window}:{start}"


def count(scope: str, key: str, window: int) -> int:
    return int(cache.get(_cache_key(scope, key, window)) or 0)


def hit(scope: str, key: str, limit: int, window: int) -> bool:
    """Count one attempt; True while the count is within ``limit``."""
    cache_key = _cache_key(scope, key, window)
    # add() only sets a missing key, so two processes cannot both start at 0.
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        value = cache.incr(cache_key)
    except ValueError:  # expired between add and incr: start again
        cache.set(cache_key, 1, timeout=window + 1)
        value = 1
    return value <= limit


def is_limited(scope: str, key: str, limit: int, window: int) -> bool:
    """True when ``limit`` attempts have been used in the current window."""
    return count(scope, key, window) >= limit


def remaining(scope: str, key: str, limit: int, window: int) -> int:
    return max(0, limit - count(scope, key, window))


def retry_after(window: int) -> int:
    """Seconds until the current window ends."""
    now = time.time()
    return max(1, math.ceil((int(now // window) + 1) * window - now))


def reset(scope: str, key: str, window: int) -> None:
    cache.delete(_cache_key(scope, key, window))


def wait_message(seconds: int) -> str:
    """The "请 N 分钟后再试" message, in whole minutes."""
    minutes = max(1, math.ceil(seconds / 60))
    return _("尝试次数过多，请 %(minutes)s 分钟后再试。") % {"minutes": minutes}


def client_ip(request) -> str:
    """The client's address (also django-axes' ``AXES_CLIENT_IP_CALLABLE``).

    ``REMOTE_ADDR`` unless ``WANGNONG_TRUSTED_PROXIES`` (n) reverse proxies
    stand in front: then the n-th X-Forwarded-For entry from the right, the
    address the outermost trusted proxy saw (entries further left are
    whatever the client sent and prove nothing)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "WANGNONG_TRUSTED_PROXIES", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    # Fewer entries than proxies: not through the proxies; the client wrote
    # whatever is there, so only the connection's own address counts.
    return remote
