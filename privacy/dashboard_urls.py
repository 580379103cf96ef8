"""/dashboard/privacy/: staff browse the contact-access log and deletions."""

from django.urls import path

from privacy import views

app_name = "privacy-dashboard"
urlpatterns = [
    path("", views.ContactAccessListView.as_view(), name="access-log"),
    path("deletions/", views.DeletionRecordListView.as_view(), name="deletions"),
    path(
        "residents/<int:pk>/export.json",
        views.ResidentExportView.as_view(),
        name="resident-export",
    ),
    path("residents/<int:pk>/erase/", views.ResidentEraseView.as_view(), name="resident-erase"),
]
