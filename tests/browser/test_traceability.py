"""A consumer scans a box's QR code (opens the batch's parcel trace URL) on a
360 px phone and sees the origin village and the parcel's logistics
timeline, with no personal data (issue 8, Done means)."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from cooperatives import traceability
from cooperatives.listings import products_of
from cooperatives.models import Cooperative
from divisions.models import Division
from logistics import shipments as logistics_shipments
from logistics.models import TrackingEvent
from tests.browser.conftest import axe_violations
from tests.cooperatives.order_helpers import order_of


def _shipped_batch():
    coop = Cooperative.objects.filter(status=Cooperative.Status.VERIFIED).order_by("pk").first()
    product = (
        products_of(coop)
        .filter(structure="standalone", stockrecords__num_in_stock__gte=1)
        .order_by("pk")
        .first()
    )
    village = Division.objects.filter(level=5, code__startswith=coop.division_id[:6]).first()
    batch = traceability.create_batch(
        coop,
        product=product,
        label="浏览器批次",
        harvest_date=timezone.localdate() - timedelta(days=2),
        village=village,
        field="南洼 7 号地",
    )
    traceability.add_input(
        batch,
        kind="organic",
        name="腐熟鸡粪",
        applied_on=timezone.localdate() - timedelta(days=40),
    )
    order = order_of((product, 1), last_name="赵秘密", line1="保密路 99 号")
    line = order.lines.get()
    traceability.choose_batch(line, batch, None)
    (shipment,) = logistics_shipments.create_for_order(order)
    now = timezone.now()
    for i, (status, location) in enumerate(
        [("picked_up", "天津揽投部"), ("in_transit", "上海转运中心")]
    ):
        TrackingEvent.objects.create(
            carrier=shipment.carrier,
            tracking_number="BRTRACE1",
            shipment=shipment,
            event_id=f"browser-trace-{shipment.pk}-{i}",
            status=status,
            occurred_at=now - timedelta(hours=5 - i),
            location=location,
            description="收件人 赵秘密 13912345678",
            source=TrackingEvent.Source.WEBHOOK,
        )
    return batch, village, order, shipment


def test_consumer_opens_the_qr_url_and_sees_origin_and_timeline(page, live_server):
    batch, village, order, shipment = _shipped_batch()
    url = traceability.parcel_path(batch, shipment)
    page.goto(url)
    expect(page.locator("h1")).to_contain_text(batch.product.get_title())
    expect(page.locator("#trace-origin-text")).to_contain_text(village.name)
    expect(page.locator("#trace-origin-text")).to_contain_text("南洼 7 号地")
    timeline = page.locator("#parcel-timeline li")
    expect(timeline).to_have_count(2)
    expect(timeline.first).to_contain_text("上海转运中心")  # newest first
    expect(page.get_by_text("腐熟鸡粪")).to_be_visible()
    text = page.content()
    for secret in ("赵秘密", "保密路", "13912345678", order.number, "BRTRACE1"):
        assert secret not in text, secret
    # Fits a 360 px phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not axe_violations(page), axe_violations(page)
    assert not page.js_errors and not page.server_errors

    # A QR URL for a batch that does not exist says so.
    response = page.goto("/t/ZZZZ9999/")
    assert response.status == 404
    expect(page.get_by_text("没有找到这个批次")).to_be_visible()
