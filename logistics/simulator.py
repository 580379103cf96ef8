"""A carrier simulator that speaks the generic protocol
(docs/carrier-protocol.md), for the demo and the tests, over loopback.

It books shipments (once per idempotency key, however often asked), sends
signed tracking webhooks as parcels move, and can be told to misbehave: fail
a share of create requests with 500, hang past the client's timeout on a
share (after booking: the answer is lost, the booking is not), answer with
malformed JSON, send every webhook twice, or send a batch out of order.

Run it with ``manage.py carrier_simulator`` or, in tests, start
``CarrierSimulator(...).start()`` in a thread. Unsigned control endpoints
under ``/_control/`` report counts and change the faults; the server only
listens on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests

from logistics import signing
from logistics.vocabulary import TrackingStatus

logger = logging.getLogger("wangnong.simulator")

PROGRESSION = [
    TrackingStatus.ACCEPTED,
    TrackingStatus.PICKED_UP,
    TrackingStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED,
]
DESCRIPTIONS = {
    TrackingStatus.ACCEPTED: ("", "承运商已接单，等待揽收"),
    TrackingStatus.PICKED_UP: ("发件网点", "快递员已揽收"),
    TrackingStatus.IN_TRANSIT: ("天津分拨中心", "已到达分拨中心，正在发往目的地"),
    TrackingStatus.OUT_FOR_DELIVERY: ("目的地网点", "快递员正在派送"),
    TrackingStatus.DELIVERED: ("目的地", "已签收"),
}
CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


@dataclass
class Account:
    code: str  # the carrier's code in Wangnong (webhook URL)
    key: str
    secret: str
    prefix: str = ""  # tracking number prefix


@dataclass
class Faults:
    fail_rate: float = 0.0
    timeout_rate: float = 0.0
    malformed_rate: float = 0.0
    hang_seconds: float = 5.0
    duplicate_webhooks: bool = False
    reorder_webhooks: bool = False


@dataclass
class SimShipment:
    tracking_number: str
    account: Account
    key: str
    payload: dict
    step: int = 0
    cancelled: bool = False
    events: list[dict] = field(default_factory=list)


class State:
    def __init__(self, accounts: list[Account], faults: Faults, seed: int | None):
        self.accounts = {a.key: a for a in accounts}
        self.faults = faults
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.by_key: dict[str, SimShipment] = {}
        self.by_number: dict[str, SimShipment] = {}
        self.counts = {
            "requests": 0,
            "create_requests": 0,
            "created": 0,
            "repeats": 0,
            "failed": 0,
            "hung": 0,
            "malformed": 0,
            "refused": 0,
            "webhooks_sent": 0,
            "webhook_errors": 0,
        }
        # Bookings per idempotency key (1 each, or the carrier double-booked)
        # and create requests per key (more than 1 when a retry came).
        self.create_count_by_key: dict[str, int] = {}
        self.create_requests_by_key: dict[str, int] = {}
        self.serial = 0

    def roll(self) -> str:
        r = self.random.random()
        f = self.faults
        if r < f.fail_rate:
            return "fail"
        if r < f.fail_rate + f.timeout_rate:
            return "hang"
        if r < f.fail_rate + f.timeout_rate + f.malformed_rate:
            return "malformed"
        return "ok"

    def book(self, account: Account, payload: dict) -> tuple[SimShipment, bool]:
        key = str(payload["idempotency_key"])
        with self.lock:
            existing = self.by_key.get(key)
            if existing is not None:
                self.counts["repeats"] += 1
                return existing, False
            self.serial += 1
            number = f"{account.prefix or 'SIM'}{int(time.time()) % 100000:05d}{self.serial:06d}"
            shipment = SimShipment(
                tracking_number=number, account=account, key=key, payload=payload
            )
            self.by_key[key] = shipment
            self.by_number[number] = shipment
            self.counts["created"] += 1
            self.create_count_by_key[key] = self.create_count_by_key.get(key, 0) + 1
            return shipment, True


def price_for(payload: dict) -> str:
    grams = int(payload.get("weight_g") or 1000)
    kilos = max(1, -(-grams // 1000))
    return f"{10 + 2 * (kilos - 1):.2f}"


class CarrierSimulator:
    def __init__(
        self,
        accounts: list[Account],
        *,
        webhook_url: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        seed: int | None = None,
        auto_advance: float = 0,
    ):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the simulator listens on loopback only")
        self.state = State(accounts, faults or Faults(), seed)
        self.webhook_url = webhook_url
        self.auto_advance = auto_advance
        handler = type("Handler", (_Handler,), {"simulator": self})
        self.server = _Server((host, port), handler)
        self.server.daemon_threads = True
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.failed_webhooks: list[tuple[Account, list[dict]]] = []

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> CarrierSimulator:
        # A short poll interval: stop() (a test's teardown) returns at once.
        thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        self._threads.append(thread)
        if self.auto_advance:
            ticker = threading.Thread(target=self._tick, daemon=True)
            ticker.start()
            self._threads.append(ticker)
        return self

    def serve_forever(self) -> None:
        if self.auto_advance:
            threading.Thread(target=self._tick, daemon=True).start()
        self.server.serve_forever()

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def _tick(self) -> None:
        while not self._stop.wait(self.auto_advance):
            try:
                self.resend_failed()
                self.advance()
            except Exception:  # noqa: BLE001 - keep ticking
                logger.exception("auto-advance failed")

    # -- tracking ---------------------------------------------------------
    def advance(self, tracking_number: str | None = None, to: str | None = None) -> int:
        """Move one parcel (or every parcel not yet delivered) forward one
        step, or up to ``to``, and send the webhooks. Returns events sent."""
        with self.state.lock:
            if tracking_number:
                targets = [self.state.by_number[tracking_number]]
            else:
                targets = [s for s in self.state.by_number.values() if not s.cancelled]
        sent = 0
        for shipment in targets:
            events = []
            with self.state.lock:
                last = len(PROGRESSION) - 1
                goal = PROGRESSION.index(to) if to in PROGRESSION else min(shipment.step + 1, last)
                if not shipment.events:
                    events.append(self._event(shipment, PROGRESSION[0]))
                while shipment.step < goal:
                    shipment.step += 1
                    events.append(self._event(shipment, PROGRESSION[shipment.step]))
            if events:
                sent += self.send(shipment.account, events)
        return sent

    def _event(self, shipment: SimShipment, status: str) -> dict:
        location, description = DESCRIPTIONS[status]
        # Now, but strictly after the parcel's previous event, so events
        # made in one go still have their order in time.
        at = dt.datetime.now(CHINA_TZ)
        if shipment.events:
            previous = dt.datetime.fromisoformat(shipment.events[-1]["occurred_at"])
            at = max(at, previous + dt.timedelta(milliseconds=1))
        event = {
            "id": f"{shipment.tracking_number}-{len(shipment.events) + 1}",
            "tracking_number": shipment.tracking_number,
            "status": str(status),
            "occurred_at": at.isoformat(timespec="milliseconds"),
            "location": location,
            "description": description,
        }
        shipment.events.append(event)
        return event

    def send(self, account: Account, events: list[dict]) -> int:
        """POST ``events`` to Wangnong's webhook, signed; twice (the same
        bytes) or shuffled when told to."""
        if not self.webhook_url:
            return 0
        batches = [events]
        if self.state.faults.reorder_webhooks and len(events) > 1:
            shuffled = list(events)
            self.state.random.shuffle(shuffled)
            batches = [[e] for e in shuffled]
        url = self.webhook_url.format(carrier=account.code)
        path = urlsplit(url).path
        sent = 0
        session = requests.Session()
        session.trust_env = False
        for batch in batches:
            body = json.dumps({"events": batch}, ensure_ascii=False).encode()
            headers = signing.sign(account.key, account.secret, "POST", path, body)
            headers["Content-Type"] = "application/json"
            copies = 2 if self.state.faults.duplicate_webhooks else 1
            for _copy in range(copies):
                try:
                    response = session.post(url, data=body, headers=headers, timeout=10)
                    ok = response.status_code in (200, 409)
                except requests.RequestException:
                    ok = False
                with self.state.lock:
                    self.state.counts["webhooks_sent" if ok else "webhook_errors"] += 1
                    if not ok and _copy == 0:
                        # Like a real carrier: keep it and send it again later.
                        self.failed_webhooks.append((account, batch))
                sent += 1 if ok else 0
        return sent

    def resend_failed(self) -> int:
        """Send again the webhooks that failed (the site was down or
        restarting); returns how many got through."""
        with self.state.lock:
            failed, self.failed_webhooks = self.failed_webhooks, []
        return sum(self.send(account, batch) for account, batch in failed)


class _Server(ThreadingHTTPServer):
    # Many workers call at once (the reliability test and bench): a deeper
    # listen backlog than socketserver's 5, so no connection is refused.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hangs up (its timeout, or a worker killed mid-call)
        # is part of the game, not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    simulator: CarrierSimulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's name
        logger.debug("%s %s", self.address_string(), format % args)

    # -- helpers ----------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload=None, *, raw: bytes | None = None, ctype=None):
        data = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype or "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout, during a simulated hang): the
            # answer is lost, as with a real carrier. Not worth a traceback.
            self.close_connection = True

    def _account(self, body: bytes) -> Account | None:
        state = self.simulator.state
        account = state.accounts.get(self.headers.get(signing.KEY) or "")
        if account is None:
            return None
        try:
            signing.verify(
                account.secret,
                self.headers,
                self.command,
                urlsplit(self.path).path,
                body,
                tolerance=300,
            )
        except signing.SignatureError:
            return None
        return account

    # -- routes -----------------------------------------------------------
    def do_GET(self):  # noqa: N802 - http.server's name
        body = b""
        path = urlsplit(self.path).path
        state = self.simulator.state
        if path == "/_control/stats":
            with state.lock:
                return self._send(
                    200,
                    {
                        **state.counts,
                        "create_count_by_key": dict(state.create_count_by_key),
                        "create_requests_by_key": dict(state.create_requests_by_key),
                        "tracking_numbers": {k: s.tracking_number for k, s in state.by_key.items()},
                    },
                )
        with state.lock:
            state.counts["requests"] += 1
        account = self._account(body)
        if account is None:
            return self._refuse()
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "shipments":
            shipment = state.by_number.get(parts[1])
            if shipment is None or shipment.account is not account:
                return self._send(404, {"error": "unknown tracking number"})
            if parts[2] == "events":
                return self._send(200, {"events": list(shipment.events)})
            if parts[2] == "label":
                return self._send(
                    200, raw=minimal_pdf(shipment.tracking_number), ctype="application/pdf"
                )
        return self._send(404, {"error": "not found"})

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self._body()
        path = urlsplit(self.path).path
        state = self.simulator.state
        if path.startswith("/_control/"):
            return self._control(path, body)
        with state.lock:
            state.counts["requests"] += 1
        account = self._account(body)
        if account is None:
            return self._refuse()
        if path == "/shipments":
            return self._create(account, body)
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "shipments" and parts[2] == "cancel":
            shipment = state.by_number.get(parts[1])
            if shipment is None or shipment.account is not account:
                return self._send(404, {"error": "unknown tracking number"})
            shipment.cancelled = True
            return self._send(200, {"tracking_number": shipment.tracking_number, "cancelled": True})
        return self._send(404, {"error": "not found"})

    def _refuse(self):
        with self.simulator.state.lock:
            self.simulator.state.counts["refused"] += 1
        return self._send(401, {"error": "bad key or signature"})

    def _create(self, account: Account, body: bytes):
        state = self.simulator.state
        with state.lock:
            state.counts["create_requests"] += 1
            outcome = state.roll()
        try:
            payload = json.loads(body)
            assert isinstance(payload, dict) and payload.get("idempotency_key")
            assert isinstance(payload.get("recipient"), dict)
        except (ValueError, AssertionError):
            return self._send(400, {"error": "idempotency_key and recipient are required"})
        recipient = payload["recipient"]
        if not (
            str(recipient.get("name") or "").strip() and str(recipient.get("address") or "").strip()
        ):
            # A carrier refuses a parcel it cannot deliver (retrying is no use).
            return self._send(400, {"error": "recipient name and address are required"})
        with state.lock:
            key = str(payload["idempotency_key"])
            state.create_requests_by_key[key] = state.create_requests_by_key.get(key, 0) + 1
        if outcome == "fail":
            with state.lock:
                state.counts["failed"] += 1
            return self._send(500, {"error": "simulated failure"})
        shipment, new = state.book(account, payload)
        if new:
            # The first event, as a real carrier confirms a booking: sent a
            # moment later, often before the booking's answer is processed.
            timer = threading.Timer(
                0.2, self.simulator.advance, (shipment.tracking_number, TrackingStatus.ACCEPTED)
            )
            timer.daemon = True
            timer.start()
        if outcome == "hang":
            with state.lock:
                state.counts["hung"] += 1
            time.sleep(state.faults.hang_seconds)
        if outcome == "malformed":
            with state.lock:
                state.counts["malformed"] += 1
            return self._send(200, raw=b'{"tracking_number": ', ctype="application/json")
        return self._send(
            201 if new else 200,
            {"tracking_number": shipment.tracking_number, "price": price_for(payload)},
        )

    def _control(self, path: str, body: bytes):
        simulator = self.simulator
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return self._send(400, {"error": "JSON body expected"})
        if path == "/_control/faults":
            faults = simulator.state.faults
            for name in (
                "fail_rate",
                "timeout_rate",
                "malformed_rate",
                "hang_seconds",
                "duplicate_webhooks",
                "reorder_webhooks",
            ):
                if name in data:
                    kind = type(getattr(faults, name))
                    setattr(faults, name, kind(data[name]))
            return self._send(200, faults.__dict__)
        if path == "/_control/advance":
            simulator.resend_failed()
            try:
                sent = simulator.advance(data.get("tracking_number"), data.get("to"))
            except KeyError:
                return self._send(404, {"error": "unknown tracking number"})
            return self._send(200, {"sent": sent})
        return self._send(404, {"error": "not found"})


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` (ASCII) on it: the carrier's label."""
    safe = "".join(ch for ch in text if ch.isalnum())
    stream = f"BT /F1 24 Tf 40 100 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 283 425] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
