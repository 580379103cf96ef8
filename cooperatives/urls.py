"""Public cooperative pages and self-service registration (/cooperatives/)."""

from django.urls import path  # noqa: F401

app_name = "cooperatives"
urlpatterns: list = []
