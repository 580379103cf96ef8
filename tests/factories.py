"""Small helpers that build catalogue, stock, basket and checkout state for
tests. Plain functions (no factory_boy): each creates exactly what it says
and returns it, so a test reads as the shop it sets up."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from oscar.core.loading import get_class, get_model

from shop.address.china import ensure_china

Basket = get_model("basket", "Basket")
Category = get_model("catalogue", "Category")
Country = get_model("address", "Country")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")
Selector = get_class("partner.strategy", "Selector")

_sku = iter(range(1, 10**9))

GUEST_ADDRESS = {
    # What Oscar keeps in the checkout session for a typed-in address
    # (CheckoutSessionData.ship_to_new_address); the Chinese address form
    # fills the same model fields (see shop/address/chinese.py).
    "last_name": "王小农",
    "phone_number": "+8613812345678",
    "state": "天津市",
    "line3": "西青区",
    "line2": "辛口镇",
    "line1": "水高庄村 8 号",
    "division_id": "120111102203",
    "country_id": "CN",
}


def china() -> Country:
    return ensure_china()[0]


def product_class(name: str = "蔬菜", *, track_stock: bool = True, **kwargs) -> ProductClass:
    pc, _ = ProductClass.objects.get_or_create(
        name=name,
        defaults={"track_stock": track_stock, "requires_shipping": True, **kwargs},
    )
    return pc


def category(name: str, parent: Category | None = None) -> Category:
    if parent is None:
        return Category.add_root(name=name)
    return parent.add_child(name=name)


def partner(name: str = "西青合作社") -> Partner:
    obj, _ = Partner.objects.get_or_create(name=name)
    return obj


def stockrecord(
    product: Product,
    *,
    partner_obj: Partner | None = None,
    price: str | Decimal = "20.00",
    stock: int | None = 10,
    allocated: int | None = None,
) -> StockRecord:
    return StockRecord.objects.create(
        product=product,
        partner=partner_obj or partner(),
        partner_sku=f"SKU-{next(_sku)}",
        price=Decimal(str(price)),
        price_currency="CNY",
        num_in_stock=stock,
        num_allocated=allocated,
    )


def product(
    title: str = "沙窝萝卜",
    *,
    price: str | Decimal = "20.00",
    stock: int | None = 10,
    partner_obj: Partner | None = None,
    product_class_obj: ProductClass | None = None,
    categories=(),
    is_public: bool = True,
    **fields,
) -> Product:
    """A standalone product with one stock record."""
    obj = Product.objects.create(
        title=title,
        structure=Product.STANDALONE,
        product_class=product_class_obj or product_class(),
        is_public=is_public,
        **fields,
    )
    for cat in categories:
        obj.categories.add(cat)
    stockrecord(obj, partner_obj=partner_obj, price=price, stock=stock)
    return obj


def parent_product(
    title: str,
    variants: list[tuple[str, str, int]],
    *,
    partner_obj: Partner | None = None,
    product_class_obj: ProductClass | None = None,
    categories=(),
    is_public: bool = True,
    **fields,
) -> Product:
    """A parent product whose children are ``(title, price, stock)`` variants,
    each with its own stock record."""
    parent = Product.objects.create(
        title=title,
        structure=Product.PARENT,
        product_class=product_class_obj or product_class(),
        is_public=is_public,
        **fields,
    )
    for cat in categories:
        parent.categories.add(cat)
    for child_title, price, stock in variants:
        child = Product.objects.create(title=child_title, structure=Product.CHILD, parent=parent)
        stockrecord(child, partner_obj=partner_obj, price=price, stock=stock)
    return parent


def basket(*items: tuple[Product, int], owner=None) -> Basket:
    """An open basket holding ``(product, quantity)`` items."""
    obj = Basket.objects.create(owner=owner)
    obj.strategy = Selector().strategy()
    for prod, quantity in items:
        obj.add_product(prod, quantity)
    return obj


# --- Checkout through the test client -------------------------------------------


def add_to_basket(client, prod: Product, quantity: int = 1) -> None:
    response = client.post(reverse("basket:add", kwargs={"pk": prod.pk}), {"quantity": quantity})
    assert response.status_code == 302, response.content.decode()[:1000]


def set_shipping_address(client, fields: dict | None = None) -> None:
    """Store a new delivery address in the checkout session, as Oscar's
    CheckoutSessionData.ship_to_new_address does after the address form."""
    session = client.session
    data = session.setdefault("checkout_data", {})
    data.setdefault("shipping", {})["new_address_fields"] = dict(fields or GUEST_ADDRESS)
    session.save()


def guest_checkout_to_preview(client, items, email: str = "buyer@example.com") -> None:
    """Walk a guest through the checkout up to the preview page: basket,
    gateway (guest e-mail), delivery address, carrier-priced delivery, cash on
    delivery. The caller then POSTs ``action=place_order`` to the preview."""
    for prod, quantity in items:
        add_to_basket(client, prod, quantity)
    response = client.post(reverse("checkout:index"), {"username": email, "options": "anonymous"})
    assert response.status_code == 302, response.content.decode()[:1000]
    set_shipping_address(client)
    response = client.get(reverse("checkout:shipping-method"))
    # One shipping method: Oscar chooses it and goes on to the payment step.
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:payment-method")
    assert client.session["checkout_data"]["shipping"]["method_code"] == "carrier-delivery"
    response = client.post(reverse("checkout:payment-method"), {"method": "cod"})
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:preview")


def place_order(client):
    return client.post(reverse("checkout:preview"), {"action": "place_order"})


def carriers():
    """Two carriers without an API (no network in ordinary tests): 测试快递
    (express and station runs, the whole country: ¥12 first kg + ¥2 per
    further kg) and 测试冷链 (cold chain, Tianjin and Beijing only: ¥20 +
    ¥5 per kg + ¥8 surcharge)."""
    from logistics.models import Carrier, RateZone, ServiceArea

    express, _created = Carrier.objects.get_or_create(
        code="test-express",
        defaults={"name": "测试快递", "services": ["express", "station_delivery"]},
    )
    if not express.zones.exists():
        zone = RateZone.objects.create(
            carrier=express,
            name="全国",
            first_weight_g=1000,
            first_price=Decimal("12.00"),
            additional_weight_g=1000,
            additional_price=Decimal("2.00"),
        )
        from divisions.models import Division

        provinces = Division.objects.filter(level=1).values_list("code", flat=True)
        ServiceArea.objects.bulk_create(
            ServiceArea(carrier=express, zone=zone, division_id=code) for code in provinces
        )
    cold, _created = Carrier.objects.get_or_create(
        code="test-cold",
        defaults={
            "name": "测试冷链",
            "services": ["cold_chain"],
            "cold_chain_surcharge": Decimal("8.00"),
        },
    )
    if not cold.zones.exists():
        zone = RateZone.objects.create(
            carrier=cold,
            name="京津",
            first_weight_g=1000,
            first_price=Decimal("20.00"),
            additional_weight_g=1000,
            additional_price=Decimal("5.00"),
        )
        ServiceArea.objects.bulk_create(
            ServiceArea(carrier=cold, zone=zone, division_id=code) for code in ("12", "11")
        )
    return express, cold
