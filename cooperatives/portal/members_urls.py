"""/coop/members/: people and roles (cooperatives/portal/members.py)."""

from django.urls import path

from cooperatives.portal import members

urlpatterns = [
    path("", members.MemberListView.as_view(), name="members"),
    path("invite/", members.MemberInviteView.as_view(), name="member-invite"),
    path("<int:pk>/role/", members.MemberRoleView.as_view(), name="member-role"),
    path("<int:pk>/remove/", members.MemberRemoveView.as_view(), name="member-remove"),
    path(
        "invitations/<int:pk>/revoke/",
        members.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("join/<str:token>/", members.MemberJoinView.as_view(), name="member-join"),
]
