"""Catalogue browsing and the site search (products, and CMS pages beside
them), served from the database.

Oscar 4.2 routes its catalogue and category pages through haystack; these
views replace them (Oscar's catalogue app loads them with get_class) with
plain paginated querysets from shop.catalogue.listing.
"""

from urllib.parse import unquote

from django.contrib import messages
from django.core.paginator import InvalidPage
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import ListView
from oscar.apps.search.signals import user_search
from oscar.core.loading import get_model

from shop.catalogue.listing import browsable_products, with_min_price
from shop.search.backends import match_products
from shop.search.forms import SearchForm, SortForm
from shop.search.page_results import search_pages

Category = get_model("catalogue", "Category")

# The results page's page number for CMS pages (``page`` is the products').
PAGES_PARAM = "pp"

ORDERINGS = {
    SortForm.NEWEST: ("-date_created", "-pk"),
    SortForm.PRICE_ASC: ("min_price", "pk"),
    SortForm.PRICE_DESC: ("-min_price", "pk"),
}


class ProductListView(ListView):
    """A paginated, sortable list of browsable products."""

    context_object_name = "products"
    paginate_by = 20
    default_ordering = ("-priority", "-date_created", "-pk")

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            if self.kwargs.get("page") or request.GET.get("page"):
                messages.error(request, _("页码不存在，已回到第一页。"))
                return redirect(self.first_page_url())
            raise

    def first_page_url(self) -> str:
        params = self.request.GET.copy()
        params.pop("page", None)
        return f"{self.request.path}?{params.urlencode()}" if params else self.request.path

    def get_base_queryset(self):
        return browsable_products()

    def get_queryset(self):
        self.sort_form = SortForm(self.request.GET)
        sort_by = self.sort_form.cleaned_data.get("sort_by") if self.sort_form.is_valid() else ""
        products = self.get_base_queryset()
        if sort_by in ORDERINGS:
            if sort_by in (SortForm.PRICE_ASC, SortForm.PRICE_DESC):
                products = with_min_price(products)
            return products.order_by(*ORDERINGS[sort_by])
        return self.order_default(products)

    def order_default(self, products):
        return products.order_by(*self.default_ordering)

    def paginate_queryset(self, queryset, page_size):
        try:
            return super().paginate_queryset(queryset, page_size)
        except InvalidPage as exc:
            raise Http404(str(exc)) from exc

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sort_form"] = self.sort_form
        params = self.request.GET.copy()
        params.pop("page", None)
        ctx["page_query"] = params.urlencode()
        return ctx


class CatalogueView(ProductListView):
    template_name = "oscar/catalogue/browse.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["summary"] = _("全部商品")
        return ctx


class ProductCategoryView(ProductListView):
    template_name = "oscar/catalogue/category.html"

    def get(self, request, *args, **kwargs):
        self.category = get_object_or_404(Category, pk=self.kwargs["pk"])
        if not (self.category.is_public or request.user.is_staff):
            raise Http404()
        expected = self.category.get_absolute_url()
        if unquote(expected) != unquote(request.path):
            return HttpResponsePermanentRedirect(expected)
        return super().get(request, *args, **kwargs)

    def get_base_queryset(self):
        categories = self.category.get_descendants_and_self()
        return browsable_products().filter(categories__in=categories).distinct()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["category"] = self.category
        ctx["summary"] = self.category.name
        return ctx


class ProductSearchView(ProductListView):
    """The site search: products (paginated, sortable) and, from the same
    query, the matching courses, lessons, articles and pages."""

    template_name = "oscar/search/results.html"
    context_object_name = "products"

    def get(self, request, *args, **kwargs):
        self.form = SearchForm(request.GET)
        self.query = self.form.cleaned_data["q"].strip() if self.form.is_valid() else ""
        if self.query:
            user_search.send(
                sender=self, session=request.session, user=request.user, query=self.query
            )
        return super().get(request, *args, **kwargs)

    def get_base_queryset(self):
        self.products_every_term = True
        if not self.query:
            return browsable_products().none()
        products, self.products_every_term = match_products(browsable_products(), self.query)
        return products

    def order_default(self, products):
        return products  # already ranked

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["form"] = ctx["search_form"] = self.form
        ctx["query"] = self.query
        # Courses, lessons, articles and pages matching the same query, with
        # their own page number so paging either list keeps the other's.
        ctx["page_hits"] = None
        if self.query:
            pages = search_pages(self.query, self.request, self.request.GET.get(PAGES_PARAM))
            ctx["page_hits"] = pages.hits
            # Pages go first when there are no products, or when they hold
            # every word of the query and the products only some (a course
            # title finds the course, and products only by 合作, 产品 …).
            ctx["pages_first"] = pages.hits.paginator.count and (
                not ctx["paginator"].count or (pages.every_term and not self.products_every_term)
            )
        ctx["pages_param"] = PAGES_PARAM
        params = self.request.GET.copy()
        params.pop(PAGES_PARAM, None)
        ctx["pages_query"] = params.urlencode()
        return ctx
