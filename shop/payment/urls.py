"""Payment URLs outside the checkout: Stripe's webhook."""

from django.urls import path

from shop.payment import webhooks

app_name = "payments"

urlpatterns = [
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
]
