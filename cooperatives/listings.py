"""A cooperative's listings (商品): the one place products are created and
changed for a cooperative, by the portal's forms and by bulk imports.

- Every product's stock record belongs to the cooperative's partner, and its
  ``partner_sku`` is the cooperative's own SKU (商品编码). A parent product
  (one with variants such as 5斤装/10斤装) has no stock record; its SKU is
  kept in ``upc`` as ``p<partner id>:<sku>`` (``upc`` is unique site-wide).
- Everything is validated before anything is written, and each call is one
  transaction: bad input raises ``ValidationError`` (a dict keyed by the
  ListingData field names, messages in Chinese) and nothing is half-saved.
- The search index follows through the catalogue signals (shop/search).

Public API (bulk import relies on ``ListingData`` and
``upsert_listing_by_sku``; keep their signatures stable):

    create_listing(cooperative, data) -> Product
    update_listing(cooperative, product, data) -> Product
    upsert_listing_by_sku(cooperative, data) -> (Product, created)
    set_stock_and_price(stockrecord, price, stock) -> StockRecord
    add_variant(cooperative, product, variant, existing_title="") -> Product
    update_variant(cooperative, child, variant) -> Product
    set_public(cooperative, product, is_public) -> Product
    add_photos(cooperative, product, files) -> list[ProductImage]
    delete_photo(cooperative, image) -> None
"""

from __future__ import annotations

import html
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone, translation
from django.utils.html import linebreaks, strip_tags
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from config.uploads import ACCEPTED_FORMATS, validate_image
from cooperatives.models import Cooperative
from cooperatives.tasks import process_product_image
from shop.catalogue.produce import Certification as CertificationType
from shop.catalogue.produce import StorageClass, Unit

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

PRODUCT_CLASS_NAME = "农产品"
CURRENCY = "CNY"
MAX_PRICE = Decimal("999999.99")
MAX_STOCK = 1_000_000
MAX_WEIGHT_G = 1_000_000
MAX_SKU_LENGTH = 50
MAX_TITLE_LENGTH = 120
MAX_DESCRIPTION_LENGTH = 5000
MAX_PHOTOS = 9


@dataclass
class VariantData:
    """One variant (规格) of a product, e.g. 5斤装 at ¥25 with 40 in stock."""

    title: str = ""
    price: Decimal | None = None
    stock: int | None = None
    net_weight_g: int | None = None
    sku: str = ""
    is_public: bool = True


@dataclass
class ListingData:
    """What a listing says. Strings may be the stored codes or the Chinese
    labels (unit "jin" or "斤"; storage "chilled" or "冷藏"; certification
    "green_food" or "绿色食品"); ``category`` is a name ("根茎类"), a path
    ("蔬菜 > 根茎类") or a Category.

    A row with ``parent_sku`` is a variant: ``sku``/``price``/``stock``/
    ``net_weight_g``/``unit`` are the variant's, ``variant_title`` its label,
    and the other fields describe (and create or update) the parent.
    ``variants`` is only read by ``create_listing`` (the portal's form).
    """

    sku: str = ""
    title: str = ""
    category: str | object = ""
    unit: str = ""
    price: Decimal | None = None
    stock: int | None = None
    net_weight_g: int | None = None
    harvest_date: date | None = None
    storage_class: str = ""
    certifications: list[str] = field(default_factory=list)
    description: str = ""
    is_public: bool = True
    presale: bool = False
    presale_ships_on: date | None = None
    parent_sku: str = ""
    variant_title: str = ""
    variants: list[VariantData] = field(default_factory=list)


# --- Queries ------------------------------------------------------------------


def stock_of(cooperative: Cooperative) -> QuerySet:
    """The cooperative's stock records."""
    return StockRecord.objects.filter(partner_id=cooperative.partner_id)


def products_of(cooperative: Cooperative) -> QuerySet:
    """Top-level products (standalone or parent) of the cooperative: stocked
    directly or through a variant. Uses EXISTS, not a join + DISTINCT, so it
    stays cheap to count and page through thousands of products."""
    own = StockRecord.objects.filter(partner_id=cooperative.partner_id)
    return Product.objects.filter(parent__isnull=True).filter(
        Q(Exists(own.filter(product=OuterRef("pk"))))
        | Q(Exists(own.filter(product__parent=OuterRef("pk"))))
    )


def variants_of(cooperative: Cooperative) -> QuerySet:
    """Child products whose parent belongs to the cooperative."""
    return Product.objects.filter(parent__in=products_of(cooperative))


def images_of(cooperative: Cooperative) -> QuerySet:
    return ProductImage.objects.filter(product__in=products_of(cooperative))


def portal_list(cooperative: Cooperative) -> QuerySet:
    """What the portal's product list shows (``products_of``), prefetched so
    a full page costs the same handful of queries as a page of 5."""
    own = StockRecord.objects.filter(partner_id=cooperative.partner_id).order_by("pk")
    return (
        products_of(cooperative)
        .select_related("product_class")
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("display_order", "pk")),
            Prefetch("stockrecords", queryset=own, to_attr="own_stock"),
            Prefetch(
                "children",
                queryset=Product.objects.order_by("pk").prefetch_related(
                    Prefetch("stockrecords", queryset=own, to_attr="own_stock")
                ),
                to_attr="variant_list",
            ),
        )
        .order_by("-date_updated", "-pk")
    )


# --- Text and vocabulary ------------------------------------------------------


def description_to_html(text: str) -> str:
    """Plain text typed by a farmer → escaped paragraphs (the storefront
    renders descriptions as HTML, so never store what was typed as is)."""
    text = (text or "").strip()
    return linebreaks(text, autoescape=True) if text else ""


def html_to_description(value: str) -> str:
    """The stored description back as the plain text the form shows."""
    value = re.sub(r"</p>\s*<p>", "\n\n", value or "")
    value = re.sub(r"<br\s*/?>", "\n", value)
    return html.unescape(strip_tags(value)).strip()


def _zh(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


def _choice(choices_cls, value: str) -> str | None:
    """A TextChoices value given its code or its Chinese label."""
    value = (value or "").strip()
    for code, label in choices_cls.choices:
        if value in (code, _zh(label)):
            return code
    return None


def _labels(choices_cls) -> str:
    return "、".join(_zh(label) for _code, label in choices_cls.choices)


def resolve_category(value) -> Category:
    """A Category from itself, its name or its path ("蔬菜 > 根茎类")."""
    if isinstance(value, Category):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationError(_("请选择商品分类。"))
    parts = [p.strip() for p in re.split(r"\s*[>＞/]\s*", text) if p.strip()]
    if len(parts) > 1:
        candidates = [c for c in Category.objects.filter(name=parts[-1]) if _path(c) == parts]
    else:
        candidates = list(Category.objects.filter(name=parts[0]))
    if not candidates:
        raise ValidationError(_("没有“%(name)s”这个分类。") % {"name": text})
    if len(candidates) > 1:
        raise ValidationError(
            _("有多个叫“%(name)s”的分类，请写完整路径，如“%(path)s”。")
            % {"name": text, "path": " > ".join(_path(candidates[0]))}
        )
    return candidates[0]


def _path(category) -> list[str]:
    return [c.name for c in category.get_ancestors_and_self()]


def product_class() -> ProductClass:
    pc, _created = ProductClass.objects.get_or_create(
        name=PRODUCT_CLASS_NAME, defaults={"track_stock": True, "requires_shipping": True}
    )
    return pc


def _upc_prefix(cooperative: Cooperative) -> str:
    return f"p{cooperative.partner_id}:"


def parent_upc(cooperative: Cooperative, sku: str) -> str:
    return f"{_upc_prefix(cooperative)}{sku}"


def sku_of(product) -> str:
    """The cooperative SKU of a product (a parent's is in its upc)."""
    if product.is_parent:
        upc = product.upc or ""
        return upc.split(":", 1)[1] if upc.startswith("p") and ":" in upc else upc
    records = getattr(product, "own_stock", None)
    if records is None:
        records = list(product.stockrecords.all())
    return records[0].partner_sku if records else ""


# --- Validation -----------------------------------------------------------------


class _Errors:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _clean_price(value, errors: _Errors, name: str = "price", prefix: str = "") -> Decimal | None:
    if value in (None, ""):
        errors.add(name, prefix + _("请填写价格。"))
        return None
    try:
        price = Decimal(str(value).strip().lstrip("¥￥"))
    except (InvalidOperation, ValueError):
        errors.add(name, prefix + _("价格必须是数字，例如 12.50。"))
        return None
    if not price.is_finite():
        errors.add(name, prefix + _("价格必须是数字，例如 12.50。"))
        return None
    if price <= 0:
        errors.add(name, prefix + _("价格必须大于 0。"))
    elif price > MAX_PRICE:
        errors.add(name, prefix + _("价格不能超过 999999.99 元。"))
    elif price != price.quantize(Decimal("0.01")):
        errors.add(name, prefix + _("价格最多保留两位小数（精确到分）。"))
    else:
        return price.quantize(Decimal("0.01"))
    return None


def _clean_stock(value, errors: _Errors, name: str = "stock", prefix: str = "") -> int | None:
    if value in (None, ""):
        errors.add(name, prefix + _("请填写库存。"))
        return None
    try:
        stock = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(name, prefix + _("库存必须是整数。"))
        return None
    if stock < 0:
        errors.add(name, prefix + _("库存不能小于 0。"))
    elif stock > MAX_STOCK:
        errors.add(name, prefix + _("库存不能超过 1000000。"))
    else:
        return stock
    return None


def _clean_weight(value, errors: _Errors, name: str = "net_weight_g", prefix: str = ""):
    if value in (None, ""):
        return None
    try:
        grams = int(str(value).strip())
    except (TypeError, ValueError):
        errors.add(name, prefix + _("净重必须是整数（克）。"))
        return None
    if grams <= 0:
        errors.add(name, prefix + _("净重必须大于 0 克。"))
    elif grams > MAX_WEIGHT_G:
        errors.add(name, prefix + _("净重不能超过 1000000 克。"))
    else:
        return grams
    return None


def _clean_sku(value, errors: _Errors, name: str = "sku", prefix: str = "") -> str:
    sku = (value or "").strip()
    if len(sku) > MAX_SKU_LENGTH:
        errors.add(name, prefix + _("商品编码不能超过 50 个字符。"))
    elif sku and re.search(r"\s", sku):
        errors.add(name, prefix + _("商品编码不能包含空格。"))
    return sku


def held_certifications(cooperative: Cooperative) -> set[str]:
    """Certification types the cooperative holds a current certificate for."""
    return set(cooperative.current_certifications().values_list("type", flat=True))


def _clean_common(cooperative: Cooperative, data: ListingData, errors: _Errors) -> dict:
    """The fields a top-level product (standalone or parent) carries."""
    out: dict = {}
    title = (data.title or "").strip()
    if not title:
        errors.add("title", _("请填写商品名称。"))
    elif len(title) > MAX_TITLE_LENGTH:
        errors.add("title", _("商品名称不能超过 120 个字。"))
    out["title"] = title

    try:
        out["category"] = resolve_category(data.category)
    except ValidationError as exc:
        errors.add("category", exc.messages[0])

    if data.unit in (None, ""):
        errors.add("unit", _("请选择销售单位。"))
    else:
        unit = _choice(Unit, data.unit)
        if unit is None:
            errors.add("unit", _("销售单位只能是：%(units)s。") % {"units": _labels(Unit)})
        out["unit"] = unit or ""

    if data.storage_class in (None, ""):
        out["storage_class"] = StorageClass.AMBIENT
    else:
        storage = _choice(StorageClass, data.storage_class)
        if storage is None:
            errors.add(
                "storage_class",
                _("储运温层只能是：%(classes)s。") % {"classes": _labels(StorageClass)},
            )
        out["storage_class"] = storage or ""

    out["net_weight_g"] = _clean_weight(data.net_weight_g, errors)

    today = timezone.localdate()
    presale = bool(data.presale)
    ships_on = data.presale_ships_on if presale else None
    if presale and ships_on is None:
        errors.add("presale_ships_on", _("预售商品请填写预计发货日期。"))
    elif presale and ships_on < today:
        errors.add("presale_ships_on", _("预计发货日期不能早于今天。"))
    out["is_presale"] = presale
    out["presale_ships_on"] = ships_on

    if data.harvest_date and data.harvest_date > today and not presale:
        errors.add("harvest_date", _("采收日期不能晚于今天（预售商品除外）。"))
    out["harvest_date"] = data.harvest_date

    codes: list[str] = []
    held = None
    for raw in data.certifications or []:
        code = _choice(CertificationType, raw)
        if code is None:
            errors.add("certifications", _("不认识的认证：%(name)s。") % {"name": raw})
            continue
        if held is None:
            held = held_certifications(cooperative)
        if code not in held:
            errors.add(
                "certifications",
                _(
                    "本合作社没有有效的“%(name)s”证书，不能标注这项认证。"
                    "请先在合作社资料中上传证书。"
                )
                % {"name": CertificationType(code).label},
            )
        elif code not in codes:
            codes.append(code)
    out["certifications"] = codes

    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION_LENGTH:
        errors.add("description", _("商品介绍不能超过 5000 个字。"))
    out["description"] = description_to_html(description)
    out["is_public"] = bool(data.is_public)
    return out


VARIANT_FIELDS = {
    "title": "variant_title",
    "price": "price",
    "stock": "stock",
    "net_weight_g": "net_weight_g",
    "sku": "sku",
}


def _clean_variant(
    variant: VariantData, errors: _Errors, *, into: str | None = None, prefix: str = ""
) -> dict:
    """Validate a variant; errors go to ``into`` (one list for a form's
    variant rows) or to the fields named in VARIANT_FIELDS."""

    def name(key: str) -> str:
        return into or VARIANT_FIELDS[key]

    out: dict = {}
    title = (variant.title or "").strip()
    if not title:
        errors.add(name("title"), prefix + _("请填写规格名称，如“5斤装”。"))
    elif len(title) > 60:
        errors.add(name("title"), prefix + _("规格名称不能超过 60 个字。"))
    out["title"] = title
    out["price"] = _clean_price(variant.price, errors, name("price"), prefix)
    out["stock"] = _clean_stock(variant.stock, errors, name("stock"), prefix)
    out["net_weight_g"] = _clean_weight(variant.net_weight_g, errors, name("net_weight_g"), prefix)
    out["sku"] = _clean_sku(variant.sku, errors, name("sku"), prefix)
    out["is_public"] = bool(variant.is_public)
    return out


def _sku_taken(cooperative: Cooperative, sku: str, *, exclude_record=None, exclude_parent=None):
    """The product already using ``sku`` in this cooperative, or None."""
    records = stock_of(cooperative).filter(partner_sku=sku)
    if exclude_record is not None:
        records = records.exclude(pk=exclude_record.pk)
    record = records.select_related("product").first()
    if record is not None:
        return record.product
    parents = Product.objects.filter(upc=parent_upc(cooperative, sku))
    if exclude_parent is not None:
        parents = parents.exclude(pk=exclude_parent.pk)
    return parents.first()


def _sku_in_use_message(sku: str, product) -> str:
    return _("商品编码“%(sku)s”已被“%(title)s”使用。") % {"sku": sku, "title": product.get_title()}


def _new_sku(cooperative: Cooperative) -> str:
    while True:
        sku = "WN" + secrets.token_hex(4).upper()
        if _sku_taken(cooperative, sku) is None:
            return sku


# --- Writing ----------------------------------------------------------------------


def _apply_common(product, values: dict) -> None:
    for name in (
        "title",
        "unit",
        "storage_class",
        "net_weight_g",
        "harvest_date",
        "certifications",
        "description",
        "is_public",
        "is_presale",
        "presale_ships_on",
    ):
        setattr(product, name, values[name])


def _set_category(product, category, *, keep_others: bool) -> None:
    current = set(product.categories.values_list("pk", flat=True))
    if keep_others and category.pk in current:
        return
    product.categories.set([category])


def _create_record(cooperative: Cooperative, product, sku: str, price, stock) -> StockRecord:
    try:
        with transaction.atomic():
            return StockRecord.objects.create(
                product=product,
                partner_id=cooperative.partner_id,
                partner_sku=sku,
                price=price,
                price_currency=CURRENCY,
                num_in_stock=stock,
            )
    except IntegrityError:
        raise ValidationError({"sku": [_("商品编码“%(sku)s”已被使用。") % {"sku": sku}]})


def _create_child(cooperative: Cooperative, parent, values: dict) -> Product:
    child = Product.objects.create(
        structure=Product.CHILD,
        parent=parent,
        title=values["title"],
        net_weight_g=values["net_weight_g"],
        is_public=values["is_public"],
    )
    _create_record(
        cooperative, child, values["sku"] or _new_sku(cooperative), values["price"], values["stock"]
    )
    return child


def _check_owned(cooperative: Cooperative, product) -> None:
    if product.is_child:
        owned = variants_of(cooperative).filter(pk=product.pk).exists()
    else:
        owned = products_of(cooperative).filter(pk=product.pk).exists()
    if not owned:
        raise ValidationError(_("这不是本合作社的商品。"))


@transaction.atomic
def create_listing(cooperative: Cooperative, data: ListingData) -> Product:
    """Create a standalone product (price and stock on ``data``) or, when
    ``data.variants`` is given, a parent with one child per variant."""
    errors = _Errors()
    values = _clean_common(cooperative, data, errors)
    sku = _clean_sku(data.sku, errors)
    variants: list[dict] = []
    if data.variants:
        titles: set[str] = set()
        for n, variant in enumerate(data.variants, start=1):
            prefix = _("规格 %(n)s：") % {"n": n}
            cleaned = _clean_variant(variant, errors, into="variants", prefix=prefix)
            if cleaned["title"] and cleaned["title"] in titles:
                errors.add("variants", prefix + _("规格名称重复。"))
            titles.add(cleaned["title"])
            variants.append(cleaned)
    else:
        price = _clean_price(data.price, errors)
        stock = _clean_stock(data.stock, errors)
    skus = [sku] + [v["sku"] for v in variants]
    for s in filter(None, skus):
        if skus.count(s) > 1:
            errors.add("sku", _("商品编码“%(sku)s”重复。") % {"sku": s})
            break
        taken = _sku_taken(cooperative, s)
        if taken is not None:
            errors.add("sku" if s == sku else "variants", _sku_in_use_message(s, taken))
    errors.raise_if_any()

    product = Product(product_class=product_class(), origin_id=cooperative.division_id)
    _apply_common(product, values)
    if variants:
        product.structure = Product.PARENT
        product.upc = parent_upc(cooperative, sku or _new_sku(cooperative))
        product.save()
        for variant in variants:
            _create_child(cooperative, product, variant)
    else:
        product.structure = Product.STANDALONE
        product.save()
        _create_record(cooperative, product, sku or _new_sku(cooperative), price, stock)
    product.categories.set([values["category"]])
    return product


@transaction.atomic
def update_listing(cooperative: Cooperative, product, data: ListingData) -> Product:
    """Change a top-level product. A standalone product's ``price`` and
    ``stock`` are set too; a parent's live on its variants."""
    if product.is_child:
        raise ValidationError(_("规格请在所属商品下修改。"))
    _check_owned(cooperative, product)
    product = Product.objects.select_for_update().get(pk=product.pk)
    errors = _Errors()
    values = _clean_common(cooperative, data, errors)
    sku = _clean_sku(data.sku, errors)
    record = None
    if not product.is_parent:
        record = stock_of(cooperative).filter(product=product).select_for_update().first()
        price = _clean_price(data.price, errors)
        stock = _clean_stock(data.stock, errors)
        if record is not None and stock is not None and stock < (record.num_allocated or 0):
            errors.add("stock", _allocated_message(record))
    if sku:
        taken = _sku_taken(cooperative, sku, exclude_record=record, exclude_parent=product)
        if taken is not None:
            errors.add("sku", _sku_in_use_message(sku, taken))
    errors.raise_if_any()

    _apply_common(product, values)
    if product.is_parent and sku:
        product.upc = parent_upc(cooperative, sku)
    product.save()
    _set_category(product, values["category"], keep_others=True)
    if not product.is_parent:
        if record is None:
            _create_record(cooperative, product, sku or _new_sku(cooperative), price, stock)
        else:
            record.price = price
            record.price_currency = CURRENCY
            record.num_in_stock = stock
            if sku:
                record.partner_sku = sku
            record.save()
    return product


def _allocated_message(record) -> str:
    n = record.num_allocated or 0
    return _("已有 %(n)s 件被未发货的订单占用，库存不能少于 %(n)s。") % {"n": n}


@transaction.atomic
def set_stock_and_price(stockrecord, price, stock) -> StockRecord:
    """Set a stock record's price and stock (the portal's inline edit).

    The row is locked while checked and written, so a concurrent order's
    allocation cannot slip between the check and the write."""
    errors = _Errors()
    price = _clean_price(price, errors)
    stock = _clean_stock(stock, errors)
    errors.raise_if_any()
    record = StockRecord.objects.select_for_update().get(pk=stockrecord.pk)
    if stock < (record.num_allocated or 0):
        raise ValidationError({"stock": [_allocated_message(record)]})
    record.price = price
    record.price_currency = CURRENCY
    record.num_in_stock = stock
    record.save()
    stockrecord.refresh_from_db()
    return record


@transaction.atomic
def set_public(cooperative: Cooperative, product, is_public: bool) -> Product:
    """Publish (上架) or unpublish (下架) a top-level product."""
    _check_owned(cooperative, product)
    if is_public:
        from cooperatives import reports

        withdrawal = reports.active_withdrawal(product)
        if withdrawal is not None:
            raise ValidationError(
                _("这件商品已被平台下架（%(reason)s），不能自行上架；如有异议请联系平台。")
                % {"reason": withdrawal.reason}
            )
        if cooperative.status == Cooperative.Status.SUSPENDED:
            raise ValidationError(_("合作社已被暂停销售，暂停期间不能上架商品。"))
    if is_public and product.is_parent and not product.children.exists():
        raise ValidationError(_("请先添加规格，再上架。"))
    product.is_public = is_public
    product.save(update_fields=["is_public", "date_updated"])
    return product


@transaction.atomic
def add_variant(
    cooperative: Cooperative, product, variant: VariantData, existing_title: str = ""
) -> Product:
    """Add a variant. A standalone product becomes a parent first: its own
    price and stock move to a variant named ``existing_title``."""
    _check_owned(cooperative, product)
    product = Product.objects.select_for_update().get(pk=product.pk)
    errors = _Errors()
    values = _clean_variant(variant, errors)
    existing_title = (existing_title or "").strip()
    titles = set(product.children.values_list("title", flat=True))
    if product.is_standalone:
        if not existing_title:
            errors.add("existing_title", _("请给现有的规格起个名字，如“5斤装”。"))
        elif existing_title == values["title"]:
            errors.add("existing_title", _("两个规格的名称不能相同。"))
        titles.add(existing_title)
    if values["title"] and values["title"] in titles:
        errors.add("variant_title", _("已有名为“%(title)s”的规格。") % {"title": values["title"]})
    if values["sku"]:
        taken = _sku_taken(cooperative, values["sku"])
        if taken is not None:
            errors.add("sku", _sku_in_use_message(values["sku"], taken))
    errors.raise_if_any()

    if product.is_standalone:
        record = stock_of(cooperative).filter(product=product).first()
        first = Product.objects.create(
            structure=Product.CHILD,
            parent=product,
            title=existing_title,
            net_weight_g=product.net_weight_g,
            is_public=True,
        )
        if record is not None:
            record.product = first
            record.save()
            # The parent's SKU is the one the standalone product had, so an
            # import addressing it by parent_sku still finds it; the moved
            # stock record gets a fresh SKU of its own.
            product.upc = parent_upc(cooperative, record.partner_sku)
            record.partner_sku = _new_sku(cooperative)
            record.save(update_fields=["partner_sku"])
        else:
            product.upc = parent_upc(cooperative, _new_sku(cooperative))
        product.structure = Product.PARENT
        product.net_weight_g = None
        product.save()
    return _create_child(cooperative, product, values)


@transaction.atomic
def update_variant(cooperative: Cooperative, child, variant: VariantData) -> Product:
    """Change a variant's label, weight, SKU, price, stock and visibility."""
    _check_owned(cooperative, child)
    child = Product.objects.select_for_update().get(pk=child.pk)
    record = stock_of(cooperative).filter(product=child).select_for_update().first()
    errors = _Errors()
    values = _clean_variant(variant, errors)
    others = child.parent.children.exclude(pk=child.pk).values_list("title", flat=True)
    if values["title"] and values["title"] in set(others):
        errors.add("variant_title", _("已有名为“%(title)s”的规格。") % {"title": values["title"]})
    if values["sku"]:
        taken = _sku_taken(cooperative, values["sku"], exclude_record=record)
        if taken is not None:
            errors.add("sku", _sku_in_use_message(values["sku"], taken))
    if record is not None and values["stock"] is not None:
        if values["stock"] < (record.num_allocated or 0):
            errors.add("stock", _allocated_message(record))
    errors.raise_if_any()

    child.title = values["title"]
    child.net_weight_g = values["net_weight_g"]
    child.is_public = values["is_public"]
    child.save()
    if record is None:
        _create_record(
            cooperative,
            child,
            values["sku"] or _new_sku(cooperative),
            values["price"],
            values["stock"],
        )
    else:
        record.price = values["price"]
        record.price_currency = CURRENCY
        record.num_in_stock = values["stock"]
        if values["sku"]:
            record.partner_sku = values["sku"]
        record.save()
    return child


# --- Imports ------------------------------------------------------------------------


def _find_parent(cooperative: Cooperative, parent_sku: str):
    return (
        products_of(cooperative)
        .filter(structure=Product.PARENT)
        .filter(upc__in=[parent_upc(cooperative, parent_sku), parent_sku])
        .first()
    )


@transaction.atomic
def upsert_listing_by_sku(cooperative: Cooperative, data: ListingData) -> tuple[Product, bool]:
    """Create or update the listing the cooperative knows as ``data.sku``
    (bulk import). Returns ``(product, created)``; for a variant row (with
    ``parent_sku``) the product is the variant, and its parent is created or
    updated from the row's shared fields."""
    errors = _Errors()
    sku = _clean_sku(data.sku, errors)
    parent_sku = _clean_sku(data.parent_sku, errors, "parent_sku")
    if not sku:
        errors.add("sku", _("请填写商品编码。"))
    errors.raise_if_any()

    record = stock_of(cooperative).filter(partner_sku=sku).select_related("product").first()
    existing = record.product if record is not None else None
    if existing is None:
        existing = _find_parent(cooperative, sku)
        if existing is not None:
            raise ValidationError(
                {"sku": [_("编码“%(sku)s”是多规格商品，请按规格逐行填写。") % {"sku": sku}]}
            )

    if not parent_sku:
        if existing is not None and existing.is_child:
            raise ValidationError(
                {
                    "parent_sku": [
                        _("编码“%(sku)s”是“%(title)s”的一个规格，请填写所属商品编码。")
                        % {"sku": sku, "title": existing.parent.title}
                    ]
                }
            )
        if existing is None:
            return create_listing(cooperative, _without_variants(data)), True
        return update_listing(cooperative, existing, data), False

    # A variant row.
    if parent_sku == sku:
        raise ValidationError({"parent_sku": [_("所属商品编码不能与规格编码相同。")]})
    variant = VariantData(
        title=data.variant_title,
        price=data.price,
        stock=data.stock,
        net_weight_g=data.net_weight_g,
        sku=sku,
        is_public=True,
    )
    parent = _find_parent(cooperative, parent_sku)
    if existing is not None and (
        not existing.is_child or existing.parent_id != getattr(parent, "pk", None)
    ):
        raise ValidationError({"sku": [_sku_in_use_message(sku, existing)]})
    parent_data = ListingData(
        sku=parent_sku,
        title=data.title,
        category=data.category,
        unit=data.unit,
        harvest_date=data.harvest_date,
        storage_class=data.storage_class,
        certifications=list(data.certifications or []),
        description=data.description,
        is_public=data.is_public,
        presale=data.presale,
        presale_ships_on=data.presale_ships_on,
    )
    if parent is None:
        if _sku_taken(cooperative, parent_sku) is not None:
            raise ValidationError(
                {"parent_sku": [_("编码“%(sku)s”已是单规格商品的编码。") % {"sku": parent_sku}]}
            )
        parent_data.variants = [variant]
        parent = create_listing(cooperative, parent_data)
        return parent.children.get(), True
    # The row's shared fields describe the parent (every row of it says the same).
    _update_parent_fields(cooperative, parent, parent_data)
    if existing is None:
        return add_variant(cooperative, parent, variant), True
    return update_variant(cooperative, existing, variant), False


def _without_variants(data: ListingData) -> ListingData:
    data = ListingData(**{**data.__dict__, "variants": []})
    return data


def _update_parent_fields(cooperative: Cooperative, parent, data: ListingData) -> None:
    errors = _Errors()
    values = _clean_common(cooperative, data, errors)
    errors.raise_if_any()
    _apply_common(parent, values)
    parent.save()
    _set_category(parent, values["category"], keep_others=True)


# --- Photos -------------------------------------------------------------------------


def _photo_name(image_format: str) -> str:
    """An unguessable name with the extension of the real format: until the
    photo task has stripped EXIF (GPS) the upload must not be findable by
    its camera name (IMG_1234.jpg)."""
    return f"{uuid.uuid4().hex}{ACCEPTED_FORMATS[image_format][0]}"


@transaction.atomic
def add_photos(cooperative: Cooperative, product, files) -> list:
    """Validate and attach uploaded photos; each is cleaned and resized by
    cooperatives.tasks.process_product_image after the transaction commits."""
    _check_owned(cooperative, product)
    files = [f for f in files or [] if f]
    if not files:
        return []
    existing = product.images.count()
    if existing + len(files) > MAX_PHOTOS:
        raise ValidationError({"photos": [_("每个商品最多 %(n)s 张照片。") % {"n": MAX_PHOTOS}]})
    messages = []
    cleaned = []
    for upload in files:
        try:
            cleaned.append(validate_image(upload))  # config.uploads' one validator
        except ValidationError as exc:
            name = getattr(upload, "name", "")
            messages.extend(f"{name}：{m}" if name else m for m in exc.messages)
    if messages:
        raise ValidationError({"photos": messages})
    images = []
    for n, upload in enumerate(cleaned):
        upload.seek(0)
        image = ProductImage(product=product, display_order=existing + n)
        image.original.save(_photo_name(upload.image_format), upload, save=False)
        image.save()
        images.append(image)
        transaction.on_commit(lambda pk=image.pk: process_product_image.delay(pk), robust=True)
    Product.objects.filter(pk=product.pk).update(date_updated=timezone.now())
    return images


@transaction.atomic
def delete_photo(cooperative: Cooperative, image) -> None:
    """Remove a photo (and, through Oscar's receiver, its files)."""
    _check_owned(cooperative, image.product)
    image.delete()
