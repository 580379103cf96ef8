"""Traceability (溯源): harvest batches in the portal, the batch chosen while
packing, the public trace page with its parcel timeline (no personal data),
and the QR codes."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import segno
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cooperatives import listings, traceability
from cooperatives.listings import ListingData, VariantData
from cooperatives.models import BatchInspection, Cooperative, HarvestBatch, OrderLineBatch
from logistics import shipments as logistics_shipments
from logistics.models import TrackingEvent
from tests import factories
from tests.cooperatives.conftest import manager_of
from tests.cooperatives.imagefiles import renamed_pdf
from tests.cooperatives.order_helpers import order_of
from tests.cooperatives.photos import small_jpeg

pytestmark = pytest.mark.django_db

VILLAGE = "120111102203"  # under 西青区 辛口镇, where coop_a is


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WANGNONG_SITE_URL = "https://wangnong.example"


def product_of(coop, tag: str = "A", **extra):
    factories.china()
    return listings.create_listing(
        coop,
        ListingData(
            sku=f"TR-{tag}",
            title=f"沙窝萝卜{tag}",
            category=factories.category(f"蔬菜{tag}"),
            unit="斤",
            price=Decimal("9.90"),
            stock=50,
            **extra,
        ),
    )


def village():
    from divisions.models import Division

    return Division.objects.get(code=VILLAGE)


def today():
    return timezone.localdate()


def batch_of(coop, product, **fields):
    fields.setdefault("harvest_date", today() - timedelta(days=2))
    return traceability.create_batch(coop, product=product, **fields)


def post_data(product, overrides: dict | None = None) -> dict:
    data = {
        "product": product.pk,
        "label": "2026-秋-01",
        "harvest_date": (today() - timedelta(days=3)).isoformat(),
        "village": VILLAGE,
        "field": "东洼 3 号地",
        "grower": "李四",
        "notes": "",
        "inputs-TOTAL_FORMS": "2",
        "inputs-INITIAL_FORMS": "0",
        "inputs-MIN_NUM_FORMS": "0",
        "inputs-MAX_NUM_FORMS": "1000",
        "inputs-0-kind": "organic",
        "inputs-0-name": "腐熟羊粪",
        "inputs-0-applied_on": (today() - timedelta(days=60)).isoformat(),
        "inputs-0-amount": "每亩 2 吨",
        "inspections-TOTAL_FORMS": "1",
        "inspections-INITIAL_FORMS": "0",
        "inspections-MIN_NUM_FORMS": "0",
        "inspections-MAX_NUM_FORMS": "1000",
        "inspections-0-inspected_on": (today() - timedelta(days=1)).isoformat(),
        "inspections-0-agency": "天津市农产品质量安全检测中心",
        "inspections-0-result": "pass",
        "inspections-0-summary": "农药残留 42 项未检出",
    }
    data.update(overrides or {})
    return data


# --- Portal: create, validate, isolate --------------------------------------------------


def test_create_batch_with_inputs_and_inspection(manager_client, coop_a):
    product = product_of(coop_a)
    data = post_data(product, {"inspections-0-report": small_jpeg("report.jpg")})
    response = manager_client.post(reverse("coop:batch-create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = HarvestBatch.objects.get()
    assert batch.cooperative == coop_a and batch.product == product
    assert len(batch.code) == 8 and set(batch.code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    assert batch.village_id == VILLAGE and batch.field == "东洼 3 号地"
    (item,) = batch.inputs.all()
    assert (item.kind, item.name, item.amount) == ("organic", "腐熟羊粪", "每亩 2 吨")
    inspection = batch.inspections.get()
    assert inspection.result == BatchInspection.Result.PASS and inspection.report.name
    assert response["Location"] == reverse("coop:batch-edit", kwargs={"pk": batch.pk})
    page = manager_client.get(reverse("coop:batches")).content.decode()
    assert batch.code in page and "2026-秋-01" in page
    edit = manager_client.get(response["Location"]).content.decode()
    assert "腐熟羊粪" in edit and "https://wangnong.example/t/" in edit


def test_edit_batch_adds_an_input(manager_client, coop_a):
    product = product_of(coop_a)
    batch = batch_of(coop_a, product)
    data = post_data(product)
    data["inspections-TOTAL_FORMS"] = "0"
    response = manager_client.post(reverse("coop:batch-edit", kwargs={"pk": batch.pk}), data)
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.label == "2026-秋-01" and batch.inputs.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"harvest_date": "FUTURE"}, "采收日期不能晚于今天。"),
        ({"inputs-0-applied_on": "AFTER"}, "投入品的使用日期不能晚于采收日期。"),
        ({"harvest_date": "2026-13-40"}, "请按“年-月-日”填写日期"),
        ({"inspections-0-inspected_on": "FUTURE"}, "检测日期不能晚于今天。"),
        ({"inspections-0-report": "PDF"}, "文件不是图片"),
        ({"product": ""}, "请选择商品"),
    ],
)
def test_validation_messages_keep_the_input(manager_client, coop_a, overrides, message):
    product = product_of(coop_a)
    values = {
        "FUTURE": (today() + timedelta(days=1)).isoformat(),
        "AFTER": (today() - timedelta(days=1)).isoformat(),  # harvest was 3 days ago
        "PDF": renamed_pdf("report.jpg"),
    }
    data = post_data(product, {k: values.get(v, v) for k, v in overrides.items()})
    response = manager_client.post(reverse("coop:batch-create"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "腐熟羊粪" in page and "东洼 3 号地" in page  # nothing typed is lost
    assert not HarvestBatch.objects.exists()


def test_services_refuse_other_cooperatives_products_and_late_inputs(coop_a, coop_b):
    theirs = product_of(coop_b, "B")
    with pytest.raises(ValidationError) as exc:
        batch_of(coop_a, theirs)
    assert "只能为本社的商品登记批次。" in exc.value.messages
    batch = batch_of(coop_a, product_of(coop_a))
    with pytest.raises(ValidationError):
        traceability.add_input(
            batch,
            kind="pesticide",
            name="吡虫啉",
            applied_on=batch.harvest_date + timedelta(days=1),
        )
    with pytest.raises(ValidationError):
        traceability.update_batch(batch, harvest_date=today() + timedelta(days=1))


def test_portal_form_offers_only_own_products(manager_client, coop_a, coop_b):
    product_of(coop_a)
    theirs = product_of(coop_b, "B")
    page = manager_client.get(reverse("coop:batch-create")).content.decode()
    assert "沙窝萝卜A" in page and "沙窝萝卜B" not in page
    response = manager_client.post(reverse("coop:batch-create"), post_data(theirs))
    assert response.status_code == 400 and not HarvestBatch.objects.exists()


def test_another_cooperatives_batch_is_404(manager_client, coop_a, coop_b):
    theirs = batch_of(coop_b, product_of(coop_b, "B"), label="别社批次")
    for name in ("coop:batch-edit", "coop:batch-qr-png", "coop:batch-qr-svg", "coop:batch-label"):
        url = reverse(name, kwargs={"pk": theirs.pk})
        assert manager_client.get(url).status_code == 404, name
    assert (
        manager_client.post(reverse("coop:batch-edit", kwargs={"pk": theirs.pk})).status_code == 404
    )
    assert "别社批次" not in manager_client.get(reverse("coop:batches")).content.decode()


# --- QR codes and label ------------------------------------------------------------------


def qr_modules(image: Image.Image, scale: int = 10, border: int = 4) -> list[list[bool]]:
    """The dark/light modules of a PNG QR code written at ``scale``."""
    image = image.convert("L")
    size = image.width // scale - 2 * border
    return [
        [
            image.getpixel(((border + x) * scale + scale // 2, (border + y) * scale + scale // 2))
            < 128
            for x in range(size)
        ]
        for y in range(size)
    ]


def test_qr_png_and_svg_encode_the_trace_url(manager_client, coop_a):
    batch = batch_of(coop_a, product_of(coop_a))
    url = f"https://wangnong.example/t/{batch.code}/"
    assert traceability.trace_url(batch) == url
    expected = [[bool(v) for v in row] for row in segno.make_qr(url, error="m").matrix]

    png = manager_client.get(reverse("coop:batch-qr-png", kwargs={"pk": batch.pk}))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert f"trace-{batch.code}.png" in png["Content-Disposition"]
    assert qr_modules(Image.open(io.BytesIO(png.content))) == expected

    svg = manager_client.get(reverse("coop:batch-qr-svg", kwargs={"pk": batch.pk}))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="svg", scale=10, border=4)
    assert svg.content == buffer.getvalue() and b"<svg" in svg.content

    label = manager_client.get(reverse("coop:batch-label", kwargs={"pk": batch.pk}))
    assert label.status_code == 200
    assert "<svg" in label.content.decode() and batch.code in label.content.decode()


# --- Choosing the batch while packing ----------------------------------------------------


def test_choose_batch_rules(coop_a, coop_b):
    product = product_of(coop_a)
    other_product = product_of(coop_a, "A2")
    order = order_of((product, 2))
    line = order.lines.get()
    manager = manager_of(coop_a)

    wrong_product = batch_of(coop_a, other_product)
    with pytest.raises(ValidationError, match="只能选择本社这个商品的批次"):
        traceability.choose_batch(line, wrong_product, manager)
    theirs = batch_of(coop_b, product_of(coop_b, "B"))
    with pytest.raises(ValidationError):
        traceability.choose_batch(line, theirs, manager)

    first = batch_of(coop_a, product)
    second = batch_of(coop_a, product, label="第二批")
    traceability.choose_batch(line, first, manager)
    link = traceability.choose_batch(line, second, manager)  # changed while packing
    assert OrderLineBatch.objects.get(line=line).batch == second and link.chosen_by == manager

    line.status = "cancelled"
    line.save()
    with pytest.raises(ValidationError, match="已取消或已退款"):
        traceability.choose_batch(line, first, manager)


def test_variant_line_takes_its_parents_batch(coop_a):
    parent = listings.create_listing(
        coop_a,
        ListingData(
            title="葡萄礼盒",
            category=factories.category("水果"),
            unit="箱",
            variants=[VariantData("5 斤装", Decimal("60"), 5)],
        ),
    )
    factories.china()
    order = order_of((parent.children.get(), 1))
    batch = batch_of(coop_a, parent)
    link = traceability.choose_batch(order.lines.get(), batch, None)
    assert link.batch == batch


def test_packer_records_the_batch_on_the_line_page(manager_client, coop_a):
    product = product_of(coop_a)
    line = order_of((product, 1)).lines.get()
    batch = batch_of(coop_a, product, label="九月一批")
    line_url = reverse("coop:order-line", kwargs={"pk": line.pk})
    manager_client.post(
        reverse("coop:order-line-status", kwargs={"pk": line.pk}), {"action": "accept"}
    )
    page = manager_client.get(line_url).content.decode()
    assert 'name="batch"' in page and "九月一批" in page
    response = manager_client.post(
        reverse("coop:order-line-batch", kwargs={"pk": line.pk}), {"batch": batch.pk}
    )
    assert response.status_code == 302 and response["Location"] == line_url
    assert OrderLineBatch.objects.get(line=line).batch == batch
    page = manager_client.get(line_url).content.decode()
    assert 'id="line-batch"' in page and f"/t/{batch.code}/" in page


def test_packer_cannot_pick_another_cooperatives_batch(manager_client, coop_a, coop_b):
    line = order_of((product_of(coop_a), 1)).lines.get()
    theirs = batch_of(coop_b, product_of(coop_b, "B"))
    manager_client.post(
        reverse("coop:order-line-batch", kwargs={"pk": line.pk}), {"batch": theirs.pk}
    )
    assert not OrderLineBatch.objects.exists()


# --- The public trace page ---------------------------------------------------------------


def test_trace_page_shows_origin_cooperative_and_batch_facts(client, coop_a):
    from cooperatives.models import Certification

    Certification.objects.create(
        cooperative=coop_a,
        type="green_food",
        number="LB-18-2609",
        issuer="中国绿色食品发展中心",
        expires_on=today() + timedelta(days=300),
    )
    product = product_of(coop_a)
    batch = batch_of(
        coop_a, product, label="2026-秋-01", village=village(), field="东洼 3 号地", grower="李四"
    )
    traceability.add_input(
        batch, kind="organic", name="腐熟羊粪", applied_on=today() - timedelta(days=50)
    )
    inspection = traceability.add_inspection(
        batch,
        inspected_on=today() - timedelta(days=1),
        agency="天津市农产品质量安全检测中心",
        result="pass",
        summary="农药残留 42 项未检出",
    )
    inspection.report.save("report.jpg", small_jpeg(), save=True)

    response = client.get(f"/t/{batch.code}/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "沙窝萝卜A",
        "天津市 西青区 辛口镇",
        "东洼 3 号地",
        coop_a.display_name,
        "已认证",
        "绿色食品",
        "LB-18-2609",
        "2026-秋-01",
        "腐熟羊粪",
        "农药残留 42 项未检出",
        inspection.report.url,
    ):
        assert text in page, text
    assert "李四" not in page  # the grower is a person: shown in the portal only
    assert coop_a.contact_phone not in page
    # Lower-case codes (typed by hand) find the batch too.
    assert client.get(f"/t/{batch.code.lower()}/").status_code == 200


def test_unknown_code_is_404_with_a_message(client):
    response = client.get("/t/ZZZZ2345/")
    assert response.status_code == 404
    assert "没有找到这个批次" in response.content.decode()


@pytest.mark.parametrize("status", [Cooperative.Status.SUSPENDED, Cooperative.Status.APPLIED])
def test_suspended_or_unverified_cooperative_is_refused(client, coop_a, status):
    batch = batch_of(coop_a, product_of(coop_a))
    Cooperative.objects.filter(pk=coop_a.pk).update(status=status)
    response = client.get(f"/t/{batch.code}/")
    assert response.status_code == 410
    page = response.content.decode()
    assert "该合作社目前暂停销售，溯源信息暂不公开" in page
    assert "沙窝萝卜A" not in page


# --- The parcel timeline -----------------------------------------------------------------


@pytest.fixture
def shipped(coop_a):
    product = product_of(coop_a)
    order = order_of((product, 2))
    line = order.lines.get()
    batch = batch_of(coop_a, product)  # origin: the cooperative's district
    traceability.choose_batch(line, batch, manager_of(coop_a))
    (shipment,) = logistics_shipments.create_for_order(order)
    shipment = logistics_shipments.enter_tracking_number(shipment, "TRK20260915", by=None)
    now = timezone.now()
    for i, (status, location) in enumerate(
        [("picked_up", "天津西青揽投部"), ("in_transit", "北京转运中心"), ("delivered", "")]
    ):
        TrackingEvent.objects.create(
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            shipment=shipment,
            event_id=f"ev-{i}",
            status=status,
            occurred_at=now - timedelta(hours=10 - i),
            location=location,
            # Carriers put names and phones into descriptions: never shown.
            description="签收人：王小农 13812345678 水高庄村 8 号",
            source=TrackingEvent.Source.WEBHOOK,
        )
    return order, batch, shipment


def test_parcel_timeline_shows_events_and_no_personal_data(client, shipped):
    order, batch, shipment = shipped
    url = traceability.parcel_path(batch, shipment)
    assert url.startswith(f"/t/{batch.code}/")
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("物流轨迹", "已揽收", "天津西青揽投部", "运输中", "北京转运中心", "已签收"):
        assert text in page, text
    assert page.index("已签收") < page.index("已揽收")  # newest first
    address = order.shipping_address
    for secret in (
        "王小农",
        address.phone_number.as_e164 if hasattr(address.phone_number, "as_e164") else "13812345678",
        "13812345678",
        "812345678",
        "水高庄村",
        address.line1,
        order.number,
        "buyer@example.com",
        "TRK20260915",
    ):
        assert secret not in page, secret
    assert response["Cache-Control"] == "private, no-store"


def test_tampered_or_foreign_parcel_token_is_404(client, shipped, coop_a):
    order, batch, shipment = shipped
    token = traceability.parcel_token(shipment)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/t/{batch.code}/{tampered}/").status_code == 404
    assert client.get(f"/t/{batch.code}/{shipment.pk}/").status_code == 404
    # A valid token for a parcel that does not carry this batch.
    other = batch_of(coop_a, batch.product, label="另一批")
    assert client.get(traceability.parcel_path(other, shipment)).status_code == 404
    # The right salt only: a token signed for something else is refused.
    from django.core import signing

    forged = signing.dumps(shipment.pk, salt="another-purpose")
    assert client.get(f"/t/{batch.code}/{forged}/").status_code == 404


def test_buyer_order_page_links_to_the_parcel_trace(client, shipped):
    order, batch, shipment = shipped
    links = traceability.order_trace_links(order)
    assert links == [
        {"title": order.lines.get().title, "url": traceability.parcel_path(batch, shipment)}
    ]
    from django.template.loader import render_to_string

    html = render_to_string("cooperatives/trace/_order_links.html", {"order": order})
    assert traceability.parcel_path(batch, shipment) in html and "溯源" in html


def test_buyers_order_page_has_a_trace_link_per_line_with_a_batch(client, shipped):
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model

    order, batch, shipment = shipped
    buyer = get_user_model().objects.create_user("trace-buyer", "tb@example.com", "pw-buyer-123")
    get_model("order", "Order").objects.filter(pk=order.pk).update(user=buyer)
    client.force_login(buyer)
    response = client.get(reverse("customer:order", kwargs={"order_number": order.number}))
    assert response.status_code == 200
    assert traceability.parcel_path(batch, shipment) in response.content.decode()
