"""Staff review cooperatives at /dashboard/cooperatives/: the queue (applied
first), the detail page with the licence image, and approve / reject /
suspend / reinstate through cooperatives.services. Suspension hides every
product of the cooperative at once: listings, search, the product page and
the basket all refuse them."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from cooperatives.models import Cooperative, StatusChange
from shop.search.indexing import rebuild_index
from tests import factories
from tests.cooperatives import imagefiles
from tests.cooperatives.conftest import make_cooperative, manager_of

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")

LIST = reverse("cooperatives-dashboard:list")


def detail(coop) -> str:
    return reverse("cooperatives-dashboard:detail", kwargs={"pk": coop.pk})


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "reviewer", "reviewer@example.com", "pw-staff-123", is_staff=True
    )


@pytest.fixture
def staff_client(staff):
    """Its own client, so tests can use ``client`` as a shopper at the same time."""
    staff_client = Client()
    staff_client.force_login(staff)
    return staff_client


@pytest.fixture
def pending(db):
    coop = make_cooperative(
        "天津市宁河区岳龙镇稻蟹共生种养专业合作社",
        credit_prefix="93120117MA07P4321",
        division_code="120117105",
        status=Cooperative.Status.APPLIED,
    )
    coop.applied_by = manager_of(coop)
    coop.business_licence.save("licence.png", imagefiles.png(), save=True)
    return coop


@pytest.fixture
def radish_of(coop_a):
    product = factories.product(
        "沙窝萝卜 西青辛口产地直发", partner_obj=coop_a.partner, price="25.00"
    )
    rebuild_index()
    return product


def act(client, coop, action, reason=""):
    return client.post(detail(coop), {"action": action, "reason": reason})


# --- Who may review -----------------------------------------------------------------


def test_staff_only(client, pending):
    for url in (LIST, detail(pending)):
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/dashboard/login/" in anonymous["Location"]
    client.force_login(manager_of(pending))
    assert client.get(LIST).status_code == 403
    assert client.post(detail(pending), {"action": "approve"}).status_code == 403
    pending.refresh_from_db()
    assert pending.status == Cooperative.Status.APPLIED


def test_dashboard_menu_has_the_review_queue(staff_client):
    html = staff_client.get(reverse("dashboard:index")).content.decode()
    assert "合作社审核" in html and LIST in html


# --- The queue ----------------------------------------------------------------------


def test_queue_lists_applications_first(staff_client, coop_a, coop_b, pending):
    html = staff_client.get(LIST).content.decode()
    assert html.index(pending.legal_name) < html.index(coop_a.legal_name)
    assert html.index(pending.legal_name) < html.index(coop_b.legal_name)
    assert "待审核" in html


def test_queue_filters_by_status_and_searches(staff_client, coop_a, pending):
    html = staff_client.get(LIST, {"status": "applied"}).content.decode()
    assert pending.legal_name in html and coop_a.legal_name not in html
    html = staff_client.get(LIST, {"status": "verified"}).content.decode()
    assert pending.legal_name not in html and coop_a.legal_name in html
    html = staff_client.get(LIST, {"q": pending.credit_code[:10].lower()}).content.decode()
    assert pending.legal_name in html and coop_a.legal_name not in html


def test_detail_shows_the_data_and_the_licence(staff_client, pending):
    html = staff_client.get(detail(pending)).content.decode()
    for text in [
        pending.legal_name,
        pending.credit_code,
        "农民专业合作社（93）",
        "宁河区",
        "岳龙镇",
        "13812345678",
        pending.business_licence.url,
        "通过审核",
        "驳回申请",
    ]:
        assert text in html, text


# --- Approve / reject ------------------------------------------------------------------


def test_approve(staff_client, staff, pending):
    response = act(staff_client, pending, "approve")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Cooperative.Status.VERIFIED
    assert pending.partner.is_selling is True
    change = StatusChange.objects.get(cooperative=pending)
    assert (change.from_status, change.to_status, change.changed_by) == (
        "applied",
        "verified",
        staff,
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [manager_of(pending).email]
    assert "已通过审核" in mail.outbox[0].subject
    page = staff_client.get(response["Location"]).content.decode()
    assert "已通过" in page


def test_reject_needs_a_reason(staff_client, pending):
    response = act(staff_client, pending, "reject", "  ")
    assert response.status_code == 200
    assert "请填写原因，申请人或合作社会看到它。" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Cooperative.Status.APPLIED
    assert not StatusChange.objects.exists()


def test_rejection_reason_reaches_the_applicant(staff_client, client, pending):
    reason = "营业执照上的名称与填写的法定名称不一致"
    act(staff_client, pending, "reject", reason)
    pending.refresh_from_db()
    assert pending.status == Cooperative.Status.REJECTED
    assert pending.status_reason == reason
    assert pending.partner.is_selling is False
    assert reason in mail.outbox[0].body

    client.force_login(manager_of(pending))
    assert reason in client.get(reverse("cooperatives:apply")).content.decode()


def test_an_action_not_allowed_in_the_status_changes_nothing(staff_client, coop_a):
    response = act(staff_client, coop_a, "approve")
    assert response.status_code == 200
    coop_a.refresh_from_db()
    assert coop_a.status == Cooperative.Status.VERIFIED
    assert not StatusChange.objects.exists()


# --- Suspension ----------------------------------------------------------------------


def search(client, query: str) -> str:
    return client.get(reverse("search:search"), {"q": query}).content.decode()


def test_suspension_hides_every_product_at_once(staff_client, client, staff, coop_a, radish_of):
    other = factories.product("沙窝萝卜精品礼盒 8根装", partner_obj=coop_a.partner)
    rebuild_index()
    url = radish_of.get_absolute_url()
    assert client.get(url).status_code == 200
    assert radish_of.title in search(client, "沙窝萝卜")
    assert radish_of.title in client.get(reverse("catalogue:index")).content.decode()

    reason = "抽检发现假冒地理标志产品"
    assert act(staff_client, coop_a, "suspend", reason).status_code == 302

    coop_a.refresh_from_db()
    assert coop_a.status == Cooperative.Status.SUSPENDED
    assert coop_a.partner.is_selling is False
    change = StatusChange.objects.get(cooperative=coop_a)
    assert (change.to_status, change.reason, change.changed_by) == ("suspended", reason, staff)

    # The product pages are gone, for every product of the cooperative …
    assert client.get(url).status_code == 404
    assert client.get(other.get_absolute_url()).status_code == 404
    # … search and listings no longer find them …
    html = search(client, "沙窝萝卜")
    assert radish_of.title not in html and other.title not in html
    assert radish_of.title not in client.get(reverse("catalogue:index")).content.decode()
    # … and the basket refuses them.
    client.post(reverse("basket:add", kwargs={"pk": radish_of.pk}), {"quantity": 1})
    basket = Basket.objects.filter(lines__product=radish_of)
    assert not basket.exists()
    # The public page says so, with the reason and no products (its credit
    # record stays public); the cooperative sees why in its portal.
    public = client.get(reverse("cooperatives:detail", kwargs={"pk": coop_a.pk}))
    assert public.status_code == 200
    assert reason in public.content.decode() and url not in public.content.decode()
    client.force_login(manager_of(coop_a))
    assert reason in client.get(reverse("cooperatives:apply")).content.decode()


def test_suspend_needs_a_reason(staff_client, coop_a):
    act(staff_client, coop_a, "suspend")
    coop_a.refresh_from_db()
    assert coop_a.status == Cooperative.Status.VERIFIED


def test_staff_can_still_open_a_suspended_product(staff_client, coop_a, radish_of):
    act(staff_client, coop_a, "suspend", "核查中")
    assert staff_client.get(radish_of.get_absolute_url()).status_code == 200


def test_reinstate_brings_the_products_back(staff_client, client, coop_a, radish_of):
    act(staff_client, coop_a, "suspend", "核查中")
    assert client.get(radish_of.get_absolute_url()).status_code == 404
    assert act(staff_client, coop_a, "reinstate").status_code == 302
    coop_a.refresh_from_db()
    assert coop_a.status == Cooperative.Status.VERIFIED and coop_a.partner.is_selling
    assert client.get(radish_of.get_absolute_url()).status_code == 200
    assert radish_of.title in search(client, "沙窝萝卜")
    response = client.post(reverse("basket:add", kwargs={"pk": radish_of.pk}), {"quantity": 1})
    assert response.status_code == 302
    assert Basket.objects.filter(lines__product=radish_of).exists()
    history = list(
        StatusChange.objects.filter(cooperative=coop_a).values_list("to_status", flat=True)
    )
    assert history == ["verified", "suspended"]


def test_unverified_cooperatives_products_are_not_found(client, pending):
    product = factories.product("岳龙稻蟹米", partner_obj=pending.partner)
    assert client.get(product.get_absolute_url()).status_code == 404


def test_mail_failure_does_not_undo_the_review(staff_client, pending, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("cooperatives.dashboard.notify.send_mail", broken)
    assert act(staff_client, pending, "approve").status_code == 302
    pending.refresh_from_db()
    assert pending.status == Cooperative.Status.VERIFIED
