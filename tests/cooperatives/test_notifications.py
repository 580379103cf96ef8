"""New-order and low-stock notices to cooperatives, by e-mail and SMS, sent
after the order commits and never able to break the checkout."""

import logging

import pytest
from django.core import mail
from django.test import Client
from oscar.core.loading import get_model

import config
import config.sms
from tests import factories
from tests.cooperatives.conftest import manager_of, member_of
from tests.cooperatives.order_helpers import order_of

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db


@pytest.fixture
def texts(monkeypatch):
    """Every SMS sent, as (phone, text), instead of the console backend."""
    sent = []
    monkeypatch.setattr(config.sms, "send_sms", lambda phone, text: sent.append((phone, text)))
    return sent


@pytest.fixture
def radish(coop_a):
    return factories.product("沙窝萝卜", price="25.00", stock=20, partner_obj=coop_a.partner)


@pytest.fixture
def crab(coop_b):
    return factories.product("七里海河蟹", price="88.00", stock=20, partner_obj=coop_b.partner)


def checkout(items, capture) -> tuple[Order, list]:
    """Place a guest order through the checkout pages; run what was queued
    for after the commit (``capture`` is django_capture_on_commit_callbacks)."""
    client = Client()
    factories.guest_checkout_to_preview(client, items)
    mail.outbox.clear()
    with capture(execute=True) as callbacks:
        response = factories.place_order(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.latest("pk"), callbacks


def test_new_order_notifies_each_cooperative_of_its_own_lines(
    china, radish, crab, coop_a, coop_b, texts, django_capture_on_commit_callbacks
):
    order, _callbacks = checkout([(radish, 2), (crab, 1)], django_capture_on_commit_callbacks)

    notices = [m for m in mail.outbox if "新订单" in m.subject]
    recipients = sorted(m.to[0] for m in notices)
    members_a = sorted(u.email for u in (manager_of(coop_a), member_of(coop_a)))
    members_b = sorted(u.email for u in (manager_of(coop_b), member_of(coop_b)))
    assert recipients == sorted(members_a + members_b)
    assert all(len(m.to) == 1 for m in notices)  # members do not see each other's address

    to_a = next(m for m in notices if m.to[0] == members_a[0])
    assert order.number in to_a.subject
    assert "沙窝萝卜 × 2" in to_a.body and "七里海河蟹" not in to_a.body
    assert "/coop/orders/" in to_a.body
    # Nothing about the buyer goes out.
    assert "buyer@example.com" not in to_a.body and "王小农" not in to_a.body
    to_b = next(m for m in notices if m.to[0] == members_b[0])
    assert "七里海河蟹 × 1" in to_b.body and "沙窝萝卜" not in to_b.body

    assert sorted(phone for phone, _text in texts) == sorted(
        [coop_a.contact_phone, coop_b.contact_phone]
    )
    assert all(order.number in text and "13812345678" not in text for _p, text in texts)


def test_nothing_is_sent_before_the_order_commits(china, radish, texts):
    client = Client()
    factories.guest_checkout_to_preview(client, [(radish, 1)])
    mail.outbox.clear()
    factories.place_order(client)  # the test's transaction never commits
    assert Order.objects.count() == 1
    assert not [m for m in mail.outbox if "新订单" in m.subject]
    assert texts == []


def test_failing_sms_gateway_is_retried_and_never_breaks_the_order(
    china, radish, coop_a, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    calls = []

    def flaky(phone, text):
        calls.append(phone)
        if len(calls) < 3:
            raise config.sms.SMSError("gateway timeout")

    monkeypatch.setattr(config.sms, "send_sms", flaky)
    # As a worker does: a failed attempt is retried, not raised to the
    # caller (the embedded set-up raises it at once, see the next test).
    monkeypatch.setitem(config.celery_app.conf, "task_eager_propagates", False)
    with caplog.at_level(logging.WARNING, logger="wangnong.messaging"):
        order, _callbacks = checkout([(radish, 1)], django_capture_on_commit_callbacks)
    assert calls == [coop_a.contact_phone] * 3  # failed twice, sent on the third try
    assert "will retry" in caplog.text
    assert order.lines.count() == 1


def test_gateway_down_is_logged_and_the_order_stands(
    china, radish, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def down(phone, text):
        raise config.sms.SMSError("gateway down")

    monkeypatch.setattr(config.sms, "send_sms", down)
    with caplog.at_level(logging.ERROR, logger="wangnong.messaging"):
        order, _callbacks = checkout([(radish, 1)], django_capture_on_commit_callbacks)
    assert order.pk
    assert "Notification task wangnong.send_sms" in caplog.text
    # The e-mails still went.
    assert [m for m in mail.outbox if "新订单" in m.subject]


def low_stock(texts) -> list[tuple[str, str]]:
    return [(phone, text) for phone, text in texts if "库存" in text]


def low_stock_mail() -> list:
    return [m for m in mail.outbox if "库存" in m.subject]


def test_low_stock_is_notified_once_when_it_falls_to_the_threshold(
    coop_a, radish, china, texts, django_capture_on_commit_callbacks
):
    record = StockRecord.objects.get(product=radish)
    record.num_in_stock = 10
    record.low_stock_threshold = 3
    record.save()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        order_of((radish, 6))  # 4 left: above the threshold
    assert low_stock_mail() == [] and low_stock(texts) == []

    with django_capture_on_commit_callbacks(execute=True):
        order_of((radish, 1))  # 3 left: at the threshold
    notices = low_stock_mail()
    assert sorted(m.to[0] for m in notices) == sorted(
        u.email for u in (manager_of(coop_a), member_of(coop_a))
    )
    assert "沙窝萝卜" in notices[0].subject
    assert "只剩 3" in notices[0].body and record.partner_sku in notices[0].body
    [(phone, text)] = low_stock(texts)
    assert phone == coop_a.contact_phone
    assert "沙窝萝卜" in text and "只剩 3" in text

    mail.outbox.clear()
    texts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_of((radish, 1))  # 2 left: still low, already told
    assert low_stock_mail() == [] and low_stock(texts) == []

    # Restocked above the threshold, then falling again: told again.
    record.refresh_from_db()
    record.num_in_stock += 10
    with django_capture_on_commit_callbacks(execute=True):
        record.save()
        order_of((radish, 9))
    assert len(low_stock(texts)) == 1


def test_stock_of_a_plain_partner_is_quiet(china, texts, django_capture_on_commit_callbacks):
    plain = factories.product("散户萝卜", stock=5, partner_obj=factories.partner("散户"))
    record = StockRecord.objects.get(product=plain)
    record.low_stock_threshold = 4
    record.save()
    with django_capture_on_commit_callbacks(execute=True):
        order_of((plain, 2))
    assert texts == []
