"""/dashboard/complaints/: platform staff arbitrate complaints."""

from django.urls import path

from cooperatives import complaint_views as views

app_name = "complaints-dashboard"
urlpatterns = [
    path("", views.StaffComplaintListView.as_view(), name="list"),
    path("<int:pk>/", views.StaffComplaintDetailView.as_view(), name="detail"),
]
