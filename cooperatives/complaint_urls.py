"""/complaints/: a buyer's complaints on their own order lines."""

from django.urls import path

from cooperatives import complaint_views as views

app_name = "complaints"
urlpatterns = [
    path("new/<int:line_pk>/", views.ComplaintCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ComplaintDetailView.as_view(), name="detail"),
    path("<int:pk>/escalate/", views.ComplaintEscalateView.as_view(), name="escalate"),
]
