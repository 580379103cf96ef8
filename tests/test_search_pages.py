"""Site search over CMS pages: courses, lessons, articles and content pages
found from the same box as the products, with Chinese queries; drafts,
private and unpublished pages never found."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.rich_text import RichText

from cms.models import (
    ArticlePage,
    CoursePage,
    HomePage,
    LessonPage,
    ProgrammeIndexPage,
    StandardPage,
    StatisticsPage,
    TrainingIndexPage,
)
from shop.search import backends
from shop.search.indexing import rebuild_index
from shop.search.models import PageSearchDocument, ProductSearchDocument
from shop.search.page_results import snippet
from shop.search.tokens import query_terms
from tests import factories

COURSE = "合作社网上销售入门"


def publish(parent: Page, page: Page) -> Page:
    """Add ``page`` under ``parent`` and publish it the way the admin does
    (a revision, then publish), so Wagtail's signals fire."""
    parent.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def home(db) -> HomePage:
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="网农", slug="wn-search-home"))
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": "网农"},
    )
    return home


@pytest.fixture
def oncommit(django_capture_on_commit_callbacks):
    """Run the after-commit indexing a real request would run."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def site(home, oncommit):
    """A training section with a course and two lessons, programme news with
    a tagged article, an about page, and two products."""
    with oncommit():
        training = publish(
            home,
            TrainingIndexPage(
                title="农民培训", slug="training", intro="<p>面向农户和合作社的课程。</p>"
            ),
        )
        course = publish(
            training,
            CoursePage(
                title=COURSE,
                slug="sell-online",
                intro="这门培训教合作社把自家农产品放到网上卖，从开店到发货。",
                description="<p>学完可以领取<b>结业证书</b>。</p>",
                audience=CoursePage.Audience.COOP_MANAGERS,
            ),
        )
        photos = publish(
            course,
            LessonPage(
                title="如何拍好农产品照片",
                slug="photos",
                summary="用手机拍出干净、真实的商品主图。",
                body=[("text", RichText("<p>选<i>上午或傍晚</i>柔和的自然光，背景要简单。</p>"))],
            ),
        )
        packing = publish(
            course,
            LessonPage(
                title="生鲜包装与冷链发货",
                slug="packing",
                summary="泡沫箱、冰袋和快递面单。",
            ),
        )
        news = publish(home, ProgrammeIndexPage(title="项目动态", slug="news"))
        article = ArticlePage(
            title="我市新增二十个村级服务站",
            slug="stations",
            intro="本月西青区和宁河区新开服务站，村民在家门口就能寄农产品。",
            kind=ArticlePage.Kind.NEWS,
        )
        news.add_child(instance=article)
        article.tags.add("电信诈骗", "服务站")
        article.save_revision().publish()
        about = publish(
            home,
            StandardPage(
                title="关于网农",
                slug="about",
                body=[
                    ("text", RichText("<h2>网农是什么</h2><p>让合作社把沙窝萝卜直接卖到城里。</p>"))
                ],
            ),
        )
        cooperative = factories.partner("天津市西青区辛口沙窝萝卜种植专业合作社")
        radish = factories.product("沙窝萝卜", partner_obj=cooperative)
        factories.product("七里海河蟹", partner_obj=factories.partner("七里海水产合作社"))
    return {
        "training": training,
        "course": course,
        "photos": photos,
        "packing": packing,
        "news": news,
        "article": article,
        "about": about,
        "radish": radish,
    }


def search(client, q, **params):
    response = client.get(reverse("search:search"), {"q": q, **params})
    assert response.status_code == 200
    return response


def page_titles(response) -> list[str]:
    hits = response.context["page_hits"]
    return [hit.title for hit in hits] if hits else []


def product_titles(response) -> list[str]:
    return [p.title for p in response.context["products"]]


# --- Finding pages --------------------------------------------------------------


def test_training_finds_the_course_and_the_training_section(client, site):
    response = search(client, "培训")
    found = page_titles(response)
    # The section has 培训 in its title (ranked first), the course in its intro.
    assert found[0] == "农民培训"
    assert COURSE in found
    assert product_titles(response) == []
    html = response.content.decode()
    assert "课程与文章" in html
    assert site["course"].url in html
    assert "没有找到与“培训”相关的商品。" in html
    assert "相关的商品、课程或文章" not in html  # not the "nothing at all" box


def test_course_title_finds_the_course_first(client, site):
    response = search(client, COURSE)
    hits = list(response.context["page_hits"])
    assert hits[0].title == COURSE
    assert hits[0].kind_label == "课程"
    assert hits[0].url == site["course"].url
    assert "培训" in hits[0].snippet


def test_a_lesson_is_found_by_its_own_words(client, site):
    hits = {h.title: h for h in search(client, "自然光").context["page_hits"]}
    assert list(hits) == ["如何拍好农产品照片"]  # a word of the lesson's text block
    assert hits["如何拍好农产品照片"].kind_label == "课时"
    assert page_titles(search(client, "冷链")) == ["生鲜包装与冷链发货"]
    assert page_titles(search(client, "照片")) == ["如何拍好农产品照片"]


def test_training_finds_a_course_through_its_section(client, site, oncommit):
    # Nothing in this course's own text says 培训: its section does.
    with oncommit():
        publish(
            site["training"],
            CoursePage(title="直播带货进阶", slug="live", intro="在手机上开直播卖菜。"),
        )
    assert "直播带货进阶" in page_titles(search(client, "培训"))
    assert "直播带货进阶" in page_titles(search(client, "农民"))


def test_renaming_a_section_updates_its_courses(client, site, oncommit):
    training = site["training"]
    with oncommit():
        training.title = "农户课堂"
        training.save_revision().publish()
    found = page_titles(search(client, "课堂"))
    assert found[0] == "农户课堂" and COURSE in found
    assert "直播带货进阶" not in found
    assert page_titles(search(client, "农民")) == []


def test_the_course_title_finds_its_lessons_after_the_course(client, site):
    found = page_titles(search(client, "网上销售"))
    assert found[0] == COURSE  # in its title
    assert {"如何拍好农产品照片", "生鲜包装与冷链发货"} <= set(found[1:])


def test_an_article_is_found_by_its_intro_and_its_tags(client, site):
    hits = list(search(client, "服务站").context["page_hits"])
    assert hits[0].title == "我市新增二十个村级服务站"
    assert hits[0].kind_label == "文章"
    assert page_titles(search(client, "诈骗")) == ["我市新增二十个村级服务站"]  # a tag
    assert page_titles(search(client, "宁河")) == ["我市新增二十个村级服务站"]


def test_the_course_audience_is_searchable(client, site):
    assert COURSE in page_titles(search(client, "合作社负责人"))


def test_products_and_pages_from_the_same_box(client, site):
    # The header's box on every page sends q to /search/.
    html = client.get(reverse("search:search")).content.decode()
    assert f'action="{reverse("search:search")}"' in html and 'name="q"' in html

    response = search(client, "萝卜")
    assert product_titles(response) == ["沙窝萝卜"]
    assert page_titles(response) == ["关于网农"]
    html = response.content.decode()
    assert 'id="product-results"' in html and 'id="page-results"' in html
    assert html.index('id="product-results"') < html.index('id="page-results"')
    assert "页面" in html

    response = search(client, "河蟹")
    assert product_titles(response) == ["七里海河蟹"]
    assert page_titles(response) == []
    assert 'id="page-results"' not in response.content.decode()


def test_pages_come_first_when_products_match_only_part_of_the_query(client, site):
    # Both cooperatives' names hold 合作, 作社 of 合作社网上销售入门, but no
    # product holds every word: the course is what was asked for.
    response = search(client, COURSE)
    assert product_titles(response)  # the any-word fallback found some
    html = response.content.decode()
    assert html.index('id="page-results"') < html.index('id="product-results"')
    # A product name that matches fully keeps the products first.
    html = search(client, "沙窝萝卜").content.decode()
    assert html.index('id="product-results"') < html.index('id="page-results"')


def test_nothing_anywhere(client, site):
    response = search(client, "苹果")
    assert product_titles(response) == [] and page_titles(response) == []
    assert "没有找到与“苹果”相关的商品、课程或文章。" in response.content.decode()


def test_pages_not_in_the_list_of_types_are_not_indexed(client, site, home, oncommit):
    with oncommit():
        publish(home, StatisticsPage(title="覆盖与销售统计", slug="stats"))
    assert page_titles(search(client, "统计")) == []
    assert not PageSearchDocument.objects.filter(page=site["training"].get_parent()).exists()


# --- Drafts, private and unpublished pages ------------------------------------------


def test_a_draft_is_not_found_until_published(client, site, oncommit):
    with oncommit():
        draft = CoursePage(
            title="安全收款与防范电信诈骗", slug="fraud", intro="防骗培训", live=False
        )
        site["training"].add_child(instance=draft)
        revision = draft.save_revision()
    assert "安全收款与防范电信诈骗" not in page_titles(search(client, "收款"))

    with oncommit():
        revision.publish()
    assert page_titles(search(client, "收款")) == ["安全收款与防范电信诈骗"]


def test_draft_changes_to_a_live_page_are_not_searchable(client, site, oncommit):
    course = site["course"]
    with oncommit():
        course.title = "直播带货进阶"
        course.save_revision()  # saved, not published
    assert page_titles(search(client, "直播")) == []
    assert COURSE in page_titles(search(client, COURSE))


def test_unpublishing_removes_the_page(client, site, oncommit):
    with oncommit():
        site["photos"].unpublish()
    assert page_titles(search(client, "自然光")) == []
    assert not PageSearchDocument.objects.filter(page=site["photos"]).exists()
    assert "生鲜包装与冷链发货" in page_titles(search(client, "冷链"))


def test_deleting_removes_the_page(client, site, oncommit):
    page_id = site["packing"].pk
    with oncommit():
        site["packing"].delete()
    assert not PageSearchDocument.objects.filter(page_id=page_id).exists()
    assert page_titles(search(client, "冷链")) == []


def test_private_pages_and_their_children_are_not_found(client, site, oncommit):
    with oncommit():
        restriction = PageViewRestriction.objects.create(
            page=site["course"], restriction_type=PageViewRestriction.LOGIN
        )
    assert page_titles(search(client, "网上销售")) == []  # the course and both lessons
    assert page_titles(search(client, "自然光")) == []
    assert not PageSearchDocument.objects.filter(page=site["photos"]).exists()
    assert page_titles(search(client, "培训")) == ["农民培训"]

    with oncommit():
        restriction.delete()
    assert COURSE in page_titles(search(client, "培训"))
    assert page_titles(search(client, "自然光")) == ["如何拍好农产品照片"]


def test_a_restricted_page_is_hidden_even_before_reindexing(client, site):
    # No after-commit indexing here: the results filter checks restrictions too.
    PageViewRestriction.objects.create(
        page=site["about"], restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    assert PageSearchDocument.objects.filter(page=site["about"]).exists()
    assert page_titles(search(client, "萝卜")) == []


def test_moving_a_page_into_a_private_section(client, site, home, oncommit):
    with oncommit():
        members = publish(home, ProgrammeIndexPage(title="内部通知", slug="members"))
        PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.LOGIN)
    assert page_titles(search(client, "宁河")) == ["我市新增二十个村级服务站"]
    with oncommit():
        site["article"].move(members, pos="last-child")
    assert page_titles(search(client, "宁河")) == []
    assert not PageSearchDocument.objects.filter(page=site["article"]).exists()


# --- Keeping documents current ----------------------------------------------------


def test_republishing_a_course_updates_it_and_its_lessons(client, site, oncommit):
    course = site["course"]
    with oncommit():
        course.title = "合作社直播带货入门"
        course.save_revision().publish()
    assert page_titles(search(client, "直播"))[0] == "合作社直播带货入门"
    assert set(page_titles(search(client, "直播"))[1:]) == {
        "如何拍好农产品照片",
        "生鲜包装与冷链发货",
    }
    # The lessons no longer carry the old title.
    assert not {"如何拍好农产品照片", "生鲜包装与冷链发货"} & set(
        page_titles(search(client, "网上销售"))
    )


def test_rebuild_index_covers_pages(client, site):
    PageSearchDocument.objects.all().delete()
    ProductSearchDocument.objects.all().delete()
    assert page_titles(search(client, "培训")) == []
    assert rebuild_index() == 2  # products
    # The training section, the course, its two lessons, the news section,
    # the article and the about page (not the home page).
    assert PageSearchDocument.objects.count() == 7
    assert PageSearchDocument.objects.filter(page=site["news"]).exists()
    found = page_titles(search(client, "培训"))
    assert found[0] == "农民培训" and COURSE in found
    assert product_titles(search(client, "萝卜")) == ["沙窝萝卜"]


def test_rebuild_skips_drafts_and_private_pages(site):
    PageViewRestriction.objects.create(
        page=site["news"], restriction_type=PageViewRestriction.LOGIN
    )
    CoursePage.objects.filter(pk=site["course"].pk).update(live=False)
    rebuild_index()
    indexed = set(PageSearchDocument.objects.values_list("page_id", flat=True))
    assert site["news"].pk not in indexed and site["article"].pk not in indexed
    assert site["course"].pk not in indexed
    assert {site["training"].pk, site["photos"].pk, site["about"].pk} <= indexed


# --- Results page ---------------------------------------------------------------


def test_page_hits_have_their_own_pagination(client, home, site, oncommit):
    with oncommit():
        for i in range(12):
            publish(
                site["news"],
                ArticlePage(
                    title=f"培训通知第{i + 1}期", slug=f"notice-{i}", intro="村里的培训安排。"
                ),
            )
    first = search(client, "培训")
    assert len(first.context["page_hits"]) == 10
    assert first.context["page_hits"].paginator.count == 14
    assert "pp=2" in first.content.decode()
    second = search(client, "培训", pp=2)
    assert len(second.context["page_hits"]) == 4
    assert not set(page_titles(first)) & set(page_titles(second))
    assert len(search(client, "培训", pp="x").context["page_hits"]) == 10  # bad number: first page


def test_query_count_does_not_grow_with_page_hits(client, site, oncommit):
    def count() -> int:
        client.get(reverse("search:search"), {"q": "培训"})  # warm caches (site root paths)
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("search:search"), {"q": "培训"})
        return len(ctx.captured_queries)

    few = count()
    with oncommit():
        for i in range(6):
            publish(site["news"], ArticlePage(title=f"培训简报{i}", slug=f"brief-{i}"))
    assert count() == few


def test_snippet_is_cut_around_the_first_match():
    text = "开头" * 50 + "这门培训教合作社网上销售" + "结尾" * 50
    cut = snippet(text, "培训", length=20)
    assert "培训" in cut and cut.startswith("…") and cut.endswith("…")
    assert snippet("短文本", "无关") == "短文本"


# --- The generic (SQLite) matcher gives the same hits -----------------------------


@pytest.mark.parametrize("q", ["培训", COURSE, "自然光", "萝卜", "服务站 苹果", "网上销售"])
def test_generic_matcher_agrees_with_postgres(site, q):
    assert connection.vendor == "postgresql"  # the suite runs on PostgreSQL only
    pages = backends._PAGES
    terms = query_terms(q)
    docs = PageSearchDocument.objects.all()
    for op in ("&", "|"):
        pg = {d.pk: d.search_rank for d in pages.postgres(docs, terms, op)}
        generic = {d.pk: d.search_rank for d in pages.generic(docs, terms, op)}
        assert pg == generic, (q, op)
    hits, every_term = backends.match_page_documents(docs, q)
    assert hits.exists() and every_term == (q != "服务站 苹果")


# --- Wagtail's own admin search -------------------------------------------------


def test_wagtail_admin_search_still_works(client, site):
    admin = get_user_model().objects.create_superuser("editor", "editor@example.com", "pw-123456")
    client.force_login(admin)
    for q, page in [("关于网农", site["about"]), (COURSE, site["course"])]:
        response = client.get(reverse("wagtailadmin_pages:search"), {"q": q})
        assert response.status_code == 200
        # A result row links to the page's editor (the query alone is echoed too).
        assert reverse("wagtailadmin_pages:edit", args=[page.pk]) in response.content.decode()
