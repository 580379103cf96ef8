"""A local stand-in for Stripe's v1 API, over loopback, for tests and the demo.

The shop talks to it through stripe-python exactly as it talks to Stripe
(``STRIPE_API_BASE`` points the client here), so the production code path
runs unchanged. It answers the endpoints the shop uses with bodies shaped as
Stripe's API reference shows them (``id``, ``object``, ``livemode: false``,
``created``, ``metadata``…; errors as ``{"error": {type, code, message,
param, doc_url}}`` with Stripe's HTTP status):

* ``/v1/payment_intents`` create / retrieve / update / confirm / capture /
  cancel, for card (test PaymentMethods such as ``pm_card_visa``,
  ``pm_card_chargeDeclined``, ``pm_card_authenticationRequired``), Alipay
  (a redirect to a local 支付宝 test page) and WeChat Pay (a real QR code;
  the buyer's scan is a control call);
* ``/v1/refunds``, ``/v1/charges/{id}``, ``/v1/balance_transactions`` (a
  paginated list with ``created[gte]``/``created[lt]``/``type``/
  ``starting_after``), ``/v1/payment_methods/{id}``, ``/v1/disputes/{id}``,
  ``/v1/events``;
* ``Idempotency-Key``: the same key and parameters replay the stored answer
  (``Idempotent-Replayed: true``); the same key with other parameters is a
  400 ``idempotency_error``; a key still in flight is a 409.

Every state change makes a Stripe Event (``evt_…``) kept in memory
(``events()``) and, when ``webhook_url`` is set, POSTed there from a
background thread, signed with the real scheme (``Stripe-Signature:
t=…,v1=HMAC-SHA256(secret, "t.payload")``) and retried with back-off until
the site answers 2xx.

Faults and the buyer's side are driven through ``/_control/…`` (JSON, no
key) or the Python methods of ``StripeSimulator``: make the next calls fail
with 500, hang past the client's timeout (after doing the work, so the
answer is lost but the result is not), drop connections, deliver webhooks
twice/shuffled/late, have a PaymentIntent succeed, fail or go processing,
open and close a dispute.

Run it with ``manage.py stripe_simulator`` or, in tests, the ``stripe_sim``
fixture (tests/stripe_fixtures.py). It listens on loopback only.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import html
import io
import itertools
import json
import logging
import random
import secrets
import socket
import string
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
import segno

try:  # the version stripe-python sends; events carry it like Stripe's do
    from stripe._api_version import _ApiVersion

    API_VERSION = _ApiVersion.CURRENT
except ImportError:  # pragma: no cover - an older stripe-python
    API_VERSION = "2025-01-27.acacia"

logger = logging.getLogger("wangnong.stripe_simulator")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
PAYMENT_METHOD_TYPES = ("card", "alipay", "wechat_pay")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
DISPUTE_REASONS = (
    "fraudulent",
    "product_not_received",
    "product_unacceptable",
    "duplicate",
    "subscription_canceled",
    "credit_not_processed",
    "general",
    "unrecognized",
)

# Stripe's test PaymentMethods: brand, last4, country, behaviour (None
# succeeds, "authentication_required" needs 3-D Secure, anything else is a
# decline with that decline code).
CARD_TOKENS: dict[str, tuple[str, str, str, str | None]] = {
    "pm_card_visa": ("visa", "4242", "US", None),
    "pm_card_visa_debit": ("visa", "5556", "US", None),
    "pm_card_mastercard": ("mastercard", "4444", "US", None),
    "pm_card_amex": ("amex", "8431", "US", None),
    "pm_card_unionpay": ("unionpay", "0005", "CN", None),
    "pm_card_cn": ("visa", "0003", "CN", None),
    "pm_card_chargeDeclined": ("visa", "0002", "US", "generic_decline"),
    "pm_card_visa_chargeDeclined": ("visa", "0002", "US", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", "US", "insufficient_funds"),
    "pm_card_visa_chargeDeclinedInsufficientFunds": ("visa", "9995", "US", "insufficient_funds"),
    "pm_card_chargeDeclinedLostCard": ("visa", "9987", "US", "lost_card"),
    "pm_card_chargeDeclinedStolenCard": ("visa", "9979", "US", "stolen_card"),
    "pm_card_chargeDeclinedExpiredCard": ("visa", "0069", "US", "expired_card"),
    "pm_card_chargeDeclinedIncorrectCvc": ("visa", "0127", "US", "incorrect_cvc"),
    "pm_card_chargeDeclinedProcessingError": ("visa", "0119", "US", "processing_error"),
    "pm_card_authenticationRequired": ("visa", "3184", "US", "authentication_required"),
    "pm_card_threeDSecure2Required": ("visa", "3220", "US", "authentication_required"),
    "pm_card_authenticationRequiredOnSetup": ("visa", "3155", "US", "authentication_required"),
}
CARD_NUMBERS = {
    "4242424242424242": "pm_card_visa",
    "4000056655665556": "pm_card_visa_debit",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "6200000000000005": "pm_card_unionpay",
    "4000001560000002": "pm_card_cn",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000009987": "pm_card_chargeDeclinedLostCard",
    "4000000000009979": "pm_card_chargeDeclinedStolenCard",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000000000000127": "pm_card_chargeDeclinedIncorrectCvc",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
    "4000002760003184": "pm_card_authenticationRequired",
    "4000000000003220": "pm_card_threeDSecure2Required",
    "4000002500003155": "pm_card_authenticationRequiredOnSetup",
}
# decline code → (error code, message), as Stripe words them.
DECLINES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "lost_card": ("card_declined", "Your card was declined."),
    "stolen_card": ("card_declined", "Your card was declined."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
    "processing_error": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
AUTHENTICATION_FAILURE = (
    "The provided PaymentMethod has failed authentication. You can provide "
    "payment_method_data or a new PaymentMethod to attempt to fulfill this "
    "PaymentIntent again."
)
WEBHOOK_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)


# -- small helpers -------------------------------------------------------------
_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """An id shaped like Stripe's: ``pi_3MtwBwLkdIwHu7ix28a3tqPa``."""
    return f"{prefix}_" + "".join(secrets.choice(_ALNUM) for _ in range(length))


def doc_url(code: str | None) -> str | None:
    return f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}" if code else None


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: ``t=<ts>,v1=<hex
    HMAC-SHA256(secret, "<ts>.<payload>")>``, Stripe's scheme."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    signed = f"{ts}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


class ApiError(Exception):
    """An error answer in Stripe's shape. ``replayable`` is False for
    requests refused before they started executing (bad parameters), whose
    result Stripe does not store under the idempotency key."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        replayable: bool = True,
        **extra,
    ):
        super().__init__(message)
        self.status = status
        self.replayable = replayable
        self.error = {"message": message, "type": type}
        if code:
            self.error["code"] = code
            self.error["doc_url"] = doc_url(code)
        if param:
            self.error["param"] = param
        self.error.update({k: v for k, v in extra.items() if v is not None})


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> ApiError:
    return ApiError(400, message, code=code, param=param, replayable=False)


def missing(param: str) -> ApiError:
    return ApiError(
        400,
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
        replayable=False,
    )


def no_such(kind: str, object_id: str, param: str = "id") -> ApiError:
    return ApiError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def unexpected_state(message: str) -> ApiError:
    return ApiError(400, message, code="payment_intent_unexpected_state")


def parse_form(text: str) -> dict:
    """Stripe's form encoding → nested data: ``metadata[order]=1`` →
    ``{"metadata": {"order": "1"}}``, ``payment_method_types[0]=card`` →
    ``{"payment_method_types": ["card"]}``, ``expand[]=x`` appends."""
    root: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + ([p for p in rest[:-1].split("][")] if rest else [])
        node = root
        for index, part in enumerate(parts):
            if not isinstance(node, dict):
                raise invalid(f"Invalid parameter: {key}", key)
            if part == "":
                part = str(sum(1 for k in node if k.isdigit()))
            if index == len(parts) - 1:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node):
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


def _as_int(
    params: dict, name: str, *, required: bool = False, minimum: int | None = None, label=None
) -> int | None:
    label = label or name
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(label)
        return None
    text = str(value).strip()
    if not (text.isdigit() or (text.startswith("-") and text[1:].isdigit())):
        raise invalid(f"Invalid integer: {value}", label, "parameter_invalid_integer")
    number = int(text)
    if minimum is not None and number < minimum:
        raise invalid(
            f"This value must be greater than or equal to {minimum}.",
            label,
            "parameter_invalid_integer",
        )
    return number


def _as_bool(params: dict, name: str) -> bool:
    value = params.get(name)
    if value in (None, "", "false", False):
        return False
    if value in ("true", True):
        return True
    raise invalid(f"Invalid boolean: {value}", name)


def _choice(params: dict, name: str, allowed, default=None):
    value = params.get(name)
    if value in (None, ""):
        return default
    if value not in allowed:
        raise invalid(
            f"Invalid {name}: must be one of {', '.join(allowed)}", name, "parameter_invalid"
        )
    return value


def _metadata(value, current: dict | None = None) -> dict:
    """Stripe's metadata rules: string values, up to 50 keys of up to 40
    characters, values up to 500; an empty value removes the key."""
    result = dict(current or {})
    if value in (None, ""):
        return {} if value == "" else result
    if not isinstance(value, dict):
        raise invalid("Invalid object", "metadata")
    for key, item in value.items():
        if len(key) > 40:
            raise invalid("Metadata keys can be at most 40 characters long.", f"metadata[{key}]")
        if not isinstance(item, str):
            raise invalid("Invalid metadata value", f"metadata[{key}]")
        if len(item) > 500:
            raise invalid("Metadata values can have up to 500 characters.", f"metadata[{key}]")
        if item == "":
            result.pop(key, None)
        else:
            result[key] = item
    if len(result) > 50:
        raise invalid("You can have up to 50 metadata keys.", "metadata")
    return result


def _created_filter(params: dict) -> Callable[[int], bool]:
    value = params.get("created")
    if value in (None, ""):
        return lambda created: True
    if isinstance(value, str):
        exact = _as_int({"created": value}, "created")
        return lambda created: created == exact
    if not isinstance(value, dict):
        raise invalid("Invalid created", "created")
    bounds = {op: _as_int(value, op, label=f"created[{op}]") for op in value if op in value}
    for op in bounds:
        if op not in ("gt", "gte", "lt", "lte"):
            raise invalid(f"Received unknown parameter: created[{op}]", f"created[{op}]")

    def test(created: int) -> bool:
        return (
            ("gt" not in bounds or created > bounds["gt"])
            and ("gte" not in bounds or created >= bounds["gte"])
            and ("lt" not in bounds or created < bounds["lt"])
            and ("lte" not in bounds or created <= bounds["lte"])
        )

    return test


def _qr_png(data: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=5, border=2)
    return buffer.getvalue()


def _qr_svg(data: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=5, border=2)
    return buffer.getvalue()


# -- state -------------------------------------------------------------------
@dataclass
class Mode:
    """Faults for the next API calls (not the control endpoints)."""

    fail_next: int = 0  # answer 500 api_error this many times
    rate_limit_next: int = 0  # answer 429 rate_limit this many times
    hang_next: int = 0  # do the work, then sleep hang_seconds before answering
    hang_seconds: float = 12.0
    offline: bool = False  # close every connection without an answer


@dataclass
class WebhookMode:
    duplicate: int = 1  # deliver each event this many times (concurrently)
    shuffle: bool = False  # deliver what is queued in random order
    paused: bool = False  # hold deliveries until unpaused
    max_attempts: int = len(WEBHOOK_RETRY_DELAYS) + 1


@dataclass
class RequestInfo:
    """What an Event's ``request`` field says: the API request (and its
    idempotency key) that caused it, or nothing for the buyer's actions."""

    id: str | None = None
    idempotency_key: str | None = None


@dataclass
class _Stored:
    fingerprint: str
    done: bool = False
    status: int = 0
    body: bytes = b""
    request_id: str = ""


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    event: dict = field(compare=False)
    attempt: int = field(default=1, compare=False)


class StripeSimulator:
    """The simulator: ``StripeSimulator(api_key, webhook_secret).start()``,
    then point ``STRIPE_API_BASE`` at ``.base_url``."""

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        publishable_key: str | None = None,
        fee_basis_points: int = 220,
        fee_fixed: int = 0,
        dispute_fee: int = 0,
        seed: int | None = None,
    ):
        if host not in LOOPBACK:
            raise ValueError("the Stripe simulator listens on loopback only")
        self.api_key = api_key
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.fee_basis_points = fee_basis_points
        self.fee_fixed = fee_fixed
        self.dispute_fee = dispute_fee
        self.mode = Mode()
        self.webhooks = WebhookMode()
        self.random = random.Random(seed)
        # Seconds since the epoch for ``created``; tests may replace it to
        # make objects "yesterday".
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()
        self._objects: dict[str, dict] = {}
        self._seq: dict[str, int] = {}
        self._serial = 0
        self._events: list[dict] = []
        self._outbox: list[dict] = []
        self._idempotency: dict[str, _Stored] = {}
        self.counts: dict[str, int] = {}
        self.deliveries: list[dict] = []
        self._queue: list[_Delivery] = []
        self._queue_cv = threading.Condition()
        self._delivery_serial = itertools.count(1)
        self._in_flight = 0
        self._stop = threading.Event()
        handler = type("Handler", (_Handler,), {"simulator": self})
        self.server = _Server((host, port), handler)
        self.server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    # -- life cycle ----------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StripeSimulator:
        serving = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-sim-http",
            daemon=True,
        )
        delivering = threading.Thread(
            target=self._deliver_loop, name="stripe-sim-hooks", daemon=True
        )
        for thread in (serving, delivering):
            thread.start()
            self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread (the management command)."""
        delivering = threading.Thread(
            target=self._deliver_loop, name="stripe-sim-hooks", daemon=True
        )
        delivering.start()
        self._threads.append(delivering)
        self.server.serve_forever()

    def stop(self) -> None:
        self._stop.set()
        with self._queue_cv:
            self._queue_cv.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self.server.close_connections()

    # -- the tests' side -----------------------------------------------------
    def payment_intent(self, pi_id: str) -> dict:
        return self._get(pi_id, "payment_intent")

    def charge(self, charge_id: str) -> dict:
        return self._get(charge_id, "charge")

    def refund(self, refund_id: str) -> dict:
        return self._get(refund_id, "refund")

    def balance_transactions(self) -> list[dict]:
        """Every balance transaction, newest first (as the API lists them)."""
        with self._lock:
            return [copy.deepcopy(o) for o in self._sorted("balance_transaction")]

    def succeed(self, pi_id: str) -> dict:
        """The buyer authorises: scans the WeChat QR code, confirms on the
        Alipay page, passes 3-D Secure (or a processing payment clears)."""
        return self._run(self._succeed, pi_id)

    def fail(self, pi_id: str) -> dict:
        """The buyer's payment fails (cancelled on the Alipay page, the QR
        code expired, 3-D Secure failed, a processing payment bounced)."""
        return self._run(self._fail, pi_id)

    def processing(self, pi_id: str) -> dict:
        """The payment is under way but not settled (``processing``)."""
        return self._run(self._processing, pi_id)

    def dispute(
        self, charge_id: str, reason: str = "fraudulent", amount: int | None = None
    ) -> dict:
        """The buyer's bank opens a dispute on a captured charge."""
        return self._run(self._dispute, charge_id, reason, amount)

    def close_dispute(self, charge_or_dispute_id: str, status: str = "lost") -> dict:
        """The dispute is decided: ``won`` gives the money back, ``lost``
        keeps it withdrawn."""
        return self._run(self._close_dispute, charge_or_dispute_id, status)

    def set_mode(self, **changes) -> Mode:
        """``fail_next``, ``rate_limit_next``, ``hang_next``,
        ``hang_seconds``, ``offline``."""
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.mode, name):
                    raise ValueError(f"unknown mode {name}")
                kind = type(getattr(Mode(), name))
                setattr(self.mode, name, kind(value))
            return copy.copy(self.mode)

    def reset_modes(self) -> None:
        """No faults, webhooks delivered once, in order, not paused (a
        shared simulator between tests)."""
        with self._lock:
            self.mode = Mode()
        with self._queue_cv:
            self.webhooks = WebhookMode()
            self._queue_cv.notify_all()

    def set_webhooks(self, **changes) -> WebhookMode:
        """``duplicate`` (copies of each event), ``shuffle``, ``paused``,
        ``max_attempts``; ``url`` sets ``webhook_url``."""
        with self._queue_cv:
            for name, value in changes.items():
                if name == "url":
                    self.webhook_url = value or None
                    continue
                if not hasattr(self.webhooks, name):
                    raise ValueError(f"unknown webhook setting {name}")
                kind = type(getattr(WebhookMode(), name))
                setattr(self.webhooks, name, kind(value))
            self._queue_cv.notify_all()
            return copy.copy(self.webhooks)

    def events(self, type: str | None = None) -> list[dict]:  # noqa: A002 - Stripe's name
        """Every event so far, oldest first (optionally of one type)."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._events if type is None or e["type"] == type]

    def sign(self, payload: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
        """A ``Stripe-Signature`` header for ``payload`` (for tests that
        forge, replay or post events themselves)."""
        return sign(payload, secret or self.webhook_secret, timestamp)

    def signed(self, event: dict, *, timestamp: int | None = None) -> tuple[bytes, str]:
        """An event as delivered: its JSON body and signature header, e.g.
        ``client.post(url, body, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header)``."""
        payload = json.dumps(event, indent=2, ensure_ascii=False).encode()
        return payload, self.sign(payload, timestamp=timestamp)

    def resend(self, type: str | None = None) -> int:  # noqa: A002
        """Queue every event (of ``type``) for delivery again."""
        events = self.events(type)
        self._enqueue(events)
        return len(events)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being delivered (False on
        timeout, e.g. while paused or the site keeps failing)."""
        deadline = time.monotonic() + timeout
        with self._queue_cv:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue_cv.wait(min(remaining, 0.05))
            return True

    def state(self) -> dict:
        with self._lock:
            return {
                "mode": asdict(self.mode),
                "webhooks": {**asdict(self.webhooks), "url": self.webhook_url},
                "counts": dict(self.counts),
                "payment_intents": {o["id"]: o["status"] for o in self._sorted("payment_intent")},
                "events": len(self._events),
                "deliveries": len(self.deliveries),
                "queued_webhooks": len(self._queue),
            }

    # -- object store --------------------------------------------------------
    def _now(self) -> int:
        return int(self.clock())

    def _put(self, obj: dict) -> dict:
        self._serial += 1
        self._objects[obj["id"]] = obj
        self._seq[obj["id"]] = self._serial
        return obj

    def _find(self, object_id: str, kind: str, param: str = "id") -> dict:
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise no_such(kind, object_id, param)
        return obj

    def _get(self, object_id: str, kind: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._find(object_id, kind))

    def _sorted(self, kind: str) -> list[dict]:
        found = [o for o in self._objects.values() if o["object"] == kind]
        return sorted(found, key=lambda o: (o["created"], self._seq[o["id"]]), reverse=True)

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def _run(self, fn, *args):
        """Run a state change under the lock; queue the events it made for
        delivery afterwards (also when it ends in an error answer, such as
        a decline, which still changes state)."""
        try:
            with self._lock:
                return self._public(fn(*args))
        finally:
            with self._lock:
                batch, self._outbox = self._outbox, []
            self._enqueue(batch)

    # -- events --------------------------------------------------------------
    def _emit(self, kind: str, obj: dict, request: RequestInfo | None, previous=None) -> dict:
        data: dict = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = previous
        request = request or RequestInfo()
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self._now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self.webhook_url else 0,
            "request": {"id": request.id, "idempotency_key": request.idempotency_key},
            "type": kind,
        }
        self._events.append(event)
        self._outbox.append(event)
        self._count(f"event:{kind}")
        return event

    def _enqueue(self, events: list[dict]) -> None:
        if not events or not self.webhook_url:
            return
        with self._queue_cv:
            for event in events:
                self._queue.append(_Delivery(time.monotonic(), next(self._delivery_serial), event))
            self._queue_cv.notify_all()

    def _deliver_loop(self) -> None:
        session = requests.Session()
        session.trust_env = False
        while not self._stop.is_set():
            with self._queue_cv:
                now = time.monotonic()
                due = [d for d in self._queue if d.due <= now]
                if self.webhooks.paused or not due or not self.webhook_url:
                    self._queue_cv.wait(0.05)
                    continue
                for delivery in due:
                    self._queue.remove(delivery)
                if self.webhooks.shuffle:
                    self.random.shuffle(due)
                else:
                    due.sort()
                self._in_flight += len(due)
                copies = max(1, self.webhooks.duplicate)
                url = self.webhook_url
            for delivery in due:
                try:
                    self._deliver(session, url, delivery, copies)
                finally:
                    with self._queue_cv:
                        self._in_flight -= 1
                        self._queue_cv.notify_all()

    def _deliver(self, session, url: str, delivery: _Delivery, copies: int) -> None:
        payload = json.dumps(delivery.event, indent=2, ensure_ascii=False).encode()
        results: list[int | None] = [None] * copies

        def post(index: int, http) -> None:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Cache-Control": "no-cache",
                "Stripe-Signature": self.sign(payload),
            }
            try:
                response = http.post(url, data=payload, headers=headers, timeout=10)
                results[index] = response.status_code
            except requests.RequestException as exc:
                logger.debug("webhook %s failed: %s", delivery.event["id"], exc)
                results[index] = None

        def post_alone(index: int) -> None:
            # Concurrent copies must not share a session.
            with requests.Session() as own:
                own.trust_env = False
                post(index, own)

        if copies == 1:
            post(0, session)
        else:
            threads = [threading.Thread(target=post_alone, args=(i,)) for i in range(copies)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        ok = any(status is not None and 200 <= status < 300 for status in results)
        with self._lock:
            for status in results:
                self.deliveries.append(
                    {
                        "event": delivery.event["id"],
                        "type": delivery.event["type"],
                        "attempt": delivery.attempt,
                        "status": status,
                    }
                )
                self._count("webhooks_ok" if status and 200 <= status < 300 else "webhooks_failed")
        if not ok and delivery.attempt < self.webhooks.max_attempts and not self._stop.is_set():
            delay = WEBHOOK_RETRY_DELAYS[min(delivery.attempt - 1, len(WEBHOOK_RETRY_DELAYS) - 1)]
            with self._queue_cv:
                self._queue.append(
                    _Delivery(
                        time.monotonic() + delay,
                        next(self._delivery_serial),
                        delivery.event,
                        delivery.attempt + 1,
                    )
                )

    # -- objects -------------------------------------------------------------
    def _payment_method(
        self, kind: str, token: str | None = None, card: dict | None = None
    ) -> dict:
        pm = {
            "id": new_id("pm"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": None,
                "name": None,
                "phone": None,
            },
            "created": self._now(),
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": kind,
        }
        if kind == "card":
            brand, last4, country, behaviour = CARD_TOKENS[token or "pm_card_visa"]
            pm["card"] = {
                "brand": brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": country,
                "display_brand": brand,
                "exp_month": 12,
                "exp_year": dt.date.today().year + 3,
                "fingerprint": hashlib.sha1(f"{brand}{last4}".encode()).hexdigest()[:16],
                "funding": "credit",
                "generated_from": None,
                "last4": last4,
                "networks": {"available": [brand], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            }
            pm["_behaviour"] = behaviour
        else:
            pm[kind] = {}
        return self._put(pm)

    def _public(self, obj: dict) -> dict:
        """A snapshot without the simulator's private keys."""
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    def _balance_transaction(
        self,
        kind: str,
        amount: int,
        currency: str,
        source: str,
        *,
        fee: int = 0,
        category: str | None = None,
        description: str | None = None,
    ) -> dict:
        created = self._now()
        available = dt.datetime.fromtimestamp(created, dt.UTC).date() + dt.timedelta(days=7)
        fee_details = (
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency,
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        )
        return self._put(
            {
                "id": new_id("txn"),
                "object": "balance_transaction",
                "amount": amount,
                "available_on": int(dt.datetime.combine(available, dt.time(), dt.UTC).timestamp()),
                "balance_type": "payments",
                "created": created,
                "currency": currency,
                "description": description,
                "exchange_rate": None,
                "fee": fee,
                "fee_details": fee_details,
                "net": amount - fee,
                "reporting_category": category or kind,
                "source": source,
                "status": "pending",
                "type": kind,
            }
        )

    def fee_for(self, amount: int) -> int:
        """The processing fee on a captured amount, rounded half up to the
        fen (2.2 % + 0 by default)."""
        return (amount * self.fee_basis_points + 5000) // 10000 + self.fee_fixed

    def _charge(self, pi: dict, pm: dict, *, captured: bool, failure=None) -> dict:
        kind = pm["type"]
        if kind == "card":
            card = pm["card"]
            details = {
                "card": {
                    "amount_authorized": pi["amount"],
                    "brand": card["brand"],
                    "checks": card["checks"],
                    "country": card["country"],
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "fingerprint": card["fingerprint"],
                    "funding": card["funding"],
                    "last4": card["last4"],
                    "network": card["brand"],
                    "three_d_secure": None,
                    "wallet": None,
                },
                "type": "card",
            }
        elif kind == "alipay":
            details = {
                "alipay": {
                    "buyer_id": "2088" + "".join(self.random.choices(string.digits, k=12)),
                    "fingerprint": secrets.token_hex(8),
                    "transaction_id": dt.datetime.now().strftime("%Y%m%d")
                    + "".join(self.random.choices(string.digits, k=20)),
                },
                "type": "alipay",
            }
        else:
            details = {
                "wechat_pay": {
                    "fingerprint": secrets.token_hex(8),
                    "transaction_id": "4200" + "".join(self.random.choices(string.digits, k=24)),
                },
                "type": "wechat_pay",
            }
        charge_id = new_id("ch")
        declined = failure is not None
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": pi["amount"] if captured and not declined else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": copy.deepcopy(pm["billing_details"]),
            "calculated_statement_descriptor": "WANGNONG",
            "captured": captured and not declined,
            "created": self._now(),
            "currency": pi["currency"],
            "customer": None,
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": failure[0] if declined else None,
            "failure_message": failure[1] if declined else None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "network_status": "declined_by_network" if declined else "approved_by_network",
                "reason": failure[2] if declined else None,
                "risk_level": "normal",
                "risk_score": 20,
                "seller_message": "The bank did not return any further details with this decline."
                if declined
                else "Payment complete.",
                "type": "issuer_declined" if declined else "authorized",
            },
            "paid": not declined,
            "payment_intent": pi["id"],
            "payment_method": pm["id"],
            "payment_method_details": details,
            "receipt_email": pi["receipt_email"],
            "receipt_number": None,
            "receipt_url": f"{self.base_url}/_receipts/{charge_id}",
            "refunded": False,
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "failed" if declined else "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._put(charge)
        if charge["captured"]:
            self._book_capture(charge, charge["amount_captured"])
        return charge

    def _book_capture(self, charge: dict, amount: int) -> None:
        txn = self._balance_transaction(
            "charge",
            amount,
            charge["currency"],
            charge["id"],
            fee=self.fee_for(amount),
            description=charge["description"],
        )
        charge["balance_transaction"] = txn["id"]

    # -- PaymentIntents ------------------------------------------------------
    def _create_pi(self, params: dict, request: RequestInfo) -> dict:
        amount = _as_int(params, "amount", required=True)
        if amount < 1:
            raise invalid("Amount must be at least 1 fen.", "amount", "amount_too_small")
        if amount > 99999999:
            raise invalid("Amount must be no more than 999,999.99", "amount", "amount_too_large")
        currency = str(params.get("currency") or "").lower()
        if not currency:
            raise missing("currency")
        if len(currency) != 3 or not currency.isalpha():
            raise invalid(f"Invalid currency: {currency}.", "currency", "invalid_currency")
        automatic = params.get("automatic_payment_methods")
        types = params.get("payment_method_types")
        if types and automatic:
            raise invalid(
                "You may only specify one of these parameters: automatic_payment_methods, "
                "payment_method_types.",
                "automatic_payment_methods",
            )
        if types is not None:
            if not isinstance(types, list) or not types:
                raise invalid("Invalid array", "payment_method_types")
            for kind in types:
                if kind not in PAYMENT_METHOD_TYPES:
                    raise invalid(
                        f"The payment method type provided: {kind} is invalid. Please ensure "
                        "the provided type is activated in your dashboard "
                        "(https://dashboard.stripe.com/account/payments/settings) and your "
                        "account is enabled for any preview features that you are trying "
                        "to use.",
                        "payment_method_types",
                        "payment_method_invalid_parameter",
                    )
        else:
            types = ["card", "alipay", "wechat_pay"] if currency == "cny" else ["card"]
        capture_method = _choice(
            params, "capture_method", ("automatic", "automatic_async", "manual"), "automatic_async"
        )
        if capture_method == "manual":
            unsupported = [t for t in types if t != "card"]
            if unsupported:
                raise invalid(
                    "The following payment method types do not support manual capture: "
                    f"{', '.join(unsupported)}. Use capture_method=automatic instead.",
                    "capture_method",
                    "payment_intent_invalid_parameter",
                )
        created = self._now()
        pi_id = new_id("pi")
        pi = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": (
                {"allow_redirects": "always", "enabled": True} if automatic else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture_method,
            "client_secret": f"{pi_id}_secret_"
            + "".join(secrets.choice(_ALNUM) for _ in range(25)),
            "confirmation_method": _choice(
                params, "confirmation_method", ("automatic", "manual"), "automatic"
            ),
            "created": created,
            "currency": currency,
            "customer": params.get("customer") or None,
            "description": params.get("description") or None,
            "excluded_payment_method_types": None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": _metadata(params.get("metadata")),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": self._pm_options(types, params.get("payment_method_options")),
            "payment_method_types": list(types),
            "processing": None,
            "receipt_email": params.get("receipt_email") or None,
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": params.get("statement_descriptor") or None,
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix") or None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
            "_return_url": params.get("return_url") or None,
        }
        self._put(pi)
        self._count("payment_intents_created")
        confirm = _as_bool(params, "confirm")
        if not confirm and (params.get("payment_method") or params.get("payment_method_data")):
            pm = self._resolve_pm(pi, params)
            pi["payment_method"] = pm["id"]
            pi["status"] = "requires_confirmation"
        self._emit("payment_intent.created", self._public(pi), request)
        if confirm:
            return self._confirm_pi(pi, params, request)
        return pi

    def _pm_options(self, types: list[str], given) -> dict:
        given = given if isinstance(given, dict) else {}
        options: dict = {}
        for kind in types:
            if kind == "card":
                options["card"] = {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            elif kind == "wechat_pay":
                options["wechat_pay"] = {"app_id": None, "client": None}
            else:
                options[kind] = {}
        for kind, values in given.items():
            if kind not in PAYMENT_METHOD_TYPES:
                raise invalid(
                    f"Received unknown parameter: payment_method_options[{kind}]",
                    f"payment_method_options[{kind}]",
                )
            if not isinstance(values, dict):
                raise invalid("Invalid object", f"payment_method_options[{kind}]")
            if kind == "wechat_pay" and values.get("client") not in (None, "web", "ios", "android"):
                raise invalid(
                    "Invalid payment_method_options[wechat_pay][client]: must be one of web, "
                    "ios, or android",
                    "payment_method_options[wechat_pay][client]",
                )
            options.setdefault(kind, {}).update(values)
        return options

    def _resolve_pm(self, pi: dict, params: dict) -> dict:
        token = params.get("payment_method")
        data = params.get("payment_method_data")
        if token and data:
            raise invalid(
                "You cannot specify both payment_method and payment_method_data.",
                "payment_method_data",
            )
        if token:
            if token in CARD_TOKENS:
                return self._payment_method("card", token)
            found = self._objects.get(token)
            if found is None or found["object"] != "payment_method":
                raise no_such("PaymentMethod", token, "payment_method")
            return found
        if not isinstance(data, dict) or not data.get("type"):
            raise missing("payment_method_data[type]")
        kind = data["type"]
        if kind not in PAYMENT_METHOD_TYPES:
            raise invalid(f"Invalid payment_method_data[type]: {kind}", "payment_method_data[type]")
        if kind == "card":
            number = str((data.get("card") or {}).get("number") or "").replace(" ", "")
            token = CARD_NUMBERS.get(number)
            if token is None:
                raise ApiError(
                    402,
                    "Your card number is incorrect.",
                    type="card_error",
                    code="incorrect_number",
                    param="number",
                )
            return self._payment_method("card", token)
        return self._payment_method(kind)

    def _confirm_pi(self, pi: dict, params: dict, request: RequestInfo) -> dict:
        if pi["status"] not in CONFIRMABLE:
            raise unexpected_state(
                f"You cannot confirm this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be confirmed: {', '.join(CONFIRMABLE)}."
            )
        if params.get("payment_method") or params.get("payment_method_data"):
            pm = self._resolve_pm(pi, params)
        elif pi["payment_method"]:
            pm = self._objects[pi["payment_method"]]
        else:
            raise unexpected_state(
                "You cannot confirm this PaymentIntent because it's missing a payment "
                "method. To confirm the PaymentIntent with cus_…, specify a payment method "
                "attached to this customer along with the customer ID."
            )
        kind = pm["type"]
        if kind not in pi["payment_method_types"]:
            raise invalid(
                f"The PaymentMethod provided ({kind}) is not allowed for this PaymentIntent. "
                "Please attach a PaymentMethod of one of the following types: "
                f"{', '.join(pi['payment_method_types'])}. Alternatively update the allowed "
                "payment_method_types for this PaymentIntent to include "
                f'"{kind}".',
                "payment_method",
                "payment_intent_incompatible_payment_method",
            )
        if params.get("payment_method_options"):
            merged = self._pm_options([], params["payment_method_options"])
            for key, values in merged.items():
                pi["payment_method_options"].setdefault(key, {}).update(values)
        if params.get("return_url"):
            pi["_return_url"] = params["return_url"]
        if params.get("receipt_email"):
            pi["receipt_email"] = params["receipt_email"]
        return_url = pi["_return_url"]
        if kind == "alipay" and not return_url:
            raise invalid(
                "A return_url must be specified because this Payment Intent is configured "
                "to automatically accept the payment methods enabled in the Dashboard, some "
                "of which may require a full page redirect to succeed.",
                "return_url",
                "parameter_missing",
            )
        client = (pi["payment_method_options"].get("wechat_pay") or {}).get("client")
        if kind == "wechat_pay":
            if not client:
                raise invalid(
                    "payment_method_options[wechat_pay][client] is required when confirming "
                    "a PaymentIntent with a wechat_pay PaymentMethod.",
                    "payment_method_options[wechat_pay][client]",
                    "parameter_missing",
                )
            if client != "web":
                raise invalid(
                    "The simulator only offers WeChat Pay's web (QR code) flow.",
                    "payment_method_options[wechat_pay][client]",
                )
        pi["payment_method"] = pm["id"]
        pi["last_payment_error"] = None
        pi["next_action"] = None
        self._count("payment_intents_confirmed")
        if kind == "card":
            behaviour = pm.get("_behaviour")
            if behaviour is None:
                return self._authorise(pi, pm, request)
            if behaviour == "authentication_required":
                return self._require_action(pi, self._card_action(pi, return_url), request)
            return self._decline(pi, pm, behaviour, request)
        if kind == "alipay":
            action = {
                "redirect_to_url": {
                    "return_url": return_url,
                    "url": f"{self.base_url}/_pay/alipay/{pi['id']}",
                },
                "type": "redirect_to_url",
            }
            return self._require_action(pi, action, request)
        data = "weixin://wxpay/bizpayurl?pr=" + "".join(secrets.choice(_ALNUM) for _ in range(9))
        pi["_qr_data"] = data
        base = f"{self.base_url}/_pay/wechat_pay/{pi['id']}"
        png = _qr_png(data)
        action = {
            "type": "wechat_pay_display_qr_code",
            "wechat_pay_display_qr_code": {
                "data": data,
                "hosted_instructions_url": base,
                "image_data_url": "data:image/png;base64," + base64.b64encode(png).decode(),
                "image_url_png": f"{base}/qr.png",
                "image_url_svg": f"{base}/qr.svg",
            },
        }
        return self._require_action(pi, action, request)

    def _card_action(self, pi: dict, return_url: str | None) -> dict:
        url = f"{self.base_url}/_pay/card/{pi['id']}"
        if return_url:
            return {
                "redirect_to_url": {"return_url": return_url, "url": url},
                "type": "redirect_to_url",
            }
        return {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {
                "source": new_id("src"),
                "stripe_js": url,
                "type": "three_d_secure_redirect",
            },
        }

    def _require_action(self, pi: dict, action: dict, request: RequestInfo) -> dict:
        pi["status"] = "requires_action"
        pi["next_action"] = action
        self._emit("payment_intent.requires_action", self._public(pi), request)
        return pi

    def _authorise(self, pi: dict, pm: dict, request: RequestInfo) -> dict:
        """The payment method paid: a charge, captured now or held."""
        manual = pi["capture_method"] == "manual"
        charge = self._charge(pi, pm, captured=not manual)
        pi["latest_charge"] = charge["id"]
        pi["next_action"] = None
        pi["processing"] = None
        pi["last_payment_error"] = None
        self._emit("charge.succeeded", self._public(charge), request)
        if manual:
            pi["status"] = "requires_capture"
            pi["amount_capturable"] = pi["amount"]
            self._emit("payment_intent.amount_capturable_updated", self._public(pi), request)
        else:
            pi["status"] = "succeeded"
            pi["amount_received"] = pi["amount"]
            self._emit("payment_intent.succeeded", self._public(pi), request)
        return pi

    def _decline(self, pi: dict, pm: dict, decline_code: str, request: RequestInfo) -> dict:
        code, message = DECLINES[decline_code]
        charge = self._charge(pi, pm, captured=False, failure=(code, message, decline_code))
        error = {
            "charge": charge["id"],
            "code": code,
            "decline_code": decline_code,
            "doc_url": doc_url(code),
            "message": message,
            "payment_method": self._public(pm),
            "type": "card_error",
        }
        pi.update(
            status="requires_payment_method",
            payment_method=None,
            latest_charge=charge["id"],
            last_payment_error=error,
            next_action=None,
        )
        self._emit("charge.failed", self._public(charge), request)
        self._emit("payment_intent.payment_failed", self._public(pi), request)
        raise ApiError(
            402,
            message,
            type="card_error",
            code=code,
            decline_code=decline_code,
            charge=charge["id"],
            payment_intent=self._public(pi),
            payment_method=self._public(pm),
        )

    def _update_pi(self, pi_id: str, params: dict, request: RequestInfo) -> dict:
        pi = self._find(pi_id, "payment_intent", "intent")
        open_ = pi["status"] in CONFIRMABLE
        for name in ("amount", "currency", "payment_method_types", "capture_method"):
            if name in params and not open_:
                raise unexpected_state(
                    f"This PaymentIntent's {name} could not be updated because it has a "
                    f"status of {pi['status']}. You may only update the {name} of a "
                    f"PaymentIntent with one of the following statuses: "
                    f"{', '.join(CONFIRMABLE)}."
                )
        if "amount" in params:
            amount = _as_int(params, "amount", required=True)
            if amount < 1:
                raise invalid("Amount must be at least 1 fen.", "amount", "amount_too_small")
            pi["amount"] = amount
        if "metadata" in params:
            pi["metadata"] = _metadata(params["metadata"], pi["metadata"])
        for name in ("description", "receipt_email", "statement_descriptor"):
            if name in params:
                pi[name] = params[name] or None
        if "payment_method_options" in params:
            merged = self._pm_options([], params["payment_method_options"])
            for key, values in merged.items():
                pi["payment_method_options"].setdefault(key, {}).update(values)
        return pi

    def _capture_pi(self, pi_id: str, params: dict, request: RequestInfo) -> dict:
        pi = self._find(pi_id, "payment_intent", "intent")
        if pi["status"] != "requires_capture":
            raise unexpected_state(
                f"This PaymentIntent could not be captured because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be captured: requires_capture."
            )
        amount = _as_int(params, "amount_to_capture", minimum=1)
        capturable = pi["amount_capturable"]
        if amount is None:
            amount = capturable
        if amount > capturable:
            raise invalid(
                f"The amount to capture ({amount}) must be less than or equal to the "
                f"amount_capturable ({capturable}).",
                "amount_to_capture",
                "amount_too_large",
            )
        if "metadata" in params:
            pi["metadata"] = _metadata(params["metadata"], pi["metadata"])
        charge = self._objects[pi["latest_charge"]]
        charge["captured"] = True
        charge["amount_captured"] = amount
        # What was authorised but not captured goes back to the buyer.
        charge["amount_refunded"] = charge["amount"] - amount
        charge["refunded"] = False
        self._book_capture(charge, amount)
        pi.update(status="succeeded", amount_capturable=0, amount_received=amount)
        self._emit("charge.captured", self._public(charge), request)
        self._emit("payment_intent.succeeded", self._public(pi), request)
        return pi

    def _cancel_pi(self, pi_id: str, params: dict, request: RequestInfo) -> dict:
        pi = self._find(pi_id, "payment_intent", "intent")
        if pi["status"] not in CANCELABLE:
            raise unexpected_state(
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(CANCELABLE)}."
            )
        reason = _choice(params, "cancellation_reason", CANCELLATION_REASONS)
        was = pi["status"]
        pi.update(
            status="canceled",
            cancellation_reason=reason,
            canceled_at=self._now(),
            next_action=None,
            amount_capturable=0,
        )
        if was == "requires_capture":
            # The held amount is released: Stripe marks the uncaptured
            # charge refunded (no money had moved, no balance transaction).
            charge = self._objects[pi["latest_charge"]]
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": False}
            charge["amount_refunded"] = charge["amount"]
            charge["refunded"] = True
            self._emit("charge.refunded", self._public(charge), request, previous)
        self._emit("payment_intent.canceled", self._public(pi), request)
        return pi

    # -- the buyer's side ------------------------------------------------------
    def _succeed(self, pi_id: str) -> dict:
        pi = self._find(pi_id, "payment_intent", "intent")
        if pi["status"] not in ("requires_action", "processing"):
            raise unexpected_state(
                f"This PaymentIntent has a status of {pi['status']}: only one that "
                "requires_action or is processing can succeed."
            )
        pm = self._objects[pi["payment_method"]]
        return self._authorise(pi, pm, RequestInfo())

    def _fail(self, pi_id: str) -> dict:
        pi = self._find(pi_id, "payment_intent", "intent")
        if pi["status"] not in ("requires_action", "processing"):
            raise unexpected_state(
                f"This PaymentIntent has a status of {pi['status']}: only one that "
                "requires_action or is processing can fail."
            )
        pm = self._objects[pi["payment_method"]]
        pi.update(
            status="requires_payment_method",
            payment_method=None,
            next_action=None,
            processing=None,
            last_payment_error={
                "code": "payment_intent_authentication_failure",
                "doc_url": doc_url("payment_intent_authentication_failure"),
                "message": AUTHENTICATION_FAILURE,
                "payment_method": self._public(pm),
                "type": "invalid_request_error",
            },
        )
        self._emit("payment_intent.payment_failed", self._public(pi), RequestInfo())
        return pi

    def _processing(self, pi_id: str) -> dict:
        pi = self._find(pi_id, "payment_intent", "intent")
        if pi["status"] not in ("requires_action", "requires_confirmation"):
            raise unexpected_state(
                f"This PaymentIntent has a status of {pi['status']}: only one that "
                "requires_action can start processing."
            )
        pi.update(status="processing", next_action=None)
        self._emit("payment_intent.processing", self._public(pi), RequestInfo())
        return pi

    # -- refunds and disputes ------------------------------------------------
    def _create_refund(self, params: dict, request: RequestInfo) -> dict:
        pi_id = params.get("payment_intent")
        charge_id = params.get("charge")
        if not pi_id and not charge_id:
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                None,
                "parameter_missing",
            )
        if pi_id:
            pi = self._find(pi_id, "payment_intent", "payment_intent")
            charge = self._objects.get(pi["latest_charge"] or "")
            if pi["status"] != "succeeded" or charge is None or not charge["captured"]:
                raise ApiError(
                    400,
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="charge_not_refundable" if charge else "payment_intent_unexpected_state",
                    param="payment_intent",
                )
            if charge_id and charge_id != charge["id"]:
                raise invalid(
                    f"The charge {charge_id} does not belong to the PaymentIntent {pi_id}.",
                    "charge",
                )
        else:
            charge = self._find(charge_id, "charge", "charge")
            if not charge["captured"]:
                raise ApiError(
                    400,
                    f"Charge {charge_id} has not been captured; cancel its PaymentIntent "
                    "to release it.",
                    code="charge_not_refundable",
                    param="charge",
                )
        reason = _choice(params, "reason", REFUND_REASONS)
        metadata = _metadata(params.get("metadata"))
        remaining = charge["amount"] - charge["amount_refunded"]
        if charge["disputed"]:
            raise ApiError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        if remaining <= 0:
            raise ApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _as_int(params, "amount")
        if amount is None:
            amount = remaining
        if amount < 1:
            raise invalid("Invalid positive integer", "amount", "parameter_invalid_integer")
        if amount > remaining:
            raise ApiError(
                400,
                f"Refund amount (¥{amount / 100:.2f}) is greater than unrefunded amount on "
                f"charge (¥{remaining / 100:.2f})",
                code="amount_too_large",
                param="amount",
            )
        refund_id = new_id("re")
        txn = self._balance_transaction(
            "refund",
            -amount,
            charge["currency"],
            refund_id,
            description=f"REFUND FOR CHARGE ({charge['description'] or charge['id']})",
        )
        kind = charge["payment_method_details"]["type"]
        refund = self._put(
            {
                "id": refund_id,
                "object": "refund",
                "amount": amount,
                "balance_transaction": txn["id"],
                "charge": charge["id"],
                "created": self._now(),
                "currency": charge["currency"],
                "destination_details": {"type": kind, kind: {}},
                "metadata": metadata,
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
        )
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self._count("refunds_created")
        self._emit("refund.created", self._public(refund), request)
        self._emit("charge.refunded", self._public(charge), request, previous)
        return refund

    def _charge_for(self, object_id: str) -> dict:
        found = self._objects.get(object_id)
        if found is not None and found["object"] == "payment_intent" and found["latest_charge"]:
            found = self._objects[found["latest_charge"]]
        if found is None or found["object"] != "charge":
            raise no_such("charge", object_id, "charge")
        return found

    def _dispute(self, charge_id: str, reason: str, amount: int | None) -> dict:
        charge = self._charge_for(charge_id)
        if not charge["captured"]:
            raise ApiError(400, f"Charge {charge_id} was not captured: nothing to dispute.")
        if charge.get("_dispute"):
            raise ApiError(400, f"Charge {charge_id} is already disputed.")
        if reason not in DISPUTE_REASONS:
            raise invalid(f"Invalid reason: {reason}", "reason")
        # Refunds of captured money (amount_refunded also counts what a
        # partial capture released).
        released = charge["amount"] - charge["amount_captured"]
        refunded = max(0, charge["amount_refunded"] - released)
        amount = amount or charge["amount_captured"] - refunded
        dispute_id = new_id("dp")
        txn = self._balance_transaction(
            "adjustment",
            -amount,
            charge["currency"],
            dispute_id,
            fee=self.dispute_fee,
            category="dispute",
            description=f"Chargeback withdrawal for {charge['id']}",
        )
        now = self._now()
        dispute = self._put(
            {
                "id": dispute_id,
                "object": "dispute",
                "amount": amount,
                "balance_transactions": [self._public(txn)],
                "charge": charge["id"],
                "created": now,
                "currency": charge["currency"],
                "evidence": {
                    "customer_name": None,
                    "product_description": None,
                    "shipping_tracking_number": None,
                    "uncategorized_text": None,
                },
                "evidence_details": {
                    "due_by": now + 7 * 86400,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "payment_method_details": {
                    "type": charge["payment_method_details"]["type"],
                },
                "reason": reason,
                "status": "needs_response",
            }
        )
        charge["disputed"] = True
        charge["_dispute"] = dispute_id
        self._emit("charge.dispute.created", self._public(dispute), RequestInfo())
        self._emit("charge.dispute.funds_withdrawn", self._public(dispute), RequestInfo())
        return dispute

    def _close_dispute(self, object_id: str, status: str) -> dict:
        if status not in ("won", "lost"):
            raise invalid("status must be won or lost", "status")
        found = self._objects.get(object_id)
        if found is not None and found["object"] == "dispute":
            dispute = found
        else:
            charge = self._charge_for(object_id)
            if not charge.get("_dispute"):
                raise no_such("dispute", object_id)
            dispute = self._objects[charge["_dispute"]]
        if dispute["status"] in ("won", "lost"):
            raise ApiError(400, f"Dispute {dispute['id']} is already closed.")
        previous = {"status": dispute["status"]}
        dispute["status"] = status
        if status == "won":
            txn = self._balance_transaction(
                "adjustment",
                dispute["amount"],
                dispute["currency"],
                dispute["id"],
                category="dispute_reversal",
                description=f"Chargeback reversal for {dispute['charge']}",
            )
            dispute["balance_transactions"].append(self._public(txn))
            self._emit("charge.dispute.funds_reinstated", self._public(dispute), RequestInfo())
        self._emit("charge.dispute.closed", self._public(dispute), RequestInfo(), previous)
        return dispute

    # -- reading ---------------------------------------------------------------
    def _expand(self, obj: dict, paths) -> dict:
        if isinstance(paths, str):
            paths = [paths]
        for path in paths or []:
            self._expand_path(obj, str(path).split("."))
        return obj

    def _expand_path(self, node, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        key, rest = parts[0], parts[1:]
        if key == "data" and node.get("object") == "list":
            for item in node["data"]:
                self._expand_path(item, rest)
            return
        value = node.get(key)
        if isinstance(value, str) and value in self._objects:
            node[key] = self._public(self._objects[value])
        self._expand_path(node.get(key), rest)

    def _list(self, kind: str, url: str, params: dict, matches=None) -> dict:
        limit = _as_int(params, "limit", minimum=1)
        limit = 10 if limit is None else limit
        if limit > 100:
            raise invalid(
                f"This value must be less than or equal to 100 (it currently is '{limit}').",
                "limit",
                "parameter_invalid_integer",
            )
        created = _created_filter(params)
        items = [o for o in self._sorted(kind) if created(o["created"])]
        if matches is not None:
            items = [o for o in items if matches(o)]
        after, before = params.get("starting_after"), params.get("ending_before")
        if after:
            ids = [o["id"] for o in items]
            if after not in ids and after not in self._objects:
                raise no_such(kind, after, "starting_after")
            items = items[ids.index(after) + 1 :] if after in ids else []
        elif before:
            ids = [o["id"] for o in items]
            if before not in ids and before not in self._objects:
                raise no_such(kind, before, "ending_before")
            items = items[: ids.index(before)] if before in ids else []
            has_more = len(items) > limit
            page = items[-limit:]
            return {
                "object": "list",
                "data": [self._public(o) for o in page],
                "has_more": has_more,
                "url": url,
            }
        page = items[:limit]
        return {
            "object": "list",
            "data": [self._public(o) for o in page],
            "has_more": len(items) > limit,
            "url": url,
        }

    # -- HTTP routing (called by the handler) ------------------------------
    def api(self, method: str, path: str, params: dict, request: RequestInfo) -> dict:
        """One API call; raises ApiError for an error answer."""
        parts = path.strip("/").split("/")[1:]  # after "v1"
        expand = params.pop("expand", None)
        with self._lock:
            if method == "GET":
                result = self._api_get(parts, params)
            else:
                result = self._api_post(parts, params, request)
            return self._expand(self._public(result), expand)

    def _api_get(self, parts: list[str], params: dict) -> dict:
        kinds = {
            "payment_intents": "payment_intent",
            "charges": "charge",
            "refunds": "refund",
            "balance_transactions": "balance_transaction",
            "payment_methods": "payment_method",
            "disputes": "dispute",
            "events": "event",
        }
        if parts and parts[0] in kinds:
            kind = kinds[parts[0]]
            if len(parts) == 2:
                if kind == "event":
                    for event in self._events:
                        if event["id"] == parts[1]:
                            return event
                    raise no_such("event", parts[1])
                return self._find(parts[1], kind, "intent" if kind == "payment_intent" else "id")
            if len(parts) == 1:
                url = f"/v1/{parts[0]}"
                if kind == "event":
                    return self._list_events(url, params)
                filters = {
                    k: v
                    for k, v in params.items()
                    if k in ("type", "payment_intent", "charge", "source", "status")
                }
                return self._list(
                    kind,
                    url,
                    params,
                    lambda o: all(o.get(k) == v for k, v in filters.items()),
                )
        raise _unrecognised("GET", parts)

    def _list_events(self, url: str, params: dict) -> dict:
        wanted = params.get("type")
        created = _created_filter(params)
        events = [
            e
            for e in reversed(self._events)
            if created(e["created"]) and (not wanted or e["type"] == wanted)
        ]
        limit = _as_int(params, "limit", minimum=1) or 10
        after = params.get("starting_after")
        if after:
            ids = [e["id"] for e in events]
            events = events[ids.index(after) + 1 :] if after in ids else []
        return {
            "object": "list",
            "data": events[:limit],
            "has_more": len(events) > limit,
            "url": url,
        }

    def _api_post(self, parts: list[str], params: dict, request: RequestInfo) -> dict:
        if parts == ["payment_intents"]:
            return self._create_pi(params, request)
        if len(parts) >= 2 and parts[0] == "payment_intents":
            pi_id = parts[1]
            if len(parts) == 2:
                return self._update_pi(pi_id, params, request)
            action = parts[2] if len(parts) == 3 else ""
            if action == "confirm":
                pi = self._find(pi_id, "payment_intent", "intent")
                params.pop("client_secret", None)
                return self._confirm_pi(pi, params, request)
            if action == "capture":
                return self._capture_pi(pi_id, params, request)
            if action == "cancel":
                return self._cancel_pi(pi_id, params, request)
        if parts == ["refunds"]:
            return self._create_refund(params, request)
        if len(parts) == 2 and parts[0] == "refunds":
            refund = self._find(parts[1], "refund")
            if "metadata" in params:
                refund["metadata"] = _metadata(params["metadata"], refund["metadata"])
            return refund
        raise _unrecognised("POST", parts)

    # -- hosted pages ------------------------------------------------------------
    def redirect_after(self, pi: dict) -> str | None:
        """Where the buyer goes back to after the Alipay / 3-D Secure
        page, with the query Stripe adds."""
        return_url = pi.get("_return_url")
        if not return_url:
            return None
        status = (
            "succeeded"
            if pi["status"] in ("succeeded", "requires_capture")
            else ("pending" if pi["status"] == "processing" else "failed")
        )
        query = urlencode(
            {
                "payment_intent": pi["id"],
                "payment_intent_client_secret": pi["client_secret"],
                "redirect_status": status,
            }
        )
        return return_url + ("&" if "?" in return_url else "?") + query


def _unrecognised(method: str, parts: list[str]) -> ApiError:
    path = "/v1/" + "/".join(parts)
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    # Requests hanging on purpose must not hold up stop().
    block_on_close = False

    def __init__(self, *args, **kwargs):
        self.open_connections: set = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on every kept-alive connection, so a client's pooled
        connection cannot reach this (stopped) simulator's handler thread
        after another simulator took the same port."""
        with self.connections_lock:
            connections, self.open_connections = list(self.open_connections), set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


PAGE = """<!doctype html>
<html lang="zh-hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:sans-serif;margin:0;background:#f5f5f5;color:#222}}
main{{max-width:360px;margin:0 auto;padding:24px 16px;background:#fff;min-height:100vh;box-sizing:border-box}}
h1{{font-size:20px}} .amount{{font-size:32px;font-weight:bold;margin:16px 0}}
.note{{color:#666;font-size:14px}} form{{margin:12px 0}}
button{{width:100%;padding:14px;font-size:17px;border:0;border-radius:6px}}
.ok{{background:{colour};color:#fff}} .no{{background:#ddd;color:#222}}
img{{display:block;margin:12px auto;width:220px;height:220px}}
</style></head>
<body><main>
<p class="note">Stripe 测试模式 · 本页由本地模拟器提供，不会产生真实扣款</p>
<h1>{title}</h1>
<p>{merchant}</p>
<p class="amount" id="amount">¥{amount}</p>
{body}
</main></body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    simulator: StripeSimulator
    protocol_version = "HTTP/1.1"
    server_version = "stripe-simulator"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's name
        logger.debug("%s %s", self.address_string(), format % args)

    # -- plumbing --------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _write(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _json(self, status: int, payload, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, indent=2, ensure_ascii=False).encode()
        self._write(
            status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    def _html(self, status: int, text: str) -> None:
        self._write(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _redirect(self, location: str) -> None:
        self._write(302, b"", {"Location": location})

    def _drop(self) -> None:
        """Offline: hang up without an answer."""
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def do_GET(self):  # noqa: N802 - http.server's name
        self._route("GET")

    def do_POST(self):  # noqa: N802 - http.server's name
        self._route("POST")

    def do_DELETE(self):  # noqa: N802 - http.server's name
        self._route("DELETE")

    def _route(self, method: str) -> None:
        body = self._body()
        split = urlsplit(self.path)
        path = split.path
        if path.startswith("/_control/"):
            return self._control(method, path, split.query, body)
        sim = self.simulator
        if sim.mode.offline:
            return self._drop()
        if path.startswith("/_pay/"):
            return self._pay_page(method, path)
        if path.startswith("/v1/"):
            return self._api(method, path, split.query, body)
        return self._json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})

    # -- the API -----------------------------------------------------------------
    def _authorised(self, params: dict, path: str) -> bool:
        sim = self.simulator
        header = self.headers.get("Authorization") or ""
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        if key and hmac.compare_digest(key, sim.api_key):
            return True
        # Stripe.js: the publishable key may read or confirm a
        # PaymentIntent it holds the client secret of.
        if sim.publishable_key and key and hmac.compare_digest(key, sim.publishable_key):
            parts = path.strip("/").split("/")
            if len(parts) >= 3 and parts[1] == "payment_intents":
                pi = sim._objects.get(parts[2])
                secret = params.get("client_secret")
                return bool(pi and secret and hmac.compare_digest(secret, pi["client_secret"]))
        return False

    def _api(self, method: str, path: str, query: str, body: bytes) -> None:
        sim = self.simulator
        request_id = new_id("req", 14)
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": self.headers.get("Stripe-Version") or API_VERSION,
        }
        with sim._lock:
            sim._count("requests")
            sim._count(f"{method} {_pattern(path)}")
            if sim.mode.fail_next > 0:
                sim.mode.fail_next -= 1
                fail = "500"
            elif sim.mode.rate_limit_next > 0:
                sim.mode.rate_limit_next -= 1
                fail = "429"
            else:
                fail = ""
        if fail == "500":
            return self._json(
                500,
                {"error": {"message": "An unknown error occurred", "type": "api_error"}},
                headers,
            )
        if fail == "429":
            return self._json(
                429,
                {
                    "error": {
                        "code": "rate_limit",
                        "doc_url": doc_url("rate_limit"),
                        "message": "Request rate limit exceeded. Learn more about rate limits "
                        "here https://stripe.com/docs/rate-limits.",
                        "type": "invalid_request_error",
                    }
                },
                headers,
            )
        try:
            params = parse_form(body.decode() if method == "POST" else query)
        except ApiError as exc:
            return self._json(exc.status, {"error": exc.error}, headers)
        except UnicodeDecodeError:
            return self._json(
                400,
                {"error": {"message": "Invalid request body", "type": "invalid_request_error"}},
                headers,
            )
        if not self._authorised(params, path):
            header = self.headers.get("Authorization") or ""
            message = (
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY')."
                if not header
                else "Invalid API Key provided: " + _mask(header.split(" ", 1)[-1])
            )
            return self._json(
                401, {"error": {"message": message, "type": "invalid_request_error"}}, headers
            )
        if method == "GET":
            params.pop("client_secret", None)
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        if key:
            fingerprint = json.dumps([path, params], sort_keys=True)
            with sim._lock:
                stored = sim._idempotency.get(key)
                if stored is None:
                    stored = sim._idempotency[key] = _Stored(fingerprint)
                    replay = False
                else:
                    replay = True
            if replay:
                headers["Idempotency-Key"] = key
                if stored.fingerprint != fingerprint:
                    return self._json(
                        400,
                        {
                            "error": {
                                "message": "Keys for idempotent requests can only be used "
                                "with the same parameters they were first used with. Try "
                                f"using a key other than '{key}' if you meant to execute a "
                                "different request.",
                                "type": "idempotency_error",
                            }
                        },
                        headers,
                    )
                if not stored.done:
                    return self._json(
                        409,
                        {
                            "error": {
                                "code": "idempotency_key_in_use",
                                "doc_url": doc_url("idempotency_key_in_use"),
                                "message": "There is currently another in-progress request "
                                "using this Idempotent Key (that probably means you "
                                "submitted twice, and the other request is still going "
                                f"through): {key}. Please try again later.",
                                "type": "idempotency_error",
                            }
                        },
                        headers,
                    )
                with sim._lock:
                    sim._count("idempotent_replays")
                headers.update(
                    {"Idempotent-Replayed": "true", "Original-Request": stored.request_id}
                )
                return self._write(
                    stored.status,
                    stored.body,
                    {"Content-Type": "application/json; charset=utf-8", **headers},
                )
            headers["Idempotency-Key"] = key
        request = RequestInfo(request_id, key)
        replayable = True
        try:
            status, payload = 200, sim._run(sim.api, method, path, params, request)
        except ApiError as exc:
            status, replayable = exc.status, exc.replayable
            error = dict(exc.error)
            error["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}?t={sim._now()}"
            )
            payload = {"error": error}
        data = json.dumps(payload, indent=2, ensure_ascii=False).encode()
        if key:
            with sim._lock:
                if replayable:
                    stored.done, stored.status, stored.body = True, status, data
                    stored.request_id = request_id
                else:
                    sim._idempotency.pop(key, None)
        with sim._lock:
            hang = sim.mode.hang_next > 0
            if hang:
                sim.mode.hang_next -= 1
            hang_seconds = sim.mode.hang_seconds
        if hang:
            # The work is done and stored; the answer arrives too late.
            time.sleep(hang_seconds)
        self._write(status, data, {"Content-Type": "application/json; charset=utf-8", **headers})

    # -- the buyer's pages ---------------------------------------------------
    def _pay_page(self, method: str, path: str) -> None:
        sim = self.simulator
        parts = path.strip("/").split("/")[1:]  # after "_pay"
        if len(parts) < 2 or parts[0] not in ("alipay", "wechat_pay", "card"):
            return self._html(404, "<h1>Not found</h1>")
        kind, pi_id, action = parts[0], parts[1], (parts[2] if len(parts) > 2 else "")
        with sim._lock:
            pi = sim._objects.get(pi_id)
            if pi is None or pi["object"] != "payment_intent":
                return self._html(404, "<h1>付款不存在</h1>")
            pi = copy.deepcopy(pi)
        if method == "GET" and action in ("qr.png", "qr.svg") and kind == "wechat_pay":
            data = pi.get("_qr_data") or ""
            if not data:
                return self._html(404, "<h1>没有二维码</h1>")
            if action == "qr.png":
                return self._write(200, _qr_png(data), {"Content-Type": "image/png"})
            return self._write(200, _qr_svg(data), {"Content-Type": "image/svg+xml"})
        if method == "POST" and action in ("succeed", "fail"):
            try:
                pi = (sim.succeed if action == "succeed" else sim.fail)(pi_id)
            except ApiError:
                pass  # already decided: go back with the current status
            with sim._lock:
                pi = copy.deepcopy(sim._objects[pi_id])
            target = sim.redirect_after(pi)
            if target:
                return self._redirect(target)
            done = "付款成功" if pi["status"] in ("succeeded", "requires_capture") else "付款未完成"
            return self._html(200, self._page(kind, pi, f'<p id="result">{done}</p>'))
        if method != "GET" or action:
            return self._html(404, "<h1>Not found</h1>")
        if pi["status"] != "requires_action":
            target = sim.redirect_after(pi)
            if target:
                return self._redirect(target)
            return self._html(200, self._page(kind, pi, f'<p id="result">{pi["status"]}</p>'))
        base = f"/_pay/{kind}/{pi_id}"
        buttons = (
            f'<form method="post" action="{base}/succeed">'
            f'<button class="ok" id="authorize" type="submit">{"确认付款" if kind != "card" else "完成验证"}</button></form>'
            f'<form method="post" action="{base}/fail">'
            f'<button class="no" id="fail" type="submit">{"取消" if kind != "card" else "验证失败"}</button></form>'
        )
        if kind == "wechat_pay":
            qr = pi["next_action"]["wechat_pay_display_qr_code"]
            body = (
                f'<img id="qr" src="{qr["image_data_url"]}" alt="微信支付二维码">'
                '<p class="note">请使用微信扫一扫（测试：点下方按钮模拟扫码付款）</p>' + buttons
            )
        else:
            body = buttons
        return self._html(200, self._page(kind, pi, body))

    @staticmethod
    def _page(kind: str, pi: dict, body: str) -> str:
        title, colour = {
            "alipay": ("支付宝 测试付款", "#1677ff"),
            "wechat_pay": ("微信支付 测试付款", "#07c160"),
            "card": ("3D Secure 测试验证", "#635bff"),
        }[kind]
        amount = f"{pi['amount'] // 100}.{pi['amount'] % 100:02d}"
        merchant = html.escape(pi.get("description") or "网农")
        return PAGE.format(title=title, colour=colour, merchant=merchant, amount=amount, body=body)

    # -- control -----------------------------------------------------------------
    def _control(self, method: str, path: str, query: str, body: bytes) -> None:
        sim = self.simulator
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            return self._json(400, {"error": "JSON object expected"})
        data.update(dict(parse_qsl(query)))
        parts = path.strip("/").split("/")[1:]
        try:
            if method == "GET" and parts == ["state"]:
                return self._json(200, sim.state())
            if method == "GET" and parts == ["events"]:
                return self._json(200, {"data": sim.events(data.get("type"))})
            if method != "POST":
                return self._json(404, {"error": "not found"})
            if len(parts) == 3 and parts[0] == "payment_intents":
                actions = {"succeed": sim.succeed, "fail": sim.fail, "processing": sim.processing}
                if parts[2] in actions:
                    return self._json(200, sim._public(actions[parts[2]](parts[1])))
            if len(parts) == 3 and parts[0] == "charges" and parts[2] == "dispute":
                amount = data.get("amount")
                dispute = sim.dispute(
                    parts[1], data.get("reason") or "fraudulent", int(amount) if amount else None
                )
                return self._json(200, sim._public(dispute))
            if len(parts) == 4 and parts[0] == "charges" and parts[2:] == ["dispute", "close"]:
                dispute = sim.close_dispute(parts[1], data.get("status") or "lost")
                return self._json(200, sim._public(dispute))
            if parts == ["mode"]:
                return self._json(200, asdict(sim.set_mode(**data)))
            if parts == ["webhooks"]:
                return self._json(200, asdict(sim.set_webhooks(**data)))
            if parts == ["resend"]:
                return self._json(200, {"queued": sim.resend(data.get("type"))})
        except ApiError as exc:
            return self._json(exc.status, {"error": exc.error})
        except (TypeError, ValueError) as exc:
            return self._json(400, {"error": str(exc)})
        return self._json(404, {"error": "not found"})


def _mask(key: str) -> str:
    return key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "*" * len(key)


def _pattern(path: str) -> str:
    """/v1/payment_intents/pi_123/confirm → /v1/payment_intents/{id}/confirm"""
    parts = path.strip("/").split("/")
    return "/" + "/".join("{id}" if i == 2 else p for i, p in enumerate(parts))
