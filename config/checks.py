"""Deployment checks Django's own do not make (run by `manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def development_secret_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The embedded set-up's fallback key is long enough to pass Django's
    W009, so it is refused here by name."""
    if settings.SECRET_KEY == getattr(settings, "INSECURE_DEV_KEY", None):
        return [
            checks.Warning(
                "SECRET_KEY is the development fallback key.",
                hint="Set DJANGO_SECRET_KEY to a long random value (see .env.example).",
                id="wangnong.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def content_security_policy(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Scripts must not be allowed inline (the nonce is the exception)."""
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    script_src = [str(s) for s in policy.get("DIRECTIVES", {}).get("script-src", [])]
    if not script_src or "'unsafe-inline'" in script_src:
        return [
            checks.Warning(
                "CONTENT_SECURITY_POLICY allows inline scripts or sets no script-src.",
                id="wangnong.W002",
            )
        ]
    return []
