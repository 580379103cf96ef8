"""Reports of listings (cooperatives/reports.py and its pages): filing one
(anonymously too), the refusals (empty reason, duplicates, the per-address
cap, products not on sale), the staff-only queue, and the decisions:
dismiss, withdraw the listing (平台下架: gone from listing, search, the
product page and baskets at once; the cooperative cannot publish it again
until staff restore it) and suspend the cooperative."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from oscar.core.loading import get_model

from cooperatives import listings, reports, services
from cooperatives.models import Cooperative, ListingReport, ListingWithdrawal, StatusChange
from shop.catalogue.listing import browsable_products
from shop.partner.strategy import Selector
from shop.search.indexing import rebuild_index
from tests import factories, isolation
from tests.cooperatives.conftest import manager_of, member_of

pytestmark = pytest.mark.django_db

User = get_model("auth", "User")
Product = get_model("catalogue", "Product")

Kind = ListingReport.Kind
Status = ListingReport.Status


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The per-address cap lives in the cache (this run's own Redis db).
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def radish(coop_a):
    return factories.product("沙窝萝卜", price="20.00", stock=10, partner_obj=coop_a.partner)


@pytest.fixture
def gift_box(coop_a):
    return factories.parent_product(
        "沙窝萝卜礼盒",
        [("5斤装", "30.00", 5), ("10斤装", "55.00", 5)],
        partner_obj=coop_a.partner,
    )


@pytest.fixture
def crab(coop_b):
    return factories.product("七里海河蟹", price="88.00", stock=10, partner_obj=coop_b.partner)


@pytest.fixture
def staff(db):
    return User.objects.create_user("reviewer", "reviewer@example.com", "pw", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def shopper(db):
    return User.objects.create_user("shopper", "shopper@example.com", "pw")


def report_url(product) -> str:
    return reverse("cooperatives:report", kwargs={"product_pk": product.pk})


def detail_url(product) -> str:
    return reverse("reports-dashboard:detail", kwargs={"pk": product.pk})


def post_report(client, product, **data):
    data.setdefault("kind", Kind.COUNTERFEIT)
    data.setdefault("reason", "包装上的地理标志是假的")
    return client.post(report_url(product), data, REMOTE_ADDR=data.pop("ip", "203.0.113.9"))


def file(product, user=None, session="s1", kind=Kind.COUNTERFEIT, **kwargs):
    return reports.file_report(
        product,
        user=user,
        session_key="" if user else session,
        ip=kwargs.pop("ip", "198.51.100.1"),
        kind=kind,
        reason=kwargs.pop("reason", "不是沙窝萝卜"),
        **kwargs,
    )


# --- Filing ----------------------------------------------------------------------------------


def test_the_product_page_links_to_the_report_form(client, radish):
    html = client.get(radish.get_absolute_url()).content.decode()
    assert report_url(radish) in html and "举报" in html


def test_anyone_reports_without_signing_in(client, radish):
    page = client.get(report_url(radish))
    assert page.status_code == 200
    html = page.content.decode()
    assert "沙窝萝卜" in html and 'name="reason"' in html and 'name="contact"' in html
    response = post_report(client, radish, contact="me@example.com", ip="203.0.113.44")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "cooperatives:report-done", kwargs={"product_pk": radish.pk}
    )
    report = ListingReport.objects.get()
    assert report.reporter is None and report.status == Status.OPEN
    assert report.session_key and report.contact == "me@example.com"
    # Only a keyed hash of the address, never the address.
    assert report.ip_hash == reports.hash_ip("203.0.113.44") and len(report.ip_hash) == 64
    assert "203.0.113.44" not in str(list(ListingReport.objects.values()))
    assert "感谢您的举报" in client.get(response["Location"]).content.decode()


def test_an_empty_reason_is_refused_and_what_was_typed_stays(client, radish):
    response = post_report(client, radish, reason="   ", contact="keep@example.com")
    assert response.status_code == 200
    html = response.content.decode()
    assert "请写明举报理由。" in html
    assert 'value="keep@example.com"' in html
    assert re.search(r'value="counterfeit"[^>]*checked', html)
    assert not ListingReport.objects.exists()


def test_a_kind_is_required_and_the_reason_is_length_limited(client, radish):
    response = post_report(client, radish, kind="", reason="x" * 1001)
    html = response.content.decode()
    assert "请选择举报类型。" in html
    assert "1000" in html  # the length limit, said in the message
    assert not ListingReport.objects.exists()
    with pytest.raises(Exception) as exc:
        file(radish, reason="x" * 1001)
    assert "不能超过 1000 字" in str(exc.value)


def test_the_same_person_cannot_have_two_open_reports_on_one_product(
    client, radish, crab, shopper, staff
):
    client.force_login(shopper)
    assert post_report(client, radish).status_code == 302
    response = post_report(client, radish, reason="又看了一遍，还是假的")
    assert response.status_code == 200
    assert "您已经举报过这件商品" in response.content.decode()
    assert "又看了一遍，还是假的" in response.content.decode()  # kept
    assert ListingReport.objects.filter(reporter=shopper).count() == 1
    # Another product is fine; after a decision, a new report is too.
    assert post_report(client, crab).status_code == 302
    reports.decide(radish, reports.Decision.DISMISS, by=staff, note="证书经核实为真")
    assert post_report(client, radish).status_code == 302
    assert ListingReport.objects.filter(reporter=shopper, product=radish).count() == 2


def test_an_anonymous_session_cannot_report_one_product_twice(client, radish, db):
    assert post_report(client, radish).status_code == 302
    again = post_report(client, radish)
    assert "您已经举报过这件商品" in again.content.decode()
    # Someone else (another session) may.
    other = type(client)()
    assert post_report(other, radish).status_code == 302
    assert ListingReport.objects.count() == 2


def test_anonymous_reports_are_capped_per_address(client, radish, crab, shopper, settings):
    settings.WANGNONG_REPORT_IP_LIMIT = 2
    for _n in range(2):
        fresh = type(client)()
        assert post_report(fresh, radish, ip="192.0.2.7").status_code == 302
    response = post_report(type(client)(), crab, ip="192.0.2.7", reason="第三次")
    assert response.status_code == 200
    html = response.content.decode()
    assert "举报次数已达上限（每 60 分钟 2 次）" in html and "第三次" in html
    assert ListingReport.objects.count() == 2
    # Another address, or a signed-in person, is not held back by it.
    assert post_report(type(client)(), crab, ip="192.0.2.8").status_code == 302
    signed_in = type(client)()
    signed_in.force_login(shopper)
    assert post_report(signed_in, crab, ip="192.0.2.7").status_code == 302


def test_products_not_on_sale_cannot_be_reported(client, coop_a, gift_box):
    hidden = factories.product("未上架的萝卜", partner_obj=coop_a.partner, is_public=False)
    variant = gift_box.children.first()
    for product in (hidden, variant):
        assert client.get(report_url(product)).status_code == 404
        assert post_report(client, product).status_code == 404
    assert client.get(report_url(gift_box)).status_code == 200
    services.suspend(coop_a, reason="检查中")
    assert client.get(report_url(gift_box)).status_code == 404
    assert (
        client.get(reverse("cooperatives:report", kwargs={"product_pk": 999999})).status_code == 404
    )
    assert not ListingReport.objects.exists()


# --- The staff queue -------------------------------------------------------------------------


def test_the_queue_is_for_platform_staff_only(client, coop_a, radish, shopper):
    file(radish)
    urls = [reverse("reports-dashboard:list"), detail_url(radish)]
    login = reverse("dashboard:login")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login)
    for user in (shopper, manager_of(coop_a), member_of(coop_a)):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
            assert client.post(url, {"decision": "unpublish", "note": "x"}).status_code == 403
    radish.refresh_from_db()
    assert radish.is_public and ListingReport.objects.get().status == Status.OPEN


def test_every_reports_dashboard_url_refuses_non_staff(client, coop_a, radish):
    """The sweep of the namespace: a new URL under /dashboard/reports/ is
    checked as soon as it exists."""
    urls = sorted(isolation.namespace_urls("reports-dashboard"))
    assert {name for name, _k in urls} == {"reports-dashboard:list", "reports-dashboard:detail"}
    client.force_login(manager_of(coop_a))
    login = reverse("dashboard:login")
    for name, kwarg_names in urls:
        kwargs = {}
        for kwarg in kwarg_names:
            assert kwarg == "pk", f"add a mapping for {name} (keyword `{kwarg}`)"
            kwargs[kwarg] = radish.pk
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 403 or (
                response.status_code == 302 and response["Location"].startswith(login)
            ), (name, method, response.status_code)


def test_the_dashboard_menu_has_the_queue(staff_client):
    html = staff_client.get(reverse("dashboard:index")).content.decode()
    assert reverse("reports-dashboard:list") in html and "商品举报" in html


def test_open_reports_are_grouped_by_product(
    staff_client, radish, crab, shopper, staff, django_assert_max_num_queries
):
    file(radish, kind=Kind.COUNTERFEIT)
    file(radish, session="s2", kind=Kind.FALSE_ORIGIN)
    file(radish, user=shopper, kind=Kind.COUNTERFEIT)
    file(crab, kind=Kind.PROHIBITED)
    rows = reports.open_queue()
    assert [(r.product, r.count) for r in rows] == [(radish, 3), (crab, 1)]
    assert rows[0].kinds == ["假冒伪劣", "产地不实"]
    assert rows[0].cooperative.partner_id == radish.stockrecords.get().partner_id
    html = staff_client.get(reverse("reports-dashboard:list")).content.decode()
    assert "沙窝萝卜" in html and "七里海河蟹" in html and "假冒伪劣、产地不实" in html
    detail = staff_client.get(detail_url(radish)).content.decode()
    assert detail.count("不是沙窝萝卜") == 3 and "匿名" in detail
    # The list costs the same whatever the number of products reported.
    with django_assert_max_num_queries(5):
        reports.open_queue()
    for n in range(5):
        extra = factories.product(f"萝卜{n}", partner_obj=radish.stockrecords.get().partner)
        file(extra)
    with django_assert_max_num_queries(5):
        assert len(reports.open_queue()) == 7


def test_dismissing_needs_a_note_and_tells_the_reporter(
    staff_client, radish, shopper, django_capture_on_commit_callbacks
):
    file(radish, contact="reporter@example.com")
    file(radish, user=shopper)
    response = staff_client.post(detail_url(radish), {"decision": "dismiss", "note": " "})
    assert response.status_code == 200
    assert "请写明处理说明" in response.content.decode()
    assert ListingReport.objects.filter(status=Status.OPEN).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            detail_url(radish), {"decision": "dismiss", "note": "证书经核实为真"}
        )
    assert response.status_code == 302
    assert set(ListingReport.objects.values_list("status", "decision_note")) == {
        (Status.DISMISSED, "证书经核实为真")
    }
    assert (
        ListingReport.objects.filter(decided_by__isnull=False, decided_at__isnull=False).count()
        == 2
    )
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == ["reporter@example.com", "shopper@example.com"]  # not the cooperative
    assert all("证书经核实为真" in m.body for m in mail.outbox)
    radish.refresh_from_db()
    assert radish.is_public


# --- Withdrawing a listing -----------------------------------------------------------------


def test_withdrawing_a_listing_takes_it_out_of_the_shop_at_once(
    staff_client, client, coop_a, gift_box, radish, django_capture_on_commit_callbacks
):
    file(gift_box, contact="reporter@example.com")
    variant = gift_box.children.order_by("pk").first()
    rebuild_index()
    shopper_client = type(client)()
    factories.add_to_basket(shopper_client, variant)  # already in someone's basket
    assert gift_box in browsable_products()
    search = reverse("search:search")
    assert "沙窝萝卜礼盒" in shopper_client.get(search, {"q": "礼盒"}).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            detail_url(gift_box), {"decision": "unpublish", "note": "冒用地理标志"}
        )
    assert response.status_code == 302

    withdrawal = ListingWithdrawal.objects.get()
    assert withdrawal.product == gift_box and withdrawal.cooperative == coop_a
    assert withdrawal.reason == "冒用地理标志" and withdrawal.withdrawn_by.username == "reviewer"
    assert not Product.objects.filter(pk__in=[gift_box.pk, variant.pk], is_public=True).exists()
    assert ListingReport.objects.get().status == Status.ACTIONED
    # Listing, search, product page and basket, at once.
    assert gift_box not in browsable_products() and radish in browsable_products()
    assert "沙窝萝卜礼盒" not in shopper_client.get(search, {"q": "礼盒"}).content.decode()
    assert shopper_client.get(gift_box.get_absolute_url()).status_code == 404
    variant.refresh_from_db()
    info = Selector().strategy().fetch_for_product(variant)
    assert info.availability.is_purchase_permitted(1) == (False, "该商品已下架")
    response = shopper_client.post(
        reverse("basket:add", kwargs={"pk": gift_box.pk}), {"quantity": 1, "child_id": variant.pk}
    )
    assert response.status_code == 302
    basket_page = shopper_client.get(reverse("basket:summary")).content.decode()
    assert "该商品已下架" in basket_page
    # The reporter and the cooperative's manager are told.
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == sorted(["reporter@example.com", manager_of(coop_a).email])


def test_the_cooperative_cannot_publish_a_withdrawn_listing_again(client, coop_a, gift_box, staff):
    reports.withdraw(gift_box, by=staff, reason="冒用地理标志")
    variant = gift_box.children.order_by("pk").first()
    client.force_login(manager_of(coop_a))
    # The portal says why, on every page and on the product list.
    products_page = client.get(reverse("coop:products")).content.decode()
    assert "平台下架" in products_page and "冒用地理标志" in products_page
    assert 'id="withdrawal-banner"' in client.get(reverse("coop:orders")).content.decode()
    response = client.post(
        reverse("coop:product-publish", kwargs={"pk": gift_box.pk}), {"action": "publish"}
    )
    assert response.status_code == 302
    gift_box.refresh_from_db()
    assert not gift_box.is_public
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("已被平台下架" in m for m in messages)
    # Any other way of saving it public (variant edit, import, admin) keeps it hidden.
    variant.is_public = True
    variant.save()
    gift_box.is_public = True
    gift_box.save()
    assert not Product.objects.filter(pk__in=[gift_box.pk, variant.pk], is_public=True).exists()
    # Staff restore it; then the cooperative decides when to publish.
    reports.restore(gift_box, by=staff, note="已提供证书")
    assert reports.active_withdrawal(gift_box) is None
    listings.set_public(coop_a, gift_box, True)
    variant.is_public = True
    variant.save()
    assert gift_box in browsable_products()


def test_staff_restore_from_the_queue(staff_client, gift_box, staff):
    reports.withdraw(gift_box, by=staff, reason="冒用地理标志")
    page = staff_client.get(detail_url(gift_box)).content.decode()
    assert "平台下架" in page and "解除下架" in page
    response = staff_client.post(detail_url(gift_box), {"decision": "restore", "note": "已核实"})
    assert response.status_code == 302
    withdrawal = ListingWithdrawal.objects.get()
    assert withdrawal.restored_at is not None and withdrawal.restored_by == staff
    assert withdrawal.restore_note == "已核实"


# --- Suspending from the queue ---------------------------------------------------------------


def test_suspending_the_cooperative_actions_all_its_open_reports(
    staff_client, coop_a, radish, gift_box, crab, staff, django_capture_on_commit_callbacks
):
    file(radish, contact="first@example.com")
    file(gift_box, kind=Kind.FALSE_ORIGIN, contact="second@example.com")
    file(crab, contact="crab@example.com")  # another cooperative's
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            detail_url(radish), {"decision": "suspend", "note": "多次售卖假冒产品"}
        )
    assert response.status_code == 302
    told = {address for m in mail.outbox for address in m.to}
    assert {"first@example.com", "second@example.com", manager_of(coop_a).email} <= told
    assert "crab@example.com" not in told
    coop_a.refresh_from_db()
    assert coop_a.status == Cooperative.Status.SUSPENDED
    assert coop_a.status_reason == "多次售卖假冒产品"
    change = StatusChange.objects.get(cooperative=coop_a, to_status="suspended")
    assert change.changed_by == staff and change.reason == "多次售卖假冒产品"
    assert set(
        ListingReport.objects.filter(product__in=[radish, gift_box]).values_list(
            "status", "decision_note"
        )
    ) == {(Status.ACTIONED, "多次售卖假冒产品")}
    assert ListingReport.objects.get(product=crab).status == Status.OPEN
    assert radish not in browsable_products() and gift_box not in browsable_products()
    # Once suspended the queue no longer offers to suspend it again.
    page = staff_client.get(detail_url(radish)).content.decode()
    assert 'value="suspend"' not in page
