"""The anonymous page cache (config/page_cache.py): what is served from it,
that it never outlives a change a visitor should see, and that a page from
it still works for the visitor who gets it (CSRF token, CSP nonce)."""

import gzip
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms.models import StandardPage
from cooperatives.listings import set_stock_and_price
from tests import factories
from tests.cms.pages_helpers import home_page, publish

pytestmark = [pytest.mark.django_db, pytest.mark.page_cache]


@pytest.fixture
def shop(db):
    category = factories.category("蔬菜")
    radish = factories.product("沙窝萝卜", price="20.00", stock=3, categories=[category])
    cucumber = factories.product("黄瓜", price="8.00", stock=50, categories=[category])
    return {"category": category, "radish": radish, "cucumber": cucumber}


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response


def state(client, url) -> str:
    return get(client, url).get("X-Page-Cache", "")


def test_second_anonymous_visit_is_served_without_queries(client, shop):
    url = shop["category"].get_absolute_url()
    first = get(client, url)
    assert first["X-Page-Cache"] == "miss"
    with CaptureQueriesContext(connection) as queries:
        again = Client().get(url)
    assert again["X-Page-Cache"] == "hit"
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert again.content.decode().count("product-card") == first.content.decode().count(
        "product-card"
    )
    # Served before the inner middleware: what they added to the page is kept.
    for header in ("Content-Type", "X-Frame-Options", "Content-Language"):
        assert again[header] == first[header], header
    assert "Content-Security-Policy" in again or "Content-Security-Policy" not in first
    # A shared HTTP cache in front must not hand this page to a signed-in visitor.
    assert "Cookie" in again["Vary"]


@pytest.mark.parametrize("page", ["catalogue", "detail", "search"])
def test_public_pages_are_cached(client, shop, page):
    url = {
        "catalogue": reverse("catalogue:index"),
        "detail": shop["radish"].get_absolute_url(),
        "search": reverse("search:search") + "?q=萝卜",
    }[page]
    assert state(client, url) == "miss"
    assert state(Client(), url) == "hit"


def test_home_page_is_cached_and_a_publish_ages_it(client):
    home = home_page()
    assert state(client, "/") == "miss"
    assert state(client, "/") == "hit"
    publish(home, StandardPage(title="关于网农", slug="about"))
    assert state(client, "/") == "miss"


def test_price_edit_by_the_cooperative_shows_at_once(client, shop):
    detail = shop["radish"].get_absolute_url()
    listing = shop["category"].get_absolute_url()
    for url in (detail, listing):
        assert "20.00" in get(client, url).content.decode()
        assert state(client, url) == "hit"
    set_stock_and_price(shop["radish"].stockrecords.get(), "26.00", 3)
    for url in (detail, listing):
        response = get(client, url)
        assert response["X-Page-Cache"] == "miss"
        body = response.content.decode()
        assert "26.00" in body and "20.00" not in body


def test_an_order_ages_only_its_product_until_it_sells_out(client, shop):
    radish = shop["radish"]
    listing = shop["category"].get_absolute_url()
    other = shop["cucumber"].get_absolute_url()
    for url in (radish.get_absolute_url(), listing, other):
        get(client, url)
    record = radish.stockrecords.get()
    record.allocate(1)  # an order: 2 of 3 left
    assert state(client, radish.get_absolute_url()) == "miss"
    assert state(client, listing) == "hit"
    assert state(client, other) == "hit"
    record.allocate(2)  # sold out: listings say so
    assert state(client, listing) == "miss"
    assert "暂时缺货" in get(client, listing).content.decode()


def test_signed_in_and_basket_holders_get_fresh_pages(client, shop, django_user_model):
    url = shop["category"].get_absolute_url()
    get(client, url)
    holder = Client()
    factories.add_to_basket(holder, shop["cucumber"])
    assert state(holder, url) == ""
    user = django_user_model.objects.create_user("buyer", "buyer@example.com", "pw-123456")
    signed_in = Client()
    signed_in.force_login(user)
    assert state(signed_in, url) == ""


def test_cached_page_carries_the_visitors_own_csrf_token(shop):
    url = shop["radish"].get_absolute_url()
    first = Client(enforce_csrf_checks=True)
    assert state(first, url) == "miss"
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.get(url)
    assert response["X-Page-Cache"] == "hit"
    body = response.content.decode()
    assert "__WN_CSRF_TOKEN__" not in body
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    assert token not in first.get(url).content.decode()
    assert visitor.cookies.get("csrftoken"), "the served page set the visitor's CSRF cookie"
    added = visitor.post(
        reverse("basket:add", kwargs={"pk": shop["radish"].pk}),
        {"quantity": 1, "csrfmiddlewaretoken": token},
    )
    assert added.status_code == 302


def test_a_kept_nonce_is_replaced_by_the_visitors_own(rf):
    # Storefront pages load only files from 'self' today; a page with an
    # inline script would carry its render's nonce, which must not be
    # served to the next visitor under another policy.
    from django.http import HttpResponse

    from config import page_cache

    first = rf.get("/")
    first._csp_nonce = "Zm9yLXRoZS1maXJzdA=="
    kept = page_cache._storable(
        first, HttpResponse('<script nonce="Zm9yLXRoZS1maXJzdA==">go()</script>')
    )
    assert "Zm9yLXRoZS1maXJzdA==" not in kept
    visitor = rf.get("/")
    visitor.csp_nonce = "c2Vjb25kLXZpc2l0b3I="
    values = page_cache._values(visitor, kept)
    assert page_cache._personalise(kept, values) == (
        '<script nonce="c2Vjb25kLXZpc2l0b3I=">go()</script>'
    )


def test_a_gzipped_hit_carries_the_visitors_own_token(shop):
    url = shop["radish"].get_absolute_url()
    assert state(Client(), url) == "miss"
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response["X-Page-Cache"] == "hit"
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    body = gzip.decompress(response.content).decode()
    plain = visitor.get(url).content.decode()  # same visitor, no gzip
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    assert "__WN_" not in body and len(body) == len(plain)
    assert re.sub(r'value="[^"]{64}"', "", body) == re.sub(r'value="[^"]{64}"', "", plain)
    added = visitor.post(
        reverse("basket:add", kwargs={"pk": shop["radish"].pk}),
        {"quantity": 1, "csrfmiddlewaretoken": token},
    )
    assert added.status_code == 302


@pytest.mark.parametrize(
    "page",
    [
        "a{A}b{B}c",
        "{A}{A}{B}",
        "plain, nothing to fill" * 50,
        "<p>{A}</p>" * 30 + "<i>{B}</i>" + "<p>repeated text</p>" * 200 + "{A}",
    ],
)
def test_gzip_template_makes_the_same_page_as_filling_then_compressing(page):
    from config.gzip_template import compress

    a, b = "__A__", "__B__"
    template = compress(page.format(A=a, B=b).encode(), {a: 64, b: 24})
    for seed in range(3):
        values = {a: f"{seed}".ljust(64, "x").encode(), b: f"{seed}".ljust(24, "y").encode()}
        filled = page.format(A=values[a].decode(), B=values[b].decode()).encode()
        assert gzip.decompress(template.render(filled, values)) == filled
    if "{A}" in page:  # a value of another length cannot be filled in
        assert template.render(filled, {a: b"short", b: values[b]}) is None
    assert compress(b"a\x00b", {a: 64}) is None


def test_nothing_is_cached_when_switched_off(client, shop, settings):
    settings.WANGNONG_PAGE_CACHE_SECONDS = 0
    url = shop["category"].get_absolute_url()
    assert state(client, url) == ""
    assert state(client, url) == ""


def test_pages_with_a_message_are_not_kept(client, shop):
    # Adding to the basket leaves a message and a basket cookie; the page
    # after it is this visitor's own.
    factories.add_to_basket(client, shop["radish"])
    response = client.get(reverse("basket:summary"))
    assert response.get("X-Page-Cache", "") == ""
