"""A catalogue of any size in a few queries, for tests that need hundreds
or thousands of products (query-count tests, EXPLAIN checks).

``CatalogueBuilder.grow(n)`` adds products with ``bulk_create``: two in
three standalone, one in three a parent with two variants; spread over the
builder's categories, cooperatives and Tianjin districts; each top-level
product with a photo (a real small JPEG per product), stock records priced
and stocked differently, every other one green-food certified, every fifth
with approved reviews. Search documents are rebuilt at the end (the search
signals index after commit, which a test inside a transaction never reaches).
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection
from oscar.core.loading import get_model
from PIL import Image as PILImage
from stdnum.cn import uscc

from cooperatives.models import Cooperative
from divisions.models import Division
from shop.search.indexing import rebuild_index
from tests import factories

Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
ProductReview = get_model("reviews", "ProductReview")
StockRecord = get_model("partner", "StockRecord")

# 西青区, 滨海新区, 宁河区, 津南区, 武清区
DISTRICTS = ["120111", "120116", "120117", "120112", "120114"]

_serial = itertools.count(1)


TABLES = (
    "catalogue_product",
    "catalogue_productcategory",
    "catalogue_productimage",
    "partner_stockrecord",
    "reviews_productreview",
    "search_productsearchdocument",
)


def analyze() -> None:
    """Fresh planner statistics, as a database in use has: without them
    PostgreSQL guesses that a table just filled in bulk is nearly empty and
    may pick plans no production database would."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(TABLES))


def small_jpeg() -> bytes:
    data = io.BytesIO()
    PILImage.new("RGB", (64, 64), (60, 140, 70)).save(data, "JPEG")
    return data.getvalue()


def cooperative(name: str, district: str) -> Cooperative:
    """A verified cooperative (and its selling Partner) in ``district``."""
    serial = next(_serial)
    prefix = f"93{district}MA{serial:07d}"[:17]
    partner = Partner.objects.create(name=name, is_selling=True)
    return Cooperative.objects.create(
        partner=partner,
        legal_name=name,
        display_name=name[:20],
        credit_code=prefix + uscc.calc_check_digit(prefix),
        entity_type=prefix[:2],
        legal_representative="张三",
        contact_phone="13812345678",
        division=Division.objects.get(code=district),
        status=Cooperative.Status.VERIFIED,
        description=f"{name}的简介",
    )


@dataclass
class CatalogueBuilder:
    """Grows one shop's catalogue; ``products`` lists the top-level products
    in the order they were made."""

    categories: list = field(default_factory=list)
    cooperatives: list = field(default_factory=list)
    products: list = field(default_factory=list)
    reviewer: object = None

    @classmethod
    def create(cls, *, categories: int = 3, cooperatives: int = 4) -> CatalogueBuilder:
        root = factories.category("农产品")
        cats = [root.add_child(name=f"品类{i}") for i in range(categories)]
        coops = [
            cooperative(f"天津市第{i}农业专业合作社", DISTRICTS[i % len(DISTRICTS)])
            for i in range(cooperatives)
        ]
        return cls(categories=cats, cooperatives=coops)

    @property
    def count(self) -> int:
        return len(self.products)

    def grow(self, to: int, *, index: bool = True) -> None:
        """Add top-level products until there are ``to``."""
        start = self.count
        if to <= start:
            return
        product_class = factories.product_class()
        made: list = []
        children: list = []
        for i in range(start, to):
            kind = Product.PARENT if i % 3 == 2 else Product.STANDALONE
            made.append(
                Product(
                    title=f"{'蔬菜礼盒' if kind == Product.PARENT else '蔬菜'}{i}",
                    slug=f"bulk-{i}",
                    structure=kind,
                    product_class=product_class,
                    is_public=True,
                    origin_id=DISTRICTS[i % len(DISTRICTS)],
                    certifications=["green_food"] if i % 2 else [],
                    unit="jin",
                    net_weight_g=500,
                    description=f"第{i}号商品的介绍",
                )
            )
        Product.objects.bulk_create(made)
        for offset, parent in enumerate(made):
            if parent.structure == Product.PARENT:
                for size in ("小份", "大份"):
                    children.append(
                        Product(
                            title=size,
                            slug=f"bulk-{start + offset}-{size}",
                            structure=Product.CHILD,
                            parent=parent,
                            is_public=True,
                        )
                    )
        Product.objects.bulk_create(children)

        stock: list = []
        for offset, product in enumerate(made):
            i = start + offset
            partner = self.cooperatives[i % len(self.cooperatives)].partner
            sellable = (
                [c for c in children if c.parent_id == product.pk]
                if product.structure == Product.PARENT
                else [product]
            )
            for n, item in enumerate(sellable):
                stock.append(
                    StockRecord(
                        product=item,
                        partner=partner,
                        partner_sku=f"BULK-{i}-{n}",
                        # Every price shared by a standalone product and a
                        # parent, so any sort order shows both kinds.
                        price=Decimal(10 + (i // 3) % 90) + Decimal(n * 5),
                        price_currency="CNY",
                        num_in_stock=(i + n) % 7,
                        num_allocated=0,
                    )
                )
        StockRecord.objects.bulk_create(stock)

        ProductCategory.objects.bulk_create(
            ProductCategory(
                product=product, category=self.categories[(start + k) % len(self.categories)]
            )
            for k, product in enumerate(made)
        )

        media = Path(settings.MEDIA_ROOT) / "images" / "products" / "bulk"
        media.mkdir(parents=True, exist_ok=True)
        jpeg = small_jpeg()
        images = []
        for offset, product in enumerate(made):
            name = f"images/products/bulk/{product.pk}.jpg"
            (Path(settings.MEDIA_ROOT) / name).write_bytes(jpeg)
            images.append(ProductImage(product=product, original=name, display_order=0))
            if offset % 4 == 0:  # some with a second photo
                images.append(ProductImage(product=product, original=name, display_order=1))
        ProductImage.objects.bulk_create(images)

        if self.reviewer is None:
            from django.contrib.auth import get_user_model

            self.reviewer = get_user_model().objects.create_user(
                f"reviewer{next(_serial)}", password=None, first_name="小农", last_name="王"
            )
        ProductReview.objects.bulk_create(
            ProductReview(
                product=product,
                score=1 + (start + k) % 5,
                title=f"评价{start + k}",
                body="新鲜，好吃",
                user=self.reviewer if k % 2 else None,
                name="李四" if not k % 2 else "",
                status=ProductReview.APPROVED,
            )
            for k, product in enumerate(made)
            if (start + k) % 5 == 0
        )
        self.products.extend(made)
        if index:
            rebuild_index()
        analyze()

    def standalone(self) -> Product:
        return next(p for p in self.products if p.structure == Product.STANDALONE)

    def parent(self) -> Product:
        return next(p for p in self.products if p.structure == Product.PARENT)
