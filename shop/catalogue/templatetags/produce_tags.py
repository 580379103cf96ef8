"""Template helpers for farm-produce facts and product cards."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.translation import gettext as _

from divisions import services

register = template.Library()


def _code(value) -> str:
    return str(getattr(value, "code", value) or "")


@register.filter
def division_full_name(value) -> str:
    """A division (or its code) as a full place name: 天津市西青区辛口镇."""
    code = _code(value)
    if not code:
        return ""
    return services.full_name(code) or getattr(value, "name", "")


@register.filter
def origin_district(value) -> str:
    """The county-level name (区/县) of a division, for compact product cards.

    Looked up by code prefix through the cached ``divisions.services.get_name``,
    so a page of cards costs at most one query per distinct district.
    """
    code = _code(value)
    if not code:
        return ""
    if len(code) > 6:
        return services.get_name(code[:6]) or getattr(value, "name", "")
    return getattr(value, "name", None) or services.get_name(code) or ""


def _number(value: Decimal) -> str:
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def weight_display(grams) -> str:
    """Net weight in grams shown the way Chinese shoppers weigh produce.

    250 → "250 克（半斤）", 500 → "500 克（1 斤）", 2500 → "2.5 公斤（5 斤）".
    """
    try:
        grams = int(grams)
    except (TypeError, ValueError):
        return ""
    if grams <= 0:
        return ""
    jin = _number(Decimal(grams) / 500)
    if grams < 1000:
        if grams == 250:
            return _("%(grams)s 克（半斤）") % {"grams": grams}
        if grams >= 100:
            return _("%(grams)s 克（%(jin)s 斤）") % {"grams": grams, "jin": jin}
        return _("%(grams)s 克") % {"grams": grams}
    kg = _number(Decimal(grams) / 1000)
    return _("%(kg)s 公斤（%(jin)s 斤）") % {"kg": kg, "jin": jin}


class CardInfo:
    """What a product card shows, computed from prefetched data only."""

    def __init__(self, session, partner_name: str, price, from_price: bool):
        self.session = session
        self.partner_name = partner_name
        self.price = price
        self.from_price = from_price

    @property
    def is_available(self) -> bool:
        return bool(self.session and self.session.availability.is_available_to_buy)


@register.simple_tag(takes_context=True)
def product_card_info(context, product):
    """Price, availability and cooperative for a product card.

    ``browsable_products()`` prefetches a parent's public children into the
    attribute Oscar's ``get_public_children()`` reads, so a listing stays at a
    fixed number of queries. The price of a parent is its cheapest variant's.
    """
    request = context.get("request")
    strategy = getattr(request, "strategy", None)
    children = list(product.get_public_children()) if product.is_parent else None

    session = None
    if strategy is not None:
        if product.is_parent:
            session = strategy.fetch_for_parent(product)
        else:
            session = strategy.fetch_for_product(product)
    records = []
    if children is not None:
        for child in children:
            records.extend(child.stockrecords.all())
    else:
        records = list(product.stockrecords.all())

    partner_name = records[0].partner.name if records and records[0].partner_id else ""
    price = None
    from_price = False
    if session is not None and session.price.exists:
        price = session.price.incl_tax if session.price.is_tax_known else session.price.excl_tax
    if children is not None:
        prices = [r.price for r in records if r.price is not None]
        if prices:
            price = min(prices)
            from_price = len(set(prices)) > 1
    return CardInfo(session, partner_name, price, from_price)


@register.filter
def storage_badge_class(code) -> str:
    return {"chilled": "badge-chilled", "frozen": "badge-frozen"}.get(code, "")


class VariantOption:
    def __init__(self, child, session):
        self.child = child
        self.session = session
        self.checked = False

    @property
    def is_available(self) -> bool:
        return self.session.availability.is_available_to_buy

    @property
    def price(self):
        price = self.session.price
        if not price.exists:
            return None
        return price.incl_tax if price.is_tax_known else price.excl_tax


@register.simple_tag(takes_context=True)
def variant_options(context, product, selected=None):
    """A parent product's public variants with their price and availability,
    in the order Oscar's add-to-basket form lists them. The variant whose id
    is ``selected`` (else the first one in stock) is marked ``checked``."""
    request = context.get("request")
    strategy = getattr(request, "strategy", None)
    if strategy is None or not product.is_parent:
        return []
    options = [
        VariantOption(child, strategy.fetch_for_product(child))
        for child in product.get_public_children()
    ]
    available = [o for o in options if o.is_available]
    chosen = next((o for o in available if str(o.child.pk) == str(selected)), None)
    if chosen is None and available:
        chosen = available[0]
    if chosen is not None:
        chosen.checked = True
    return options
