"""Members and roles: managers invite by mobile or e-mail (link on screen,
e-mail, SMS), the invited person joins through the link, managers change
roles and remove people; members cannot; a cooperative keeps a manager."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from config import sms
from cooperatives import listings
from cooperatives.listings import ListingData
from cooperatives.models import Invitation, Membership
from cooperatives.portal import members
from tests import factories
from tests.cooperatives.conftest import manager_of, member_of

pytestmark = pytest.mark.django_db

User = get_user_model()
StockRecord = get_model("partner", "StockRecord")


@pytest.fixture(autouse=True)
def _sms_outbox(settings):
    settings.SMS_BACKEND = "config.sms.LocmemBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def invite(client, **data):
    payload = {"phone": "", "email": "", "role": "member", **data}
    return client.post(reverse("coop:member-invite"), payload)


def test_manager_invites_by_email(manager_client, coop_a):
    response = invite(manager_client, email="Li.Si@Example.com")
    assert response.status_code == 302
    invitation = Invitation.objects.get(cooperative=coop_a)
    assert invitation.email == "li.si@example.com" and invitation.role == "member"
    link = reverse("coop:member-join", kwargs={"token": invitation.token})
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    assert mail.outbox[0].to == ["li.si@example.com"]
    page = manager_client.get(reverse("coop:members")).content.decode()
    assert link in page  # the manager sees the link to pass on


def test_manager_invites_by_phone_and_an_sms_is_sent(manager_client, coop_a):
    response = invite(manager_client, phone="+86 138-0022-3344", role="manager")
    assert response.status_code == 302
    invitation = Invitation.objects.get(cooperative=coop_a)
    assert invitation.phone == "13800223344" and invitation.role == "manager"
    assert [m.phone for m in sms.outbox] == ["13800223344"]
    assert invitation.token in sms.outbox[0].text
    assert not mail.outbox


def test_default_sms_backend_only_logs(settings, caplog):
    settings.SMS_BACKEND = "config.sms.ConsoleBackend"
    with caplog.at_level("INFO", logger="wangnong.sms"):
        sms.send_sms("13800000000", "测试")
    assert "13800000000" in caplog.text and "测试" in caplog.text


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "请填写对方的手机号或电子邮箱"),
        ({"phone": "12345"}, "手机号应为 11 位数字"),
        ({"email": "not-an-email"}, "Email 地址"),
    ],
)
def test_invite_form_errors_keep_what_was_typed(manager_client, coop_a, data, message):
    response = invite(manager_client, **data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    for value in data.values():
        assert f'value="{value}"' in html
    assert not Invitation.objects.exists()


def test_members_cannot_manage_people(member_client, coop_a):
    manager = coop_a.memberships.get(role="manager")
    assert member_client.get(reverse("coop:members")).status_code == 200
    assert member_client.get(reverse("coop:member-invite")).status_code == 403
    assert invite(member_client, email="x@example.com").status_code == 403
    url = reverse("coop:member-role", kwargs={"pk": manager.pk})
    assert member_client.post(url, {"role": "member"}).status_code == 403
    url = reverse("coop:member-remove", kwargs={"pk": manager.pk})
    assert member_client.post(url).status_code == 403
    manager.refresh_from_db()
    assert manager.role == "manager"


def test_members_do_not_see_invitation_links(client, coop_a):
    invitation = members.create_invitation(coop_a, by=manager_of(coop_a), email="z@example.com")
    client.force_login(member_of(coop_a))
    assert invitation.token not in client.get(reverse("coop:members")).content.decode()


def test_invited_person_registers_joins_and_edits_stock(client, coop_a):
    factories.category("蔬菜")
    product = listings.create_listing(
        coop_a,
        ListingData(title="沙窝萝卜", category="蔬菜", unit="斤", price=Decimal("6"), stock=10),
    )
    client.force_login(manager_of(coop_a))
    invite(client, email="wangwu@example.com")
    invitation = Invitation.objects.get()
    join = reverse("coop:member-join", kwargs={"token": invitation.token})

    client.logout()
    response = client.get(join)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    newcomer = User.objects.create_user("wangwu", "wangwu@example.com", "pw-wang-123")
    client.force_login(newcomer)
    page = client.get(join).content.decode()
    assert "接受邀请" in page and str(coop_a) in page
    response = client.post(join)
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    assert membership.cooperative == coop_a and membership.role == "member"
    invitation.refresh_from_db()
    assert invitation.accepted_by == newcomer and not invitation.is_open

    record = product.stockrecords.get()
    prefix = f"sr{record.pk}"
    response = client.post(
        reverse("coop:stock-update", kwargs={"pk": record.pk}),
        {f"{prefix}-price": "6.00", f"{prefix}-stock": "42"},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.num_in_stock == 42
    # The link works once.
    assert "已经被使用过了" in client.get(join).content.decode()


def test_email_invitation_needs_the_invited_address(client, coop_a):
    invitation = members.create_invitation(coop_a, by=manager_of(coop_a), email="a@example.com")
    client.force_login(User.objects.create_user("other", "other@example.com", "pw"))
    join = reverse("coop:member-join", kwargs={"token": invitation.token})
    assert "a@example.com" in client.get(join).content.decode()
    client.post(join)
    assert not Membership.objects.filter(user__username="other").exists()


def test_a_member_of_another_cooperative_cannot_join(client, coop_a, coop_b):
    invitation = members.create_invitation(coop_a, by=manager_of(coop_a), phone="13800001111")
    client.force_login(member_of(coop_b))
    join = reverse("coop:member-join", kwargs={"token": invitation.token})
    response = client.post(join)
    assert "一个账号只能加入一个合作社" in response.content.decode()
    assert member_of(coop_b).cooperative_membership.cooperative == coop_b


def test_expired_and_revoked_invitations(client, coop_a, manager_client):
    user = User.objects.create_user("late", "late@example.com", "pw")
    expired = members.create_invitation(coop_a, by=manager_of(coop_a), phone="13800001111")
    Invitation.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - timedelta(days=members.INVITATION_DAYS + 1)
    )
    revoked = members.create_invitation(coop_a, by=manager_of(coop_a), phone="13800002222")
    url = reverse("coop:invitation-revoke", kwargs={"pk": revoked.pk})
    assert manager_client.post(url).status_code == 302
    manager_client.logout()
    client.force_login(user)
    for invitation, message in [(expired, "已过期"), (revoked, "已被撤销")]:
        join = reverse("coop:member-join", kwargs={"token": invitation.token})
        assert message in client.post(join).content.decode()
    assert not Membership.objects.filter(user=user).exists()
    assert client.get(reverse("coop:member-join", kwargs={"token": "nope"})).status_code == 404


def test_roles_and_the_last_manager(manager_client, coop_a):
    manager = coop_a.memberships.get(role="manager")
    member = coop_a.memberships.get(role="member")
    role_url = reverse("coop:member-role", kwargs={"pk": manager.pk})
    remove_url = reverse("coop:member-remove", kwargs={"pk": manager.pk})

    # The only manager can neither step down nor leave.
    manager_client.post(role_url, {f"m{manager.pk}-role": "member"})
    manager.refresh_from_db()
    assert manager.role == "manager"
    response = manager_client.post(remove_url, follow=True)
    assert "不能移出唯一的负责人" in response.content.decode()
    assert Membership.objects.filter(pk=manager.pk).exists()

    # Promote the member; now the first manager may step down.
    url = reverse("coop:member-role", kwargs={"pk": member.pk})
    assert manager_client.post(url, {f"m{member.pk}-role": "manager"}).status_code == 302
    member.refresh_from_db()
    assert member.role == "manager"
    manager_client.post(role_url, {f"m{manager.pk}-role": "member"})
    manager.refresh_from_db()
    assert manager.role == "member"
    # …and, no longer a manager, cannot change roles any more.
    assert manager_client.post(url, {f"m{member.pk}-role": "member"}).status_code == 403


def test_manager_removes_a_member_and_may_leave_if_not_the_last(manager_client, coop_a):
    manager = coop_a.memberships.get(role="manager")
    member = coop_a.memberships.get(role="member")
    response = manager_client.post(reverse("coop:member-remove", kwargs={"pk": member.pk}))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    other = User.objects.create_user("second", "second@example.com", "pw")
    Membership.objects.create(cooperative=coop_a, user=other, role="manager")
    response = manager_client.post(reverse("coop:member-remove", kwargs={"pk": manager.pk}))
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Membership.objects.filter(pk=manager.pk).exists()
    assert manager_client.get(reverse("coop:products")).status_code == 404


def test_reinviting_revokes_the_older_link(coop_a):
    first = members.create_invitation(coop_a, by=None, email="same@example.com")
    second = members.create_invitation(coop_a, by=None, email="SAME@example.com")
    first.refresh_from_db()
    assert first.revoked_at is not None and second.is_open
