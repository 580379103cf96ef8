"""The review queue, mounted at /dashboard/cooperatives/ (config/urls.py)."""

from django.urls import path

from cooperatives.dashboard import views

app_name = "cooperatives-dashboard"
urlpatterns = [
    path("", views.ReviewListView.as_view(), name="list"),
    path("<int:pk>/", views.ReviewDetailView.as_view(), name="detail"),
]
