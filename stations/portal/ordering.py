"""Assisted ordering: one page to search the catalogue, fill the resident's
basket and place the order for cash.

Page-load budget (a requirement): a returning resident's order of two
products is at most 8 page loads from the station home to the printed
receipt — home → resident search → this page → search → add (redirects back
to the same results) → search → add → place (redirects to the receipt).
Every POST here either redirects back to this page or, on an error,
renders it again (status 200) with the errors next to what was typed.

The rules (prices, stock, the selling gate, cash, the order itself) live in
``stations.ordering``; this module only reads the form and shows results.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import RedirectView, TemplateView
from oscar.core.loading import get_model

from shop.catalogue.listing import browsable_products
from shop.search.backends import search_products
from stations import ordering, residents
from stations.access import StationPortalMixin, get_scoped_or_404, station_residents
from stations.models import Resident

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")

Delivery = Resident.Delivery
MAX_RESULTS = 20
SUGGESTIONS = 8
MAX_QUANTITY = 999


class ProductRow:
    """A search result as the order page shows it: a product you can add,
    or a parent with one addable row per variant."""

    def __init__(self, product, strategy):
        self.product = product
        self.is_parent = product.is_parent
        if self.is_parent:
            self.variants = [ProductRow(child, strategy) for child in product.get_public_children()]
            self.info = None
        else:
            self.variants = []
            self.info = strategy.fetch_for_product(product)

    @property
    def title(self) -> str:
        return self.product.get_title()

    @property
    def variant_title(self) -> str:
        """A variant's own name ("5斤装") under its parent's heading."""
        return self.product.title or self.title

    @property
    def price(self):
        if self.info is None or not self.info.price.exists:
            return None
        price = self.info.price
        return price.incl_tax if price.is_tax_known else price.excl_tax

    @property
    def is_available(self) -> bool:
        return bool(self.info and self.info.availability.is_available_to_buy)

    @property
    def availability_message(self) -> str:
        return str(self.info.availability.message) if self.info else ""

    @property
    def partner_name(self) -> str:
        record = self.info.stockrecord if self.info else None
        if record is None and self.variants:
            record = self.variants[0].info.stockrecord
        return record.partner.name if record is not None and record.partner_id else ""


def clean_query(value) -> str:
    return " ".join(str(value or "").split())[:100]


def parse_quantity(value, minimum: int = 1) -> int | None:
    """A typed quantity ("2", "２") as an int in range, or None."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text.isdigit():
        return None
    number = int(text)
    return number if minimum <= number <= MAX_QUANTITY else None


def order_url(resident, query: str = "", anchor: str = "") -> str:
    url = reverse("station:order", kwargs={"pk": resident.pk})
    if query:
        url += "?" + urlencode({"q": query})
    return url + (f"#{anchor}" if anchor else "")


PLACE_FIELDS = ("delivery", "cash_received")


def service_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as {field: [messages]}; errors that belong
    to no field of the checkout form are under "general"."""
    errors: dict[str, list[str]] = {}
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("general", exc.messages)]
    for key, messages_ in items:
        errors.setdefault(key if key in PLACE_FIELDS else "general", []).extend(messages_)
    return errors


class OrderStartView(StationPortalMixin, RedirectView):
    """The 代下单 tab without a resident: choose one first."""

    active_station_required = True

    def get_redirect_url(self, *args, **kwargs):
        messages.info(self.request, _("请先选择或登记要代下单的居民"))
        return reverse("station:residents")


class ResidentBasketMixin:
    """Loads the station's resident (URL ``pk``; another station's gives
    404 whatever the method) and their basket, once StationPortalMixin has
    found the staff member's station (it comes first in the bases)."""

    def dispatch(self, request, *args, **kwargs):
        self.resident = get_scoped_or_404(
            station_residents(self.station).select_related("village"), pk=kwargs["pk"]
        )
        self.basket = ordering.resident_basket(self.resident, request)
        return super().dispatch(request, *args, **kwargs)


class OrderPageMixin(StationPortalMixin, ResidentBasketMixin):
    """Renders the order page with whatever the current request typed or
    got wrong."""

    active_station_required = True
    template_name = "stations/portal/order.html"

    # --- what the page shows -------------------------------------------------

    def catalogue(self, query: str) -> dict:
        strategy = self.basket.strategy
        if query:
            products = list(search_products(browsable_products(), query)[:MAX_RESULTS])
        else:
            products = list(
                browsable_products().order_by("-priority", "-date_created", "-pk")[:SUGGESTIONS]
            )
        categories = []
        if not query:
            categories = list(
                Category.objects.browsable()
                .filter(depth=1)
                .exclude(exclude_from_menu=True)
                .order_by("path")
            )
        return {
            "query": query,
            "rows": [ProductRow(p, strategy) for p in products],
            "categories": categories,
        }

    def basket_lines(self) -> list:
        lines = list(self.basket.all_lines())
        for line in lines:
            allowed, message = line.purchase_info.availability.is_purchase_permitted(line.quantity)
            line.problem = "" if allowed else message
        return lines

    def delivery_options(self) -> list[dict]:
        options = []
        empty = self.basket.is_empty
        for value, label in Delivery.choices:
            available = value != Delivery.HOME or bool(self.resident.address_detail)
            quote = (
                ordering.quote(self.basket, value, self.resident)
                if (available and not empty)
                else None
            )
            options.append({"value": value, "label": label, "available": available, "quote": quote})
        return options

    def default_delivery(self) -> str:
        if self.resident.delivery_preference == Delivery.HOME and self.resident.address_detail:
            return Delivery.HOME
        return Delivery.STATION

    def page_context(self, *, query: str = "", **extra) -> dict:
        ctx = self.get_context_data(
            resident=self.resident,
            masked_phone=residents.masked_phone(self.resident),
            basket=self.basket,
            lines=self.basket_lines(),
            delivery_options=self.delivery_options(),
            delivery=self.default_delivery(),
            cash_received="",
            place_errors={},
            add_error=None,
            basket_error=None,
            **self.catalogue(query),
        )
        ctx.update(extra)
        return ctx


class OrderView(OrderPageMixin, TemplateView):
    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.page_context(query=clean_query(request.GET.get("q"))))


class OrderAddView(OrderPageMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        query = clean_query(request.POST.get("q"))
        product_id = request.POST.get("product_id", "")
        typed = request.POST.get("quantity", "")
        product = self.addable_product(product_id)
        quantity = parse_quantity(typed)
        try:
            if product is None:
                raise ValidationError(_("没有找到这件商品，请重新搜索。"))
            if quantity is None:
                raise ValidationError(
                    _("请填写购买数量（1 到 %(max)s 之间的整数）。") % {"max": MAX_QUANTITY}
                )
            ordering.add_product(self.basket, product, quantity)
        except ValidationError as exc:
            error = {"product_id": product_id, "quantity": typed, "messages": exc.messages}
            return self.render_to_response(self.page_context(query=query, add_error=error))
        messages.success(
            request, _("已加入：%(title)s × %(n)s") % {"title": product.get_title(), "n": quantity}
        )
        return redirect(order_url(self.resident, query, "catalogue"))

    def addable_product(self, product_id):
        if not str(product_id).isdigit():
            return None
        top = Product.objects.browsable().values("pk")
        return (
            Product.objects.filter(pk=int(product_id), is_public=True)
            .filter(Q(parent__isnull=True, pk__in=top) | Q(parent__in=top))
            .select_related("parent")
            .first()
        )


class OrderBasketView(OrderPageMixin, TemplateView):
    """Change a basket line's quantity, or remove it."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        query = clean_query(request.POST.get("q"))
        line_id = request.POST.get("line_id", "")
        typed = request.POST.get("quantity", "")
        remove = "remove" in request.POST
        try:
            if not str(line_id).isdigit():
                raise ValidationError(_("购物篮里没有这件商品。"))
            quantity = 0 if remove else parse_quantity(typed, minimum=0)
            if quantity is None:
                raise ValidationError(
                    _("请填写数量（0 到 %(max)s 之间的整数，0 表示移除）。") % {"max": MAX_QUANTITY}
                )
            ordering.set_line_quantity(self.basket, int(line_id), quantity)
        except ValidationError as exc:
            error = {"line_id": line_id, "quantity": typed, "messages": exc.messages}
            return self.render_to_response(self.page_context(query=query, basket_error=error))
        messages.success(request, _("已从购物篮移除。") if quantity == 0 else _("数量已更新。"))
        return redirect(order_url(self.resident, query, "basket"))


class OrderPlaceView(OrderPageMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        query = clean_query(request.POST.get("q"))
        delivery = request.POST.get("delivery", "")
        cash_received = request.POST.get("cash_received", "")
        try:
            station_order = ordering.place_assisted_order(
                station=self.station,
                staff_user=request.user,
                resident=self.resident,
                basket=self.basket,
                delivery=delivery,
                cash_received=cash_received,
                request=request,
            )
        except ValidationError as exc:
            # The basket may have been touched by the failed attempt; reload it.
            self.basket = ordering.resident_basket(self.resident, request)
            return self.render_to_response(
                self.page_context(
                    query=query,
                    delivery=delivery or self.default_delivery(),
                    cash_received=cash_received,
                    place_errors=service_errors(exc),
                )
            )
        messages.success(
            request,
            _("已为%(name)s下单，订单号 %(number)s。请打印小票交给居民。")
            % {"name": self.resident.name, "number": station_order.order.number},
        )
        return redirect("station:order-receipt", pk=station_order.pk)
