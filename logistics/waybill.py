"""Our printable waybill: a 100 × 150 mm label for carriers without an API
(the manual adapter's ``fetch_label``) and for staff who need a paper copy.

It carries what the courier needs (the recipient in full, phone included),
the sender, weight, temperature class (cold chain in a black banner that
survives a monochrome label printer), carrier and service, pieces, order
numbers, ship date and a QR code of the shipment's reference. Rendered from
``logistics/waybill.html`` with WeasyPrint; no resource is fetched from the
network (only ``data:`` URLs are allowed).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from config.documents import html_to_pdf, qr_svg
from divisions import services as divisions
from logistics.models import Shipment
from logistics.vocabulary import needs_cold_chain

# Item titles listed on the label before it says "and N more".
MAX_LISTED_ITEMS = 6


def reference(shipment: Shipment) -> str:
    """The shipment's reference as carriers and staff see it (``WN42``)."""
    return f"WN{shipment.pk}"


def qr_payload(shipment: Shipment) -> str:
    """What the QR code encodes: the reference, then the tracking number
    once there is one (``WN42 SE000123``)."""
    if shipment.tracking_number:
        return f"{reference(shipment)} {shipment.tracking_number}"
    return reference(shipment)


def _destination_text(shipment: Shipment) -> str:
    """The address as the courier reads it: the division names, unless the
    stored address already starts with them, then the stored address."""
    place = divisions.full_name(shipment.destination_id) if shipment.destination_id else ""
    address = " ".join((shipment.recipient_address or "").split())
    names = divisions.path_names(shipment.destination_id) if shipment.destination_id else []
    if not names or address.startswith(names[0]):
        return address or place
    return f"{place} {address}".strip()


def phone_for_courier(phone: str) -> str:
    """A Chinese number without its country code (``+8613812345678`` →
    ``13812345678``); other numbers as stored."""
    text = "".join((phone or "").split())
    return text[3:] if text.startswith("+86") else text


def waybill_context(shipment: Shipment) -> dict:
    from logistics.shipments import sender_of

    items = list(shipment.items.select_related("line__order").order_by("line__order__number", "pk"))
    orders = list(dict.fromkeys(item.line.order.number for item in items))
    titles = [f"{item.line.title}×{item.line.quantity}" for item in items]
    return {
        "shipment": shipment,
        "reference": reference(shipment),
        "qr_svg": qr_svg(qr_payload(shipment)),
        "sender": sender_of(shipment),
        "recipient_phone": phone_for_courier(shipment.recipient_phone),
        "recipient_address": _destination_text(shipment),
        "cold_chain": needs_cold_chain(shipment.temperature),
        "weight_kg": f"{shipment.weight_g / 1000:g}",
        "pieces": sum(item.line.quantity for item in items),
        "line_count": len(items),
        "orders": orders,
        "titles": titles[:MAX_LISTED_ITEMS],
        "more_titles": max(0, len(titles) - MAX_LISTED_ITEMS),
    }


def waybill_html(shipment: Shipment) -> str:
    """The waybill as HTML (always in Chinese: the courier reads it)."""
    with translation.override("zh-hans"):
        return render_to_string("logistics/waybill.html", waybill_context(shipment))


def waybill_pdf(shipment: Shipment) -> bytes:
    """The waybill of ``shipment`` as PDF bytes (one 100 × 150 mm page)."""
    return html_to_pdf(waybill_html(shipment))
