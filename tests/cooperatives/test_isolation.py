"""The isolation sweep: every URL of the cooperative portal (the ``coop``
namespace), requested by cooperative A's manager with cooperative B's
object ids, must answer 404 — for GET and for POST.

HOW TO KEEP IT WALKING NEW URLS
-------------------------------
The sweep finds portal URLs itself (it walks the URL resolver), so a new view
is swept as soon as its URL exists. What it needs from you is which of
cooperative B's objects to put in the URL's keyword arguments:

- ``pk`` → PK_OBJECTS: the *longest* URL-name prefix that matches decides
  which object's id is used (``"coop:order-"`` → an order line). Add a
  prefix when a new URL's ``pk`` means a new kind of object.
- any other keyword → KWARG_VALUES (``token``, ``number`` …).
- ``objects_of()`` builds one of each object for a cooperative; add the new
  kind of object there, and its distinctive text to ``markers``.

A URL with a keyword the sweep cannot fill makes it FAIL with "add a mapping
for …", so nobody can add an unchecked URL by accident. A URL that is
deliberately not scoped goes in EXEMPT with the reason.

Rules checked, per URL with keywords (B's ids, as A's manager):
GET and POST are each 404 or 405 (method not allowed, decided before any
lookup), and at least one of them is 404 (the lookup ran and found nothing).
With A's own ids, GET is not 404 (so a view that 404s on everything does not
pass). URLs without keywords must answer A with 200 or 302 and never show
B's data. ``test_sweep_catches_an_unscoped_view`` proves the sweep can fail.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from oscar.core.loading import get_model

from cooperatives import listings, traceability
from cooperatives.listings import ListingData, VariantData
from cooperatives.models import (
    Certification,
    Complaint,
    CooperativePhoto,
    ImportJob,
    Membership,
)
from cooperatives.portal import members
from cooperatives.portal.access import CooperativePortalMixin
from logistics import shipments as logistics_shipments
from shop.payment import settlement
from shop.payment.models import Statement
from tests import factories, isolation
from tests.cooperatives.conftest import manager_of
from tests.cooperatives.order_helpers import order_of
from tests.cooperatives.photos import small_jpeg

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")

NAMESPACE = "coop"

# URL-name prefix → the key in objects_of() whose id fills ``pk``.
PK_OBJECTS: dict[str, str] = {
    "coop:product-image-": "product_image",
    "coop:product-": "product",
    "coop:variant-create": "product",  # adds a variant to a product
    "coop:variant-": "variant",
    "coop:stock-": "stockrecord",
    "coop:member-": "membership",
    "coop:invitation-": "invitation",
    "coop:order-": "order_line",
    "coop:import-": "import_job",
    "coop:certification-": "certification",
    "coop:photo-": "photo",
    "coop:shipment": "shipment",  # coop:shipment, coop:shipment-label, …
    "coop:batch": "batch",  # coop:batch-edit, coop:batch-qr-png, …
    "coop:complaint": "complaint",  # coop:complaint (detail and answer)
}

# Other URL keywords → a function of objects_of() giving B's value.
KWARG_VALUES = {
    "token": lambda objs: objs["invitation"].token,
    "number": lambda objs: objs["order"].number,
    "line_pk": lambda objs: objs["order_line"].pk,
    "order_pk": lambda objs: objs["order"].pk,
    "product_pk": lambda objs: objs["product"].pk,
    "image_pk": lambda objs: objs["product_image"].pk,
    "job_pk": lambda objs: objs["import_job"].pk,
    "statement_number": lambda objs: objs["statement"].number,
}

# URL name → why it is deliberately not scoped to the user's cooperative.
EXEMPT = {
    "coop:member-join": (
        "the invitation token is the credential: people who are not members "
        "yet open it to join (rules tested in test_members.py)"
    ),
}


def objects_of(coop, tag: str) -> dict:
    """One object of every kind the portal shows, for ``coop``; ``tag``
    makes their texts unique so a leak is visible in a page."""
    factories.china()
    category = factories.category(f"分类{tag}")
    product = listings.create_listing(
        coop,
        ListingData(
            sku=f"SKU-{tag}",
            title=f"独有商品{tag}",
            category=category,
            unit="斤",
            price=Decimal("9.90"),
            stock=50,
        ),
    )
    parent = listings.create_listing(
        coop,
        ListingData(
            title=f"独有礼盒{tag}",
            category=category,
            unit="箱",
            variants=[VariantData(f"独有规格{tag}", Decimal("30"), 5)],
        ),
    )
    variant = parent.children.get()
    image = ProductImage(product=product, display_order=0)
    image.original.save(f"iso-{tag}.jpg", small_jpeg(), save=True)
    invitation = members.create_invitation(
        coop, by=manager_of(coop), email=f"invited-{tag}@example.com".lower()
    )
    certification = Certification.objects.create(
        cooperative=coop,
        type="green_food",
        number=f"CERT-{tag}",
        issuer="中国绿色食品发展中心",
        expires_on=timezone.localdate() + timedelta(days=100),
    )
    photo = CooperativePhoto(cooperative=coop, caption=f"独有照片{tag}")
    photo.image.save(f"photo-{tag}.jpg", small_jpeg(), save=True)
    order = order_of((product, 2))
    factories.carriers()
    (shipment,) = logistics_shipments.create_for_order(order)
    shipment = logistics_shipments.enter_tracking_number(shipment, f"ISOTRK{tag}", by=None)
    job = ImportJob(cooperative=coop, original_name=f"独有导入{tag}.csv")
    job.file.save(f"import-{tag}.csv", ContentFile(b"sku,title\n"), save=True)
    membership = coop.memberships.get(role=Membership.Role.MEMBER)
    day = timezone.localdate() - timedelta(days=1)
    statement = Statement.objects.create(
        number=settlement.statement_number(Statement.Party.COOPERATIVE, coop.partner_id, day),
        party=Statement.Party.COOPERATIVE,
        partner=coop.partner,
        period_start=day,
        period_end=day,
    )
    batch = traceability.create_batch(
        coop, product=product, label=f"独有批次{tag}", harvest_date=day
    )
    complaint = Complaint.objects.create(
        order=order,
        line=order.lines.get(),
        buyer=get_model("auth", "User").objects.create_user(f"complainer-{tag}"),
        cooperative=coop,
        kind=Complaint.Kind.DAMAGED,
        description=f"独有投诉{tag}",
        deadline=timezone.now() + timedelta(hours=48),
    )
    return {
        "complaint": complaint,
        "batch": batch,
        "product": product,
        "parent": parent,
        "variant": variant,
        "product_image": image,
        "stockrecord": product.stockrecords.get(),
        "membership": membership,
        "invitation": invitation,
        "certification": certification,
        "photo": photo,
        "order": order,
        "order_line": order.lines.get(),
        "import_job": job,
        "shipment": shipment,
        "statement": statement,
        "markers": [
            f"独有商品{tag}",
            f"独有礼盒{tag}",
            f"独有规格{tag}",
            f"SKU-{tag}",
            f"invited-{tag}@example.com".lower(),
            f"CERT-{tag}",
            f"独有照片{tag}",
            f"独有导入{tag}",
            membership.user.username,
            order.number,
            f"ISOTRK{tag}",
            statement.number,
            f"独有批次{tag}",
            batch.code,
            f"独有投诉{tag}",
        ],
    }


# --- The sweep ---------------------------------------------------------------------


def portal_urls():
    return isolation.namespace_urls(NAMESPACE)


def pk_object(url_name: str) -> str | None:
    return isolation.pk_object(url_name, PK_OBJECTS)


def fill(url_name: str, kwarg_names: list[str], objs: dict) -> tuple[dict | None, str]:
    return isolation.fill(url_name, kwarg_names, objs, PK_OBJECTS, KWARG_VALUES)


body = isolation.body


def sweep(client, own: dict, other: dict) -> tuple[list[str], list[str]]:
    """Request every portal URL; returns (problems, URL names checked).
    ``client`` is signed in as the manager of the cooperative owning ``own``."""
    problems: list[str] = []
    checked: list[str] = []
    for url_name, kwarg_names in sorted(portal_urls()):
        if url_name in EXEMPT:
            continue
        if "<unnamed" in url_name:
            problems.append(f"{url_name}: every portal URL needs a name")
            continue
        checked.append(url_name)
        if not kwarg_names:
            response = client.get(reverse(url_name))
            if response.status_code not in (200, 302):
                problems.append(f"{url_name}: GET answered {response.status_code}, not 200/302")
            text = body(response)
            leaked = [m for m in other["markers"] if m in text]
            if leaked:
                problems.append(f"{url_name}: shows the other cooperative's {leaked}")
            continue
        kwargs, missing = fill(url_name, kwarg_names, other)
        if missing:
            problems.append(missing)
            continue
        url = reverse(url_name, kwargs=kwargs)
        statuses = {}
        for method in ("get", "post"):
            try:
                statuses[method] = getattr(client, method)(url).status_code
            except Exception as exc:  # noqa: BLE001 - a crash is a finding too
                statuses[method] = f"{type(exc).__name__}: {exc}"
        if any(s not in (404, 405) for s in statuses.values()) or 404 not in statuses.values():
            problems.append(
                f"{url_name} {url} with the other cooperative's ids: "
                f"GET {statuses['get']}, POST {statuses['post']} (expected 404)"
            )
        own_kwargs, _missing = fill(url_name, kwarg_names, own)
        own_status = client.get(reverse(url_name, kwargs=own_kwargs)).status_code
        if own_status == 404:
            problems.append(f"{url_name}: GET with the cooperative's own ids is 404 too")
    return problems, checked


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(coop_a, coop_b, client):
    own = objects_of(coop_a, "A")
    other = objects_of(coop_b, "B")
    client.force_login(manager_of(coop_a))
    return client, own, other


def test_every_portal_url_is_scoped_to_the_users_cooperative(world):
    client, own, other = world
    problems, checked = sweep(client, own, other)
    assert not problems, "\n".join(problems)
    # The sweep really walked the portal (and keeps walking what is added).
    for name in (
        "coop:products",
        "coop:product-edit",
        "coop:product-publish",
        "coop:product-image-delete",
        "coop:variant-create",
        "coop:variant-edit",
        "coop:stock-update",
        "coop:members",
        "coop:member-role",
        "coop:member-remove",
        "coop:invitation-revoke",
        "coop:shipments",
        "coop:shipment",
        "coop:shipment-label",
        "coop:shipment-tracking-number",
        "coop:shipment-close",
        "coop:statements",
        "coop:statement",
        "coop:statement-pdf",
        "coop:statement-csv",
        "coop:batches",
        "coop:batch-create",
        "coop:batch-edit",
        "coop:batch-qr-png",
        "coop:batch-qr-svg",
        "coop:batch-label",
        "coop:order-line-batch",
    ):
        assert name in checked, f"{name} was not swept"
    print(f"\nisolation sweep: {len(checked)} portal URLs checked")


# --- Proof that the sweep can fail ----------------------------------------------------


class UnscopedProductView(CooperativePortalMixin, View):
    """What the sweep exists to catch: a lookup by id alone."""

    def get(self, request, pk):
        return HttpResponse(Product.objects.get(pk=pk).title)

    post = get


class WidgetView(CooperativePortalMixin, View):
    def get(self, request, widget_id):
        return HttpResponse("")


def urlconf_with(extra) -> str:
    """A root URLconf like the real one whose portal also holds ``extra``."""
    from cooperatives.portal import urls as portal

    return isolation.urlconf_with(extra, portal_urls=portal, namespace=NAMESPACE, prefix="coop/")


def test_sweep_catches_an_unscoped_view(world, settings):
    client, own, other = world
    leak = path("products/<int:pk>/peek/", UnscopedProductView.as_view(), name="product-peek")
    settings.ROOT_URLCONF = urlconf_with(leak)
    problems, checked = sweep(client, own, other)
    assert "coop:product-peek" in checked
    found = [p for p in problems if p.startswith("coop:product-peek")]
    assert found and "GET 200, POST 200" in found[0], problems
    assert len(problems) == 1, problems  # and nothing else is flagged


def test_sweep_fails_on_a_url_it_cannot_fill(world, settings):
    client, own, other = world
    widget = path("widgets/<int:widget_id>/", WidgetView.as_view(), name="widget-detail")
    settings.ROOT_URLCONF = urlconf_with(widget)
    problems, _checked = sweep(client, own, other)
    assert problems == [
        "add a mapping for coop:widget-detail (keyword `widget_id`) to KWARG_VALUES"
    ]
