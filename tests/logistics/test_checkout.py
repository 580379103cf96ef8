"""The storefront checkout with carrier-priced delivery, through the test
client: the order's shipping charge is the sum of its shipments, which are
created (with their hand-off) in the order's transaction; chilled goods to a
region no cold chain serves are refused before payment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from oscar.apps.checkout import signals as checkout_signals
from oscar.core.loading import get_model

from logistics.models import Carrier, OutboxMessage, RateZone, Shipment, ShipmentItem
from tests import factories
from tests.logistics.builders import (
    CRAB_COOP,
    GUANGZHOU_ADDRESS,
    GUANGZHOU_PLACE,
    RADISH_COOP,
    goods,
)

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

CRAB_REFUSED = (
    f"“七里海河蟹”需要冷藏配送，目前没有冷链承运商能送到{GUANGZHOU_PLACE}。"
    "请从购物篮删除这些商品，或换一个收货地址。"
)


@pytest.fixture
def shop(china, carriers):
    """沙窝萝卜 (ambient, 2.5 kg) from one cooperative and 七里海河蟹
    (chilled, 1.5 kg) from another."""
    radish = goods("沙窝萝卜", factories.partner(RADISH_COOP), weight_g=2500, stock=10)
    crab = goods(
        "七里海河蟹", factories.partner(CRAB_COOP), weight_g=1500, storage="chilled", price="88.00"
    )
    return {"radish": radish, "crab": crab}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_two_cooperative_order_becomes_two_shipments_charged_their_sum(
    client, shop, django_capture_on_commit_callbacks
):
    radish, crab = shop["radish"], shop["crab"]
    factories.guest_checkout_to_preview(client, [(radish, 2), (crab, 1)])
    preview = client.get(reverse("checkout:preview"))
    assert preview.status_code == 200
    plan = preview.context["shipping_plan"]
    assert [(s.partner_name, s.cost) for s in plan.shipments] == [
        (CRAB_COOP, Decimal("33.00")),
        (RADISH_COOP, Decimal("20.00")),
    ]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = factories.place_order(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("checkout:thank-you")

    order = Order.objects.get()
    # Radish: 5 kg by 测试快递 = 12 + 4 × 2; crab: 1.5 kg by 测试冷链 = 20 + 5 + 8.
    assert order.shipping_code == "carrier-delivery"
    assert order.shipping_incl_tax == Decimal("53.00")
    assert order.total_incl_tax == Decimal("2") * 20 + 88 + 53

    shipments = {s.partner.name: s for s in Shipment.objects.filter(order=order)}
    assert set(shipments) == {RADISH_COOP, CRAB_COOP}
    ambient, chilled = shipments[RADISH_COOP], shipments[CRAB_COOP]
    assert (ambient.carrier.code, ambient.service, ambient.temperature) == (
        "test-express",
        "express",
        "ambient",
    )
    assert (chilled.carrier.code, chilled.service, chilled.temperature) == (
        "test-cold",
        "cold_chain",
        "chilled",
    )
    assert (ambient.weight_g, ambient.cost, ambient.charge) == (
        5000,
        Decimal("20.00"),
        Decimal("20.00"),
    )
    assert (chilled.weight_g, chilled.cost, chilled.charge) == (
        1500,
        Decimal("33.00"),
        Decimal("33.00"),
    )
    assert sum(s.charge for s in shipments.values()) == order.shipping_incl_tax
    for shipment in shipments.values():
        assert shipment.destination_id == "120111102203"
        assert shipment.recipient_name == "王小农"
        assert shipment.recipient_phone == "+8613812345678"
        assert "水高庄村 8 号" in shipment.recipient_address
        assert not shipment.weight_estimated
        assert shipment.station_id is None
    assert [i.line.product for i in ambient.items.all()] == [radish]
    assert [i.line.product for i in chilled.items.all()] == [crab]
    assert ambient.items.get().weight_g == 5000
    assert ShipmentItem.objects.filter(line__order=order).count() == order.lines.count() == 2

    # One hand-off each, queued after commit; the manual carriers complete
    # it at once (staff print the waybill and type the tracking number).
    assert len(callbacks) >= 2
    for shipment in shipments.values():
        [message] = OutboxMessage.objects.filter(shipment=shipment)
        assert message.kind == "create"
        assert message.enqueued_at is not None
        assert message.done_at is not None and message.failed_at is None
        assert message.attempts == 1
        shipment.refresh_from_db()
        assert shipment.status == Shipment.Status.AWAITING_TRACKING
        assert not shipment.needs_attention
    assert Basket.objects.get().status == Basket.SUBMITTED


def test_chilled_goods_to_guangzhou_are_refused_before_payment(client, shop):
    radish, crab = shop["radish"], shop["crab"]
    factories.add_to_basket(client, radish, 1)
    factories.add_to_basket(client, crab, 1)
    response = client.post(
        reverse("checkout:index"), {"username": "buyer@example.com", "options": "anonymous"}
    )
    assert response.status_code == 302
    factories.set_shipping_address(client, GUANGZHOU_ADDRESS)

    page = client.get(reverse("checkout:shipping-method"))

    assert page.status_code == 200  # shown, not skipped on to payment
    assert list(page.context["problems"]) == [CRAB_REFUSED]
    assert list(page.context["methods"]) == []
    text = page.content.decode()
    assert CRAB_REFUSED in text
    assert "method_code" not in client.session["checkout_data"].get("shipping", {})

    # No way round it: payment and preview send the buyer back.
    for name in ("checkout:payment-method", "checkout:preview"):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"] == reverse("checkout:shipping-method"), name
    response = factories.place_order(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:shipping-method")
    assert not Order.objects.exists()
    assert not Shipment.objects.exists()

    # Without the crab the radish ships to Guangzhou by the nationwide express.
    basket = Basket.objects.get()
    basket.all_lines().filter(product=crab).delete()
    response = client.get(reverse("checkout:shipping-method"))
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:payment-method")


def test_changing_the_address_after_choosing_delivery_is_caught_before_placement(client, shop):
    """A buyer who reached the preview for Tianjin and then switches the
    address to Guangzhou cannot place the chilled order."""
    factories.guest_checkout_to_preview(client, [(shop["crab"], 1)])
    factories.set_shipping_address(client, GUANGZHOU_ADDRESS)

    response = factories.place_order(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:shipping-method")
    assert not Order.objects.exists()
    page = client.get(reverse("checkout:shipping-method"))
    assert list(page.context["problems"]) == [CRAB_REFUSED]


def test_rate_card_changed_between_preview_and_placement(
    client, shop, django_capture_on_commit_callbacks
):
    """The buyer is never charged a total they were not shown: a rate card
    that changed after the preview sends them back to it with the new total;
    confirming that places the order, whose shipments' costs and charges
    agree with it."""
    factories.guest_checkout_to_preview(client, [(shop["radish"], 2), (shop["crab"], 1)])
    preview = client.get(reverse("checkout:preview"))
    assert preview.context["shipping_plan"].total == Decimal("53.00")
    shown = preview.context["order_total"].incl_tax
    assert f'name="shown_total" value="{shown:.2f}"' in preview.content.decode()
    RateZone.objects.filter(carrier__code="test-express").update(first_price=Decimal("15.00"))

    response = client.post(
        reverse("checkout:preview"), {"action": "place_order", "shown_total": f"{shown:.2f}"}
    )
    assert response["Location"] == reverse("checkout:preview")
    assert not Order.objects.exists()
    again = client.get(reverse("checkout:preview"))
    assert "应付总额已按最新价格和运费变为 ¥184.00（刚才显示 ¥181.00）" in again.content.decode()
    assert again.context["order_total"].incl_tax == shown + 3

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("checkout:preview"),
            {"action": "place_order", "shown_total": f"{shown + 3:.2f}"},
        )
    assert response["Location"] == reverse("checkout:thank-you")

    order = Order.objects.get()
    shipments = list(Shipment.objects.filter(order=order).order_by("carrier__code"))
    assert [(s.carrier.code, s.cost) for s in shipments] == [
        ("test-cold", Decimal("33.00")),
        ("test-express", Decimal("23.00")),
    ]
    assert order.shipping_incl_tax == Decimal("56.00")
    assert sum(s.charge for s in shipments) == order.shipping_incl_tax
    assert [s.charge for s in shipments] == [s.cost for s in shipments]


@pytest.fixture
def during_placement():
    """Run a function right before the order is written (Oscar sends
    post_payment then): after the charge was worked out, before the
    shipments are."""
    actions = []

    def run(sender, view, **kwargs):
        for action in actions:
            action()

    checkout_signals.post_payment.connect(run, dispatch_uid="test-logistics-placement")
    yield actions
    checkout_signals.post_payment.disconnect(dispatch_uid="test-logistics-placement")


def test_rate_change_during_placement_keeps_charges_summing_to_the_order(
    client, shop, during_placement
):
    factories.guest_checkout_to_preview(client, [(shop["radish"], 2), (shop["crab"], 1)])
    during_placement.append(
        lambda: RateZone.objects.filter(carrier__code="test-express").update(
            first_price=Decimal("15.00")
        )
    )

    response = factories.place_order(client)
    assert response["Location"] == reverse("checkout:thank-you")

    order = Order.objects.get()
    assert order.shipping_incl_tax == Decimal("53.00")  # what the buyer was shown
    shipments = {s.carrier.code: s for s in Shipment.objects.filter(order=order)}
    assert shipments["test-express"].cost == Decimal("23.00")  # what the carrier charges
    assert shipments["test-cold"].cost == Decimal("33.00")
    assert sum(s.charge for s in shipments.values()) == Decimal("53.00")
    assert all(s.charge >= 0 for s in shipments.values())


def test_failure_creating_shipments_rolls_back_the_order(client, shop, during_placement):
    """The cold chain stops serving Tianjin while the order is being placed:
    no order, no shipments, no outbox rows, the basket open again and the
    buyer back at the delivery step with the reason."""
    radish, crab = shop["radish"], shop["crab"]
    factories.guest_checkout_to_preview(client, [(radish, 2), (crab, 1)])
    during_placement.append(
        lambda: Carrier.objects.filter(code="test-cold").update(is_active=False)
    )

    response = factories.place_order(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:shipping-method")
    assert any("七里海河蟹" in m and "冷链" in m for m in messages_of(response))
    assert not Order.objects.exists()
    assert not Shipment.objects.exists()
    assert not OutboxMessage.objects.exists()
    basket = Basket.objects.get()
    assert basket.status == Basket.OPEN
    assert sorted((line.product.title, line.quantity) for line in basket.all_lines()) == [
        ("七里海河蟹", 1),
        ("沙窝萝卜", 2),
    ]
    assert StockRecord.objects.get(product=radish).num_allocated in (None, 0)
    assert StockRecord.objects.get(product=crab).num_allocated in (None, 0)
    # And the delivery step now says why.
    page = client.get(reverse("checkout:shipping-method"))
    assert page.status_code == 200
    assert any("七里海河蟹" in p for p in page.context["problems"])
