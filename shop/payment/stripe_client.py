"""The one way the shop talks to Stripe.

``client()`` is a ``stripe.StripeClient`` built from settings (the keys,
``STRIPE_API_BASE`` — the local simulator in tests and the demo — short
timeouts and two automatic retries, which stripe-python sends with the same
``Idempotency-Key``). ``call()`` (or ``with unavailable():``) turns "Stripe
could not be reached / answered with a server error" into
``StripeUnavailable``, which carries a message the buyer can read; errors
that are about the request itself (a declined card, a bad parameter) are
left as stripe's own exceptions, because the caller must handle each one
differently. ``construct_event()`` verifies a webhook's signature.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger("wangnong.stripe")

T = TypeVar("T")

# Connect timeout (seconds); the read timeout is settings.STRIPE_TIMEOUT.
CONNECT_TIMEOUT = 3.05
MAX_NETWORK_RETRIES = 2


class StripeUnavailable(Exception):
    """Stripe could not be reached or failed on its side: nothing can be
    known about the request's outcome except through its idempotency key.
    ``str(exc)`` is a message for the buyer (Chinese source string)."""

    def __init__(self, message: str | None = None, *, cause: Exception | None = None):
        self.cause = cause
        super().__init__(message or _("暂时无法连接支付服务，请稍后再试。您的购物车已保留。"))


def is_configured() -> bool:
    """Online payment is offered only when both API keys are set."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


@functools.lru_cache(maxsize=8)
def _build(api_key: str, api_base: str, timeout: float) -> stripe.StripeClient:
    http_client = stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, timeout))
    kwargs: dict[str, Any] = {}
    if api_base:
        kwargs["base_addresses"] = {"api": api_base.rstrip("/")}
    return stripe.StripeClient(
        api_key,
        http_client=http_client,
        max_network_retries=MAX_NETWORK_RETRIES,
        **kwargs,
    )


def client() -> stripe.StripeClient:
    """A StripeClient for the current settings (cached per key, base and
    timeout, so tests that override settings get their own)."""
    if not settings.STRIPE_SECRET_KEY:
        raise StripeUnavailable(_("在线支付尚未开通。"))
    return _build(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE or "",
        float(getattr(settings, "STRIPE_TIMEOUT", 10.0)),
    )


def _is_outage(exc: stripe.StripeError) -> bool:
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        # Our keys are wrong or revoked: the buyer can do nothing about it,
        # staff must (hence logged as an error, not a warning).
        return True
    if isinstance(exc, stripe.APIError):
        status = exc.http_status
        return status is None or status >= 500
    return False


@contextmanager
def unavailable() -> Iterator[None]:
    """Turn Stripe outages inside the block into ``StripeUnavailable``;
    card errors, invalid requests and idempotency errors pass through."""
    try:
        yield
    except stripe.StripeError as exc:
        if not _is_outage(exc):
            raise
        level = (
            logging.ERROR
            if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError)
            else logging.WARNING
        )
        logger.log(
            level,
            "Stripe unavailable: %s (status %s, request %s)",
            type(exc).__name__,
            exc.http_status,
            getattr(exc, "request_id", None),
        )
        raise StripeUnavailable(cause=exc) from exc


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` with outages turned into
    ``StripeUnavailable``, e.g.
    ``call(client().v1.payment_intents.retrieve, pi_id)``."""
    with unavailable():
        return fn(*args, **kwargs)


def construct_event(payload: bytes, sig_header: str | None) -> stripe.Event:
    """The verified event in a webhook request: the ``Stripe-Signature``
    header must carry a v1 HMAC of ``payload`` made with
    STRIPE_WEBHOOK_SECRET no older than STRIPE_WEBHOOK_TOLERANCE seconds.
    Raises ``stripe.SignatureVerificationError`` (forged, stale, unsigned,
    or no secret configured) or ``ValueError`` (not JSON)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        # An empty secret would make every forged signature "valid".
        raise stripe.SignatureVerificationError("no webhook secret configured", sig_header)
    if not sig_header:
        raise stripe.SignatureVerificationError("no Stripe-Signature header", sig_header)
    return stripe.Webhook.construct_event(
        payload, sig_header, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
    )
