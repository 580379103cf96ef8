"""The carrier adapter interface."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal


class CarrierError(Exception):
    """A carrier call failed. ``retryable`` says whether trying again may
    help (timeouts, 5xx, garbage) or not (the carrier refused the request)."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class CreatedShipment:
    tracking_number: str
    cost: Decimal | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrackingUpdate:
    event_id: str
    tracking_number: str
    status: str
    occurred_at: dt.datetime
    location: str = ""
    description: str = ""


class CarrierAdapter(ABC):
    #: True when the carrier has no API and staff type the tracking number.
    manual = False

    def __init__(self, carrier):
        self.carrier = carrier

    @abstractmethod
    def create_shipment(self, shipment) -> CreatedShipment | None:
        """Book ``shipment`` with the carrier. Must be safe to repeat: the
        shipment's idempotency key identifies it. None means staff will
        type the tracking number (manual carriers)."""

    @abstractmethod
    def cancel(self, shipment) -> None:
        """Cancel a booked shipment."""

    @abstractmethod
    def fetch_label(self, shipment) -> bytes:
        """The shipping label / waybill as PDF bytes."""

    @abstractmethod
    def track(self, shipment) -> list[TrackingUpdate]:
        """The carrier's events for the shipment (for polling)."""


def get_adapter(carrier) -> CarrierAdapter:
    from logistics.adapters.http import GenericHttpAdapter
    from logistics.adapters.manual import ManualAdapter

    if carrier.adapter == carrier.Adapter.HTTP:
        return GenericHttpAdapter(carrier)
    return ManualAdapter(carrier)
