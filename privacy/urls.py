"""/accounts/privacy/: the account holder's own data."""

from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path("", views.PrivacyHomeView.as_view(), name="home"),
    path("export/", views.export_html, name="export"),
    path("export.json", views.export_json, name="export-json"),
    path("delete/", views.DeleteAccountView.as_view(), name="delete"),
]
