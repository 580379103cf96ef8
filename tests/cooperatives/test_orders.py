"""The portal's orders: a cooperative sees and fulfils only its own lines of
an order (a basket may span several cooperatives), with the buyer's
delivery details shown only as far as needed to ship."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from cooperatives import fulfilment
from cooperatives.models import FulfilmentEvent
from cooperatives.privacy import mask_phone
from tests import factories
from tests.cooperatives.conftest import manager_of, member_of
from tests.cooperatives.order_helpers import order_of

Order = get_model("order", "Order")
Line = get_model("order", "Line")
StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db

RADISH = "沙窝萝卜 5斤装"
CRAB = "七里海河蟹 3两公蟹"


@pytest.fixture
def radish(coop_a):
    return factories.product(RADISH, price="25.00", stock=20, partner_obj=coop_a.partner)


@pytest.fixture
def crab(coop_b):
    return factories.product(CRAB, price="88.00", stock=20, partner_obj=coop_b.partner)


@pytest.fixture
def mixed_order(china, radish, crab):
    """A guest's order through the real checkout: 2 radish boxes from
    cooperative A and 1 crab box from cooperative B."""
    client = Client()
    factories.guest_checkout_to_preview(client, [(radish, 2), (crab, 1)])
    response = factories.place_order(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.get()


def line_of(order, partner) -> Line:
    return order.lines.get(partner=partner)


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_action(client, line, action, follow=False, **extra):
    return client.post(
        reverse("coop:order-line-status", kwargs={"pk": line.pk}),
        {"action": action, **extra},
        follow=follow,
    )


# --- Scoping -------------------------------------------------------------------


def test_mixed_order_each_cooperative_sees_only_its_own_lines(mixed_order, coop_a, coop_b):
    line_a, line_b = line_of(mixed_order, coop_a.partner), line_of(mixed_order, coop_b.partner)
    a, b = portal(member_of(coop_a)), portal(member_of(coop_b))

    page_a = a.get(reverse("coop:orders")).content.decode()
    assert RADISH in page_a and mixed_order.number in page_a
    assert CRAB not in page_a
    page_b = b.get(reverse("coop:orders")).content.decode()
    assert CRAB in page_b and RADISH not in page_b

    # The other cooperative's line of the very same order is a 404 everywhere.
    assert a.get(reverse("coop:order-line", kwargs={"pk": line_b.pk})).status_code == 404
    assert b.get(reverse("coop:order-line", kwargs={"pk": line_a.pk})).status_code == 404
    assert post_action(a, line_b, fulfilment.ACCEPT).status_code == 404
    line_b.refresh_from_db()
    assert line_b.status == fulfilment.PENDING
    assert a.get(reverse("coop:order-line", kwargs={"pk": line_a.pk})).status_code == 200

    # Nor does it show in A's view of the order, packing list or export.
    detail = a.get(reverse("coop:order-line", kwargs={"pk": line_a.pk})).content.decode()
    assert CRAB not in detail
    packing = a.get(reverse("coop:packing-list"), {"line": [line_a.pk, line_b.pk]})
    assert RADISH in packing.content.decode() and CRAB not in packing.content.decode()
    export = b"".join(a.get(reverse("coop:sales-export")).streaming_content).decode("utf-8-sig")
    assert RADISH in export and CRAB not in export


def test_service_refuses_another_cooperatives_line(mixed_order, coop_a, coop_b):
    line_b = line_of(mixed_order, coop_b.partner)
    with pytest.raises(PermissionDenied):
        fulfilment.advance(line_b, fulfilment.ACCEPT, cooperative=coop_a, by=member_of(coop_a))
    line_b.refresh_from_db()
    assert line_b.status == fulfilment.PENDING
    assert not FulfilmentEvent.objects.exists()


def test_portal_needs_a_cooperative_membership(mixed_order, coop_a, django_user_model):
    line_a = line_of(mixed_order, coop_a.partner)
    url = reverse("coop:order-line", kwargs={"pk": line_a.pk})
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    stranger = django_user_model.objects.create_user("stranger", "s@example.com", "pw-123-abc")
    assert portal(stranger).get(url).status_code == 404
    assert portal(stranger).get(reverse("coop:orders")).status_code == 404


def test_cooperative_accounts_cannot_use_oscars_dashboard(mixed_order, coop_a, coop_b):
    """Oscar's dashboard would show a partner user the other cooperative's
    lines of a mixed order; cooperative accounts are not staff and do not
    get in at all."""
    line_b = line_of(mixed_order, coop_b.partner)
    for user in (member_of(coop_a), manager_of(coop_a)):
        assert not user.is_staff
        client = portal(user)
        for url in (
            reverse("dashboard:order-list"),
            reverse("dashboard:order-detail", kwargs={"number": mixed_order.number}),
            reverse(
                "dashboard:order-line-detail",
                kwargs={"number": mixed_order.number, "line_id": line_b.pk},
            ),
        ):
            response = client.get(url)
            assert response.status_code in (302, 403, 404), url
            assert CRAB not in response.content.decode()


# --- Delivery details ------------------------------------------------------------


@pytest.mark.parametrize(
    "value, masked",
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("022-23456789", "022****6789"),
        ("12345678", "****5678"),
        ("12345", "***45"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


def test_line_detail_shows_what_is_needed_to_ship_and_no_more(mixed_order, coop_a):
    line_a = line_of(mixed_order, coop_a.partner)
    page = portal(member_of(coop_a)).get(reverse("coop:order-line", kwargs={"pk": line_a.pk}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "王小农" in html  # recipient
    assert "138****5678" in html  # masked phone
    assert "13812345678" not in html and "8613812345678" not in html
    assert "西青区" in html and "辛口镇" in html and "水高庄村 8 号" in html  # full address
    assert mixed_order.email not in html and "buyer@example.com" not in html
    assert "接单" in html  # the next step's button


# --- Status transitions ----------------------------------------------------------


def test_accept_pack_hand_over_records_who_and_when(mixed_order, coop_a, radish):
    member = member_of(coop_a)
    client = portal(member)
    line_a = line_of(mixed_order, coop_a.partner)
    record = StockRecord.objects.get(product=radish)
    assert (record.num_in_stock, record.num_allocated) == (20, 2)

    response = post_action(client, line_a, fulfilment.ACCEPT)
    assert response.status_code == 302
    assert response["Location"] == reverse("coop:order-line", kwargs={"pk": line_a.pk})
    line_a.refresh_from_db()
    assert line_a.status == fulfilment.ACCEPTED
    mixed_order.refresh_from_db()
    assert mixed_order.status == "processing"  # the buyer sees 备货中

    page = client.get(response["Location"]).content.decode()
    assert "已接单" in page and "标记为已打包" in page

    assert post_action(client, line_a, fulfilment.PACK).status_code == 302
    assert post_action(client, line_a, fulfilment.HAND_OVER).status_code == 302
    line_a.refresh_from_db()
    assert line_a.status == fulfilment.SHIPPED

    events = list(FulfilmentEvent.objects.filter(line=line_a))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("pending", "accepted"),
        ("accepted", "packed"),
        ("packed", "shipped"),
    ]
    assert all(e.changed_by == member and e.changed_at for e in events)
    # Handed over: the two boxes have left the stock and the allocation.
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (18, 0)
    # Cooperative B's line is untouched, so the order is not shipped yet.
    mixed_order.refresh_from_db()
    assert mixed_order.status == "processing"


def test_illegal_transitions_are_refused_with_a_clear_message(mixed_order, coop_a):
    client = portal(member_of(coop_a))
    line_a = line_of(mixed_order, coop_a.partner)

    response = post_action(client, line_a, fulfilment.PACK)  # not accepted yet
    assert response.status_code == 302
    line_a.refresh_from_db()
    assert line_a.status == fulfilment.PENDING
    page = client.get(response["Location"]).content.decode()
    assert "当前状态为“待接单”，不能改为“已打包”" in page

    response = post_action(client, line_a, "teleport", follow=True)
    assert "未知的操作" in response.content.decode()

    post_action(client, line_a, fulfilment.ACCEPT)
    response = post_action(client, line_a, fulfilment.ACCEPT, follow=True)
    assert "当前状态为“已接单”，不能改为“已接单”" in response.content.decode()
    assert FulfilmentEvent.objects.filter(line=line_a).count() == 1

    with pytest.raises(ValidationError):
        fulfilment.advance(line_a, fulfilment.HAND_OVER, cooperative=coop_a)
    assert (
        client.get(reverse("coop:order-line-status", kwargs={"pk": line_a.pk})).status_code == 405
    )


def test_status_change_goes_back_to_a_safe_next_page(mixed_order, coop_a):
    client = portal(member_of(coop_a))
    line_a = line_of(mixed_order, coop_a.partner)
    orders = reverse("coop:orders")
    assert post_action(client, line_a, fulfilment.ACCEPT, next=orders)["Location"] == orders
    response = post_action(client, line_a, fulfilment.PACK, next="https://evil.example/")
    assert response["Location"] == reverse("coop:order-line", kwargs={"pk": line_a.pk})


def test_order_is_shipped_once_every_cooperative_has_handed_over(mixed_order, coop_a, coop_b):
    line_a, line_b = line_of(mixed_order, coop_a.partner), line_of(mixed_order, coop_b.partner)
    for coop, line in ((coop_a, line_a), (coop_b, line_b)):
        for action in (fulfilment.ACCEPT, fulfilment.PACK):
            fulfilment.advance(line, action, cooperative=coop, by=member_of(coop))
    fulfilment.advance(line_a, fulfilment.HAND_OVER, cooperative=coop_a)
    mixed_order.refresh_from_db()
    assert mixed_order.status == "processing"

    fulfilment.advance(line_b, fulfilment.HAND_OVER, cooperative=coop_b)
    mixed_order.refresh_from_db()
    assert mixed_order.status == "shipped"
    changes = list(
        mixed_order.status_changes.order_by("date_created", "pk").values_list(
            "old_status", "new_status"
        )
    )
    assert changes == [("pending", "processing"), ("processing", "shipped")]


def test_cancelled_lines_do_not_hold_back_the_shipment(coop_a, radish, china):
    other = factories.product("沙窝萝卜礼盒", price="60.00", stock=5, partner_obj=coop_a.partner)
    order = order_of((radish, 1), (other, 1))
    keep, drop = order.lines.order_by("pk")
    drop.set_status(fulfilment.CANCELLED)
    for action in (fulfilment.ACCEPT, fulfilment.PACK, fulfilment.HAND_OVER):
        fulfilment.advance(keep, action, cooperative=coop_a)
    order.refresh_from_db()
    assert order.status == "shipped"


# --- List, filter, packing list --------------------------------------------------


def test_list_is_newest_first_filtered_and_paginated(coop_a, china):
    radish = factories.product(RADISH, price="25.00", stock=100, partner_obj=coop_a.partner)
    now = timezone.now()
    orders = [order_of((radish, 1), placed_at=now - timedelta(hours=h)) for h in range(22, 0, -1)]
    newest = orders[-1]
    client = portal(member_of(coop_a))
    first_page = client.get(reverse("coop:orders"))
    lines = first_page.context["lines"]
    assert len(lines) == 20 and first_page.context["page_obj"].paginator.count == 22
    assert lines[0].order == newest
    assert [line.order.date_placed for line in lines] == sorted(
        (line.order.date_placed for line in lines), reverse=True
    )
    assert len(client.get(reverse("coop:orders"), {"page": 2}).context["lines"]) == 2

    fulfilment.advance(newest.lines.get(), fulfilment.ACCEPT, cooperative=coop_a)
    accepted = client.get(reverse("coop:orders"), {"status": "accepted"})
    assert [line.order for line in accepted.context["lines"]] == [newest]
    assert '已接单 <span class="count">1</span>' in accepted.content.decode()
    # An unknown status filter shows everything rather than failing.
    assert (
        client.get(reverse("coop:orders"), {"status": "nope"}).context["page_obj"].paginator.count
        == 22
    )


def test_packing_list_groups_accepted_lines_by_order(coop_a, radish, china):
    other = factories.product("沙窝萝卜礼盒", price="60.00", stock=5, partner_obj=coop_a.partner)
    first = order_of((radish, 2), (other, 1), last_name="李大爷", line1="大寺镇 1 号")
    second = order_of((radish, 3), last_name="赵阿姨", line1="辛口镇 9 号")
    waiting = order_of((other, 1), last_name="钱先生")
    for line in [*first.lines.all(), *second.lines.all()]:
        fulfilment.advance(line, fulfilment.ACCEPT, cooperative=coop_a)

    client = portal(member_of(coop_a))
    response = client.get(reverse("coop:packing-list"))
    html = response.content.decode()
    groups = response.context["groups"]
    assert [g["order"] for g in groups] == [first, second]
    assert [g["items"] for g in groups] == [3, 3]
    assert "李大爷" in html and "大寺镇 1 号" in html and "赵阿姨" in html
    assert "138****5678" in html and "13812345678" not in html
    assert waiting.number not in html and "钱先生" not in html
    assert "css/coop-orders.css" in html  # print styles
    assert 'class="btn btn-primary js-print" hidden' in html  # shown by JavaScript only

    # Only the selected lines when some are chosen on the list page.
    chosen = second.lines.get()
    response = client.get(reverse("coop:packing-list"), {"line": [chosen.pk, "x"]})
    assert [g["order"] for g in response.context["groups"]] == [second]
