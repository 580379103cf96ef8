"""HMAC-SHA256 signatures for the generic carrier protocol, both ways.

A request carries four headers: the key (which account), a Unix timestamp,
a random nonce and the signature of ``timestamp \\n nonce \\n METHOD \\n
path \\n`` followed by the raw body, keyed with the shared secret. The
receiver refuses a wrong signature, a timestamp outside the tolerance and
(for webhooks) a nonce it has seen. See docs/carrier-protocol.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

KEY = "X-Wangnong-Key"
TIMESTAMP = "X-Wangnong-Timestamp"
NONCE = "X-Wangnong-Nonce"
SIGNATURE = "X-Wangnong-Signature"


class SignatureError(Exception):
    """The request is not signed, badly signed or stale."""


def signature(secret: str, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode() + (body or b"")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    key: str, secret: str, method: str, path: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """The headers that sign this request."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        KEY: key,
        TIMESTAMP: timestamp,
        NONCE: nonce,
        SIGNATURE: signature(secret, timestamp, nonce, method, path, body),
    }


def verify(
    secret: str,
    headers,
    method: str,
    path: str,
    body: bytes,
    *,
    tolerance: int,
    now: float | None = None,
) -> str:
    """Check the signature headers; return the nonce. ``headers`` is any
    case-insensitive mapping (Django's ``request.headers``)."""
    timestamp = headers.get(TIMESTAMP) or ""
    nonce = headers.get(NONCE) or ""
    given = headers.get(SIGNATURE) or ""
    if not (secret and timestamp and nonce and given):
        raise SignatureError("unsigned request")
    if not timestamp.isdigit() or len(nonce) > 64:
        raise SignatureError("malformed signature headers")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise SignatureError("stale timestamp")
    expected = signature(secret, timestamp, nonce, method, path, body)
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureError("bad signature")
    return nonce
