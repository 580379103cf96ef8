"""Carriers without an API: staff print our waybill (a PDF with a QR code)
and type the tracking number the courier gives them."""

from __future__ import annotations

from logistics.adapters.base import CarrierAdapter, CreatedShipment, TrackingUpdate


class ManualAdapter(CarrierAdapter):
    manual = True

    def create_shipment(self, shipment) -> CreatedShipment | None:
        return None

    def cancel(self, shipment) -> None:
        """Nothing to call: staff tell the courier."""

    def fetch_label(self, shipment) -> bytes:
        from logistics.waybill import waybill_pdf

        return waybill_pdf(shipment)

    def track(self, shipment) -> list[TrackingUpdate]:
        return []
