"""``manage.py load_demo``: the demo shop `make run` starts with.

Loads Tianjin cooperatives and their produce (shop/catalogue/demo_data.py),
draws a photo for each product (shop/catalogue/demo_images.py), configures
the carriers (logistics/demo.py: three served by the carrier simulator, one
manual), adds the village service stations with their staff and residents
(stations/demo.py), sets up the sites and the Wagtail home page (cms/demo.py)
and a local superuser, and finally gives one cooperative delivered orders
and settlement statements, one of them paid (shop/payment/demo.py). Every demo cooperative is a verified Cooperative
with a manager account (``coop-<partner code>``), and one more cooperative
waits in the review queue, so the staff dashboard has something to review.
Every demo station has a staff account (``station-<village code>``).

It is idempotent and runs on every `make run`: every row is looked up by its
natural key (partner code, product upc, category slug under its parent,
username) and only created when missing. A product that already exists is
never touched again, so prices, stock and texts edited in the dashboard
survive restarts; a second run changes nothing.
"""

import datetime
import logging
from collections import Counter
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.core.utils import slugify

from divisions.models import Division
from divisions.services import PLACEHOLDER_NAMES, path_names
from shop.address.china import ensure_china
from shop.catalogue import demo_data
from shop.catalogue.produce import Certification, StorageClass, Unit

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
PartnerAddress = get_model("partner", "PartnerAddress")
StockRecord = get_model("partner", "StockRecord")

TIANJIN_PREFIX = "12"
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@wangnong.local"
# For the local demo only (README); never reset on an existing account.
ADMIN_PASSWORD = "wangnong-admin"
# Cooperative managers' accounts: coop-<partner code>, local demo only.
COOP_PASSWORD = "wangnong-coop"
COOP_USERNAME = "coop-{code}"
# Illustrative people and numbers, not real ones (13800138000 is the
# long-standing test number).
COOP_REPRESENTATIVES = ["王建国", "李秀英", "张国强", "刘桂兰", "陈志刚", "杨春生", "赵玉华"]
COOP_PHONE = "13800138000"
CERTIFICATE_ISSUERS = {
    "green_food": "中国绿色食品发展中心",
    "organic": "中绿华夏有机食品认证中心",
    "geo_indication": "中华人民共和国农业农村部",
    "pollution_free": "天津市农业农村委员会",
}
# An application waiting in the review queue (/dashboard/cooperatives/).
PENDING_COOPERATIVE = {
    "code": "tj-ninghe-yuelong",
    "name": "天津市宁河区岳龙镇稻蟹共生种养专业合作社",
    "display_name": "岳龙稻蟹合作社",
    "district": "宁河区",
    "town": "岳龙镇",
    "village": "岳龙庄村委会",
    "address": "岳龙庄村北 2 号",
    "description": "稻田养蟹、蟹田种稻，主营七里海周边的稻蟹米和河蟹。",
}


def demo_credit_code(index: int, division_code: str) -> str:
    """A well-formed, made-up 93 (farmer cooperative) code for demo entry
    ``index``: 93 + the county code + an organisation code + check character."""
    from stdnum.cn import uscc

    prefix = f"93{division_code[:6]}MA0WN{index:04d}"
    return prefix + uscc.calc_check_digit(prefix)


# Loggers that report every saved row (Oscar's stock alerts, Wagtail's page
# log, the task runner); quiet while loading unless --verbosity 2.
CHATTY_LOGGERS = ("oscar.alerts", "wagtail", "django_tasks")


@contextmanager
def quiet_loggers(names, level=logging.WARNING):
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        for logger, old in zip(loggers, saved, strict=True):
            logger.setLevel(old)


def product_slug(title: str) -> str:
    """Oscar's slug, but '2.5公斤' becomes '2-5公斤' rather than '25公斤'."""
    return slugify(title.replace(".", "-"))


def harvest_date(spec, today: datetime.date) -> datetime.date:
    """``(month, day)``: its latest occurrence up to today; ``int``: days ago."""
    if isinstance(spec, int):
        return today - datetime.timedelta(days=spec)
    month, day = spec
    date = datetime.date(today.year, month, day)
    return date if date <= today else date.replace(year=today.year - 1)


class DemoLoader:
    def __init__(self, stdout=None, style=None):
        self.stdout = stdout
        self.style = style
        self.created = Counter()
        self.today = timezone.localdate()
        self._origins: dict[tuple[str, ...], Division] = {}

    def warn(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(self.style.WARNING(message) if self.style else message)

    # --- look-ups ----------------------------------------------------------

    def origin(self, names: tuple[str, ...]) -> Division:
        """The Tianjin division named by (district, town, village)."""
        if names in self._origins:
            return self._origins[names]
        district = Division.objects.filter(
            level=Division.Level.COUNTY, name=names[0], code__startswith=TIANJIN_PREFIX
        ).first()
        if district is None:
            raise CommandError(
                f"Tianjin district {names[0]} is not in the divisions table; run migrate first."
            )
        node = district
        for name in names[1:]:
            child = Division.objects.filter(parent=node, name=name).first()
            if child is None:
                self.warn(f"{name} not found under {node.name}; using {node.name}.")
                break
            node = child
        self._origins[names] = node
        return node

    # --- reference data ----------------------------------------------------

    def ensure_country(self):
        country, created = ensure_china()
        if created:
            self.created["countries"] += 1
        return country

    def ensure_site(self) -> None:
        site, created = Site.objects.get_or_create(
            pk=settings.SITE_ID,
            defaults={"domain": settings.SITE_DOMAIN, "name": settings.SITE_NAME},
        )
        if created:
            return
        if (site.domain, site.name) != (settings.SITE_DOMAIN, settings.SITE_NAME):
            site.domain, site.name = settings.SITE_DOMAIN, settings.SITE_NAME
            site.save()

    def ensure_product_class(self):
        spec = demo_data.PRODUCT_CLASS
        product_class, created = ProductClass.objects.get_or_create(
            name=spec["name"],
            defaults={
                "track_stock": spec["track_stock"],
                "requires_shipping": spec["requires_shipping"],
            },
        )
        self.created["product classes"] += created
        return product_class

    def ensure_categories(self) -> dict[tuple[str, str], "Category"]:
        """The category tree; returns {(top, sub): category} and (top,) keys."""
        result = {}
        for top_name, subs in demo_data.CATEGORIES.items():
            top = self._category(None, top_name)
            result[(top_name,)] = top
            for sub_name in subs:
                result[(top_name, sub_name)] = self._category(top, sub_name)
        return result

    def _category(self, parent, name: str):
        slug = slugify(name)
        siblings = Category.get_root_nodes() if parent is None else parent.get_children()
        existing = siblings.filter(slug=slug).first() or siblings.filter(name=name).first()
        if existing is not None:
            return existing
        self.created["categories"] += 1
        if parent is None:
            return Category.add_root(name=name, slug=slug)
        # Re-read the parent: treebeard builds the child's path from numchild.
        return Category.objects.get(pk=parent.pk).add_child(name=name, slug=slug)

    def ensure_partners(self, country) -> dict[str, "Partner"]:
        partners = {}
        for spec in demo_data.COOPERATIVES:
            partner = (
                Partner.objects.filter(code=spec["code"]).first()
                or Partner.objects.filter(name=spec["name"]).first()
            )
            if partner is None:
                partner = Partner.objects.create(code=spec["code"], name=spec["name"])
                self.created["cooperatives"] += 1
                names = (spec["district"], spec["town"]) if spec["town"] else (spec["district"],)
                division = self.origin(names)
                town = spec["town"] if division.level == Division.Level.TOWN else ""
                PartnerAddress.objects.create(
                    partner=partner,
                    title="",
                    last_name=spec["name"],
                    line1=spec["address"],
                    line2=town,
                    line3=spec["district"],
                    line4="天津市",
                    state="天津市",
                    country=country,
                )
            partners[spec["code"]] = partner
        return partners

    # --- products ----------------------------------------------------------

    def _check(self, spec) -> None:
        units = set(Unit.values)
        storages = set(StorageClass.values)
        certs = set(Certification.values)
        bad = []
        if spec.get("unit") and spec["unit"] not in units:
            bad.append(f"unit {spec['unit']}")
        bad += [f"unit {v['unit']}" for v in spec.get("variants", []) if v["unit"] not in units]
        if spec["storage"] not in storages:
            bad.append(f"storage {spec['storage']}")
        bad += [f"certification {c}" for c in spec["certifications"] if c not in certs]
        if bad:
            raise CommandError(f"{spec['upc']}: unknown {', '.join(bad)}")

    def ensure_products(self, product_class, partners, categories) -> list:
        products = []
        for spec in demo_data.PRODUCTS:
            product = Product.objects.filter(upc=spec["upc"]).first()
            if product is None:
                self._check(spec)
                product = self._create_product(spec, product_class, partners, categories)
            products.append(product)
        return products

    def _create_product(self, spec, product_class, partners, categories):
        partner = partners[spec["partner"]]
        variants = spec.get("variants") or []
        product = Product.objects.create(
            upc=spec["upc"],
            title=spec["title"],
            slug=product_slug(spec["title"]),
            structure=Product.PARENT if variants else Product.STANDALONE,
            product_class=product_class,
            description=spec["description"],
            is_public=True,
            unit=spec.get("unit", ""),
            net_weight_g=None if variants else spec.get("net_weight_g"),
            origin=self.origin(spec["origin"]),
            harvest_date=harvest_date(spec["harvest"], self.today),
            shelf_life_days=spec["shelf_life_days"],
            storage_class=spec["storage"],
            certifications=list(spec["certifications"]),
        )
        self.created["products"] += 1
        for path in spec["categories"]:
            ProductCategory.objects.create(product=product, category=categories[tuple(path)])
        if not variants:
            self._stockrecord(product, partner, spec)
        for variant in variants:
            child = Product.objects.create(
                upc=f"{spec['upc']}-{variant['suffix']}",
                title=variant["title"],
                structure=Product.CHILD,
                parent=product,
                is_public=True,
                unit=variant["unit"],
                net_weight_g=variant["net_weight_g"],
            )
            self.created["variants"] += 1
            self._stockrecord(child, partner, variant)
        return product

    def _stockrecord(self, product, partner, spec) -> None:
        StockRecord.objects.create(
            product=product,
            partner=partner,
            partner_sku=spec["sku"],
            price=spec["price"],
            num_in_stock=spec["stock"],
            low_stock_threshold=spec.get("low_stock", 10),
        )
        self.created["stock records"] += 1

    # --- photos ------------------------------------------------------------

    def ensure_images(self, products) -> None:
        from shop.catalogue import demo_images

        specs = {spec["upc"]: spec for spec in demo_data.PRODUCTS}
        for product in products:
            if product.images.exists():
                continue
            spec = specs[product.upc]
            origin = product.origin
            names = path_names(origin.code) if origin else []
            places = [n for n in names[1:3] if n not in PLACEHOLDER_NAMES]
            data = demo_images.render(
                spec["art"],
                label=spec["label"],
                subtitle=f"天津 · {''.join(places)}" if places else "天津",
                gi=Certification.GEO_INDICATION in (product.certifications or []),
                storage=product.storage_class,
                seed=product.upc,
            )
            image = ProductImage(product=product, caption=product.title, display_order=0)
            image.original.save(f"{product.upc.lower()}.jpg", ContentFile(data), save=False)
            image.save()
            self.created["images"] += 1

    # --- cooperative records ----------------------------------------------

    def ensure_cooperatives(self, partners, *, licence_images: bool = True) -> None:
        """A verified Cooperative, its certificates and a manager account for
        every demo partner, and one application awaiting review."""
        from cooperatives.models import Cooperative

        by_partner = set(
            Cooperative.objects.filter(partner__in=partners.values()).values_list(
                "partner_id", flat=True
            )
        )
        claimed = self._claimed_certifications()
        for index, spec in enumerate(demo_data.COOPERATIVES, start=1):
            partner = partners[spec["code"]]
            if partner.pk in by_partner:
                coop = partner.cooperative
            else:
                names = (spec["district"], spec["town"]) if spec["town"] else (spec["district"],)
                coop = self._cooperative(
                    index,
                    partner,
                    spec,
                    self.origin(names),
                    status=Cooperative.Status.VERIFIED,
                    representative=COOP_REPRESENTATIVES[index % len(COOP_REPRESENTATIVES)],
                )
                if coop is None:
                    continue
                for number, kind in enumerate(sorted(claimed.get(spec["code"], ())), start=1):
                    coop.certifications.create(
                        type=kind,
                        number=f"WN-DEMO-{index:02d}{number:02d}",
                        issuer=CERTIFICATE_ISSUERS.get(kind, "天津市农业农村委员会"),
                        expires_on=self.today.replace(year=self.today.year + 2, day=1),
                    )
                    self.created["cooperative certificates"] += 1
            self._manager(coop, spec["code"])
        self._pending_application(licence_images)

    def _claimed_certifications(self) -> dict[str, set[str]]:
        """Certification types each demo cooperative's products claim."""
        claimed: dict[str, set[str]] = {}
        for spec in demo_data.PRODUCTS:
            claimed.setdefault(spec["partner"], set()).update(spec["certifications"])
        return claimed

    def _cooperative(self, index, partner, spec, division, *, status, representative, **extra):
        from cooperatives.models import Cooperative

        code = demo_credit_code(index, division.code)
        if Cooperative.objects.filter(credit_code=code).exists():
            self.warn(f"Credit code {code} is taken; {partner.name} left without a record.")
            return None
        coop = Cooperative.objects.create(
            partner=partner,
            legal_name=spec["name"],
            display_name=spec.get("display_name") or spec["name"].removeprefix("天津市")[:40],
            credit_code=code,
            entity_type=code[:2],
            legal_representative=representative,
            contact_phone=COOP_PHONE,
            division=division,
            address_detail=spec["address"],
            description=spec.get("description", ""),
            status=status,
            status_changed_at=timezone.now(),
            **extra,
        )
        if status != Cooperative.Status.APPLIED:
            coop.status_changes.create(
                from_status=Cooperative.Status.APPLIED, to_status=status, reason="演示数据"
            )
        self.created["cooperative records"] += 1
        return coop

    def _manager(self, coop, partner_code: str):
        """The cooperative's manager account (never touched once it exists)."""
        from cooperatives.models import Membership

        User = get_user_model()
        username = COOP_USERNAME.format(code=partner_code)
        user = User._default_manager.filter(username=username).first()
        if user is None:
            user = User._default_manager.create_user(
                username=username, email=f"{username}@wangnong.local", password=COOP_PASSWORD
            )
            self.created["cooperative managers"] += 1
        if not Membership.objects.filter(user=user).exists():
            Membership.objects.create(cooperative=coop, user=user, role=Membership.Role.MANAGER)
        return user

    def _pending_application(self, licence_images: bool) -> None:
        from cooperatives.models import Cooperative

        spec = PENDING_COOPERATIVE
        partner = Partner.objects.filter(code=spec["code"]).first()
        if partner is None:
            partner = Partner.objects.create(code=spec["code"], name=spec["name"], is_selling=False)
        coop = Cooperative.objects.filter(partner=partner).first()
        if coop is None:
            division = self.origin((spec["district"], spec["town"], spec["village"]))
            coop = self._cooperative(
                len(demo_data.COOPERATIVES) + 1,
                partner,
                spec,
                division,
                status=Cooperative.Status.APPLIED,
                representative="孙福来",
            )
            if coop is None:
                return
        user = self._manager(coop, spec["code"])
        changed = []
        if coop.applied_by_id is None:
            coop.applied_by = user
            changed.append("applied_by")
        if licence_images and not coop.business_licence:
            coop.business_licence.save(
                f"{spec['code']}-licence.png", ContentFile(self._licence_image(coop)), save=False
            )
            changed.append("business_licence")
        if changed:
            coop.save(update_fields=changed)

    @staticmethod
    def _licence_image(coop) -> bytes:
        """A plain stand-in for a business licence photo (clearly marked 样本)."""
        import io

        from PIL import Image, ImageDraw

        from shop.catalogue.demo_images import cjk_font

        image = Image.new("RGB", (900, 640), (250, 246, 236))
        draw = ImageDraw.Draw(image)
        draw.rectangle((20, 20, 879, 619), outline=(176, 40, 32), width=8)
        big, small = cjk_font(56), cjk_font(28)
        lines = [
            (big, "营业执照（演示样本）", 70),
            (small, f"统一社会信用代码：{coop.credit_code}", 210),
            (small, f"名称：{coop.legal_name}", 270),
            (small, "类型：农民专业合作社", 330),
            (small, f"法定代表人：{coop.legal_representative}", 390),
            (small, f"住所：{coop.address_detail}", 450),
        ]
        for font, text, y in lines:
            if font is None:  # no CJK font: the code is still legible
                text = text.encode("ascii", "ignore").decode() or "SAMPLE"
            draw.text((60, y), text, fill=(40, 40, 40), font=font)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue()

    # --- users -------------------------------------------------------------

    def ensure_admin(self) -> None:
        User = get_user_model()
        if User._default_manager.filter(username=ADMIN_USERNAME).exists():
            return
        User._default_manager.create_superuser(
            username=ADMIN_USERNAME, email=ADMIN_EMAIL, password=ADMIN_PASSWORD
        )
        self.created["users"] += 1


class Command(BaseCommand):
    help = (
        "Load the demo cooperatives, produce, photos, service stations, home page and admin "
        "user (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-images",
            action="store_true",
            help="Do not draw product photos (faster; used by tests).",
        )

    def handle(self, *args, no_images=False, **options):
        if options["verbosity"] >= 2:
            self._load(no_images, options)
        else:
            with quiet_loggers(CHATTY_LOGGERS):
                self._load(no_images, options)

    def _load(self, no_images, options):
        from cms.demo import setup_cms
        from shop.search.indexing import rebuild_index
        from shop.search.models import ProductSearchDocument

        loader = DemoLoader(self.stdout, self.style)
        with transaction.atomic():
            country = loader.ensure_country()
            loader.ensure_site()
            product_class = loader.ensure_product_class()
            categories = loader.ensure_categories()
            partners = loader.ensure_partners(country)
            products = loader.ensure_products(product_class, partners, categories)
            loader.ensure_cooperatives(partners, licence_images=not no_images)

        if not no_images:
            loader.ensure_images(products)

        # Carriers backed by the carrier simulator `make run` starts
        # (logistics/demo.py); before the stations, whose demo order ships.
        from logistics import demo as logistics_demo

        loader.created.update(logistics_demo.configure_carriers())

        # Village service stations, their staff and residents (stations/demo.py).
        from stations import demo as stations_demo

        loader.created.update(stations_demo.load(self.stdout))

        by_upc = {p.upc: p for p in products}
        featured = [by_upc[upc].pk for upc in demo_data.FEATURED_UPCS if upc in by_upc]
        top_categories = [categories[(name,)].pk for name in demo_data.CATEGORIES]
        cms_created = setup_cms(
            featured_product_ids=featured, category_ids=top_categories, images=not no_images
        )
        loader.created.update(cms_created)
        loader.ensure_admin()

        # Delivered demo orders and a cooperative's settlement statements,
        # one paid (shop/payment/demo.py); after the admin, who pays it.
        from shop.payment import demo as payment_demo

        loader.created.update(payment_demo.load(self.stdout))

        top_level = Product.objects.filter(parent__isnull=True).count()
        indexed = ProductSearchDocument.objects.count()
        if loader.created["products"] or indexed != top_level:
            # Products and CMS pages (shop/search/indexing.py).
            indexed = rebuild_index()
            loader.created["products indexed for search"] = indexed
        else:
            # Courses, lessons, articles and pages for the site search
            # (shop/search/page_indexing.py). Publishing indexes them too;
            # this covers pages made live without publishing. Keep it after
            # every step that adds CMS pages.
            from shop.search.page_indexing import rebuild_page_index

            rebuild_page_index()

        # The statistics page's figures as of now (cms/statistics.py); the
        # periodic task keeps them fresh under `make run`.
        from cms import statistics as cms_statistics

        cms_statistics.compute_snapshot()

        if options["verbosity"] >= 1:
            self._summary(loader.created)

    def _summary(self, created: Counter) -> None:
        demo_upcs = [spec["upc"] for spec in demo_data.PRODUCTS]
        demo = Product.objects.filter(upc__in=demo_upcs)
        self.stdout.write(
            "网农 demo: {coops} cooperatives, {products} products ({parents} with {children} "
            "variants), {cats} categories, {images} product photos.".format(
                coops=Partner.objects.filter(
                    code__in=[c["code"] for c in demo_data.COOPERATIVES]
                ).count(),
                products=demo.count(),
                parents=demo.filter(structure=Product.PARENT).count(),
                children=Product.objects.filter(parent__in=demo).count(),
                cats=Category.objects.count(),
                images=ProductImage.objects.filter(product__in=demo).count(),
            )
        )
        if any(created.values()):
            made = ", ".join(f"{n} {what}" for what, n in created.items() if n)
            self.stdout.write(self.style.SUCCESS(f"Created: {made}."))
        else:
            self.stdout.write("Nothing to do: the demo data is already loaded.")
