"""The portal's products (商品): list with inline price/stock, one short
create form (photos, produce facts, optional variants), edit, publish,
photos and variants. Mobile first, plain HTML forms, no JavaScript needed.

All writes go through cooperatives.listings; every object is looked up in
the member's cooperative (ScopedObjectMixin) before the HTTP method is even
checked, so another cooperative's ids are 404 for GET and POST alike.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Window
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from oscar.core.loading import get_model

from config.uploads import ACCEPT_ATTR, max_upload_bytes, validate_image
from cooperatives import listings
from cooperatives.listings import ListingData, VariantData
from cooperatives.portal.access import CooperativePortalMixin, ScopedObjectMixin
from cooperatives.portal.thumbnails import thumbnail_urls
from shop.catalogue.produce import Certification as CertificationType
from shop.catalogue.produce import StorageClass, Unit

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")

# Rows a page: each row is a photo and a price and stock form per variant,
# about 3 KB of HTML; 20 keep the page light on a phone's connection (50 were
# 155 KB) and its server time under 100 ms at 2,000 products (issue 9).
PER_PAGE = 20
# The list's photos, as the edit page's {% oscar_thumbnail … "240x240" crop="center" upscale=False %}.
THUMBNAIL_SIZE = "240x240"
THUMBNAIL_OPTIONS = {"crop": "center", "upscale": False}
VARIANT_ROWS = 3


# --- Helpers ------------------------------------------------------------------


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a listings service error on the form fields it names."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, ValidationError(errors))


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- Forms ----------------------------------------------------------------------


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.full_name


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos at once (from the camera or the gallery), each checked
    by config.uploads (content sniffed, bombs and non-images refused)."""

    widget = MultipleImageInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["accept"] = ACCEPT_ATTR
        return attrs

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        errors = []
        cleaned = []
        for upload in files:
            upload = super().clean(upload, initial)
            if not upload:
                continue
            try:
                upload = validate_image(upload)  # re-encoded: no EXIF, nothing appended
            except ValidationError as exc:
                errors.extend(f"{upload.name}：{m}" for m in exc.messages)
            cleaned.append(upload)
        if len(cleaned) > listings.MAX_PHOTOS:
            errors.append(_("每个商品最多 %(n)s 张照片。") % {"n": listings.MAX_PHOTOS})
        if errors:
            raise ValidationError(errors)
        return cleaned


def _text(label, *, required=False, inputmode=None, help_text="", max_length=None):
    attrs = {"inputmode": inputmode} if inputmode else {}
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=max_length,
        widget=forms.TextInput(attrs=attrs),
    )


def _date(label, help_text=""):
    return forms.DateField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ListingForm(forms.Form):
    """Create and edit. Numbers are text fields validated by the listings
    service, so one set of messages covers the portal and imports, and what
    was typed is shown back as typed."""

    photos = PhotosField(
        label=gettext_lazy("商品照片"),
        help_text=gettext_lazy("可拍照或从相册选择，可一次选多张（最多 9 张），第一张是主图。"),
    )
    title = forms.CharField(label=gettext_lazy("商品名称"), max_length=listings.MAX_TITLE_LENGTH)
    category = CategoryChoiceField(
        label=gettext_lazy("所属分类"), queryset=Category.objects.none(), empty_label="——"
    )
    price = _text(gettext_lazy("价格（元）"), inputmode="decimal")
    unit = forms.ChoiceField(
        label=gettext_lazy("销售单位"), choices=[("", "——"), *Unit.choices], required=False
    )
    stock = _text(gettext_lazy("库存"), inputmode="numeric")
    net_weight_g = _text(
        gettext_lazy("净重（克）"),
        inputmode="numeric",
        help_text=gettext_lazy("每个销售单位的净重，1 斤 = 500 克；运费按此计算。"),
    )
    storage_class = forms.ChoiceField(
        label=gettext_lazy("储运温层"),
        choices=StorageClass.choices,
        initial=StorageClass.AMBIENT,
        widget=forms.RadioSelect,
        required=False,  # defaults to 常温 (and a required radio group stars every choice)
    )
    harvest_date = _date(gettext_lazy("采收日期"))
    certifications = forms.MultipleChoiceField(
        label=gettext_lazy("认证"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    presale = forms.BooleanField(label=gettext_lazy("预售（还没采收，先卖后发）"), required=False)
    presale_ships_on = _date(gettext_lazy("预计发货日期"), gettext_lazy("预售商品必填。"))
    description = forms.CharField(
        label=gettext_lazy("商品介绍"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=listings.MAX_DESCRIPTION_LENGTH,
    )
    sku = _text(
        gettext_lazy("商品编码（选填）"),
        max_length=listings.MAX_SKU_LENGTH,
        help_text=gettext_lazy("合作社自己的货号，批量导入时用它找到商品；不填自动生成。"),
    )
    is_public = forms.BooleanField(
        label=gettext_lazy("保存后立即上架"), required=False, initial=True
    )

    def __init__(self, *args, cooperative, product=None, **kwargs):
        """Creating (no ``product``) adds variant rows and 上架; editing a
        parent drops price and stock, which live on its variants."""
        super().__init__(*args, **kwargs)
        self.cooperative = cooperative
        self.product = product
        self.fields["category"].queryset = Category.objects.order_by("path")
        held = listings.held_certifications(cooperative)
        claimed = set(product.certifications or []) if product is not None else set()
        self.fields["certifications"].choices = [
            (code, label) for code, label in CertificationType.choices if code in held | claimed
        ]
        if not held:
            self.fields["certifications"].help_text = _(
                "本合作社还没有有效的认证证书；负责人可在“合作社资料”中上传。"
            )
        if product is None:
            for n in range(1, VARIANT_ROWS + 1):
                # Labels name the row, so each is unique on the page.
                self.fields[f"v{n}_title"] = _text(_("规格 %(n)s 名称") % {"n": n}, max_length=60)
                self.fields[f"v{n}_price"] = _text(
                    _("规格 %(n)s 价格（元）") % {"n": n}, inputmode="decimal"
                )
                self.fields[f"v{n}_stock"] = _text(
                    _("规格 %(n)s 库存") % {"n": n}, inputmode="numeric"
                )
                self.fields[f"v{n}_net_weight_g"] = _text(
                    _("规格 %(n)s 净重（克）") % {"n": n}, inputmode="numeric"
                )
        else:
            del self.fields["is_public"]
            if product.is_parent:
                del self.fields["price"]
                del self.fields["stock"]
            self.fields["photos"].label = _("添加照片")

    def variants_open(self) -> bool:
        """Whether the variant rows hold something typed (so stay unfolded)."""
        if not self.is_bound:
            return False
        return any(
            (self.data.get(self.add_prefix(name)) or "").strip()
            for name in self.fields
            if name.startswith("v") and name[1:2].isdigit()
        )

    def variant_row_fields(self):
        """[(n, [bound fields]), …] for the template."""
        return [
            (n, [self[f"v{n}_{k}"] for k in ("title", "price", "stock", "net_weight_g")])
            for n in range(1, VARIANT_ROWS + 1)
            if f"v{n}_title" in self.fields
        ]

    def variants_given(self) -> list[VariantData]:
        out = []
        for n in range(1, VARIANT_ROWS + 1):
            if f"v{n}_title" not in self.fields:
                continue
            row = {
                k: self.cleaned_data.get(f"v{n}_{k}") or ""
                for k in ("title", "price", "stock", "net_weight_g")
            }
            if any(str(v).strip() for v in row.values()):
                out.append(
                    VariantData(
                        title=row["title"],
                        price=row["price"] or None,
                        stock=row["stock"] if str(row["stock"]).strip() != "" else None,
                        net_weight_g=row["net_weight_g"] or None,
                    )
                )
        return out

    def listing_data(self) -> ListingData:
        d = self.cleaned_data
        data = ListingData(
            sku=d.get("sku") or "",
            title=d.get("title") or "",
            category=d.get("category") or "",
            unit=d.get("unit") or "",
            price=d.get("price") or None,
            stock=d.get("stock") if (d.get("stock") or "").strip() != "" else None,
            net_weight_g=d.get("net_weight_g") or None,
            harvest_date=d.get("harvest_date"),
            storage_class=d.get("storage_class") or "",
            certifications=list(d.get("certifications") or []),
            description=d.get("description") or "",
            is_public=d.get("is_public", True) if self.product is None else self.product.is_public,
            presale=bool(d.get("presale")),
            presale_ships_on=d.get("presale_ships_on"),
        )
        if self.product is None:
            data.variants = self.variants_given()
        return data

    @classmethod
    def initial_for(cls, product) -> dict:
        category = product.categories.order_by("path").first()
        record = None if product.is_parent else product.stockrecords.first()
        return {
            "title": product.title,
            "category": category,
            "unit": product.unit,
            "price": record.price if record else "",
            "stock": record.num_in_stock if record else "",
            "net_weight_g": product.net_weight_g or "",
            "storage_class": product.storage_class or StorageClass.AMBIENT,
            "harvest_date": product.harvest_date,
            "certifications": product.certifications or [],
            "presale": product.is_presale,
            "presale_ships_on": product.presale_ships_on,
            "description": listings.html_to_description(product.description),
            "sku": listings.sku_of(product),
        }


class VariantForm(forms.Form):
    existing_title = _text(
        gettext_lazy("现有规格的名称"),
        max_length=60,
        help_text=gettext_lazy("这个商品现在只有一个规格，先给它起个名字，如“5斤装”。"),
    )
    variant_title = _text(gettext_lazy("规格名称"), max_length=60, required=True)
    price = _text(gettext_lazy("价格（元）"), inputmode="decimal")
    stock = _text(gettext_lazy("库存"), inputmode="numeric")
    net_weight_g = _text(gettext_lazy("净重（克）"), inputmode="numeric")
    sku = _text(gettext_lazy("商品编码（选填）"), max_length=listings.MAX_SKU_LENGTH)
    is_public = forms.BooleanField(label=gettext_lazy("上架"), required=False, initial=True)

    def __init__(self, *args, needs_existing_title: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_existing_title:
            self.fields["existing_title"].required = True
        else:
            del self.fields["existing_title"]

    def variant_data(self) -> VariantData:
        d = self.cleaned_data
        return VariantData(
            title=d.get("variant_title") or "",
            price=d.get("price") or None,
            stock=d.get("stock") if (d.get("stock") or "").strip() != "" else None,
            net_weight_g=d.get("net_weight_g") or None,
            sku=d.get("sku") or "",
            is_public=bool(d.get("is_public")),
        )


class StockForm(forms.Form):
    """The inline price/stock form of one stock record on the list."""

    price = _text(gettext_lazy("价格（元）"), inputmode="decimal", required=True)
    stock = _text(gettext_lazy("库存"), inputmode="numeric", required=True)


# (field, inputmode) of a list row's inputs, in the order shown.
STOCK_INPUTS = (("price", "decimal"), ("stock", "numeric"))


class RowInput:
    """One input of a list row's price/stock form: what products.html reads
    from a BoundField (auto_id, html_name, label, value, errors). A page
    holds 70+ stock records; building a StockForm for each, with two bound
    fields and a fresh empty ErrorList at every ``field.errors``, was a fifth
    of the page's rendering. ``for_record`` works the same values out for an
    untouched row; ``from_bound`` takes them from a submitted form (what was
    typed, and its errors)."""

    __slots__ = ("auto_id", "errors", "html_name", "inputmode", "label", "value")

    def __init__(self, *, auto_id: str, html_name: str, label: str, value, errors, inputmode: str):
        self.auto_id = auto_id
        self.html_name = html_name
        self.label = label
        self.value = value
        self.errors = errors
        self.inputmode = inputmode

    @classmethod
    def from_bound(cls, form: StockForm) -> list[RowInput]:
        return [
            cls(
                auto_id=form[name].auto_id,
                html_name=form[name].html_name,
                label=form[name].label,
                value=form[name].value(),
                errors=form[name].errors,
                inputmode=inputmode,
            )
            for name, inputmode in STOCK_INPUTS
        ]

    @classmethod
    def for_record(cls, record, labels: dict[str, str]) -> list[RowInput]:
        """As ``from_bound(StockForm(prefix=f"sr{pk}", initial=…))`` would
        give (tests/cooperatives/test_listings.py holds the two together)."""
        prefix = f"sr{record.pk}"
        values = {"price": record.price, "stock": record.num_in_stock}
        return [
            cls(
                auto_id=f"id_{prefix}-{name}",
                html_name=f"{prefix}-{name}",
                label=labels[name],
                value=values[name],
                errors=(),
                inputmode=inputmode,
            )
            for name, inputmode in STOCK_INPUTS
        ]


# --- List --------------------------------------------------------------------------


class UrlFor:
    """A URL with a ``pk``, reversed once per page rather than once per row
    (a page of 20 products would otherwise reverse 100+ URLs)."""

    SENTINEL = 2_147_483_647

    def __init__(self, name: str):
        self.prefix, _sep, self.suffix = reverse(name, kwargs={"pk": self.SENTINEL}).partition(
            str(self.SENTINEL)
        )

    def __call__(self, pk: int) -> str:
        return f"{self.prefix}{pk}{self.suffix}"


class ProductRow:
    """One product on the list: ``records`` holds (product or variant, stock
    record, its RowInputs, form action, the form's aria-label) for each of
    the cooperative's stock records; ``photo`` is its primary image (None
    without one) and ``thumbnail_url`` is filled in for the whole page at once."""

    def __init__(self, product, inputs_for, urls: dict[str, UrlFor], record_label: str):
        self.product = product
        image = product.primary_image()
        # Oscar's primary_image() is a dict {"is_missing": True, …} without a photo.
        self.photo = None if isinstance(image, dict) else image
        self.thumbnail_url = ""
        self.is_parent = product.is_parent
        self.edit_url = urls["edit"](product.pk)
        self.publish_url = urls["publish"](product.pk)
        items = (
            [(child, child.own_stock) for child in product.variant_list]
            if product.is_parent
            else [(product, product.own_stock)]
        )
        self.records = [
            (
                item,
                r,
                inputs_for(r),
                urls["stock"](r.pk),
                # {% blocktrans %}'s output: the translation, the title escaped.
                mark_safe(record_label % {"title": conditional_escape(item.get_title())}),
            )
            for item, records in items
            for r in records
        ]

    @property
    def in_stock(self) -> bool:
        return any(r.net_stock_level > 0 for _p, r, _f, _u, _l in self.records)


def paginate(queryset: QuerySet, number: str | None, per_page: int) -> tuple[Paginator, Page]:
    """``Paginator(queryset, per_page).get_page(number)``, in one query
    instead of two: the page's own query counts every row (``COUNT(*) OVER
    ()``), so the products are found once, not once for the COUNT and again
    for the page (each a join over the cooperative's stock records, about
    15 ms at 2,000 products). A page past the end (or an empty list) takes
    get_page's path: the count, then the last page."""
    paginator = Paginator(queryset, per_page)
    try:
        wanted = int(number)  # get_page: not an integer → page 1
    except (TypeError, ValueError):
        wanted = 1
    if wanted >= 1:
        offset = (wanted - 1) * per_page
        rows = list(queryset.annotate(list_total=Window(Count("*")))[offset : offset + per_page])
        if rows:
            paginator.count = rows[0].list_total  # the cached_property, already known
            return paginator, paginator._get_page(rows, wanted, paginator)
    return paginator, paginator.get_page(number)


def render_product_list(
    request: HttpRequest,
    view,
    *,
    bound: StockForm | None = None,
    bound_record_id: int | None = None,
) -> HttpResponse:
    """The list page; after a failed inline edit, ``bound`` (the submitted
    form with its errors) replaces that row's form so what was typed stays."""
    cooperative = view.cooperative
    params = request.POST if request.method == "POST" else request.GET
    query = (params.get("q") or "").strip()
    products = listings.portal_list(cooperative)
    if query:
        by_sku = listings.stock_of(cooperative).filter(partner_sku__iexact=query)
        products = products.filter(
            Q(title__icontains=query)
            | Q(upc=listings.parent_upc(cooperative, query))
            | Q(pk__in=by_sku.values("product_id"))
            | Q(pk__in=by_sku.values("product__parent_id"))
        )
    paginator, page = paginate(products, params.get("page"), PER_PAGE)
    labels = {name: str(StockForm.base_fields[name].label) for name, _mode in STOCK_INPUTS}

    def inputs_for(record) -> list[RowInput]:
        if bound is not None and record.pk == bound_record_id:
            return RowInput.from_bound(bound)
        return RowInput.for_record(record, labels)

    urls = {
        "edit": UrlFor("coop:product-edit"),
        "publish": UrlFor("coop:product-publish"),
        "stock": UrlFor("coop:stock-update"),
    }
    # Translated once a page, not once a row (see products.html).
    record_label = _("%(title)s：价格和库存")
    rows = [ProductRow(product, inputs_for, urls, record_label) for product in page.object_list]
    with_photo = [row for row in rows if row.photo is not None]
    thumbnails = thumbnail_urls(
        [row.photo.original for row in with_photo], THUMBNAIL_SIZE, **THUMBNAIL_OPTIONS
    )
    for row, url in zip(with_photo, thumbnails, strict=True):
        row.thumbnail_url = url
    context = {
        "cooperative": cooperative,
        "membership": view.membership,
        "rows": rows,
        "page_obj": page,
        "paginator": paginator,
        "query": query,
        "total": paginator.count,
        "has_error": bound is not None,
    }
    return render(request, "cooperatives/portal/products.html", context)


def list_url(page: str | None = None, query: str | None = None, anchor: str = "") -> str:
    params = [(k, v) for k, v in (("page", page), ("q", query)) if v]
    url = reverse("coop:products")
    if params:
        url += "?" + urlencode(params)
    return url + (f"#{anchor}" if anchor else "")


class ProductListView(CooperativePortalMixin, View):
    def get(self, request):
        return render_product_list(request, self)


class StockUpdateView(CooperativePortalMixin, ScopedObjectMixin, View):
    """POST price and stock of one stock record (a list row)."""

    def get_scoped_queryset(self):
        return listings.stock_of(self.cooperative).select_related("product__parent")

    def post(self, request, pk):
        record = self.object
        form = StockForm(request.POST, prefix=f"sr{record.pk}")
        if form.is_valid():
            try:
                listings.set_stock_and_price(
                    record, form.cleaned_data["price"], form.cleaned_data["stock"]
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
        if form.errors:
            return render_product_list(request, self, bound=form, bound_record_id=record.pk)
        messages.success(
            request,
            _("已更新“%(title)s”：价格 ¥%(price)s，库存 %(stock)s。")
            % {
                "title": record.product.get_title(),
                "price": record.price,
                "stock": record.num_in_stock,
            },
        )
        return HttpResponseRedirect(
            list_url(request.POST.get("page"), request.POST.get("q"), f"row-{record.pk}")
        )


# --- Create and edit ---------------------------------------------------------------


class ProductCreateView(CooperativePortalMixin, View):
    template_name = "cooperatives/portal/products_form.html"

    def get(self, request):
        form = ListingForm(cooperative=self.cooperative)
        return self.render(form)

    def render(self, form, status=200):
        return render(
            request=self.request,
            template_name=self.template_name,
            context={
                "cooperative": self.cooperative,
                "membership": self.membership,
                "form": form,
                "max_upload_mb": max_upload_bytes() // (1024 * 1024),
            },
            status=status,
        )

    def post(self, request):
        form = ListingForm(request.POST, request.FILES, cooperative=self.cooperative)
        if form.is_valid():
            try:
                with transaction.atomic():
                    product = listings.create_listing(self.cooperative, form.listing_data())
                    listings.add_photos(
                        self.cooperative, product, form.cleaned_data.get("photos") or []
                    )
            except ValidationError as exc:
                apply_service_errors(form, exc)
        if form.errors:
            if request.FILES:
                form.add_error("photos", _("出错后照片需要重新选择。"))
            return self.render(form)
        messages.success(
            request,
            _("已添加“%(title)s”。") % {"title": product.title}
            + (" " + _("已上架。") if product.is_public else " " + _("尚未上架。")),
        )
        return HttpResponseRedirect(reverse("coop:products"))


class ProductEditView(CooperativePortalMixin, ScopedObjectMixin, View):
    template_name = "cooperatives/portal/products_edit.html"

    def get_scoped_queryset(self):
        return listings.products_of(self.cooperative)

    def get(self, request, pk):
        form = ListingForm(
            initial=ListingForm.initial_for(self.object),
            cooperative=self.cooperative,
            product=self.object,
        )
        return self.render(form)

    def render(self, form):
        product = self.object
        variants = []
        if product.is_parent:
            own = listings.stock_of(self.cooperative)
            for child in product.children.order_by("pk"):
                variants.append((child, own.filter(product=child).first()))
        return render(
            self.request,
            self.template_name,
            {
                "cooperative": self.cooperative,
                "membership": self.membership,
                "product": product,
                "form": form,
                "images": product.images.order_by("display_order", "pk"),
                "variants": variants,
                "max_photos": listings.MAX_PHOTOS,
            },
        )

    def post(self, request, pk):
        form = ListingForm(
            request.POST, request.FILES, cooperative=self.cooperative, product=self.object
        )
        if form.is_valid():
            try:
                with transaction.atomic():
                    product = listings.update_listing(
                        self.cooperative, self.object, form.listing_data()
                    )
                    listings.add_photos(
                        self.cooperative, product, form.cleaned_data.get("photos") or []
                    )
            except ValidationError as exc:
                apply_service_errors(form, exc)
        if form.errors:
            if request.FILES:
                form.add_error("photos", _("出错后照片需要重新选择。"))
            self.object.refresh_from_db()
            return self.render(form)
        messages.success(request, _("已保存“%(title)s”。") % {"title": product.title})
        return HttpResponseRedirect(reverse("coop:product-edit", kwargs={"pk": product.pk}))


class ProductPublishView(CooperativePortalMixin, ScopedObjectMixin, View):
    """POST: 上架 / 下架. ``action`` = publish or unpublish; without it, toggles."""

    def get_scoped_queryset(self):
        return listings.products_of(self.cooperative)

    def post(self, request, pk):
        product = self.object
        action = request.POST.get("action")
        make_public = {"publish": True, "unpublish": False}.get(action, not product.is_public)
        try:
            listings.set_public(self.cooperative, product, make_public)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if make_public:
                messages.success(request, _("“%(title)s”已上架。") % {"title": product.title})
            else:
                messages.success(request, _("“%(title)s”已下架。") % {"title": product.title})
        return HttpResponseRedirect(safe_next(request, reverse("coop:products")))


class ProductImageDeleteView(CooperativePortalMixin, ScopedObjectMixin, View):
    def get_scoped_queryset(self):
        return listings.images_of(self.cooperative).select_related("product")

    def post(self, request, pk):
        product = self.object.product
        listings.delete_photo(self.cooperative, self.object)
        messages.success(request, _("照片已删除。"))
        return HttpResponseRedirect(reverse("coop:product-edit", kwargs={"pk": product.pk}))


# --- Variants ------------------------------------------------------------------------


class VariantCreateView(CooperativePortalMixin, ScopedObjectMixin, View):
    template_name = "cooperatives/portal/products_variant_form.html"

    def get_scoped_queryset(self):
        return listings.products_of(self.cooperative)

    def get(self, request, pk):
        form = VariantForm(needs_existing_title=self.object.is_standalone)
        return self.render(form)

    def render(self, form):
        return render(
            self.request,
            self.template_name,
            {
                "cooperative": self.cooperative,
                "membership": self.membership,
                "product": self.object,
                "form": form,
                "creating": True,
            },
        )

    def post(self, request, pk):
        product = self.object
        form = VariantForm(request.POST, needs_existing_title=product.is_standalone)
        if form.is_valid():
            try:
                child = listings.add_variant(
                    self.cooperative,
                    product,
                    form.variant_data(),
                    existing_title=form.cleaned_data.get("existing_title") or "",
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
        if form.errors:
            product.refresh_from_db()
            return self.render(form)
        messages.success(request, _("已添加规格“%(title)s”。") % {"title": child.title})
        return HttpResponseRedirect(reverse("coop:product-edit", kwargs={"pk": product.pk}))


class VariantEditView(CooperativePortalMixin, ScopedObjectMixin, View):
    template_name = "cooperatives/portal/products_variant_form.html"

    def get_scoped_queryset(self):
        return listings.variants_of(self.cooperative).select_related("parent")

    def get(self, request, pk):
        child = self.object
        record = listings.stock_of(self.cooperative).filter(product=child).first()
        form = VariantForm(
            initial={
                "variant_title": child.title,
                "price": record.price if record else "",
                "stock": record.num_in_stock if record else "",
                "net_weight_g": child.net_weight_g or "",
                "sku": record.partner_sku if record else "",
                "is_public": child.is_public,
            }
        )
        return self.render(form)

    def render(self, form):
        return render(
            self.request,
            self.template_name,
            {
                "cooperative": self.cooperative,
                "membership": self.membership,
                "product": self.object.parent,
                "variant": self.object,
                "form": form,
                "creating": False,
            },
        )

    def post(self, request, pk):
        form = VariantForm(request.POST)
        if form.is_valid():
            try:
                child = listings.update_variant(self.cooperative, self.object, form.variant_data())
            except ValidationError as exc:
                apply_service_errors(form, exc)
        if form.errors:
            return self.render(form)
        messages.success(request, _("已保存规格“%(title)s”。") % {"title": child.title})
        return HttpResponseRedirect(reverse("coop:product-edit", kwargs={"pk": child.parent_id}))
