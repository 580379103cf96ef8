from django.urls import path

from logistics import webhooks

app_name = "logistics"

urlpatterns = [
    path("webhooks/<slug:code>/", webhooks.carrier_webhook, name="webhook"),
]
