"""Plants tests/xss_payloads.py's probes everywhere people type text that
others see, through the services those people use, and lists the pages that
show them (used by tests/test_xss_escaping.py on the test client and
tests/browser/test_xss_probes.py in Chromium)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model
from wagtail.admin.rich_text import DraftailRichTextArea

from cms.models import ArticlePage, ProgrammeIndexPage
from cooperatives import complaints, listings, traceability
from cooperatives.models import Cooperative, HarvestBatch
from divisions.models import Division
from tests.cooperatives.conftest import make_cooperative, manager_of
from tests.payment import builders
from tests.xss_payloads import LINK_URLS, PAYLOADS, SHORT, joined

Category = get_model("catalogue", "Category")
ProductReview = get_model("reviews", "ProductReview")
PASSWORD = "pw-xss-probe-1"


@dataclass
class Planted:
    cooperative: Cooperative
    buyer: object
    manager: object
    public: list[str] = field(default_factory=list)
    buyer_pages: list[str] = field(default_factory=list)
    manager_pages: list[str] = field(default_factory=list)
    staff_pages: list[str] = field(default_factory=list)


def fit(model, name: str, text: str) -> str:
    limit = model._meta.get_field(name).max_length
    return text[:limit] if limit else text


def rich_text_from_editor(text_blocks: list[str], links: list[str]) -> str:
    """What Wagtail's Draftail editor stores when an editor types
    ``text_blocks`` as paragraphs and links each of ``links``: the ContentState
    JSON the browser posts, through the widget's own conversion."""
    blocks = [{"key": f"b{i}", "type": "unstyled", "text": t} for i, t in enumerate(text_blocks)]
    entity_map = {}
    for i, url in enumerate(links):
        label = f"链接{i}"
        entity_map[str(i)] = {"type": "LINK", "mutability": "MUTABLE", "data": {"url": url}}
        blocks.append(
            {
                "key": f"l{i}",
                "type": "unstyled",
                "text": label,
                "entityRanges": [{"offset": 0, "length": len(label), "key": i}],
            }
        )
    for block in blocks:
        block.setdefault("entityRanges", [])
        block.setdefault("inlineStyleRanges", [])
        block.setdefault("depth", 0)
        block.setdefault("data", {})
    widget = DraftailRichTextArea(features=["h2", "h3", "bold", "italic", "link", "ol", "ul"])
    posted = json.dumps({"blocks": blocks, "entityMap": entity_map})
    return widget.value_from_datadict({"body": posted}, {}, "body")


def plant(*, category=None, programme_index: ProgrammeIndexPage | None = None) -> Planted:
    """Everything, for a new cooperative; returns the pages to visit."""
    User = get_user_model()
    coop = make_cooperative(
        "探针测试农民专业合作社", credit_prefix="93120111MA0XPB123", username="xss-manager"
    )
    manager = manager_of(coop)
    manager.set_password(PASSWORD)
    manager.save()
    coop.display_name = fit(Cooperative, "display_name", SHORT[0])
    coop.description = joined()
    coop.address_detail = fit(Cooperative, "address_detail", joined(0, 4))
    coop.save()

    category = (
        category or Category.objects.filter(depth=1).first() or Category.add_root(name="蔬菜")
    )
    # A product listed through the cooperative portal's service …
    typed = listings.create_listing(
        coop,
        listings.ListingData(
            sku="XSS-1",
            title=f"探针萝卜 {SHORT[0]} {PAYLOADS[3]}"[:200],
            category=category,
            unit="斤",
            price=Decimal("6.50"),
            stock=50,
            net_weight_g=500,
            description=joined(),
        ),
    )
    # … and one whose description staff wrote as HTML in Oscar's dashboard.
    dashboard = listings.create_listing(
        coop,
        listings.ListingData(
            sku="XSS-2",
            title=f"探针白菜 {SHORT[1]}",
            category=category,
            unit="斤",
            price=Decimal("3.00"),
            stock=50,
            net_weight_g=500,
        ),
    )
    dashboard.description = (
        "<p>"
        + "</p><p>".join(PAYLOADS)
        + "</p>"
        + "".join(f'<a href="{u}">链接</a>' for u in LINK_URLS)
    )
    dashboard.save()

    buyer = User.objects.create_user(
        "xss-buyer@example.com",
        "xss-buyer@example.com",
        PASSWORD,
        first_name=SHORT[1][:150],
        last_name=SHORT[0][:150],
    )
    # An approved review with probes in the title, body and the author's name.
    ProductReview.objects.create(
        product=typed,
        user=buyer,
        score=4,
        title=fit(ProductReview, "title", SHORT[0] + PAYLOADS[0]),
        body=joined(),
        status=ProductReview.APPROVED,
    )

    # A delivered order, a complaint and the cooperative's reply.
    order = builders.quick_order([(typed, 1)], source=builders.COD)
    order.user = buyer
    order.save()
    builders.deliver(order.lines.all(), at=timezone.now() - timedelta(days=1))
    complaint = complaints.open_complaint(
        buyer, order.lines.get(), kind="damaged", description=joined()[:2000]
    )
    complaints.cooperative_answer(complaint, by=manager, action="reply", text=joined()[:2000])

    # A harvest batch (the public trace page).
    village = Division.objects.filter(level=5, code__startswith="120111").first()
    batch = traceability.create_batch(
        coop,
        product=typed,
        label=fit(HarvestBatch, "label", SHORT[0]),
        harvest_date=timezone.localdate() - timedelta(days=2),
        village=village,
        field=fit(HarvestBatch, "field", PAYLOADS[1] + PAYLOADS[3]),
        grower=fit(HarvestBatch, "grower", SHORT[1]),
        notes=joined(),
    )

    # A news article: probes in its title, intro and rich text typed in the editor.
    if programme_index is None:
        programme_index = ProgrammeIndexPage.objects.live().first()
    article = ArticlePage(
        title=fit(ArticlePage, "title", "探针新闻 " + SHORT[0] + PAYLOADS[7]),
        slug="xss-probe-news",
        intro=fit(ArticlePage, "intro", joined(0, 5)),
        body=[{"type": "text", "value": rich_text_from_editor(PAYLOADS, LINK_URLS)}],
    )
    programme_index.add_child(instance=article)
    article.save_revision().publish()
    article.refresh_from_db()

    planted = Planted(cooperative=coop, buyer=buyer, manager=manager)
    reviews_url = reverse(
        "catalogue:reviews-list", kwargs={"product_slug": typed.slug, "product_pk": typed.pk}
    )
    planted.public = [
        typed.get_absolute_url(),
        dashboard.get_absolute_url(),
        reviews_url,
        "/catalogue/",
        category.get_absolute_url(),
        "/search/?q=" + quote("探针"),
        "/search/?q=" + quote(PAYLOADS[0]),
        "/search/?q=" + quote(PAYLOADS[3]),
        "/search/?q=" + quote(PAYLOADS[10]),
        f"/cooperatives/{coop.pk}/",
        traceability.trace_path(batch),
        article.url,
        programme_index.url,
    ]
    planted.buyer_pages = [
        f"/accounts/orders/{order.number}/",
        f"/complaints/{complaint.pk}/",
    ]
    planted.manager_pages = [
        "/coop/complaints/",
        f"/coop/complaints/{complaint.pk}/",
        "/coop/products/",
    ]
    planted.staff_pages = [
        "/dashboard/complaints/",
        f"/dashboard/complaints/{complaint.pk}/",
        "/dashboard/reviews/",
        "/dashboard/cooperatives/",
    ]
    return planted
