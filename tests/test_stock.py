"""Stock that cannot be oversold: StockRecord.allocate, and a guest checkout
with cash on delivery that either places the order or refuses cleanly."""

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import transaction
from django.urls import reverse
from oscar.apps.checkout import signals as checkout_signals
from oscar.core.loading import get_model

from shop.partner.exceptions import InsufficientStock
from tests import factories

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
Source = get_model("payment", "Source")
StockRecord = get_model("partner", "StockRecord")


def stock_of(product) -> StockRecord:
    return StockRecord.objects.get(product=product)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- StockRecord.allocate ------------------------------------------------------


def test_allocate_within_stock(radish):
    record = stock_of(radish)
    record.allocate(4)
    record.allocate(6)  # exactly what is left
    assert record.num_allocated == 10
    assert stock_of(radish).num_allocated == 10
    assert stock_of(radish).net_stock_level == 0


def test_allocate_refuses_when_short_and_changes_nothing(radish):
    record = stock_of(radish)
    record.allocate(8)
    with pytest.raises(InsufficientStock) as info:
        record.allocate(3)
    message = str(info.value)
    assert "沙窝萝卜" in message
    assert "库存不足" in message and "3" in message and "2" in message
    assert info.value.requested == 3 and info.value.available == 2
    assert stock_of(radish).num_allocated == 8


def test_sold_out_message(radish):
    record = stock_of(radish)
    record.allocate(10)
    with pytest.raises(InsufficientStock) as info:
        record.allocate(1)
    assert "沙窝萝卜" in str(info.value) and "售罄" in str(info.value)
    assert stock_of(radish).num_allocated == 10


def test_allocate_decides_on_the_database_row_not_a_stale_copy(radish):
    """Two buyers holding the same (stale) stock record: the second one is
    refused although its copy still says everything is free."""
    first, second = stock_of(radish), stock_of(radish)
    first.allocate(10)
    assert second.num_allocated in (None, 0)
    with pytest.raises(InsufficientStock):
        second.allocate(1)
    assert stock_of(radish).num_allocated == 10


def test_allocate_is_a_no_op_without_stock_tracking(cooperative):
    untracked = factories.product_class("预售", track_stock=False)
    product = factories.product(
        "小站稻", stock=0, partner_obj=cooperative, product_class_obj=untracked
    )
    record = stock_of(product)
    record.allocate(50)
    assert stock_of(product).num_allocated in (None, 0)


def test_order_creator_allocates_every_line_or_none(radish, cooperative, vegetables):
    """The path the checkout uses, without the web layer: a short line undoes
    the lines allocated before it."""
    from django.db import transaction
    from oscar.apps.order.utils import OrderCreator
    from oscar.core.prices import Price

    from shop.shipping.repository import station_delivery

    grapes = factories.product(
        "茶淀玫瑰香葡萄", stock=5, partner_obj=cooperative, product_class_obj=vegetables
    )
    basket = factories.basket((radish, 2), (grapes, 6))
    shipping = station_delivery()
    charge = shipping.calculate(basket)
    total = Price(
        currency="CNY",
        excl_tax=basket.total_excl_tax + charge.excl_tax,
        incl_tax=basket.total_incl_tax + charge.incl_tax,
    )
    with pytest.raises(InsufficientStock), transaction.atomic():
        OrderCreator().place_order(
            basket=basket,
            total=total,
            shipping_method=shipping,
            shipping_charge=charge,
            order_number="2601010000001",
        )
    assert not Order.objects.exists()
    assert stock_of(radish).num_allocated in (None, 0)
    assert stock_of(grapes).num_allocated in (None, 0)


# --- Checkout -----------------------------------------------------------------


def test_guest_checkout_with_cash_on_delivery(
    client, china, radish, django_capture_on_commit_callbacks
):
    factories.guest_checkout_to_preview(client, [(radish, 3)], email="buyer@example.com")
    preview = client.get(reverse("checkout:preview"))
    assert preview.status_code == 200
    assert "沙窝萝卜" in preview.content.decode()

    # The confirmation is queued once the order commits (shop/order/tasks.py).
    with django_capture_on_commit_callbacks(execute=True):
        response = factories.place_order(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("checkout:thank-you")

    order = Order.objects.get()
    assert order.status == "pending"
    assert order.guest_email == "buyer@example.com"
    assert order.user is None
    assert order.num_items == 3
    assert order.shipping_code == "carrier-delivery"
    assert order.shipping_address.last_name == "王小农"
    source = Source.objects.get(order=order)
    assert source.source_type.code == "cash-on-delivery"
    assert source.amount_allocated == order.total_incl_tax
    assert source.amount_debited == 0
    assert stock_of(radish).num_allocated == 3

    # One confirmation to the buyer (the cooperative's new-order notices go
    # to its members, cooperatives/notifications.py).
    [email] = [m for m in mail.outbox if "buyer@example.com" in m.to]
    assert email.to == ["buyer@example.com"]
    bodies = [email.subject, email.body] + [c for c, _ in getattr(email, "alternatives", [])]
    assert any(order.number in text for text in bodies)

    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert order.number in thanks.content.decode()


def test_stock_gone_before_place_order_is_refused_at_the_basket(client, china, radish):
    """Someone else bought the stock while this buyer looked at the preview."""
    factories.guest_checkout_to_preview(client, [(radish, 3)])
    StockRecord.objects.filter(product=radish).update(num_in_stock=2)
    addresses = ShippingAddress.objects.count()

    response = factories.place_order(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("basket:summary")
    assert any("沙窝萝卜" in m for m in messages_of(response))
    assert not Order.objects.exists()
    assert ShippingAddress.objects.count() == addresses
    basket = Basket.objects.get()
    assert basket.status == Basket.OPEN
    assert basket.num_items == 3


@pytest.fixture
def stock_taken_during_placement():
    """Simulate the race the pre-checks cannot see: between the availability
    check and the allocation, another order takes the stock. Oscar sends
    post_payment right before the order is written."""
    changes = {}

    def take(sender, view, **kwargs):
        for product, num_in_stock in changes.items():
            StockRecord.objects.filter(product=product).update(num_in_stock=num_in_stock)

    checkout_signals.post_payment.connect(take, dispatch_uid="test-take-stock")
    yield changes
    checkout_signals.post_payment.disconnect(dispatch_uid="test-take-stock")


def test_stock_gone_during_placement_rolls_everything_back(
    client, china, radish, cooperative, vegetables, stock_taken_during_placement
):
    grapes = factories.product(
        "茶淀玫瑰香葡萄",
        price="35.00",
        stock=5,
        partner_obj=cooperative,
        product_class_obj=vegetables,
    )
    factories.guest_checkout_to_preview(client, [(radish, 2), (grapes, 4)])
    addresses = ShippingAddress.objects.count()
    # The radish (allocated first or second, whichever) still has enough;
    # the grapes drop to 1 between the checks and the allocation.
    stock_taken_during_placement[grapes] = 1

    response = factories.place_order(client)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("basket:summary")
    msgs = messages_of(response)
    assert any("茶淀玫瑰香葡萄" in m and "库存不足" in m for m in msgs), msgs
    assert not Order.objects.exists()
    # The whole placement is one transaction: no address row, no allocation.
    assert ShippingAddress.objects.count() == addresses
    assert stock_of(radish).num_allocated in (None, 0)
    assert stock_of(grapes).num_allocated in (None, 0)
    assert not mail.outbox
    # The basket is open again with both lines, and is still the buyer's.
    basket = Basket.objects.get()
    assert basket.status == Basket.OPEN
    assert sorted((line.product.title, line.quantity) for line in basket.all_lines()) == [
        ("沙窝萝卜", 2),
        ("茶淀玫瑰香葡萄", 4),
    ]
    page = client.get(reverse("basket:summary"))
    assert page.status_code == 200
    assert page.wsgi_request.basket.pk == basket.pk

    # With the quantity lowered the buyer can finish the same basket.
    line = basket.all_lines().get(product=grapes)
    line.quantity = 1
    line.save()
    response = factories.place_order(client)
    assert response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.num_items == 3
    assert stock_of(grapes).num_allocated == 1
    assert stock_of(radish).num_allocated == 2


class BrokenMailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPServerDisconnected("mail server went away")


def test_mail_failure_does_not_undo_a_placed_order(client, china, radish, settings):
    """The order is in the database once placed; a mail server that is down
    must not show the buyer an error and re-open the basket (they would
    order again)."""
    settings.EMAIL_BACKEND = "tests.test_stock.BrokenMailBackend"
    factories.guest_checkout_to_preview(client, [(radish, 1)])
    response = factories.place_order(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert Basket.objects.get().status == Basket.SUBMITTED
    assert client.get(response["Location"]).status_code == 200
    assert order.number


@pytest.mark.django_db(transaction=True)
def test_placing_an_order_does_not_reindex_the_product(client, china, radish, monkeypatch):
    """Stock levels are not in the search document: allocation (Oscar sends
    post_save by hand for it) must not re-index every product ordered."""
    import shop.search.indexing

    calls = []
    monkeypatch.setattr(shop.search.indexing, "index_product_ids", lambda ids: calls.append(ids))
    factories.guest_checkout_to_preview(client, [(radish, 1)])
    response = factories.place_order(client)
    assert response["Location"] == reverse("checkout:thank-you")
    assert Order.objects.count() == 1
    assert calls == []


@pytest.mark.django_db(transaction=True)
def test_search_index_failure_does_not_undo_a_committed_change(radish, monkeypatch):
    """Re-indexing runs after commit; if it fails, the saved change stands."""
    import shop.search.indexing

    def broken(product_ids):
        raise RuntimeError("search index unavailable")

    monkeypatch.setattr(shop.search.indexing, "index_product_ids", broken)
    with transaction.atomic():
        radish.title = "沙窝萝卜 新季"
        radish.save()
    radish.refresh_from_db()
    assert radish.title == "沙窝萝卜 新季"
