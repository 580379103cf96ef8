"""/station/: the station portal's home."""

from django.urls import path

from stations.portal import home

urlpatterns = [
    path("", home.HomeView.as_view(), name="home"),
]
