"""One interface to every carrier (base.py); a generic signed-HTTP-JSON
adapter (http.py) and a manual one for carriers without an API (manual.py)."""

from logistics.adapters.base import (
    CarrierAdapter,
    CarrierError,
    CreatedShipment,
    TrackingUpdate,
    get_adapter,
)

__all__ = ["CarrierAdapter", "CarrierError", "CreatedShipment", "TrackingUpdate", "get_adapter"]
