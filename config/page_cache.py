"""Whole-page cache for anonymous visitors, in the shared cache (Redis).

A harvest-festival crowd is mostly people who are not signed in, looking at
the same home page, categories and products. Their pages are the same for
everyone, so the rendered HTML is kept in the cache and served again without
touching the database.

Which requests: GET or HEAD to a view listed in ``CACHEABLE_VIEWS``, from a
visitor with no session, basket or messages cookie (so nobody signed in,
nobody with a basket, no pending message), with a short query string.
Which responses are kept: 200, HTML, not streaming, not marked private or
no-store, setting no cookie but the CSRF cookie and Oscar's recently-viewed
history, and with every CSRF token it carries found (see below).

Keys: scheme, host, language, path and query string. Each kept page carries
the **versions** it was made at, read in the same round trip as the page and
compared before it is served. One site-wide version is raised whenever
anything a public page shows changes:
products, prices, stock set by a cooperative, categories, images,
cooperatives, reviews, CMS pages and snippets, statistics snapshots (see
``WATCHED_*``). It is raised at once *and again after the transaction
commits* (config/cache_versions.py), so a page rendered from the old rows
between the two cannot outlive the commit. Product pages carry a second, per-product version as
well: an order moving stock (Oscar's allocate/consume/cancel, which send
``post_save`` without ``update_fields``) raises only that product's version,
and the site-wide one only when the product runs out, so a checkout rush does
not empty the cache of every other page. Baskets, checkout and every signed-in
page are never cached, so a buyer always pays the price in the database;
the worst a cached page can show is availability that changed by an order
within ``WANGNONG_PAGE_CACHE_SECONDS`` (a stock record coming back from zero
through a cancelled order is seen in listings when their entry expires).

Per-visitor parts of a cached page: the CSRF token of a form (language switch,
add to basket) and the CSP nonce are stored as placeholders and filled in for
each visitor, so the CSRF cookie and the CSP header match the page.

``WANGNONG_PAGE_CACHE_SECONDS = 0`` turns the cache off. Responses carry
``X-Page-Cache: hit`` or ``miss`` (tests and the load benchmark read it).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_TOKEN_LENGTH, get_token
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.cache import patch_vary_headers

from config import cache_versions, gzip_template
from config.gzip_template import GzipTemplate

VERSION_KEY = "page-cache:v"
PRODUCT_VERSION_KEY = "page-cache:p:{}"
CSRF_PLACEHOLDER = "__WN_CSRF_TOKEN__"
NONCE_PLACEHOLDER = "__WN_CSP_NONCE__"
MAX_QUERY_STRING = 300
# Raised when what is kept for a page changes shape, so a new release never
# reads an older release's entries.
PAGE_KEY_PREFIX = "page-cache:page:2:"
# django-csp's nonce: 16 random bytes in base64.
NONCE_LENGTH = 24

# View name → the URL keyword holding the product id whose own version the
# page's key also carries (None: the site-wide version only).
CACHEABLE_VIEWS: dict[str, str | None] = {
    "home": None,
    "wagtail_serve": None,
    "catalogue:index": None,
    "catalogue:category": None,
    "catalogue:detail": "pk",
    "catalogue:reviews-list": "product_pk",
    "catalogue:reviews-detail": "product_pk",
    "search:search": None,
    "cooperatives:list": None,
    "cooperatives:detail": None,
}

# Models whose changes show on public pages. Whole apps, then single models
# of apps that also hold per-user or per-order rows, then exceptions. The
# search app's documents are not watched: a document changes with its
# product or page, whose own signals raise the version, and the bulk
# rebuilds raise it once (a receiver would make every bulk delete of
# documents load and signal each row).
WATCHED_APPS = {"catalogue", "partner", "reviews", "offer", "cms", "sites"}
WATCHED_MODELS = {
    "cooperatives.cooperative",
    "cooperatives.cooperativephoto",
    "cooperatives.certification",
    "cooperatives.listingwithdrawal",
    "cooperatives.complaint",
    "wagtailcore.page",
    "wagtailcore.site",
    "wagtailcore.pageviewrestriction",
    "wagtailimages.image",
    "wagtaildocs.document",
    "wagtailredirects.redirect",
    "flatpages.flatpage",
}
IGNORED_MODELS = {
    # A learner's own progress; the public figures come from snapshots.
    "cms.lessonprogress",
    "cms.quizattempt",
    "cms.certificate",
}

_TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')


def enabled() -> bool:
    return getattr(settings, "WANGNONG_PAGE_CACHE_SECONDS", 0) > 0


# --- Versions -----------------------------------------------------------------


def site_changed() -> None:
    """Every cached page is out of date (call after changing public data
    without model signals, e.g. ``QuerySet.update`` or ``bulk_create``)."""
    cache_versions.bump(VERSION_KEY)


def product_changed(product_id: int) -> None:
    """The product's own page is out of date (stock moved by an order)."""
    cache_versions.bump(PRODUCT_VERSION_KEY.format(product_id))


def _label(model) -> str:
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}"


def is_watched(model) -> bool:
    label = _label(model)
    if label in IGNORED_MODELS:
        return False
    return label in WATCHED_MODELS or model._meta.app_label in WATCHED_APPS


def model_changed(sender, instance=None, raw: bool = False, **kwargs: Any) -> None:
    """Receiver for post_save, post_delete and m2m_changed of every model."""
    if raw or not is_watched(sender):
        return
    signal = kwargs.get("signal")
    if signal is m2m_changed and not kwargs.get("action", "").startswith("post_"):
        return
    if (
        signal is post_save
        and "update_fields" not in kwargs
        and _label(sender) == "partner.stockrecord"
    ):
        # Sent by hand by Oscar's allocate/consume/cancel (a real save()
        # always passes update_fields): an order moved stock.
        _stock_moved_by_order(instance)
        return
    site_changed()


def _stock_moved_by_order(stockrecord) -> None:
    product = stockrecord.product
    product_changed(product.pk)
    if product.parent_id:
        product_changed(product.parent_id)
    net = stockrecord.net_stock_level
    if net is not None and net <= 0:
        site_changed()  # listings show 暂时缺货


def connect_receivers() -> None:
    """Connect ``model_changed`` to each watched model only: a receiver for
    every model would make Django load and signal every row of every bulk
    delete instead of deleting with one query."""
    from django.apps import apps

    for model in apps.get_models():
        if not is_watched(model):
            continue
        uid = f"page_cache_{_label(model)}"
        post_save.connect(model_changed, sender=model, dispatch_uid=uid + "_save")
        post_delete.connect(model_changed, sender=model, dispatch_uid=uid + "_delete")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(model_changed, sender=through, dispatch_uid=f"{uid}_{field.name}")


# --- Lookup and store ---------------------------------------------------------


def accepts_gzip(request: HttpRequest) -> bool:
    return bool(re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))


def _stateless_visitor(request: HttpRequest) -> bool:
    cookies = request.COOKIES
    return not (
        settings.SESSION_COOKIE_NAME in cookies
        or settings.OSCAR_BASKET_COOKIE_OPEN in cookies
        or CookieStorage.cookie_name in cookies
    )


def _key(request: HttpRequest) -> str:
    raw = "|".join(
        [
            request.scheme,
            request.get_host(),
            getattr(request, "LANGUAGE_CODE", ""),
            request.get_full_path(),
        ]
    )
    return PAGE_KEY_PREFIX + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def _version_keys(match: ResolverMatch) -> list[str] | None:
    if match.view_name not in CACHEABLE_VIEWS:
        return None
    keys = [VERSION_KEY]
    product_kwarg = CACHEABLE_VIEWS[match.view_name]
    if product_kwarg:
        keys.append(PRODUCT_VERSION_KEY.format(match.kwargs.get(product_kwarg)))
    return keys


def _storable(request: HttpRequest, response: HttpResponse) -> str | None:
    """The body to keep, with placeholders, or None when it must not be kept."""
    if response.status_code != 200 or response.streaming:
        return None
    if not response.get("Content-Type", "").startswith("text/html"):
        return None
    control = response.get("Cache-Control", "")
    if "private" in control or "no-store" in control or "no-cache" in control:
        return None
    allowed_cookies = {settings.CSRF_COOKIE_NAME, settings.OSCAR_RECENTLY_VIEWED_COOKIE_NAME}
    if set(response.cookies) - allowed_cookies:
        return None
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return None
    body = response.content.decode(response.charset)
    tokens = set(_TOKEN_RE.findall(body))
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and not tokens:
        return None  # a token is used somewhere we cannot find it
    for token in tokens:
        body = body.replace(token, CSRF_PLACEHOLDER)
    nonce = getattr(request, "_csp_nonce", None)
    if isinstance(nonce, str):
        body = body.replace(nonce, NONCE_PLACEHOLDER)
    return body


def _values(request: HttpRequest, body: str) -> dict[str, str]:
    """This visitor's value for each placeholder in ``body``."""
    values = {}
    if CSRF_PLACEHOLDER in body:
        values[CSRF_PLACEHOLDER] = get_token(request)
    if NONCE_PLACEHOLDER in body:
        values[NONCE_PLACEHOLDER] = str(request.csp_nonce)
    return values


def _personalise(body: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        body = body.replace(placeholder, value)
    return body


def _compressed(body: str, charset: str) -> GzipTemplate | None:
    """The kept page gzipped once (config/gzip_template.py)."""
    return gzip_template.compress(
        body.encode(charset), {CSRF_PLACEHOLDER: CSRF_TOKEN_LENGTH, NONCE_PLACEHOLDER: NONCE_LENGTH}
    )


def _route_version_keys(request: HttpRequest) -> list[str] | None:
    """``_version_keys`` of the view the path resolves to, remembered per
    path: resolving through Wagtail's and Oscar's URL patterns cost a sixth
    of a served page."""
    urlconf = getattr(request, "urlconf", None)
    route = (urlconf or settings.ROOT_URLCONF, request.path_info)
    try:
        return _ROUTES[route]
    except KeyError:
        pass
    try:
        keys = _version_keys(resolve(request.path_info, urlconf))
    except Resolver404:
        keys = None
    if len(_ROUTES) >= MAX_ROUTES:
        _ROUTES.clear()
    _ROUTES[route] = keys
    return keys


_ROUTES: dict[tuple[str, str], list[str] | None] = {}
MAX_ROUTES = 20_000


# Response headers a kept page does not carry: set per response, or by the
# middleware outside this one, which runs again for a page served from here.
UNSTORED_HEADERS = {
    "content-length",
    "content-encoding",
    "content-security-policy",
    "content-security-policy-report-only",
    "vary",
    "x-page-cache",
}


class PageCacheMiddleware:
    """Place after LocaleMiddleware and CsrfViewMiddleware: the key needs the
    language, and a served page's CSRF cookie is set by the CSRF middleware
    on the way out. A page found here is answered at once, without the
    middleware after this one (authentication, messages, basket …), which
    have nothing to do for a visitor with no cookies; the headers they added
    to the kept page (X-Frame-Options) are kept with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pending = self._lookup(request)
        if isinstance(pending, HttpResponse):
            return pending
        response = self.get_response(request)
        if pending is not None and not response.has_header("X-Page-Cache"):
            body = _storable(request, response)
            if body is not None:
                key, versions = pending
                headers = {
                    name: value
                    for name, value in response.items()
                    if name.lower() not in UNSTORED_HEADERS
                }
                kept = (versions, body, headers, _compressed(body, response.charset))
                cache.set(key, kept, settings.WANGNONG_PAGE_CACHE_SECONDS)
                response["X-Page-Cache"] = "miss"
        return response

    def _lookup(self, request: HttpRequest) -> HttpResponse | tuple[str, tuple] | None:
        """The kept page as a response; else, when the response may be kept,
        its key and the versions it is made at; else None."""
        if not enabled() or request.method not in ("GET", "HEAD"):
            return None
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
            return None
        if not _stateless_visitor(request):
            return None
        version_keys = _route_version_keys(request)
        if version_keys is None:
            return None
        # One round trip: the page and the versions it must have been made at.
        key = _key(request)
        found = cache.get_many([key, *version_keys])
        current = cache_versions.fill_missing(version_keys, found)
        versions = tuple(current[k] for k in version_keys)
        cached = found.get(key)
        if cached is None or cached[0] != versions:
            return key, versions
        _versions, body, headers, compressed = cached
        values = _values(request, body)
        page = _personalise(body, values)
        response = HttpResponse(page)
        for name, value in headers.items():
            response[name] = value
        if compressed is not None and accepts_gzip(request):
            charset = response.charset
            gzipped = compressed.render(
                page.encode(charset), {k: v.encode(charset) for k, v in values.items()}
            )
            if gzipped is not None:
                response.content = gzipped
                response["Content-Encoding"] = "gzip"
                response["Content-Length"] = str(len(gzipped))
                patch_vary_headers(response, ("Accept-Encoding",))
        # Which page a visitor gets depends on their cookies (only visitors
        # without a session, basket or message are served from here).
        patch_vary_headers(response, ("Cookie",))
        response["X-Page-Cache"] = "hit"
        return response
