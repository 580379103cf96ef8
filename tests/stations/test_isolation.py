"""The isolation sweep: every URL of the station portal (the ``station``
namespace), requested by station A's staff member with station B's object
ids, must answer 404 — for GET and for POST — and change nothing of B's.

HOW TO KEEP IT WALKING NEW URLS
-------------------------------
The sweep finds portal URLs itself (it walks the URL resolver), so a new view
is swept as soon as its URL exists. What it needs from you is which of
station B's objects to put in the URL's keyword arguments:

- ``pk`` → PK_OBJECTS: the *longest* URL-name prefix that matches decides
  which object's id is used (``"station:resident-"`` → a resident;
  ``"station:order"`` → a resident, the one ordered for, but
  ``"station:order-detail"`` → a StationOrder). Add a prefix when a new
  URL's ``pk`` means a new kind of object.
- any other keyword → KWARG_VALUES (``number`` …).
- ``objects_of()`` builds one of each object for a station; add the new
  kind of object there, and its distinctive text to ``markers``.

A URL with a keyword the sweep cannot fill makes it FAIL with "add a mapping
for …", so nobody can add an unchecked URL by accident. A URL that is
deliberately not scoped goes in EXEMPT with the reason.

Rules checked, per URL with keywords (B's ids, as A's staff member):
GET and POST are each 404 or 405 (method not allowed, decided before any
lookup), and at least one of them is 404 (the lookup ran and found nothing).
With A's own ids, GET is not 404 (so a view that 404s on everything does not
pass). URLs without keywords must answer A with 200 or 302 and never show
B's data — also when asked for it by name or number (``?q=``, ``?number=``,
or a POSTed order number). After the sweep, B's records are as they were.
``test_sweep_catches_an_unscoped_view`` proves the sweep can fail.

The platform's station dashboard (``stations-dashboard``) is for platform
staff only: station staff get 403 or the dashboard login, on every URL.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from oscar.core.loading import get_model

from cms import training_sessions
from cms.models import TrainingSession
from shop.payment import settlement
from shop.payment.models import Statement
from stations import cash, ordering, parcels
from stations.access import StationPortalMixin
from stations.models import AuditEvent, CashEntry, DayClose, Parcel, Resident, StationOrder
from tests import isolation
from tests.cms.learning_helpers import make_course
from tests.stations.conftest import (
    VILLAGE_A,
    VILLAGE_B,
    assisted_order,
    make_resident,
    make_staff,
    make_station,
    staff_of,
)

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")

NAMESPACE = "station"
DASHBOARD_NAMESPACE = "stations-dashboard"

# URL-name prefix → the key in objects_of() whose id fills ``pk``.
PK_OBJECTS: dict[str, str] = {
    "station:resident-": "resident",
    # Assisted ordering: the pk is the resident ordered for.
    "station:order": "resident",
    "station:order-add": "resident",
    "station:order-basket": "resident",
    "station:order-place": "resident",
    # The station's orders: the pk is a StationOrder.
    "station:order-detail": "station_order",
    "station:order-receipt": "station_order",
    "station:order-cancel": "station_order",
    "station:cash-close": "day_close",
}

# Other URL keywords → a function of objects_of() giving B's value.
KWARG_VALUES = {
    "number": lambda objs: objs["station_order"].order.number,
    "resident_pk": lambda objs: objs["resident"].pk,
    "order_pk": lambda objs: objs["station_order"].pk,
    "close_pk": lambda objs: objs["day_close"].pk,
    "statement_number": lambda objs: objs["statement"].number,
}

# URL name → why it is deliberately not scoped to the user's station.
EXEMPT: dict[str, str] = {}

# What a POST to another station's object carries: enough for any of the
# portal's forms to act, so an unscoped view would really do harm (and the
# state check after the sweep would see it).
POST_DATA = {
    "reason": "隔离测试",
    "quantity": "1",
    "delivery": Resident.Delivery.STATION,
    "cash_received": "1000",
    "counted": "0",
    "name": "隔离测试",
    "village": VILLAGE_A,
    "delivery_preference": Resident.Delivery.STATION,
}


def objects_of(station, produce, tag: str) -> dict:
    """One object of every kind the portal shows, for ``station``; ``tag``
    makes their texts unique so a leak is visible in a page."""
    staff = staff_of(station)
    resident = make_resident(station, f"独有居民{tag}", village=station.village_id)
    # An order on its way, one waiting at the station, and a cancelled one.
    station_order = assisted_order(
        station, resident, [(produce["radish"], 1), (produce["crab"], 1)]
    )
    waiting = assisted_order(station, resident, [(produce["radish"], 2)])
    parcels.confirm_arrival(station, staff, waiting.order.number)
    cancelled = assisted_order(station, resident, [(produce["crab"], 2)])
    ordering.cancel_assisted_order(cancelled, staff, f"独有原因{tag}")
    day_close = cash.close_day(station, staff, Decimal("0"), note=f"独有日结{tag}")
    later = assisted_order(station, resident, [(produce["radish"], 3)])  # an open cash entry
    # Something in the resident's basket.
    basket = ordering.resident_basket(resident)
    ordering.add_product(basket, produce["crab"], 1)
    # Its settlement statement for today (its commissions so far).
    settlement.generate_statements(timezone.localdate())
    statement = Statement.objects.get(station=station)
    # An offline training session the station ran (cms/training_sessions.py).
    training = training_sessions.record_session(
        station,
        staff,
        course=make_course(f"独有课程{tag}", [("第一课", None)]),
        held_on=timezone.localdate(),
        attendees=7,
        names=f"独有学员{tag}",
        note=f"独有培训{tag}",
    )
    return {
        "station": station,
        "staff": staff,
        "resident": resident,
        "station_order": station_order,
        "waiting": waiting,
        "cancelled": cancelled,
        "later": later,
        "day_close": day_close,
        "basket": basket,
        "line": basket.lines.get(),
        "statement": statement,
        "training": training,
        "markers": [
            station.name,
            f"独有居民{tag}",
            f"独有原因{tag}",
            f"独有日结{tag}",
            resident.phone,
            resident.phone[-4:] and f"{resident.phone[:3]}****{resident.phone[-4:]}",
            *(so.order.number for so in (station_order, waiting, cancelled, later)),
            statement.number,
            f"独有培训{tag}",
            f"独有学员{tag}",
        ],
    }


def state_of(objs) -> dict:
    """Everything of a station's that a portal action could change."""
    station = objs["station"]
    resident = Resident.objects.get(pk=objs["resident"].pk)
    return {
        "resident": (
            resident.name,
            resident.phone,
            resident.village_id,
            resident.delivery_preference,
        ),
        "orders": sorted(
            StationOrder.objects.filter(station=station).values_list(
                "pk", "cancelled_at", "pickup_failures", "locked_at"
            )
        ),
        "parcels": sorted(Parcel.objects.filter(station=station).values_list("pk", "status")),
        "closes": sorted(DayClose.objects.filter(station=station).values_list("pk", "counted")),
        "cash": sorted(CashEntry.objects.filter(station=station).values_list("pk", "day_close_id")),
        "audit": AuditEvent.objects.filter(station=station).count(),
        "basket": sorted(
            Basket.objects.get(pk=objs["basket"].pk).lines.values_list("product_id", "quantity")
        ),
        "training": sorted(
            TrainingSession.objects.filter(station=station).values_list("pk", "attendees", "note")
        ),
    }


# --- The sweep ---------------------------------------------------------------------


def portal_urls():
    return isolation.namespace_urls(NAMESPACE)


def pk_object(url_name: str) -> str | None:
    return isolation.pk_object(url_name, PK_OBJECTS)


def fill(url_name: str, kwarg_names: list[str], objs: dict) -> tuple[dict | None, str]:
    return isolation.fill(url_name, kwarg_names, objs, PK_OBJECTS, KWARG_VALUES)


body = isolation.body


def probes(other: dict) -> list[tuple[str, dict]]:
    """Ways to ask a URL without keywords for the other station's records.
    Searches use fragments, so a marker in the page is a result, not the
    search box showing back what was typed."""
    so = other["station_order"]
    waiting = other["waiting"]
    return [
        ("get", {}),
        ("get", {"q": other["resident"].name.removeprefix("独有")}),
        ("get", {"q": so.order.number[-6:]}),
        ("get", {"q": other["resident"].phone}),
        ("get", {"q": other["resident"].phone[-4:]}),
        ("get", {"number": waiting.order.number}),
        ("get", {"number": so.order.number}),
        ("post", {"number": waiting.order.number, "code": waiting.pickup_code}),
        ("post", {"number": so.order.number}),
        (
            "post",
            {
                "number": so.order.number,
                "step": "choose",
                "parcel_ids": list(so.parcels.values_list("pk", flat=True)),
            },
        ),
    ]


def leaks(text: str, markers: list[str], asked: dict) -> list[str]:
    """Markers in ``text``, except what the request itself typed (a form
    showing back the number typed into it is not a leak)."""
    typed = " ".join(str(v) for v in asked.values())
    return [m for m in markers if m and m in text and m not in typed]


def sweep(client, own: dict, other: dict) -> tuple[list[str], list[str]]:
    """Request every portal URL; returns (problems, URL names checked).
    ``client`` is signed in as a staff member of the station owning ``own``."""
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
            url = reverse(url_name)
            for method, data in probes(other):
                try:
                    response = getattr(client, method)(url, data)
                except Exception as exc:  # noqa: BLE001 - a crash is a finding too
                    problems.append(
                        f"{url_name}: {method.upper()} {data} crashed: {type(exc).__name__}: {exc}"
                    )
                    continue
                if method == "get" and not data and response.status_code not in (200, 302):
                    problems.append(f"{url_name}: GET answered {response.status_code}, not 200/302")
                if response.status_code >= 500:
                    problems.append(
                        f"{url_name}: {method.upper()} {data} answered {response.status_code}"
                    )
                leaked = leaks(body(response), other["markers"], data)
                if leaked:
                    problems.append(
                        f"{url_name}: {method.upper()} {data} shows the other station's {leaked}"
                    )
            continue
        kwargs, missing = fill(url_name, kwarg_names, other)
        if missing:
            problems.append(missing)
            continue
        url = reverse(url_name, kwargs=kwargs)
        statuses = {}
        for method in ("get", "post"):
            try:
                data = POST_DATA if method == "post" else {}
                statuses[method] = getattr(client, method)(url, data).status_code
            except Exception as exc:  # noqa: BLE001 - a crash is a finding too
                statuses[method] = f"{type(exc).__name__}: {exc}"
        if any(s not in (404, 405) for s in statuses.values()) or 404 not in statuses.values():
            problems.append(
                f"{url_name} {url} with the other station's ids: "
                f"GET {statuses['get']}, POST {statuses['post']} (expected 404)"
            )
        own_kwargs, _missing = fill(url_name, kwarg_names, own)
        own_status = client.get(reverse(url_name, kwargs=own_kwargs)).status_code
        if own_status == 404:
            problems.append(f"{url_name}: GET with the station's own ids is 404 too")
    return problems, checked


@pytest.fixture
def world(client, produce, settings):
    settings.SMS_BACKEND = "config.sms.LocmemBackend"
    station_a = make_station("独有站点A", VILLAGE_A)
    make_staff(station_a, "staff-a")
    station_b = make_station("独有站点B", VILLAGE_B, contact_phone="022-69591234")
    make_staff(station_b, "staff-b")
    own = objects_of(station_a, produce, "A")
    other = objects_of(station_b, produce, "B")
    client.force_login(staff_of(station_a))
    return client, own, other


def test_every_portal_url_is_scoped_to_the_users_station(world):
    client, own, other = world
    before = state_of(other)
    problems, checked = sweep(client, own, other)
    assert not problems, "\n".join(problems)
    assert state_of(other) == before, "station B's records changed"
    # The sweep really walked the portal (and keeps walking what is added).
    for name in (
        "station:home",
        "station:residents",
        "station:resident-create",
        "station:resident-detail",
        "station:resident-edit",
        "station:resident-contact",
        "station:order-start",
        "station:order",
        "station:order-add",
        "station:order-basket",
        "station:order-place",
        "station:orders",
        "station:order-detail",
        "station:order-receipt",
        "station:order-cancel",
        "station:parcels",
        "station:parcel-arrival",
        "station:parcel-handover",
        "station:cash",
        "station:cash-close",
        "station:commission",
        "station:statements",
        "station:statement",
        "station:statement-pdf",
        "station:statement-csv",
        "station:training",
    ):
        assert name in checked, f"{name} was not swept"
    print(f"\nisolation sweep: {len(checked)} station portal URLs checked")


def test_the_basket_line_of_another_resident_cannot_be_changed(world):
    """order-basket takes a basket line id in the POST: with A's own
    resident in the URL, B's line must not be touched."""
    client, own, other = world
    before = state_of(other)
    response = client.post(
        reverse("station:order-basket", kwargs={"pk": own["resident"].pk}),
        {"line_id": other["line"].pk, "quantity": "0", "remove": "1"},
    )
    assert response.status_code in (200, 302)
    assert state_of(other) == before


def test_the_order_page_searches_show_nothing_of_another_station(world):
    """Own resident in the URL, B's resident or order number searched for."""
    client, own, other = world
    url = reverse("station:order", kwargs={"pk": own["resident"].pk})
    for query in ("居民B", other["station_order"].order.number[-6:]):
        response = client.get(url, {"q": query})
        assert response.status_code == 200
        assert not leaks(body(response), other["markers"], {"q": query})


# --- Proof that the sweep can fail ----------------------------------------------------


class UnscopedResidentView(StationPortalMixin, View):
    """What the sweep exists to catch: a lookup by id alone."""

    def get(self, request, pk):
        return HttpResponse(Resident.objects.get(pk=pk).name)

    post = get


class LeakyListView(StationPortalMixin, View):
    """A list without keywords that forgets the station."""

    def get(self, request):
        return HttpResponse(", ".join(Resident.objects.values_list("name", flat=True)))


class WidgetView(StationPortalMixin, View):
    def get(self, request, widget_id):
        return HttpResponse("")


def urlconf_with(extra) -> str:
    """A root URLconf like the real one whose station portal also holds ``extra``."""
    from stations.portal import urls as portal

    return isolation.urlconf_with(extra, portal_urls=portal, namespace=NAMESPACE, prefix="station/")


def test_sweep_catches_an_unscoped_view(world, settings):
    client, own, other = world
    leak = path("residents/<int:pk>/peek/", UnscopedResidentView.as_view(), name="resident-peek")
    settings.ROOT_URLCONF = urlconf_with(leak)
    problems, checked = sweep(client, own, other)
    assert "station:resident-peek" in checked
    found = [p for p in problems if p.startswith("station:resident-peek")]
    assert found and "GET 200, POST 200" in found[0], problems
    assert len(problems) == 1, problems  # and nothing else is flagged


def test_sweep_catches_a_list_showing_another_stations_data(world, settings):
    client, own, other = world
    leak = path("everyone/", LeakyListView.as_view(), name="everyone")
    settings.ROOT_URLCONF = urlconf_with(leak)
    problems, _checked = sweep(client, own, other)
    assert problems and all(p.startswith("station:everyone") for p in problems), problems
    assert "独有居民B" in problems[0]


def test_sweep_fails_on_a_url_it_cannot_fill(world, settings):
    client, own, other = world
    widget = path("widgets/<int:widget_id>/", WidgetView.as_view(), name="widget-detail")
    settings.ROOT_URLCONF = urlconf_with(widget)
    problems, _checked = sweep(client, own, other)
    assert problems == [
        "add a mapping for station:widget-detail (keyword `widget_id`) to KWARG_VALUES"
    ]


def test_sweep_fails_on_a_pk_it_cannot_map(world, settings):
    client, own, other = world
    widget = path("widgets/<int:pk>/", WidgetView.as_view(), name="widget-pk")
    settings.ROOT_URLCONF = urlconf_with(widget)
    problems, _checked = sweep(client, own, other)
    assert problems == ["add a mapping for station:widget-pk (its `pk`) to PK_OBJECTS"]


def test_pk_mapping_uses_the_longest_prefix():
    assert pk_object("station:order") == "resident"
    assert pk_object("station:order-place") == "resident"
    assert pk_object("station:order-detail") == "station_order"
    assert pk_object("station:order-receipt") == "station_order"
    assert pk_object("station:order-cancel") == "station_order"
    assert pk_object("station:resident-edit") == "resident"
    assert pk_object("station:cash-close") == "day_close"
    assert pk_object("station:parcel-arrival") is None


# --- The platform's dashboard refuses station staff -------------------------------------------

# Dashboard URL-name prefix → the key in objects_of() whose id fills ``pk``
# (any id: what is checked is that station staff never get in).
DASHBOARD_PK = {
    "stations-dashboard:": "station",
    "stations-dashboard:resident-": "resident",
    "stations-dashboard:unlock": "station_order",
}
DASHBOARD_KWARGS = {"staff_pk": lambda objs: objs["station"].staff.get().pk}


def dashboard_url(url_name: str, kwarg_names: list[str], objs: dict) -> str:
    kwargs = {}
    for kwarg in kwarg_names:
        if kwarg == "pk":
            prefix = max((p for p in DASHBOARD_PK if url_name.startswith(p)), key=len)
            kwargs[kwarg] = objs[DASHBOARD_PK[prefix]].pk
        elif kwarg in DASHBOARD_KWARGS:
            kwargs[kwarg] = DASHBOARD_KWARGS[kwarg](objs)
        else:
            pytest.fail(f"add a mapping for {url_name} (keyword `{kwarg}`) to DASHBOARD_KWARGS")
    return reverse(url_name, kwargs=kwargs)


def test_every_dashboard_url_refuses_station_staff(world, client):
    _client, own, other = world
    login = reverse("dashboard:login")
    urls = sorted(isolation.namespace_urls(DASHBOARD_NAMESPACE))
    assert len(urls) >= 5, urls
    before = state_of(own)
    problems = []
    for url_name, kwarg_names in urls:
        for objs in (own, other):
            url = dashboard_url(url_name, kwarg_names, objs)
            for method in ("get", "post"):
                response = getattr(client, method)(url, POST_DATA if method == "post" else {})
                status = response.status_code
                refused = status == 403 or (
                    status == 302 and response["Location"].startswith(login)
                )
                if not refused:
                    problems.append(f"{url_name} {method.upper()} {url}: {status}")
    assert not problems, "\n".join(problems)
    assert state_of(own) == before
    # Anonymous visitors are sent to the dashboard login.
    client.logout()
    for url_name, kwarg_names in urls:
        response = client.get(dashboard_url(url_name, kwarg_names, own))
        assert response.status_code == 302 and response["Location"].startswith(login), url_name
