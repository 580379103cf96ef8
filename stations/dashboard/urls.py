"""Platform staff's station management, mounted at /dashboard/stations/."""

from django.urls import path  # noqa: F401

app_name = "stations-dashboard"
urlpatterns: list = []
