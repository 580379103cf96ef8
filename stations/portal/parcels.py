"""The station's parcel desk: what is on its way, what waits for its
resident, what has waited too long; confirming arrivals by scanning the
order number, and handing parcels over against the pickup code.

The rules (which order is the station's, what may arrive, the pickup code,
counting wrong codes and locking) live in ``stations.parcels``; these views
only read the form, call it and show what it says.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView
from oscar.core.loading import get_model

from cooperatives import fulfilment
from stations import parcels, residents
from stations.access import StationPortalMixin, station_parcels
from stations.models import Parcel

Line = get_model("order", "Line")

PER_SECTION = 25
RECENT_ARRIVALS = 20
# Line statuses from the least to the most advanced (cancelled aside).
LINE_PIPELINE = [
    fulfilment.PENDING,
    fulfilment.ACCEPTED,
    fulfilment.PACKED,
    fulfilment.SHIPPED,
    fulfilment.DELIVERED,
]
WITH_CARRIER = {fulfilment.SHIPPED, fulfilment.DELIVERED}


def field_errors(exc: ValidationError, default: str = "number") -> dict[str, list[str]]:
    """A service's ValidationError as ``{field: [messages]}``; messages
    that name no field go under ``default``."""
    if hasattr(exc, "error_dict"):
        errors: dict[str, list[str]] = {}
        for key, values in exc.message_dict.items():
            errors.setdefault(default if key == "__all__" else key, []).extend(values)
        return errors
    return {default: list(exc.messages)}


def search_filter(query: str) -> Q | None:
    """Resident name or (part of) the order number."""
    query = " ".join((query or "").split())[:50]
    if not query:
        return None
    condition = Q(station_order__resident__name__icontains=query)
    digits = parcels.normalise_number(query)
    if digits:
        condition |= Q(station_order__order__number__contains=digits)
    return condition


def carrier_states(rows: list[Parcel]) -> None:
    """Set ``carrier_state`` ("shipped", "partial" or "waiting") and
    ``line_labels`` on each incoming parcel: whether its cooperative has
    handed its lines of the order to the carrier yet. One query."""
    if not rows:
        return
    statuses: dict[tuple[int, int], list[str]] = defaultdict(list)
    lines = Line.objects.filter(
        order_id__in={p.station_order.order_id for p in rows},
        partner_id__in={p.partner_id for p in rows},
    ).values_list("order_id", "partner_id", "status")
    for order_id, partner_id, status in lines:
        statuses[(order_id, partner_id)].append(status)
    for parcel in rows:
        live = [
            s
            for s in statuses[(parcel.station_order.order_id, parcel.partner_id)]
            if s != fulfilment.CANCELLED
        ]
        ordered = sorted(
            set(live), key=lambda s: LINE_PIPELINE.index(s) if s in LINE_PIPELINE else -1
        )
        parcel.line_labels = _("、").join(fulfilment.status_label(s) for s in ordered)
        if live and all(s in WITH_CARRIER for s in live):
            parcel.carrier_state = "shipped"
        elif any(s in WITH_CARRIER for s in live):
            parcel.carrier_state = "partial"
        else:
            parcel.carrier_state = "waiting"


def waiting_facts(rows: list[Parcel], today: dt.date, overdue_days: int) -> None:
    """Masked phone, days waiting and the overdue flag for arrived parcels."""
    for parcel in rows:
        resident = parcel.station_order.resident
        parcel.masked_phone = residents.masked_phone(resident)
        arrived = timezone.localtime(parcel.arrived_at).date() if parcel.arrived_at else today
        parcel.days_waiting = max((today - arrived).days, 0)
        parcel.overdue = parcel.arrived_at is not None and (
            timezone.now() - parcel.arrived_at > dt.timedelta(days=overdue_days)
        )


class ParcelListView(StationPortalMixin, TemplateView):
    """/station/parcels/: 超期未取, 待取 and 在途, each paginated on its own
    (``?overdue_page=``, ``?waiting_page=``, ``?incoming_page=``), all
    filtered by ``?q=`` (resident name or order number)."""

    template_name = "stations/portal/parcels.html"

    def section(self, key: str, queryset):
        paginator = Paginator(queryset, PER_SECTION)
        page = paginator.get_page(self.request.GET.get(f"{key}_page"))
        page.rows = list(page.object_list)

        def link(number):
            params = self.request.GET.copy()
            params[f"{key}_page"] = number
            return "?" + params.urlencode() + f"#{key}"

        page.previous_url = link(page.previous_page_number()) if page.has_previous() else ""
        page.next_url = link(page.next_page_number()) if page.has_next() else ""
        page.key = key
        return page

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        station = self.station
        query = " ".join(self.request.GET.get("q", "").split())[:50]
        condition = search_filter(query)

        def scoped(qs):
            return qs.filter(condition) if condition is not None else qs

        days = parcels.uncollected_days()
        today = timezone.localdate()
        incoming = self.section("incoming", scoped(parcels.incoming(station)))
        waiting = self.section("waiting", scoped(parcels.waiting(station)))
        overdue = self.section("overdue", scoped(parcels.uncollected(station, days)))
        carrier_states(incoming.rows)
        waiting_facts(waiting.rows, today, days)
        waiting_facts(overdue.rows, today, days)
        ctx.update(
            query=query,
            incoming=incoming,
            waiting=waiting,
            overdue=overdue,
            uncollected_days=days,
        )
        return ctx


class ArrivalView(StationPortalMixin, TemplateView):
    """/station/parcels/arrival/: one box for the scanner. An order with
    several parcels in transit gets a second step to tick which arrived."""

    template_name = "stations/portal/parcels_arrival.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("number", "")
        ctx.setdefault("errors", {})
        ctx.setdefault("choice", None)
        start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
        ctx["recent"] = list(
            station_parcels(self.station)
            .filter(arrived_at__gte=start)
            .select_related("partner", "station_order__order", "station_order__resident")
            .order_by("-arrived_at", "-pk")[:RECENT_ARRIVALS]
        )
        return ctx

    def post(self, request, *args, **kwargs):
        number = request.POST.get("number", "").strip()[:50]
        choosing = request.POST.get("step") == "choose"
        try:
            if choosing:
                ids = sorted({int(v) for v in request.POST.getlist("parcel_ids") if v.isdigit()})
                if not ids:
                    return self.render_choice(
                        number, errors={"parcel_ids": [_("请至少勾选一个已经到站的包裹。")]}
                    )
                arrived = parcels.confirm_arrival(
                    self.station, request.user, number, parcel_ids=ids
                )
            else:
                station_order = parcels.find_station_order(self.station, number)
                in_transit = station_parcels(self.station).filter(
                    station_order=station_order, status=Parcel.Status.IN_TRANSIT
                )
                if in_transit.count() > 1:
                    return self.render_choice(number)
                arrived = parcels.confirm_arrival(self.station, request.user, number)
        except ValidationError as exc:
            return self.render_to_response(
                self.get_context_data(number=number, errors=field_errors(exc))
            )
        self.report(arrived)
        return redirect("station:parcel-arrival")

    def render_choice(self, number: str, errors: dict | None = None):
        station_order = parcels.find_station_order(self.station, number)
        in_transit = list(
            station_parcels(self.station)
            .filter(station_order=station_order, status=Parcel.Status.IN_TRANSIT)
            .select_related("partner")
            .order_by("pk")
        )
        choice = {"station_order": station_order, "parcels": in_transit}
        return self.render_to_response(
            self.get_context_data(
                number=station_order.order.number, errors=errors or {}, choice=choice
            )
        )

    def report(self, arrived: list[Parcel]) -> None:
        station_order = arrived[0].station_order
        resident = station_order.resident
        senders = _("、").join(str(p.partner.name) for p in arrived)
        text = ngettext(
            "已登记到站：订单 %(number)s（%(name)s）的 %(n)s 个包裹，来自 %(senders)s。",
            "已登记到站：订单 %(number)s（%(name)s）的 %(n)s 个包裹，来自 %(senders)s。",
            len(arrived),
        ) % {
            "number": station_order.order.number,
            "name": resident.name,
            "n": len(arrived),
            "senders": senders,
        }
        left = (
            station_parcels(self.station)
            .filter(station_order=station_order, status=Parcel.Status.IN_TRANSIT)
            .count()
        )
        if left:
            text += " " + ngettext(
                "这个订单还有 %(n)s 个包裹在途。", "这个订单还有 %(n)s 个包裹在途。", left
            ) % {"n": left}
        if resident.phone:
            text += " " + _("已发短信通知居民凭取件码来取。")
        messages.success(self.request, text)
        if not resident.phone:
            messages.warning(
                self.request,
                _(
                    "%(name)s 没有登记手机，收不到短信：请当面或打电话告诉居民来取件，并提醒带上小票（上面有取件码）。"
                )
                % {"name": resident.name},
            )


class HandoverView(StationPortalMixin, TemplateView):
    """/station/parcels/handover/: order number (``?number=`` prefills it)
    and the resident's pickup code."""

    template_name = "stations/portal/parcels_handover.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("number", "")
        ctx.setdefault("errors", {})
        ctx.setdefault("handed", None)
        ctx.setdefault("preview", None)
        ctx["max_failures"] = parcels.max_failures()
        return ctx

    def preview(self, number: str):
        """The order's resident and parcels waiting, to check before the
        code is typed (the station's own order only)."""
        station_order = parcels.find_station_order(self.station, number)
        waiting = list(
            station_parcels(self.station)
            .filter(station_order=station_order, status=Parcel.Status.ARRIVED)
            .select_related("partner")
            .order_by("pk")
        )
        return {"station_order": station_order, "parcels": waiting}

    def get(self, request, *args, **kwargs):
        number = request.GET.get("number", "").strip()[:50]
        if not number:
            return super().get(request, *args, **kwargs)
        try:
            preview = self.preview(number)
        except ValidationError as exc:
            return self.render_to_response(
                self.get_context_data(number=number, errors=field_errors(exc))
            )
        return self.render_to_response(
            self.get_context_data(number=preview["station_order"].order.number, preview=preview)
        )

    def post(self, request, *args, **kwargs):
        number = request.POST.get("number", "").strip()[:50]
        code = request.POST.get("code", "")
        if number and not parcels.normalise_number(code):
            # A scanned order number submits the form before the code is
            # typed: that is not a wrong code, so the service is not asked.
            return self.render_failure(number, {"code": [_("请输入居民的 6 位取件码。")]})
        try:
            handed = parcels.hand_over(self.station, request.user, number, code)
        except ValidationError as exc:
            return self.render_failure(number, field_errors(exc))
        handed = list(
            station_parcels(self.station)
            .filter(pk__in=[p.pk for p in handed])
            .select_related("partner", "station_order__order", "station_order__resident")
            .order_by("pk")
        )
        return self.render_to_response(
            self.get_context_data(
                handed={"station_order": handed[0].station_order, "parcels": handed}
            )
        )

    def render_failure(self, number: str, errors: dict):
        try:
            preview = self.preview(number)
        except ValidationError:
            preview = None
        return self.render_to_response(
            self.get_context_data(number=number, errors=errors, preview=preview)
        )
