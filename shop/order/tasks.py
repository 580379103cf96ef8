"""Order tasks: the buyer's order confirmation, sent off the request.

The checkout queues it once the order has committed (``config.messaging.
after_commit``): with a broker a worker renders and sends it, so neither the
rendering nor a slow mail server holds up the buyer's "place order"; without
one (``make run``) it runs in-process at once, as before. Not retried: Oscar's
dispatcher records the message as it sends it, so a retry could send it
twice; a failure is logged (``send_order_placed_email``), the order stands.
"""

from __future__ import annotations

from celery import shared_task
from oscar.core.loading import get_model

Order = get_model("order", "Order")


@shared_task(name="order.send_placed_email")
def send_placed_email(order_id: int, language: str | None = None) -> None:
    from shop.payment.complete_payment import send_order_placed_email

    order = Order.objects.select_related("user").filter(pk=order_id).first()
    if order is not None:
        send_order_placed_email(order, language=language)
