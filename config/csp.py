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
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.urls import reverse

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
