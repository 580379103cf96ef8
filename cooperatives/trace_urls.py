"""/t/: the public trace pages (short, for QR codes on box labels)."""

from django.urls import path

from cooperatives import trace_views

urlpatterns = [
    path("<slug:code>/", trace_views.trace, name="trace"),
    path("<slug:code>/<str:token>/", trace_views.trace, name="trace-parcel"),
]
