"""Driving the real checkout to an online payment, and Stripe's side of it,
for the online-payment tests (test_checkout_stripe, test_webhook,
test_complete_payment). Stripe is the local simulator (``stripe_sim``)."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import requests
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from shop.payment import ledger
from shop.payment.models import JournalEntry, Posting, StripePayment
from tests import factories
from tests.stripe_fixtures import PUBLISHABLE_KEY

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")

WEBHOOK_URL = "/payments/stripe/webhook/"
BUYER = "buyer@example.com"


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def to_preview(client, items, method: str, email: str = BUYER) -> None:
    """A guest's basket, address and delivery, then ``method`` chosen."""
    for product, quantity in items:
        factories.add_to_basket(client, product, quantity)
    response = client.post(reverse("checkout:index"), {"username": email, "options": "anonymous"})
    assert response.status_code == 302, response.content.decode()[:1000]
    factories.set_shipping_address(client)
    response = client.get(reverse("checkout:shipping-method"))
    assert response.status_code == 302
    response = client.post(reverse("checkout:payment-method"), {"method": method})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("checkout:preview")


def submit(client, **extra):
    return client.post(reverse("checkout:preview"), {"action": "place_order", **extra})


def start(client, items, method: str, email: str = BUYER) -> StripePayment:
    """Checkout up to the payment page; the StripePayment it made."""
    to_preview(client, items, method, email)
    response = submit(client)
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = StripePayment.objects.order_by("-pk").first()
    assert response["Location"] == reverse("checkout:pay", kwargs={"token": payment.token})
    return payment


def local(url: str) -> str:
    """An absolute URL of the site as a path for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def poll(client, payment: StripePayment, *, quiet: bool = True) -> dict:
    """The pay page's poll. ``quiet``: as if no webhook had come for a while,
    so the poll asks Stripe itself (pay_views.ASK_STRIPE_AFTER)."""
    if quiet:
        StripePayment.objects.filter(pk=payment.pk).update(
            updated_at=timezone.now() - dt.timedelta(minutes=1)
        )
    response = client.get(
        reverse("checkout:pay-status", kwargs={"token": payment.token}), {"format": "json"}
    )
    assert response.status_code == 200
    return response.json()


def return_page(client, payment: StripePayment):
    return client.get(reverse("checkout:pay-return", kwargs={"token": payment.token}))


def events_for(sim, intent_id: str, kind: str) -> list[dict]:
    return [e for e in sim.events(kind) if e["data"]["object"].get("id") == intent_id]


def deliver(client, sim, event: dict, *, timestamp: int | None = None):
    """POST ``event`` to the webhook as Stripe would, signed."""
    body, header = sim.signed(event, timestamp=timestamp)
    return client.post(
        WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def late_event(event: dict, kind: str, **changes) -> dict:
    """A copy of ``event`` as another (later-delivered) event: new id and
    type, the object changed by ``changes``."""
    copy = json.loads(json.dumps(event))
    copy["id"] = event["id"] + "_" + kind.rsplit(".", 1)[-1]
    copy["type"] = kind
    copy["data"]["object"].update(changes)
    return copy


def confirm_card(sim, payment: StripePayment, card: str = "pm_card_visa") -> dict:
    """What Stripe.js's confirmCardPayment does on the card page: confirm
    with the publishable key and the client secret."""
    intent = sim.payment_intent(payment.intent_id)
    response = http().post(
        f"{sim.base_url}/v1/payment_intents/{payment.intent_id}/confirm",
        data={"client_secret": intent["client_secret"], "payment_method": card},
        headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}"},
    )
    return response.json()


def sale_entries(order) -> int:
    return JournalEntry.objects.filter(kind="sale", reference=order.number).count()


def balance(code: str) -> int:
    return Posting.objects.filter(account__code=code).aggregate(s=Sum("amount"))["s"] or 0


def assert_books_balance() -> None:
    assert ledger.trial_balance() == 0


def basket_lines(client) -> list[tuple[str, int]]:
    page = client.get(reverse("basket:summary"))
    basket = page.context["basket"]
    return [(line.product.get_title(), line.quantity) for line in basket.all_lines()]
