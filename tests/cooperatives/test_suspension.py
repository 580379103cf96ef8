"""Suspending a cooperative (cooperatives/services.py → suspension.py):
its lines not yet with a carrier are cancelled and refunded through the
one refund service (online payments back at Stripe, cash on delivery no
longer owed), station orders through the station's own cancellation,
lines with the carrier go on; the ledger, order totals and stock stay
consistent. The cooperative sees why in its portal; the public page keeps
its credit record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from cooperatives import complaints, credit_record, fulfilment, services, suspension
from cooperatives.models import Complaint, Cooperative, StatusChange
from logistics.models import Shipment
from shop.payment import ledger, refunds
from shop.payment.models import Refund
from stations.models import CashEntry
from tests import factories
from tests.cooperatives.conftest import make_cooperative, manager_of
from tests.payment.builders import deliver
from tests.payment.refund_orders import (
    cod_order,
    cooperatives,
    order_balance,
    owed_to,
    produce,
    stripe_order,
)
from tests.stations.conftest import assisted_order, make_resident, make_staff, make_station

pytestmark = pytest.mark.django_db

User = get_model("auth", "User")
Order = get_model("order", "Order")


@pytest.fixture
def shop(china, carriers):
    radish_coop, crab_coop = cooperatives()
    goods = produce(radish_coop, crab_coop)
    return {**goods, "radish_coop": radish_coop, "crab_coop": crab_coop}


@pytest.fixture
def staff(db):
    return User.objects.create_user("reviewer", "reviewer@example.com", "pw", is_staff=True)


@pytest.fixture
def buyer(db):
    return User.objects.create_user("buyer", "buyer@example.com", "pw")


def books_balance() -> None:
    assert ledger.trial_balance() == 0


def allocated(product) -> int:
    return product.stockrecords.get().num_allocated or 0


def suspend(coop, staff, reason="售卖假冒地理标志产品"):
    return services.suspend(coop, by=staff, reason=reason)


# --- Pending orders --------------------------------------------------------------------------


def test_a_cash_on_delivery_order_is_cancelled_without_charge(
    shop, staff, buyer, django_capture_on_commit_callbacks
):
    order = cod_order([(shop["radish"], 2)], user=buyer)
    total = ledger.to_fen(order.total_incl_tax)
    assert order_balance("receivable:cod", order) == total
    assert allocated(shop["radish"]) == 2

    with django_capture_on_commit_callbacks(execute=True):
        outcome = suspend(shop["radish_coop"], staff)

    assert outcome.cancelled == [order.number] and not outcome.left
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert set(order.lines.values_list("status", flat=True)) == {"cancelled"}
    refund = Refund.objects.get(order=order)
    assert refund.via == Refund.Via.UNCOLLECTED and refund.amount == total
    assert refund.requested_by == staff and "暂停销售" in refund.reason
    # Nothing owed by the buyer, nothing to the cooperative, stock released.
    assert order_balance("receivable:cod", order) == 0
    assert owed_to(shop["radish_coop"].partner) == 0
    assert allocated(shop["radish"]) == 0
    assert refunds.refundable(order).total == 0
    # The order's own totals are what was placed; the refund says the rest.
    assert ledger.to_fen(order.total_incl_tax) == total
    assert not Shipment.objects.filter(order=order).exclude(status="cancelled").exists()
    books_balance()
    assert [m.to for m in mail.outbox if order.number in m.subject] == [["buyer@example.com"]]


def test_an_online_payment_is_refunded_at_stripe(shop, staff, stripe_sim):
    order = stripe_order([(shop["radish"], 1)])
    total = ledger.to_fen(order.total_incl_tax)
    outcome = suspend(shop["radish_coop"], staff)
    assert outcome.cancelled == [order.number]
    refund = Refund.objects.get(order=order)
    assert refund.via == Refund.Via.STRIPE and refund.amount == total
    assert refund.status == Refund.Status.SUCCEEDED
    assert stripe_sim.refund(refund.stripe_refund_id)["amount"] == total
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert owed_to(shop["radish_coop"].partner) == 0
    books_balance()


def test_another_cooperatives_lines_and_lines_with_the_carrier_go_on(shop, staff, buyer):
    """One order with the suspended cooperative's radishes and the other
    cooperative's crab: only the radishes are cancelled, with their own
    shipment's charge; a second order whose radishes are already with the
    carrier is not touched."""
    order = cod_order([(shop["radish"], 2), (shop["crab"], 1)], user=buyer)
    radish_line = order.lines.get(title="沙窝萝卜")
    crab_line = order.lines.get(title="七里海河蟹")
    radish_shipment = Shipment.objects.get(order=order, partner=shop["radish_coop"].partner)
    crab_shipment = Shipment.objects.get(order=order, partner=shop["crab_coop"].partner)
    shipped = cod_order([(shop["radish"], 1)], user=buyer)
    fulfilment.carrier_picked_up(list(shipped.lines.all()))
    crab_owed = owed_to(shop["crab_coop"].partner)
    total = ledger.to_fen(order.total_incl_tax)

    outcome = suspend(shop["radish_coop"], staff)

    assert outcome.cancelled == [order.number] and not outcome.left
    radish_line.refresh_from_db()
    crab_line.refresh_from_db()
    order.refresh_from_db()
    assert radish_line.status == "cancelled" and crab_line.status == "pending"
    assert order.status != "cancelled"
    refund = Refund.objects.get(order=order)
    assert refund.amount == 4000 + ledger.to_fen(radish_shipment.charge)
    assert refund.shipping == ledger.to_fen(radish_shipment.charge)
    assert order_balance("receivable:cod", order) == total - refund.amount
    assert owed_to(shop["crab_coop"].partner) == crab_owed
    radish_shipment.refresh_from_db()
    crab_shipment.refresh_from_db()
    assert radish_shipment.status == Shipment.Status.CANCELLED
    assert crab_shipment.status != Shipment.Status.CANCELLED
    # The order already with the carrier goes on to delivery.
    assert set(shipped.lines.values_list("status", flat=True)) == {"shipped"}
    assert not Refund.objects.filter(order=shipped).exists()
    assert allocated(shop["radish"]) == 0  # the shipped one consumed its allocation
    books_balance()
    # Running it again changes nothing.
    again = suspension.handle_pending_orders(shop["radish_coop"], by=staff, reason="再次")
    assert again.cancelled == [] and Refund.objects.count() == 1


def test_a_station_order_is_cancelled_the_stations_way(shop, staff):
    station = make_station()
    make_staff(station)
    resident = make_resident(station, "王秀英", phone="13812345678")
    own = assisted_order(station, resident, [(shop["radish"], 2)])
    mixed = assisted_order(station, resident, [(shop["radish"], 1), (shop["crab"], 1)])

    outcome = suspend(shop["radish_coop"], staff)

    assert outcome.station_cancelled == [own.order.number]
    assert [number for number, _why in outcome.left] == [mixed.order.number]
    assert "其他合作社" in outcome.left[0][1]
    own.refresh_from_db()
    assert own.is_cancelled
    [drawer] = CashEntry.objects.filter(station_order=own, kind=CashEntry.Kind.REFUND)
    assert drawer.amount == -own.total
    # The mixed order is left for staff, untouched.
    assert not Refund.objects.filter(order=mixed.order).exists()
    assert set(mixed.order.lines.values_list("status", flat=True)) == {"pending"}
    books_balance()


def test_the_review_dashboards_suspend_button_does_the_same(client, shop, staff, buyer):
    order = cod_order([(shop["radish"], 1)], user=buyer)
    client.force_login(staff)
    coop = shop["radish_coop"]
    response = client.post(
        reverse("cooperatives-dashboard:detail", kwargs={"pk": coop.pk}),
        {"action": "suspend", "reason": "假冒产品"},
        follow=True,
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert f"已取消并退款 1 笔订单中未发出的商品：{order.number}" in response.content.decode()


# --- What the cooperative sees ---------------------------------------------------------------


def test_the_portal_says_why_and_refuses_publishing(client, shop, staff):
    coop = shop["radish_coop"]
    suspend(coop, staff, reason="售卖假冒地理标志产品")
    client.force_login(manager_of(coop))
    for name in ("coop:home", "coop:orders", "coop:products"):
        html = client.get(reverse(name)).content.decode()
        assert 'id="suspension-banner"' in html, name
        assert "售卖假冒地理标志产品" in html
        assert timezone.localdate().isoformat() in html
    hidden = factories.product("新萝卜", partner_obj=coop.partner, is_public=False)
    response = client.post(
        reverse("coop:product-publish", kwargs={"pk": hidden.pk}), {"action": "publish"}
    )
    assert response.status_code == 302
    hidden.refresh_from_db()
    assert not hidden.is_public


# --- The public credit record ----------------------------------------------------------------


def page(coop) -> str:
    return reverse("cooperatives:detail", kwargs={"pk": coop.pk})


def test_a_suspended_cooperative_keeps_its_page_with_the_reason(client, shop, staff):
    coop = shop["radish_coop"]
    suspend(coop, staff, reason="售卖假冒地理标志产品")
    response = client.get(page(coop))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="coop-suspended"' in html and "售卖假冒地理标志产品" in html
    assert shop["radish"].get_absolute_url() not in html  # no products
    assert 'aria-labelledby="coop-products"' not in html
    assert coop.legal_name not in client.get(reverse("cooperatives:list")).content.decode()
    applied = make_cooperative(
        "天津市待审合作社", credit_prefix="93120111MA05Q0009", status="applied"
    )
    assert client.get(page(applied)).status_code == 404


def test_the_record_shows_complaint_rate_and_suspensions(client, shop, staff, buyer):
    coop = shop["radish_coop"]
    orders = [cod_order([(shop["radish"], 1)], user=buyer) for _n in range(4)]
    for order in orders:
        deliver(order.lines.all())
    complaints.open_complaint(
        buyer, orders[0].lines.get(), kind=Complaint.Kind.QUALITY, description="萝卜糠心"
    )
    # An earlier suspension, lifted, then the present one.
    then = timezone.now() - timedelta(days=40)
    suspend(coop, staff, reason="资质过期")
    services.reinstate(coop, by=staff, reason="已补交资质")
    StatusChange.objects.filter(cooperative=coop).update(changed_at=then)
    suspend(coop, staff, reason="售卖假冒产品")

    record = credit_record.credit_record(coop)
    assert record.complaints.count == 1 and record.delivered_lines == 4
    assert record.complaint_rate == 25.0
    assert [(s.reason, s.until is not None) for s in record.suspensions] == [
        ("售卖假冒产品", False),
        ("资质过期", True),
    ]
    assert record.suspensions[1].since == then
    html = client.get(page(coop)).content.decode()
    credit = html.split('id="credit-record"')[1]
    assert 'id="complaint-rate">25.0' in credit
    assert "每 100 件已送达商品（订单行）的投诉数" in credit
    assert f"{then.astimezone(timezone.get_current_timezone()):%Y-%m-%d}" in credit
    assert "资质过期" in credit and "售卖假冒产品" in credit


def test_the_record_costs_the_same_queries_whatever_the_history(
    client, shop, staff, buyer, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    coop = shop["radish_coop"]

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page(coop)).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request fills the shared caches (menus, site tree)
    before = count()
    for _n in range(3):
        order = cod_order([(shop["radish"], 1)], user=buyer)
        deliver(order.lines.all())
        complaints.open_complaint(
            buyer, order.lines.get(), kind=Complaint.Kind.QUALITY, description="坏了"
        )
    suspend(coop, staff, reason="一")
    services.reinstate(coop, by=staff)
    count()  # the orders above changed stock, so the caches refill once
    assert count() == before
    with django_assert_max_num_queries(5):
        credit_record.credit_record(coop)
    assert coop.status == Cooperative.Status.VERIFIED


def test_a_line_picked_up_after_the_list_was_made_goes_on(shop, staff, buyer):
    """The pending lines are listed first and each order handled later: a line
    the carrier picked up in between is looked at again under the order's
    lock, and neither refunded nor its shipment cancelled."""
    order = cod_order([(shop["radish"], 1)], user=buyer)
    line_ids = list(order.lines.values_list("pk", flat=True))
    order.lines.update(status="shipped")  # the carrier's pickup, meanwhile

    suspension._ordinary_order(order, line_ids, shop["radish_coop"], by=staff, note="测试")

    assert not Refund.objects.filter(order=order).exists()
    assert set(order.lines.values_list("status", flat=True)) == {"shipped"}
    assert Shipment.objects.filter(order=order).exclude(status="cancelled").exists()
    books_balance()
