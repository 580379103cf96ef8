"""Content-Security-Policy: django-csp's middleware with per-request parts.

* Stripe: the origin of ``STRIPE_JS_URL`` may serve scripts and frames (the
  card form), and the origin of ``STRIPE_API_BASE`` (the local simulator in
  development and tests; unset in production, where Stripe's own hosts in
  settings apply) may receive the Alipay redirect that follows a form post.
  They are read per request so they follow the settings in force.
* Wagtail's admin renders some widgets (date choosers, inline panels) with
  inline ``<script>`` elements from form-widget templates that have no
  request and so no nonce. Under the Wagtail admin's path prefix only,
  script-src is ``'self' 'unsafe-inline'`` (without a nonce, which would make
  browsers ignore 'unsafe-inline'). The admin is behind a staff login (and
  two-factor where enabled); every other page, Oscar's dashboard included,
  keeps the strict policy of settings.CONTENT_SECURITY_POLICY.

Without a nonce the header depends only on those parts, so it is built once
for each combination and kept (django-csp builds it afresh for every
response, a fifth of the cost of a page served from the page cache).
"""

from __future__ import annotations

from csp.constants import HEADER, HEADER_REPORT_ONLY, SELF, UNSAFE_INLINE
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.urls import reverse

# Attributes django-csp's decorators set on a response to change its policy.
RESPONSE_POLICY_ATTRS = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
_built: dict[tuple, dict[str, str]] = {}

_admin_prefix: str | None = None


def wagtail_admin_prefix() -> str:
    global _admin_prefix
    if _admin_prefix is None:
        _admin_prefix = reverse("wagtailadmin_home")
    return _admin_prefix


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, else None."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    return "/".join(url.split("/")[:3])


def stripe_sources() -> dict[str, list[str]]:
    extra: dict[str, list[str]] = {}
    js = origin(getattr(settings, "STRIPE_JS_URL", ""))
    if js:
        extra["script-src"] = [js]
        extra["frame-src"] = [js]
    api = origin(getattr(settings, "STRIPE_API_BASE", ""))
    if api:
        extra["form-action"] = [api]
        extra.setdefault("frame-src", []).append(api)
    return extra


class WangnongCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        update = {key: list(value) for key, value in (parts.update or {}).items()}
        for key, sources in stripe_sources().items():
            update.setdefault(key, []).extend(sources)
        parts.update = update
        if request.path.startswith(wagtail_admin_prefix()):
            replace = dict(parts.replace or {})
            replace["script-src"] = [SELF, UNSAFE_INLINE]
            parts.replace = replace
            parts.nonce = None
        return parts

    def process_response(self, request, response):
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, attr) for attr in RESPONSE_POLICY_ATTRS)
            or _excludes_paths()
            or settings.DEBUG
        ):
            return super().process_response(request, response)
        key = (
            request.path.startswith(wagtail_admin_prefix()),
            getattr(settings, "STRIPE_JS_URL", ""),
            getattr(settings, "STRIPE_API_BASE", ""),
        )
        headers = _built.get(key)
        if headers is None:
            probe = super().process_response(request, HttpResponse())
            headers = _built[key] = {
                name: probe[name] for name in (HEADER, HEADER_REPORT_ONLY) if name in probe
            }
        else:
            # What django-csp does once the header is written: a later use
            # of the nonce raises instead of going unnoticed.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        for name, value in headers.items():
            if name not in response:
                response[name] = value
        return response


def _excludes_paths() -> bool:
    return any(
        (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    )


def _forget_built(**kwargs) -> None:
    _built.clear()


setting_changed.connect(_forget_built, dispatch_uid="wangnong_csp_forget_built")
