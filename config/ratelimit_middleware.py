"""Rate limits on registration and password-reset requests.

Applied to POSTs by URL name, so Oscar's and Wagtail's own views need no
fork: registration (``customer:register``, and the registration half of
``customer:login``) per client address; password-reset requests
(``password-reset``, Wagtail's ``wagtailadmin_password_reset``) per address
and per e-mail address. Over the address limit the client sees a 429 page
saying when to try again. Over the e-mail limit the request is answered
exactly as a successful one (the "e-mail sent" page) but nothing is sent, so
the response never reveals whether an account has that address. Logins are
limited by django-axes (config/axes_handler.py).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render

from config import ratelimit

REGISTER_VIEWS = {"customer:register"}
PASSWORD_RESET_VIEWS = {
    "password-reset": "password-reset-done",
    "wagtailadmin_password_reset": "wagtailadmin_password_reset_done",
}


def registration_limit() -> ratelimit.Limit:
    return ratelimit.Limit(
        "register-ip",
        settings.WANGNONG_REGISTER_LIMIT_PER_IP,
        settings.WANGNONG_RATELIMIT_WINDOW,
    )


def reset_ip_limit() -> ratelimit.Limit:
    return ratelimit.Limit(
        "reset-ip",
        settings.WANGNONG_PASSWORD_RESET_LIMIT_PER_IP,
        settings.WANGNONG_RATELIMIT_WINDOW,
    )


def reset_email_limit() -> ratelimit.Limit:
    return ratelimit.Limit(
        "reset-email",
        settings.WANGNONG_PASSWORD_RESET_LIMIT_PER_EMAIL,
        settings.WANGNONG_RATELIMIT_WINDOW,
    )


def too_many(request, limit: ratelimit.Limit):
    seconds = limit.retry_after()
    response = render(
        request,
        "security/ratelimited.html",
        {"message": ratelimit.wait_message(seconds)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match is None:
            return None
        name = request.resolver_match.view_name
        ip = ratelimit.client_ip(request)
        registering = name in REGISTER_VIEWS or (
            name == "customer:login" and "registration_submit" in request.POST
        )
        if registering:
            limit = registration_limit()
            if not limit.hit(ip):
                return too_many(request, limit)
        elif name in PASSWORD_RESET_VIEWS:
            limit = reset_ip_limit()
            if not limit.hit(ip):
                return too_many(request, limit)
            email = request.POST.get("email", "").strip().lower()
            if email and not reset_email_limit().hit(email):
                return redirect(PASSWORD_RESET_VIEWS[name])
        return None
