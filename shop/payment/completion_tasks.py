"""The periodic task that makes sure no online payment is lost.

``payment.complete_pending`` (CELERY_BEAT_SCHEDULE, every minute) runs
shop/payment/complete_payment.complete_pending: payments paid or
authorised whose order is not placed yet (the webhook was lost, the buyer
closed the page, Stripe was unreachable for the capture), refused ones
whose automatic refund has not gone through, and recent unpaid ones
Stripe may have taken money for without telling us. Listed in
CELERY_IMPORTS (autodiscovery only finds tasks.py).
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="payment.complete_pending", acks_late=True)
def complete_pending() -> int:
    from shop.payment import complete_payment

    return complete_payment.complete_pending()
