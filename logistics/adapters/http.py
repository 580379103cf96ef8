"""The generic HTTP JSON carrier protocol (docs/carrier-protocol.md):
HMAC-signed requests, timeouts, and errors sorted into retryable or not."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import requests
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from logistics import signing
from logistics.adapters.base import CarrierAdapter, CarrierError, CreatedShipment, TrackingUpdate
from logistics.vocabulary import TrackingStatus


class GenericHttpAdapter(CarrierAdapter):
    def __init__(self, carrier, session: requests.Session | None = None):
        super().__init__(carrier)
        self.session = session or requests.Session()
        # Loopback and configured hosts only: never pick up a proxy from the
        # environment.
        self.session.trust_env = False

    # -- plumbing ---------------------------------------------------------
    def _url(self, path: str) -> str:
        return self.carrier.api_base_url.rstrip("/") + path

    def _request(self, method: str, path: str, payload: dict | None = None, *, raw=False):
        if not self.carrier.api_base_url:
            raise CarrierError(_("承运商没有配置接口地址。"), retryable=False)
        url = self._url(path)
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = signing.sign(
            self.carrier.api_key, self.carrier.api_secret, method, urlsplit(url).path, body
        )
        headers["Content-Type"] = "application/json"
        if payload and payload.get("idempotency_key"):
            headers["Idempotency-Key"] = payload["idempotency_key"]
        try:
            response = self.session.request(
                method, url, data=body, headers=headers, timeout=self.carrier.timeout_seconds
            )
        except requests.Timeout:
            raise CarrierError(
                _("承运商接口超时（%(s)s 秒）。") % {"s": self.carrier.timeout_seconds}
            )
        except requests.RequestException as exc:
            raise CarrierError(_("连不上承运商接口：%(e)s") % {"e": exc.__class__.__name__})
        status = response.status_code
        if status >= 500 or status == 429:
            raise CarrierError(_("承运商接口出错（HTTP %(code)s）。") % {"code": status})
        if status in (401, 403):
            raise CarrierError(
                _("承运商拒绝了签名或账号（HTTP %(code)s），请检查接口账号和密钥。")
                % {"code": status},
                retryable=False,
            )
        if status >= 400:
            raise CarrierError(
                _("承运商拒绝了请求（HTTP %(code)s）：%(msg)s")
                % {"code": status, "msg": _error_message(response)},
                retryable=False,
            )
        if raw:
            return response.content
        try:
            data = response.json()
        except ValueError:
            raise CarrierError(_("承运商返回了无法解析的内容。"))
        if not isinstance(data, dict):
            raise CarrierError(_("承运商返回了无法解析的内容。"))
        return data

    # -- the interface ----------------------------------------------------
    def create_shipment(self, shipment) -> CreatedShipment:
        data = self._request("POST", "/shipments", shipment_payload(shipment))
        number = data.get("tracking_number")
        if not isinstance(number, str) or not number.strip() or len(number) > 64:
            raise CarrierError(_("承运商的回复里没有有效的运单号。"))
        cost = None
        if data.get("price") is not None:
            try:
                cost = Decimal(str(data["price"])).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                cost = None
        return CreatedShipment(tracking_number=number.strip(), cost=cost, raw=data)

    def cancel(self, shipment) -> None:
        self._request("POST", f"/shipments/{shipment.tracking_number}/cancel", {})

    def fetch_label(self, shipment) -> bytes:
        content = self._request("GET", f"/shipments/{shipment.tracking_number}/label", raw=True)
        if not content.startswith(b"%PDF"):
            raise CarrierError(_("承运商返回的面单不是 PDF。"))
        return content

    def track(self, shipment) -> list[TrackingUpdate]:
        data = self._request("GET", f"/shipments/{shipment.tracking_number}/events")
        return parse_events(data.get("events"), default_tracking=shipment.tracking_number)


def _error_message(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or data)[:200]
    return str(data)[:200]


def shipment_payload(shipment) -> dict:
    """What the generic protocol's create call carries."""
    from logistics.shipments import sender_of

    sender = sender_of(shipment)
    return {
        "idempotency_key": str(shipment.idempotency_key),
        "reference": f"WN{shipment.pk}",
        "service": shipment.service,
        "temperature": shipment.temperature,
        "weight_g": shipment.weight_g,
        "pieces": shipment.items.count() or 1,
        "sender": sender,
        "recipient": {
            "name": shipment.recipient_name,
            "phone": shipment.recipient_phone,
            "division": shipment.destination_id,
            "address": shipment.recipient_address,
        },
    }


def parse_events(items, *, default_tracking: str = "") -> list[TrackingUpdate]:
    """Tracking events from protocol JSON. Raises ValueError on anything
    malformed (a bad status, a missing id, a time without a zone)."""
    if not isinstance(items, list):
        raise ValueError("events must be a list")
    updates = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("event must be an object")
        event_id = str(item.get("id") or "").strip()
        status = item.get("status")
        number = str(item.get("tracking_number") or default_tracking).strip()
        occurred = parse_datetime(str(item.get("occurred_at") or ""))
        if not event_id or len(event_id) > 100:
            raise ValueError("event id missing")
        if status not in TrackingStatus.values:
            raise ValueError(f"unknown status {status!r}")
        if not number:
            raise ValueError("tracking number missing")
        if occurred is None or occurred.tzinfo is None:
            raise ValueError("occurred_at must be an ISO 8601 time with a zone")
        updates.append(
            TrackingUpdate(
                event_id=event_id,
                tracking_number=number[:64],
                status=status,
                occurred_at=occurred.astimezone(dt.UTC),
                location=str(item.get("location") or "")[:100],
                description=str(item.get("description") or "")[:300],
            )
        )
    return updates
