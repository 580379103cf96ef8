"""/coop/complaints/: complaints about the cooperative's order lines."""

from django.urls import path

from cooperatives import complaint_views as views

urlpatterns = [
    path("", views.PortalComplaintListView.as_view(), name="complaints"),
    path("<int:pk>/", views.PortalComplaintDetailView.as_view(), name="complaint"),
]
