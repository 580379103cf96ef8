"""Fixtures for cooperative tests: two verified cooperatives with a manager
and a member each, so every test can check that one cannot see the other."""

import pytest
from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from cooperatives.models import Cooperative, Membership
from divisions.models import Division

Partner = get_model("partner", "Partner")
User = get_user_model()


def valid_code(prefix17: str) -> str:
    from stdnum.cn import uscc

    return prefix17 + uscc.calc_check_digit(prefix17)


def make_cooperative(
    name: str,
    *,
    credit_prefix: str,
    division_code: str = "120111",
    status: str = Cooperative.Status.VERIFIED,
    username: str | None = None,
) -> Cooperative:
    partner = Partner.objects.create(name=name, is_selling=status == Cooperative.Status.VERIFIED)
    coop = Cooperative.objects.create(
        partner=partner,
        legal_name=name,
        display_name=name[:20],
        credit_code=valid_code(credit_prefix),
        entity_type=credit_prefix[:2],
        legal_representative="张三",
        contact_phone="13812345678",
        division=Division.objects.get(code=division_code),
        status=status,
    )
    username = username or f"mgr-{coop.pk}"
    manager = User.objects.create_user(username, f"{username}@example.com", "pw-coop-123")
    Membership.objects.create(cooperative=coop, user=manager, role=Membership.Role.MANAGER)
    member = User.objects.create_user(f"{username}-m", f"{username}-m@example.com", "pw-coop-123")
    Membership.objects.create(cooperative=coop, user=member, role=Membership.Role.MEMBER)
    return coop


@pytest.fixture
def coop_a(carriers):
    return make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )


@pytest.fixture
def coop_b(carriers):
    return make_cooperative(
        "天津市宁河区七里海生态养殖专业合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
    )


def manager_of(coop: Cooperative):
    return coop.memberships.get(role=Membership.Role.MANAGER).user


def member_of(coop: Cooperative):
    return coop.memberships.get(role=Membership.Role.MEMBER).user


@pytest.fixture
def manager_client(client, coop_a):
    client.force_login(manager_of(coop_a))
    return client


@pytest.fixture
def member_client(client, coop_a):
    client.force_login(member_of(coop_a))
    return client
