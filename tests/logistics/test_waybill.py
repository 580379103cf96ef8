"""The waybill PDF (logistics/waybill.py): a real PDF whose text a courier
(and pdftotext) can read: the recipient in full, the reference, the sender,
the cold-chain banner, the order numbers; and a QR code of the reference."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from logistics import shipments as shipping
from logistics import waybill
from logistics.adapters import get_adapter
from tests.logistics import staff_helpers as h

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils' pdftotext is needed"
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


def compact(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def coops(carriers):
    return {
        "radish": h.cooperative("天津市西青区辛口沙窝萝卜种植专业合作社"),
        "crab": h.cooperative("天津市宁河区七里海生态养殖专业合作社", "120117"),
    }


def test_waybill_of_a_manual_carrier_shipment(coops):
    radish = h.produce(coops["radish"], "沙窝萝卜", grams=2500)
    order, [shipment] = h.place_order((radish, 2))
    pdf = get_adapter(shipment.carrier).fetch_label(shipment)  # the manual adapter
    assert pdf.startswith(b"%PDF")
    text = compact(pdf_text(pdf))
    for expected in [
        "王小农",  # the recipient, in full
        "13812345678",
        "水高庄村8号",
        f"WN{shipment.pk}",
        "测试快递",
        "5kg",  # 2 × 2.5 kg
        order.number,
        shipment.ship_date.strftime("%Y-%m-%d"),
        "沙窝萝卜×2",
        "常温",
    ]:
        assert expected in text, expected
    sender = shipping.sender_of(shipment)
    assert compact(sender["name"]) in text and sender["phone"] in text
    assert "冷链" not in text


def test_cold_chain_is_marked_and_the_tracking_number_printed(coops, django_user_model):
    crab = h.produce(coops["crab"], "七里海河蟹", grams=1200, storage="chilled")
    order, [shipment] = h.place_order((crab, 1))
    assert shipment.carrier.name == "测试冷链"
    staff = django_user_model.objects.create_user("ops", is_staff=True)
    shipment = shipping.enter_tracking_number(shipment, "LL2025001", by=staff)
    text = compact(pdf_text(waybill.waybill_pdf(shipment)))
    assert "冷链·冷藏" in text
    assert "LL2025001" in text and f"WN{shipment.pk}" in text
    assert "1.2kg" in text and "七里海河蟹×1" in text
    assert waybill.qr_payload(shipment) == f"WN{shipment.pk} LL2025001"


def test_qr_code_encodes_the_reference(coops):
    radish = h.produce(coops["radish"], "沙窝萝卜")
    _order, [shipment] = h.place_order((radish, 1))
    assert waybill.qr_payload(shipment) == f"WN{shipment.pk}"
    html = waybill.waybill_html(shipment)
    assert "<svg" in html and 'class="segno"' in html
    # The SVG drawn is the code of the payload (segno is deterministic).
    assert waybill.qr_svg(f"WN{shipment.pk}") in html
    assert waybill.qr_svg(f"WN{shipment.pk}") != waybill.qr_svg(f"WN{shipment.pk + 1}")


def test_estimated_weight_is_said(coops):
    mystery = h.produce(coops["radish"], "散装土豆", grams=None)
    _order, [shipment] = h.place_order((mystery, 1))
    assert shipment.weight_estimated
    assert "含估算" in compact(pdf_text(waybill.waybill_pdf(shipment)))


def test_the_waybill_fetches_nothing_from_the_network():
    from config import documents

    with pytest.raises(ValueError, match="external resources"):
        documents._no_network("http://example.com/logo.png")
