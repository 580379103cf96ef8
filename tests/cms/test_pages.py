"""The programme's CMS pages as a visitor and an editor meet them: the news
index (newest first, tag filter, paging), articles, the training index
(audience filter), courses, lessons, the media blocks (a video must really
be a video), the site navigation to the sections, the article moderation
workflow and scheduled publishing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail import blocks as wagtail_blocks
from wagtail.models import Page, Workflow, WorkflowPage, WorkflowState

from cms import workflows
from cms.blocks import DownloadBlock, VideoBlock
from cms.media_checks import video_problem
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
from cms.templatetags.cms_tags import programme_nav
from tests.cms import pages_helpers as h

pytestmark = pytest.mark.django_db
User = get_user_model()


def get(client, page_or_url, **params):
    url = page_or_url if isinstance(page_or_url, str) else page_or_url.url
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def positions(html: str, *needles: str) -> list[int]:
    found = [html.find(needle) for needle in needles]
    assert -1 not in found, dict(zip(needles, found, strict=True))
    return found


# --- Programme news -------------------------------------------------------------


def test_programme_index_lists_live_articles_newest_first(client):
    index = h.programme_index("项目动态")
    h.article(index, "春耕备耕培训开班", date=dt.date(2025, 3, 2), intro="各区服务站开始培训。")
    h.article(
        index,
        "政策解读：全覆盖工程",
        date=dt.date(2025, 6, 18),
        kind=ArticlePage.Kind.POLICY,
    )
    h.article(index, "首批服务站开门", date=dt.date(2025, 4, 9))
    h.draft(index, ArticlePage(title="还没审核的稿子", slug="draft-news", date=dt.date(2025, 7, 1)))

    html = get(client, index)

    assert positions(html, "政策解读：全覆盖工程", "首批服务站开门", "春耕备耕培训开班") == sorted(
        positions(html, "政策解读：全覆盖工程", "首批服务站开门", "春耕备耕培训开班")
    )
    assert "还没审核的稿子" not in html
    assert "各区服务站开始培训。" in html  # the intro
    assert '<time datetime="2025-06-18">2025年6月18日</time>' in html
    assert 'badge-policy">政策解读<' in html
    assert 'badge-news">新闻<' in html
    assert "<h1" in html and "项目动态" in html


def test_programme_index_pages_ten_at_a_time(client):
    index = h.programme_index()
    for day in range(1, 13):
        h.article(index, f"第{day:02d}号动态", date=dt.date(2025, 1, day))

    first = get(client, index)
    second = get(client, index, page=2)
    beyond = get(client, index, page=99)  # out of range: the last page, no error

    assert first.count('class="article-card"') == 10
    assert "第12号动态" in first and "第03号动态" in first and "第02号动态" not in first
    assert second.count('class="article-card"') == 2
    assert "第02号动态" in second and "第01号动态" in second
    assert "第 1 页，共 2 页" in first and 'rel="next"' in first
    assert beyond.count('class="article-card"') == 2


def test_programme_index_filters_by_tag(client):
    index = h.programme_index()
    h.article(index, "服务站开门营业", tags=("服务站", "全覆盖工程"))
    h.article(index, "合作社入驻指南", tags=("合作社",))
    h.article(index, "无标签的通知")

    tagged = get(client, index, tag="服务站")
    everything = get(client, index)
    unknown = get(client, index, tag="不存在的标签")

    assert "服务站开门营业" in tagged
    assert "合作社入驻指南" not in tagged and "无标签的通知" not in tagged
    assert "标签“服务站”下有 1 篇文章" in tagged
    # The chips: every tag in use, the chosen one marked.
    assert re.search(r'\?tag=%E6%9C%8D%E5%8A%A1%E7%AB%99" aria-current="page">服务站<', tagged)
    assert all(name in everything for name in ("服务站开门营业", "合作社入驻指南", "无标签的通知"))
    assert all(f">{tag}</a>" in everything for tag in ("服务站", "全覆盖工程", "合作社"))
    assert 'class="article-card"' not in unknown
    assert "这个标签下还没有文章。" in unknown


def test_article_page_shows_date_kind_tags_and_phone_sized_lead_image(client):
    index = h.programme_index("项目动态")
    lead = h.image("服务站门口")
    page = h.article(
        index,
        "首批村级电商服务站开门营业",
        date=dt.date(2025, 5, 20),
        kind=ArticlePage.Kind.NEWS,
        tags=("服务站",),
        intro="村民在家门口就能网上买卖。",
        lead_image=lead,
        body_html="<h2>服务站能做什么</h2><p>代下单、代收货。</p>",
    )

    html = get(client, page)

    assert '<h1 class="page-title" id="article-title">首批村级电商服务站开门营业</h1>' in html
    assert '<time datetime="2025-05-20">2025年5月20日</time>' in html
    assert 'badge-news">新闻<' in html
    assert "村民在家门口就能网上买卖。" in html and "代下单、代收货。" in html
    assert f'href="{index.url}?tag=%E6%9C%8D%E5%8A%A1%E7%AB%99" rel="tag">服务站</a>' in html
    # Renditions for phones, never the 1600 px original.
    img = re.search(r"<img[^>]*srcset=\"([^\"]+)\"[^>]*>", html)
    assert img, html
    widths = re.findall(r" (\d+)w", img.group(1))
    assert widths == ["360", "720", "1080"]
    assert "sizes=" in img.group(0)
    assert lead.file.url not in html and "original_images" not in html


# --- Training ---------------------------------------------------------------------


def test_training_index_lists_courses_and_filters_by_audience(client):
    index = h.training_index("农民培训")
    cover = h.image("课程封面")
    h.course(
        index,
        "合作社网上销售入门",
        audience=CoursePage.Audience.COOP_MANAGERS,
        level=CoursePage.Level.BEGINNER,
        minutes=45,
        cover_image=cover,
    )
    h.course(index, "识破支付诈骗", audience=CoursePage.Audience.CONSUMERS, minutes=15)
    draft = CoursePage(title="未发布的课程", slug="unpublished", intro="x")
    h.draft(index, draft)

    everything = get(client, index)
    consumers = get(client, index, audience="consumers")
    nonsense = get(client, index, audience="martians")

    assert "合作社网上销售入门" in everything and "识破支付诈骗" in everything
    assert "未发布的课程" not in everything
    assert "合作社负责人" in everything and "入门" in everything and "约 45 分钟" in everything
    assert re.search(r'srcset="[^"]*360w[^"]*720w', everything)
    assert "original_images" not in everything
    assert "识破支付诈骗" in consumers and "合作社网上销售入门" not in consumers
    assert '?audience=consumers" aria-current="page">消费者<' in consumers
    assert "合作社网上销售入门" in nonsense and "识破支付诈骗" in nonsense  # ignored


def test_course_page_lists_its_live_lessons_in_order(client):
    course = h.course(h.training_index(), "生鲜发货", minutes=20)
    first = h.lesson(course, "预冷")
    second = h.lesson(course, "装箱", quiz=3)
    h.draft(course, LessonPage(title="还在写的课", slug="wip"))
    third = h.lesson(course, "贴标签")

    html = get(client, course)

    assert positions(html, first.url, second.url, third.url) == sorted(
        positions(html, first.url, second.url, third.url)
    )
    assert "还在写的课" not in html
    assert "共 3 课时" in html
    assert "小测验 3 题" in html
    assert f'<a class="btn btn-primary" href="{first.url}">从第一课开始</a>' in html
    assert "约 20 分钟" in html and "农户" in html


def test_lesson_page_links_back_to_the_course_and_to_its_neighbours(client):
    course = h.course(h.training_index(), "网上销售入门")
    first = h.lesson(course, "拍照")
    middle = h.lesson(course, "发货")
    last = h.lesson(course, "收款")

    html_first = get(client, first)
    html_middle = get(client, middle)
    html_last = get(client, last)

    assert f'href="{course.url}"' in html_middle and "课程：网上销售入门" in html_middle
    assert "拍照" in html_middle  # breadcrumb-independent: the previous lesson
    assert re.search(rf'href="{re.escape(first.url)}" rel="prev"', html_middle)
    assert re.search(rf'href="{re.escape(last.url)}" rel="next"', html_middle)
    assert 'rel="prev"' not in html_first
    assert re.search(rf'href="{re.escape(middle.url)}" rel="next"', html_first)
    assert 'rel="next"' not in html_last and "回到课程" in html_last
    assert "发货正文" in html_middle and "发货的要点" in html_middle
    assert 'aria-label="当前位置"' in html_middle  # the breadcrumb


def test_parent_and_subpage_rules():
    home = h.home_page()
    training = h.training_index()
    programme = h.programme_index()
    course = h.course(training, "课程")
    about = h.publish(home, StandardPage(title="关于", slug="about-x"))

    assert ProgrammeIndexPage.can_create_at(home) and TrainingIndexPage.can_create_at(home)
    assert not CoursePage.can_create_at(home) and CoursePage.can_create_at(training)
    assert LessonPage.can_create_at(course) and not LessonPage.can_create_at(training)
    assert ArticlePage.can_create_at(programme) and not ArticlePage.can_create_at(training)
    assert not ArticlePage.can_create_at(home)
    # Editors may place the statistics page anywhere a page may go.
    assert StatisticsPage.can_create_at(home) and StatisticsPage.can_create_at(about)
    assert not HomePage.can_create_at(Page.get_first_root_node())  # one home page only


# --- Media blocks --------------------------------------------------------------------


def test_a_pdf_renamed_mp4_is_refused_as_a_video():
    fake = h.document("第一课视频", "lesson-1.mp4", h.PDF_BYTES)
    pdf = h.document("讲义", "handout.pdf", h.PDF_BYTES)

    assert "内容不是视频" in video_problem(fake)
    assert "不是视频文件" in video_problem(pdf)
    assert video_problem(None)
    for document in (fake, pdf):
        with pytest.raises(wagtail_blocks.StructBlockValidationError) as caught:
            VideoBlock().clean({"video": document, "caption": "", "poster": None})
        assert "video" in caught.value.block_errors


def test_real_mp4_and_webm_headers_are_accepted():
    mp4 = h.document("拍照示范", "photo.mp4", h.MP4_HEAD)
    webm = h.document("装箱示范", "packing.webm", h.WEBM_HEAD)

    assert video_problem(mp4) is None and video_problem(webm) is None
    cleaned = VideoBlock().clean({"video": mp4, "caption": "示范", "poster": None})
    assert cleaned["video"] == mp4


def test_video_and_download_blocks_render_for_phones(client):
    video = h.document("拍照示范", "photo.mp4", h.MP4_HEAD)
    handout = h.document("拍照要点讲义", "handout.pdf", h.PDF_BYTES)
    poster = h.image("视频封面")
    course = h.course(h.training_index(), "拍照课")
    lesson = h.lesson(
        course,
        "拍照",
        body=[
            {
                "type": "video",
                "value": {"video": video.pk, "caption": "自然光拍摄", "poster": poster.pk},
            },
            {"type": "download", "value": {"document": handout.pk, "label": "下载讲义"}},
        ],
    )

    html = get(client, lesson)

    tag = re.search(r"<video[^>]*>", html).group(0)
    assert 'controls preload="metadata" playsinline' in tag
    poster_url = re.search(r'poster="([^"]+)"', tag).group(1)
    assert "fill-720x405" in poster_url and "original_images" not in poster_url
    assert f'<source src="{video.url}" type="video/mp4">' in html
    assert re.search(rf'href="{re.escape(video.url)}" download>下载视频', html)  # fallback link
    assert f'href="{handout.url}" download' in html
    assert re.search(r"下载讲义</span>\s*<span[^>]*>\(PDF, \d+\W*字节\)", html), html
    # The block templates are the ones the blocks declare.
    assert VideoBlock().meta.template == "cms/blocks/video.html"
    assert DownloadBlock().meta.template == "cms/blocks/download.html"


def test_featured_courses_and_cooperatives_on_the_home_page(client):
    from cooperatives.models import Cooperative
    from tests.cooperatives.conftest import make_cooperative

    training = h.training_index()
    shown = h.course(training, "合作社网上销售入门")
    hidden = CoursePage(title="草稿课程", slug="draft-course", intro="x")
    h.draft(training, hidden)
    verified = make_cooperative(
        "天津市西青区辛口沙窝萝卜种植专业合作社", credit_prefix="93120111MA05L1234"
    )
    pending = make_cooperative(
        "天津市宁河区岳龙镇稻蟹合作社",
        credit_prefix="93120117MA06K5678",
        division_code="120117",
        status=Cooperative.Status.APPLIED,
    )
    home = h.home_page()
    home.intro = [
        {
            "type": "featured_courses",
            "value": {"heading": "学会网上卖农货", "courses": [hidden.pk, shown.pk]},
        },
        {
            "type": "featured_cooperatives",
            "value": {"heading": "本月推荐合作社", "cooperatives": [pending.pk, verified.pk]},
        },
    ]
    home.save_revision().publish()

    html = get(client, "/")

    assert "学会网上卖农货" in html and f'href="{shown.url}"' in html
    assert "草稿课程" not in html
    assert "本月推荐合作社" in html
    assert f'href="/cooperatives/{verified.pk}/"' in html
    assert f"/cooperatives/{pending.pk}/" not in html  # not verified: no public page


# --- Navigation ----------------------------------------------------------------------


def footer_links(html: str) -> dict[str, tuple[str, str]]:
    footer = html[html.index('<footer class="site-footer">') :]
    return {
        key: (url, title)
        for url, key, title in re.findall(r'<a href="([^"]+)" data-nav="(\w+)">([^<]+)</a>', footer)
    }


def test_the_site_navigation_links_to_the_programme_sections_whatever_their_names(client):
    home = h.home_page()
    training = h.training_index("学本领")
    programme = h.programme_index("新闻和政策")
    about = h.publish(home, StandardPage(title="关于网农", slug="about-nav", show_in_menus=True))
    # Editors may put the statistics page anywhere, and mark it for menus.
    stats = StatisticsPage(title="数字看全覆盖", slug="stats", show_in_menus=True)
    h.publish(about, stats)

    links = footer_links(get(client, "/cooperatives/"))

    assert links == {
        "training": (training.url, "学本领"),
        "programme": (programme.url, "新闻和政策"),
        "statistics": (stats.url, "数字看全覆盖"),
    }


def test_sections_not_live_are_not_linked(client):
    home = h.home_page()
    h.draft(home, TrainingIndexPage(title="筹备中的培训", slug="training-draft"))
    stats = h.publish(home, StatisticsPage(title="统计", slug="stats-menu", show_in_menus=True))

    html = get(client, "/cooperatives/")

    assert "筹备中的培训" not in html
    assert footer_links(html) == {"statistics": (stats.url, "统计")}
    # Marked for menus too, but linked once.
    assert html.count(f'href="{stats.url}"') == 1


def nav_queries() -> tuple[int, int]:
    """Queries for the navigation on a fresh request, then again on the
    same request (after a warm-up request, as Wagtail caches the sites'
    root paths across requests)."""
    factory = RequestFactory()
    programme_nav({"request": factory.get("/")})
    request = factory.get("/")
    with CaptureQueriesContext(connection) as first:
        programme_nav({"request": request})
    with CaptureQueriesContext(connection) as again:
        programme_nav({"request": request})
    return len(first), len(again)


def test_the_navigation_costs_a_constant_few_queries():
    home = h.home_page()
    training = h.training_index()
    programme = h.programme_index()
    h.publish(home, StatisticsPage(title="统计", slug="stats-q"))
    small, cached = nav_queries()

    for i in range(8):
        h.article(programme, f"动态{i}")
        h.course(training, f"课程{i}", lessons=("一", "二"))
        h.publish(home, StatisticsPage(title=f"统计{i}", slug=f"stats-q{i}"))
    large, _cached = nav_queries()

    assert large == small <= 3, (small, large)
    assert cached == 0
    assert [link["key"] for link in programme_nav({"request": RequestFactory().get("/")})] == [
        "training",
        "programme",
        "statistics",
    ]


# --- Editors' workflow -----------------------------------------------------------------


def moderator() -> User:
    user = User.objects.create_user("shenhe", "shenhe@example.com", "pw-12345678")
    user.groups.add(Group.objects.get(name=workflows.MODERATORS_GROUP))
    return user


def test_the_article_workflow_is_set_up_once_and_covers_every_programme_section():
    first = h.programme_index("项目动态")
    workflows.ensure_article_workflow()
    workflows.ensure_article_workflow()
    second = h.programme_index("第二个栏目")  # added later, by an editor

    workflow = Workflow.objects.get(name="文章审核")
    assert workflow.active
    tasks = list(workflow.tasks.specific())
    assert [t.name for t in tasks] == ["审核员审核"]
    assert [g.name for g in tasks[0].groups.all()] == ["审核员"]
    assert Workflow.objects.filter(name="文章审核").count() == 1
    for section in (first, second):
        assert WorkflowPage.objects.get(page=section).workflow == workflow
    article = h.article(first, "待审核的文章")
    assert article.get_workflow() == workflow
    group = Group.objects.get(name="审核员")
    assert group.permissions.filter(codename="access_admin").exists()


def test_an_editors_own_workflow_on_a_section_is_kept():
    section = h.programme_index()
    own = Workflow.objects.create(name="主编直接审", active=True)
    WorkflowPage.objects.update_or_create(page=section, defaults={"workflow": own})

    workflows.ensure_article_workflow()

    assert WorkflowPage.objects.get(page=section).workflow == own


def test_an_article_submitted_for_moderation_goes_live_only_when_approved():
    section = h.programme_index()
    workflows.ensure_article_workflow()
    writer = User.objects.create_user("bianji", "bianji@example.com", "pw-12345678")
    reviewer = moderator()
    article = ArticlePage(title="服务站开门营业", slug="stations-open", date=dt.date(2025, 5, 1))
    h.draft(section, article)
    article.title = "首批服务站开门营业"
    article.save_revision(user=writer)

    workflow = article.get_workflow()
    state = workflow.start(article, writer)
    article.refresh_from_db()

    assert not article.live
    assert not ArticlePage.objects.live().filter(pk=article.pk).exists()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    task = state.current_task_state.task.specific
    assert task.get_actions(article, writer) == []  # the writer cannot approve
    assert [name for name, _label, _modal in task.get_actions(article, reviewer)][:2] == [
        "reject",
        "approve",
    ]

    state.current_task_state.approve(user=reviewer)
    article.refresh_from_db()
    state.refresh_from_db()

    assert state.status == WorkflowState.STATUS_APPROVED
    assert article.live and article.title == "首批服务站开门营业"


def test_a_rejected_article_stays_unpublished():
    section = h.programme_index()
    workflows.ensure_article_workflow()
    writer = User.objects.create_user("bianji2", "b2@example.com", "pw-12345678")
    article = ArticlePage(title="未核实的消息", slug="unverified", date=dt.date(2025, 5, 1))
    h.draft(section, article)
    state = article.get_workflow().start(article, writer)

    state.current_task_state.reject(user=moderator())
    article.refresh_from_db()

    assert not article.live
    assert state.current_task_state.status == "rejected"


def test_workflow_set_up_after_migrate_only_when_every_app_has_migrated(monkeypatch):
    from django.apps import apps
    from django.contrib.auth.models import Group
    from wagtail.models import Workflow

    calls = []
    monkeypatch.setattr(workflows, "ensure_article_workflow", lambda: calls.append(1))
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    # A database that has never had it (the first migrate).
    Workflow.objects.filter(name=workflows.WORKFLOW_NAME).update(name="旧流程")
    Group.objects.filter(name=workflows.MODERATORS_GROUP).delete()

    workflows.ensure_after_migrate(sender=apps.get_app_config("cms"))
    assert calls == []
    workflows.ensure_after_migrate(sender=with_models[-1])
    assert calls == [1]
    # Once set up, a later migrate (a deploy) leaves editors' changes alone.
    Group.objects.create(name=workflows.MODERATORS_GROUP)
    workflows.ensure_after_migrate(sender=with_models[-1])
    assert calls == [1]


# --- Scheduled publishing --------------------------------------------------------------


def test_scheduled_publishing_runs_from_beat():
    from cms.tasks import publish_scheduled
    from tests.logistics.test_settings import seconds_of

    entry = settings.CELERY_BEAT_SCHEDULE["cms-publish-scheduled"]
    assert entry["task"] == publish_scheduled.name == "cms.publish_scheduled"
    assert 0 < seconds_of(entry["schedule"]) <= 1800

    section = h.programme_index()
    article = ArticlePage(title="定时发布的文章", slug="scheduled", date=dt.date(2025, 5, 1))
    h.draft(section, article)
    article.go_live_at = timezone.now() + dt.timedelta(hours=1)
    article.save_revision().publish()  # scheduled, not live yet
    article.refresh_from_db()
    assert not article.live
    revision = article.scheduled_revision
    assert revision is not None

    publish_scheduled.apply()  # not due yet
    article.refresh_from_db()
    assert not article.live

    # The hour passes: the go-live time is now behind us.
    past = timezone.now() - dt.timedelta(minutes=1)
    revision.content["go_live_at"] = past.isoformat()
    revision.approved_go_live_at = past
    revision.save(update_fields=["content", "approved_go_live_at"])
    publish_scheduled.apply()
    article.refresh_from_db()
    assert article.live


def test_media_goes_through_the_configured_storage():
    """Wagtail images, their renditions and documents are stored through
    Django's default storage, which settings switch to S3 when a bucket is
    configured (config/settings.py STORAGES)."""
    from django.core.files.storage import default_storage
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    image_model = get_image_model()
    for model in (image_model, image_model.get_rendition_model(), get_document_model()):
        assert model._meta.get_field("file").storage is default_storage, model


def test_the_admin_offers_to_submit_an_article_to_the_article_workflow(client):
    section = h.programme_index()
    workflows.ensure_article_workflow()
    article = ArticlePage(title="待提交的文章", slug="to-submit", date=dt.date(2025, 5, 1))
    h.draft(section, article)
    editor = User.objects.create_superuser("zhubian", "zhubian@example.com", "pw-12345678")
    client.force_login(editor)

    response = client.get(f"/cms-admin/pages/{article.pk}/edit/")

    assert response.status_code == 200
    assert "文章审核" in response.content.decode()


def test_home_product_blocks_show_the_right_cards_in_order(client):
    """The featured and latest blocks share one load of their cards
    (cms_tags.PageProductCards): featured keep the editor's order and drop
    what is no longer for sale, latest are the newest browsable products."""
    from cms.demo import _block, _list_items
    from tests import factories

    old = factories.product("旧萝卜", price="5.00", stock=5)
    hidden = factories.product("下架白菜", price="5.00", stock=5)
    hidden.is_public = False
    hidden.save()
    new = factories.product("新葡萄", price="9.00", stock=5)
    newest = factories.product("最新河蟹", price="30.00", stock=5)
    for age, product in enumerate([newest, new, hidden, old]):
        product.date_created = timezone.now() - dt.timedelta(days=age)
        product.save()
    home = h.home_page()
    home.intro = [
        _block(
            "featured_products",
            {"heading": "精选", "products": _list_items([new.pk, hidden.pk, old.pk, newest.pk])},
        ),
        _block("latest_products", {"heading": "最新", "count": 3}),
    ]
    home.save_revision().publish()

    body = client.get("/").content.decode()
    featured, latest = body.split('aria-label="精选"')[1].split('aria-label="最新"')
    titles = re.compile(r"(旧萝卜|下架白菜|新葡萄|最新河蟹)")
    # Neither the products' age nor their creation order: the editor's.
    assert titles.findall(featured) == ["新葡萄", "旧萝卜", "最新河蟹"]
    assert titles.findall(latest) == ["最新河蟹", "新葡萄", "旧萝卜"]
