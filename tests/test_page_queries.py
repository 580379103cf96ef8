"""Every public page renders in at most ``MAX_QUERIES`` SQL queries, and in
the same number with 10 products in the catalogue as with 1,000 (no query
per product, variant, image, review or cooperative).

The pages (config/urls.py, the apps' urls, cms/models.py page types):

anonymous visitor
  home                  / — Wagtail HomePage: hero, featured products,
                        category grid, latest products, featured courses
                        and cooperatives blocks
  catalogue             /catalogue/ (and sorted by price)
  category              /catalogue/category/…/ (a leaf, and the parent
                        category listing its children's products)
  product               /catalogue/<slug>_<pk>/ standalone, and a parent with
                        variants; both with photos and approved reviews
  reviews               /catalogue/<slug>_<pk>/reviews/
  search                /search/?q= (products; CMS pages; sorted)
  cooperatives          /cooperatives/ and a cooperative's public page
  report                /cooperatives/report/<product>/ (举报 form)
  trace                 /t/<code>/ (溯源: batch, inputs, inspection)
  news                  programme index and an article (ProgrammeIndexPage,
                        ArticlePage)
  training              training index, a course, a lesson (TrainingIndexPage,
                        CoursePage, LessonPage)
  statistics            the StatisticsPage (latest snapshot)
  standard page         a StandardPage in the menu
  certificate check     /certificates/verify/
  basket                /basket/ empty, and with two products
  offers                /offers/
  sign in, register     /accounts/login/, /accounts/register/
  404                   an unknown path

signed-in buyer
  home, category, product, search and the basket holding two products.

The counts are taken on a fresh render (the anonymous page cache off, other
caches warmed by one request first, as a second visitor would find them).
The catalogue is built with tests/bulk_catalogue.py once for the module, in
a transaction rolled back at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shop.search.indexing import rebuild_index
from tests.bulk_catalogue import CatalogueBuilder

# Marked so pytest-django sets up the test database; the data is built once
# by the module fixture below.
pytestmark = pytest.mark.django_db

MAX_QUERIES = 12
SMALL, LARGE = 10, 1000

# Pages still above MAX_QUERIES on a fresh render (constant all the same),
# with their exact count, so a change either way shows here. Home: six
# blocks (the product blocks share one load of their cards, five queries,
# plus the newest products' ids; the courses and cooperatives blocks fetch
# their own); the basket pages: Oscar's basket with its offers and vouchers
# (applied twice by the basket view); the cooperative page: the credit
# record's five queries beside a product listing; the signed-in product
# page: Oscar's analytics writes (three) and its stock-alert check. An
# anonymous visitor gets home and the cooperative page from the page cache:
# no query.
OVER_BUDGET = {
    "home": 14,
    "cooperative": 13,
    "basket": 16,
    "buyer home": 19,
    "buyer product": 16,
    "buyer basket": 19,
}


@dataclass
class Page:
    name: str
    url: Callable[[dict], str]
    status: int = 200
    # "anonymous", "basket" (anonymous with two products in the basket) or
    # "buyer" (signed in, two products in the basket)
    visitor: str = "anonymous"


PAGES = [
    Page("home", lambda s: "/"),
    Page("catalogue", lambda s: reverse("catalogue:index")),
    Page("catalogue sorted", lambda s: reverse("catalogue:index") + "?sort_by=price-asc"),
    Page("category", lambda s: s["shop"].categories[0].get_absolute_url()),
    Page("parent category", lambda s: s["shop"].categories[0].get_parent().get_absolute_url()),
    Page("product", lambda s: s["standalone"].get_absolute_url()),
    Page("product with variants", lambda s: s["parent"].get_absolute_url()),
    Page(
        "reviews",
        lambda s: reverse(
            "catalogue:reviews-list",
            kwargs={"product_slug": s["standalone"].slug, "product_pk": s["standalone"].pk},
        ),
    ),
    Page("search", lambda s: reverse("search:search") + "?q=蔬菜"),
    Page("search sorted", lambda s: reverse("search:search") + "?q=合作社&sort_by=newest"),
    Page("search pages", lambda s: reverse("search:search") + "?q=培训"),
    Page("cooperatives", lambda s: reverse("cooperatives:list")),
    Page(
        "cooperative",
        lambda s: reverse("cooperatives:detail", args=[s["shop"].cooperatives[0].pk]),
    ),
    Page("report", lambda s: reverse("cooperatives:report", args=[s["standalone"].pk])),
    Page("trace", lambda s: f"/t/{s['batch'].code}/"),
    Page("news index", lambda s: s["news"].url),
    Page("article", lambda s: s["article"].url),
    Page("training index", lambda s: s["training"].url),
    Page("course", lambda s: s["course"].url),
    Page("lesson", lambda s: s["lesson"].url),
    Page("statistics", lambda s: s["statistics"].url),
    Page("standard page", lambda s: s["standard"].url),
    Page("certificate check", lambda s: reverse("learning:verify")),
    Page("basket empty", lambda s: reverse("basket:summary")),
    Page("basket", lambda s: reverse("basket:summary"), visitor="basket"),
    Page("offers", lambda s: reverse("offer:list")),
    Page("sign in", lambda s: reverse("customer:login")),
    Page("register", lambda s: reverse("customer:register")),
    Page("404", lambda s: "/no-such-page/", status=404),
    Page("buyer home", lambda s: "/", visitor="buyer"),
    Page("buyer category", lambda s: s["shop"].categories[0].get_absolute_url(), visitor="buyer"),
    Page("buyer product", lambda s: s["standalone"].get_absolute_url(), visitor="buyer"),
    Page("buyer search", lambda s: reverse("search:search") + "?q=蔬菜", visitor="buyer"),
    Page("buyer basket", lambda s: reverse("basket:summary"), visitor="buyer"),
]


def build_site(shop: CatalogueBuilder) -> dict:
    """The CMS pages, a harvest batch, a buyer: everything but the catalogue
    size, which the module grows between the two measurements."""
    from django.contrib.auth import get_user_model

    from cms import statistics
    from cms.models import HomePage, StandardPage, StatisticsPage
    from cooperatives import traceability
    from divisions.models import Division
    from tests.cms import pages_helpers as cms

    home = cms.home_page()
    training = cms.training_index()
    course = cms.course(training, "如何拍好农产品照片", lessons=("光线与角度", "背景与构图"))
    news = cms.programme_index()
    picture = cms.image()
    articles = [
        cms.article(news, f"合作社动态{i}", tags=("丰收", f"标签{i}"), lead_image=picture)
        for i in range(3)
    ]
    stats = cms.publish(home, StatisticsPage(title="覆盖和销售统计", slug="statistics"))
    standard = StandardPage(title="关于我们", slug="about", show_in_menus=True)
    standard.body = [{"type": "text", "value": "<p>网农</p>"}]
    standard = cms.publish(home, standard)
    home = HomePage.objects.get(pk=home.pk)
    home.intro = [
        {"type": "hero", "value": {"heading": "网农", "text": "好货", "image": picture.pk}},
        {
            "type": "featured_products",
            "value": {"heading": "精选", "products": [p.pk for p in shop.products[:6]]},
        },
        {
            "type": "category_grid",
            "value": {"heading": "分类", "categories": [c.pk for c in shop.categories]},
        },
        {"type": "latest_products", "value": {"heading": "最新", "count": 8}},
        {"type": "featured_courses", "value": {"heading": "培训", "courses": [course.pk]}},
        {
            "type": "featured_cooperatives",
            "value": {"heading": "合作社", "cooperatives": [c.pk for c in shop.cooperatives]},
        },
    ]
    home.save_revision().publish()
    statistics.compute_snapshot()

    standalone = shop.standalone()
    coop = shop.cooperatives[0]
    assert standalone.stockrecords.get().partner_id == coop.partner_id
    today = timezone.localdate()
    batch = traceability.create_batch(
        coop,
        product=standalone,
        label="2026-秋-01",
        harvest_date=today - dt.timedelta(days=2),
        village=Division.objects.filter(code__startswith="120111", level=5).first(),
        field="东洼 3 号地",
    )
    traceability.add_input(
        batch, kind="organic", name="腐熟羊粪", applied_on=today - dt.timedelta(days=50)
    )
    traceability.add_inspection(
        batch, inspected_on=today - dt.timedelta(days=1), agency="检测中心", result="pass"
    )
    buyer = get_user_model().objects.create_user(
        "page-queries-buyer", "pq-buyer@example.com", "pw-buyer-123"
    )
    return {
        "shop": shop,
        "standalone": standalone,
        "parent": shop.parent(),
        "batch": batch,
        "news": news,
        "article": articles[-1],
        "training": training,
        "course": course,
        "lesson": course.get_children().live().last().specific,
        "statistics": stats,
        "standard": standard,
        "buyer": buyer,
    }


def fill_basket(client: Client, site: dict) -> None:
    for product in (site["standalone"], site["parent"].children.first()):
        response = client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1})
        assert response.status_code == 302


def measure(site: dict) -> dict[str, int | str]:
    """Queries of a second request to every page (by name), or the error."""
    clients = {"anonymous": Client(), "basket": Client(), "buyer": Client()}
    clients["buyer"].force_login(site["buyer"])
    for visitor in ("basket", "buyer"):
        clients[visitor].get("/")  # a session, then two products in the basket
        fill_basket(clients[visitor], site)
    counts: dict[str, int | str] = {}
    for page in PAGES:
        client = clients[page.visitor]
        try:
            url = page.url(site)
            client.get(url)  # warm caches (thumbnails, category tree, site)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            if response.status_code != page.status:
                counts[page.name] = f"status {response.status_code} for {url}"
            else:
                counts[page.name] = len(ctx.captured_queries)
                if len(ctx.captured_queries) > MAX_QUERIES:
                    counts[page.name + " sql"] = "\n".join(
                        q["sql"][:300] for q in ctx.captured_queries
                    )
        except Exception as error:  # noqa: BLE001 (reported by the page's own test)
            counts[page.name] = f"{type(error).__name__}: {error}"
    return counts


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker, tmp_path_factory):
    """Build the site with SMALL products, measure, grow to LARGE, measure;
    all inside one transaction that is rolled back."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            WANGNONG_PAGE_CACHE_SECONDS=0,
            MEDIA_ROOT=media,
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        ),
    ):
        from django.core.cache import cache

        cache.clear()
        result: dict[str, dict] = {}
        with transaction.atomic():
            shop = CatalogueBuilder.create()
            shop.grow(SMALL)
            site = build_site(shop)
            rebuild_index()  # the CMS pages too (indexed after commit otherwise)
            result["small"] = measure(site)
            shop.grow(LARGE)
            cache.clear()
            result["large"] = measure(site)
            transaction.set_rollback(True)
        cache.clear()
    return result


@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_page_queries_do_not_grow_with_the_catalogue(counts, page):
    small, large = counts["small"][page], counts["large"][page]
    assert isinstance(small, int), small
    assert isinstance(large, int), large
    assert large == small, f"{page}: {small} queries with {SMALL} products, {large} with {LARGE}"


@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_page_queries_within_budget(counts, page):
    small = counts["small"][page]
    assert isinstance(small, int), small
    sql = counts["small"].get(page + " sql", "")
    if page in OVER_BUDGET:
        # Known and recorded: a change either way updates OVER_BUDGET (and,
        # once a page is within MAX_QUERIES, takes it off the list).
        assert small == OVER_BUDGET[page], f"{page}: {small} queries, recorded {OVER_BUDGET[page]}"
        return
    assert small <= MAX_QUERIES, f"{page}: {small} queries\n{sql}"


def test_second_page_of_the_catalogue(client, settings, tmp_path):
    settings.WANGNONG_PAGE_CACHE_SECONDS = 0
    settings.MEDIA_ROOT = tmp_path
    CatalogueBuilder.create().grow(30)  # OSCAR_PRODUCTS_PER_PAGE is 20
    response = client.get(reverse("catalogue:index"), {"page": 2})
    assert response.status_code == 200
    assert len(response.context["products"]) == 10


def test_price_order_takes_a_parent_at_its_cheapest_variant(client, settings):
    from tests import factories

    settings.WANGNONG_PAGE_CACHE_SECONDS = 0
    coop = factories.partner()
    dear = factories.product("甲", price="30.00", partner_obj=coop)
    parent = factories.parent_product(
        "乙", [("小份", "25.00", 5), ("大份", "50.00", 5)], partner_obj=coop
    )
    cheap = factories.product("丙", price="10.00", partner_obj=coop)
    for order, expected in (
        ("price-asc", [cheap, parent, dear]),
        ("price-desc", [dear, parent, cheap]),
    ):
        response = client.get(reverse("catalogue:index"), {"sort_by": order})
        assert [p.pk for p in response.context["products"]] == [p.pk for p in expected]
