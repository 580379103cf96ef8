"""The demo's Wagtail pages: the home page, an about page, the programme's
training, news and statistics sections (cms/demo_programme.py) and the site
record.

Called by ``manage.py load_demo`` after the catalogue is loaded. Idempotent:
the pages are only created when there is no HomePage yet, so an editor's
changes to them survive later runs; the Wagtail Site is kept pointing at the
HomePage and at SITE_DOMAIN.
"""

import uuid
from collections import Counter

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from cms.models import HomePage, StandardPage

HOME_TITLE = "网农 — 天津农产品"
HOME_SLUG = "home"
ABOUT_TITLE = "关于网农"
ABOUT_SLUG = "about"
# The page Wagtail's own initial migration creates.
WAGTAIL_WELCOME_TITLE = "Welcome to your new Wagtail site!"

ABOUT_HTML = (
    "<h2>网农是什么</h2>"
    "<p>网农是天津市农产品网上销售的开源平台，让区县的农民专业合作社把自家的"
    "地理标志产品和时令农产品直接卖给城里的家庭。</p>"
    "<h2>我们怎么做</h2>"
    "<ul>"
    "<li>合作社直供：每件商品都标明合作社和产地的乡镇、村，价格和库存由合作社自己维护。</li>"
    "<li>产地可查：沙窝萝卜、小站稻、茶淀玫瑰香葡萄、七里海河蟹、盘山磨盘柿等天津地理标志产品，"
    "注明采收日期、保质期和储运温层。</li>"
    "<li>冷链到家：河蟹、泥鳅、叶菜等鲜活商品走冷藏或冷冻配送。</li>"
    "</ul>"
    "<p>本站当前展示的是演示数据：合作社名称、价格和库存均为示例，不代表真实经营主体。</p>"
)


def split_domain(domain: str) -> tuple[str, int]:
    """'127.0.0.1:8000' -> ('127.0.0.1', 8000); no port means 80."""
    domain = domain.strip()
    if "://" in domain:
        domain = domain.split("://", 1)[1]
    domain = domain.split("/", 1)[0]
    if domain.startswith("["):  # [::1]:8000
        host, _, rest = domain[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = domain.partition(":")
    return host or "localhost", int(port) if port.isdigit() else 80


def _block(block_type: str, value) -> dict:
    return {"type": block_type, "value": value, "id": str(uuid.uuid4())}


def _list_items(values) -> list[dict]:
    """A ListBlock's stored form: one {"type": "item", ...} per value."""
    return [{"type": "item", "value": v, "id": str(uuid.uuid4())} for v in values]


def home_intro(featured_product_ids, category_ids) -> list[dict]:
    """The home page's StreamField in its stored (JSON) form.

    Chooser blocks store the chosen object's primary key.
    """
    blocks = [
        _block(
            "hero",
            {
                "heading": "天津好农货，合作社产地直发",
                "text": "沙窝萝卜、小站稻、茶淀玫瑰香葡萄、七里海河蟹……"
                "天津各区农民专业合作社的地理标志产品和时令农产品，一站买齐。",
                "image": None,
                "link_text": "逛逛全部商品",
                "link_url": "/catalogue/",
            },
        )
    ]
    if featured_product_ids:
        blocks.append(
            _block(
                "featured_products",
                {"heading": "当季精选", "products": _list_items(featured_product_ids[:12])},
            )
        )
    if category_ids:
        blocks.append(
            _block(
                "category_grid",
                {"heading": "按品类选购", "categories": _list_items(category_ids[:12])},
            )
        )
    blocks.append(_block("latest_products", {"heading": "最新上架", "count": 8}))
    return blocks


def _root_page() -> Page:
    """Wagtail's tree root; recreated as its migration made it if missing
    (e.g. after ``manage.py flush``)."""
    root = Page.get_first_root_node()
    if root is None:
        language = get_supported_content_language_variant(settings.LANGUAGE_CODE)
        locale, _ = Locale.objects.get_or_create(language_code=language)
        root = Page.add_root(instance=Page(title="Root", slug="root", locale=locale))
    return root


def _remove_welcome_page(root: Page) -> None:
    """Delete Wagtail's placeholder page (and free its 'home' slug)."""
    page_type = ContentType.objects.get_for_model(Page)
    for welcome in Page.objects.filter(
        depth=2, content_type=page_type, title=WAGTAIL_WELCOME_TITLE
    ):
        if welcome.get_children_count():
            continue
        # A Site is deleted with its root page: move it off first.
        Site.objects.filter(root_page=welcome).update(root_page=root)
        welcome.delete()


def _ensure_site(home: HomePage, created: Counter) -> None:
    hostname, port = split_domain(settings.SITE_DOMAIN)
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    if site is None:
        Site.objects.create(
            hostname=hostname,
            port=port,
            site_name=settings.SITE_NAME,
            root_page=home,
            is_default_site=True,
        )
        created["wagtail sites"] += 1
        return
    wanted = {
        "hostname": hostname,
        "port": port,
        "site_name": settings.SITE_NAME,
        "is_default_site": True,
    }
    if site.root_page.specific_class is not HomePage:
        wanted["root_page_id"] = home.pk
    changed = {k: v for k, v in wanted.items() if getattr(site, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(site, key, value)
        site.save()


def setup_cms(*, featured_product_ids, category_ids, images: bool = False) -> Counter:
    """Create the home and about pages if missing, point the Site at home,
    and add what is missing of the programme's sections (training courses,
    news, statistics: cms/demo_programme.py; pictures only with ``images``).

    Returns counts of what was created.
    """
    from cms.demo_programme import setup_programme

    created: Counter = Counter()
    with transaction.atomic():
        home = HomePage.objects.first()
        if home is None:
            root = _root_page()
            _remove_welcome_page(root)
            slug = HOME_SLUG
            if root.get_children().filter(slug=slug).exists():
                slug = "wangnong-home"
            home = HomePage(
                title=HOME_TITLE,
                slug=slug,
                intro=home_intro(featured_product_ids, category_ids),
            )
            root.add_child(instance=home)
            home.save_revision().publish()
            created["pages"] += 1

            about = StandardPage(
                title=ABOUT_TITLE,
                slug=ABOUT_SLUG,
                show_in_menus=True,
                body=[_block("text", ABOUT_HTML)],
            )
            home.add_child(instance=about)
            about.save_revision().publish()
            created["pages"] += 1
        _ensure_site(home, created)
        created.update(setup_programme(home, images=images))
    return created
