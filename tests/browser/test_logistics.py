"""A consumer's two-cooperative order travels: it becomes two shipments with
the right carriers and costs, both reach the carrier (the simulator, over
loopback) once, and the carrier's signed tracking webhooks move the
consumer's order page to delivered (issue 5, Done means).

The demo's HTTP carriers are pointed at a simulator started for the test;
without a broker the hand-off runs in the live server right after the order
commits, exactly as under `make run`."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from oscar.core.loading import get_model
from playwright.sync_api import expect

from logistics import rates
from logistics.models import Carrier, Shipment
from logistics.simulator import Account, CarrierSimulator, Faults
from tests.browser import flows

Order = get_model("order", "Order")

CRAB = "津南稻田蟹 8只装"  # chilled, 小站 cooperative (津南)
BUYER = "logistics-buyer@example.cn"
PASSWORD = "wangnong-buyer-2026"


@pytest.fixture
def carrier_simulator(live_server):
    """The demo's HTTP carriers served by a simulator on a free port, its
    webhooks going to the live server (each webhook sent twice, batches
    shuffled: the timeline must come out right anyway)."""
    carriers = list(Carrier.objects.filter(adapter=Carrier.Adapter.HTTP))
    assert carriers, "load_demo configures HTTP carriers"
    simulator = CarrierSimulator(
        [Account(c.code, c.api_key, c.api_secret, prefix=c.code[:2].upper()) for c in carriers],
        webhook_url=live_server.url + "/logistics/webhooks/{carrier}/",
        faults=Faults(duplicate_webhooks=True, reorder_webhooks=True),
        seed=5,
    ).start()
    original = {c.pk: c.api_base_url for c in carriers}
    Carrier.objects.filter(pk__in=original).update(api_base_url=simulator.url)
    yield simulator
    simulator.stop()
    for pk, url in original.items():
        Carrier.objects.filter(pk=pk).update(api_base_url=url)


@pytest.fixture
def buyer():
    User = get_user_model()
    user = User.objects.filter(email=BUYER).first()
    if user is None:
        user = User.objects.create_user(BUYER, BUYER, PASSWORD)
    return user


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    form = page.locator("#login_form")
    form.get_by_label("电子邮件地址").fill(BUYER)
    form.get_by_label("密码").fill(PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("登录")


def wait_for(predicate, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_two_cooperative_order_is_shipped_and_tracked_to_the_door(
    new_page, buyer, carrier_simulator
):
    page = new_page()
    sign_in(page)

    # Radish (西青, ambient) and crabs (津南, chilled) in one basket.
    flows.buy_radish(page, quantity=1)
    flows.open_product(page, CRAB)
    flows.add_to_basket(page, 1)
    flows.go_to_basket(page)
    expect(page.get_by_role("main")).to_contain_text("填写收货地址后计算")
    page.get_by_role("link", name="去结算").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("收货地址")
    flows.fill_contact(page)
    flows.choose_division_with_js(page)
    page.get_by_label("详细地址").fill(flows.DETAIL)
    flows.submit_address(page)
    flows.choose_shipping_if_asked(page)
    flows.pay_cash_on_delivery(page)

    # The preview shows one shipment per cooperative, the crabs by cold chain.
    preview = page.get_by_role("main")
    expect(preview).to_contain_text("鲜达冷链")
    number = flows.place_order(page)

    order = Order.objects.get(number=number)
    shipments = list(Shipment.objects.filter(order=order).select_related("carrier").order_by("pk"))
    assert len(shipments) == 2
    by_temperature = {s.temperature: s for s in shipments}
    assert set(by_temperature) == {"ambient", "chilled"}
    crab, radish = by_temperature["chilled"], by_temperature["ambient"]
    assert crab.carrier.code == "xianda-cold"
    # Each went with the cheapest carrier able to take it, at that price,
    # and the buyer paid the sum.
    for shipment in shipments:
        [cheapest, *_rest] = rates.rates_for(
            shipment.destination_id, shipment.weight_g, shipment.temperature
        )
        assert shipment.carrier == cheapest.carrier
        assert shipment.cost == cheapest.cost
    assert order.shipping_incl_tax == crab.cost + radish.cost

    # Both reached the carrier exactly once (a manual carrier would be
    # waiting for a typed tracking number instead).
    handed = [s for s in shipments if s.carrier.adapter == Carrier.Adapter.HTTP]
    assert len(handed) == 2, [s.carrier.code for s in shipments]
    for shipment in shipments:
        shipment.refresh_from_db()
        assert shipment.status == Shipment.Status.HANDED_OFF
    stats = carrier_simulator.state
    keys = {str(s.idempotency_key) for s in shipments}
    assert set(stats.create_count_by_key) == keys
    assert all(n == 1 for n in stats.create_count_by_key.values())
    assert {stats.by_key[k].tracking_number for k in keys} == {s.tracking_number for s in shipments}

    # The carrier moves both parcels to the door, by signed webhooks.
    for shipment in shipments:
        carrier_simulator.advance(shipment.tracking_number, to="delivered")
    wait_for(
        lambda: all(Shipment.objects.get(pk=s.pk).tracking_status == "delivered" for s in shipments)
    )

    page.goto(f"/accounts/orders/{number}/")
    section = page.get_by_role("region", name="物流")
    expect(section.get_by_role("article")).to_have_count(2)
    for shipment in shipments:
        parcel = section.get_by_role("article").filter(has_text=shipment.tracking_number)
        expect(parcel).to_contain_text("已签收")
        expect(parcel).to_contain_text(shipment.carrier.name)
        # Newest first: 已签收 on top, 承运商已接单 last, nothing twice.
        steps = parcel.locator(".timeline li")
        expect(steps).to_have_count(5)
        expect(steps.first).to_contain_text("已签收")
        expect(steps.last).to_contain_text(re.compile("接单"))
    order.refresh_from_db()
    assert set(order.lines.values_list("status", flat=True)) == {"delivered"}
    assert order.status == "delivered"
    assert page.js_errors == []
    assert page.server_errors == []
