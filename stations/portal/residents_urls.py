"""/station/residents/: find, register, view and edit residents."""

from django.urls import path

from stations.portal import residents

urlpatterns = [
    path("", residents.ResidentListView.as_view(), name="residents"),
    path("new/", residents.ResidentCreateView.as_view(), name="resident-create"),
    path("<int:pk>/", residents.ResidentDetailView.as_view(), name="resident-detail"),
    path("<int:pk>/edit/", residents.ResidentEditView.as_view(), name="resident-edit"),
    path("<int:pk>/contact/", residents.ResidentContactView.as_view(), name="resident-contact"),
]
