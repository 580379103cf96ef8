"""/coop/profile/: the cooperative's profile, photos, bank details and
certifications (names in the portal's ``coop`` namespace)."""

from django.urls import path

from cooperatives.portal import profile

urlpatterns = [
    path("", profile.ProfileView.as_view(), name="profile"),
    path("edit/", profile.ProfileEditView.as_view(), name="profile-edit"),
    path("bank/", profile.BankDetailsView.as_view(), name="bank-details"),
    path("photos/add/", profile.PhotoCreateView.as_view(), name="photo-create"),
    path("photos/<int:pk>/delete/", profile.PhotoDeleteView.as_view(), name="photo-delete"),
    path("certifications/", profile.CertificationListView.as_view(), name="certifications"),
    path(
        "certifications/add/",
        profile.CertificationCreateView.as_view(),
        name="certification-create",
    ),
    path(
        "certifications/<int:pk>/edit/",
        profile.CertificationEditView.as_view(),
        name="certification-edit",
    ),
    path(
        "certifications/<int:pk>/delete/",
        profile.CertificationDeleteView.as_view(),
        name="certification-delete",
    ),
]
