"""Two-factor login for staff: TOTP codes (django-otp) from an authenticator app.

A staff user turns it on at /accounts/two-factor/ (QR code and secret, then
a current code to confirm) and off with their password and a current code.
Once a confirmed device exists, ``TwoFactorMiddleware`` sends every
authenticated request that is not yet verified to /accounts/two-factor/verify/
(only that page, logging out and static files are let through), whichever
login form was used: Oscar's, Wagtail's or the Django admin's. With
``WANGNONG_STAFF_REQUIRE_TOTP`` on, staff without a device are sent to set
one up first. Wrong codes count against ``WANGNONG_TOTP_MAX_FAILURES`` per
user per quarter hour (config/ratelimit.py), on top of django-otp's own
growing delay.
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import ratelimit
from config.documents import qr_svg

TOTP_WINDOW = 900
DEVICE_NAME = "authenticator"


def failure_limit() -> ratelimit.Limit:
    return ratelimit.Limit("totp", settings.WANGNONG_TOTP_MAX_FAILURES, TOTP_WINDOW)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def _device_cache_key(user_id) -> str:
    return f"two-factor:has-device:{user_id}"


def has_device(user) -> bool:
    """Whether ``user`` has a confirmed device. Only staff can have one (the
    setup page refuses others), so others cost nothing; for staff the answer
    is cached (no query on every request), looked up at login and cleared
    whenever a device is saved or deleted."""
    if not user.is_staff:
        return False
    key = _device_cache_key(user.pk)
    value = cache.get(key)
    if value is None:
        value = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        cache.set(key, value, timeout=3600)
    return bool(value)


@receiver(user_logged_in)
def _look_up_at_login(sender, request, user, **kwargs) -> None:
    has_device(user)


@receiver([post_save, post_delete], sender=TOTPDevice)
def _forget_device(sender, instance, **kwargs) -> None:
    cache.delete(_device_cache_key(instance.user_id))


def check_code(user, code: str) -> TOTPDevice | None:
    """The user's confirmed device if ``code`` is current; None otherwise.
    Raises RateLimited once too many wrong codes were typed."""
    limit = failure_limit()
    key = str(user.pk)
    if limit.is_limited(key):
        raise RateLimited(ratelimit.wait_message(limit.retry_after()))
    code = "".join(ch for ch in code if ch.isdigit())
    device = confirmed_device(user)
    if device is not None and code and device.verify_token(code):
        return device
    limit.hit(key)
    return None


class RateLimited(Exception):
    pass


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
        help_text=gettext_lazy("身份验证器应用里显示的 6 位数字"),
    )


class DisableForm(CodeForm):
    password = forms.CharField(label=gettext_lazy("登录密码"), widget=forms.PasswordInput)


def _exempt(path: str) -> bool:
    """Pages an unverified user may still open."""
    exact = {
        reverse("two-factor-verify"),
        reverse("two-factor-setup"),
        reverse("customer:logout"),
        reverse("wagtailadmin_logout"),
        reverse("admin:logout"),
        reverse("healthz"),
    }
    return path in exact or path.startswith(settings.STATIC_URL)


class TwoFactorMiddleware:
    """After ``django_otp.middleware.OTPMiddleware``: unverified users with a
    device may only verify (or log out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            target = self._target(request, user)
            if target is not None:
                return redirect(f"{reverse(target)}?next={quote(request.get_full_path())}")
        return self.get_response(request)

    def _target(self, request: HttpRequest, user) -> str | None:
        if _exempt(request.path):
            return None
        if has_device(user):
            return "two-factor-verify"
        if settings.WANGNONG_STAFF_REQUIRE_TOTP and user.is_staff:
            return "two-factor-setup"
        return None


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("customer:summary")


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified() or confirmed_device(request.user) is None:
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = check_code(request.user, form.cleaned_data["code"])
        except RateLimited as exc:
            form.add_error("code", str(exc))
            status = 429
        else:
            if device is not None:
                otp_login(request, device)
                failure_limit().reset(str(request.user.pk))
                return redirect(_next_url(request))
            form.add_error("code", _("验证码不对或已过期，请输入应用里当前显示的数字。"))
    return render(
        request,
        "security/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


SETUP_SESSION_KEY = "two_factor_setup_device"


def _setup_device(request: HttpRequest) -> TOTPDevice:
    """The device being set up in this session. Every new setup page gets a
    fresh secret (earlier unconfirmed ones are deleted), so a secret someone
    else saw in another session can never be the one confirmed; the form's
    POST confirms only the device this session was shown."""
    user = request.user
    if request.method == "POST":
        pk = request.session.get(SETUP_SESSION_KEY)
        device = TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first()
        if device is not None:
            return device
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    request.session[SETUP_SESSION_KEY] = device.pk
    return device


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Turn two-factor login on (staff only), or show that it is on."""
    user = request.user
    if not user.is_staff:
        messages.info(request, _("两步验证目前只面向平台工作人员。"))
        return redirect("customer:summary")
    if confirmed_device(user) is not None:
        if not user.is_verified():
            return redirect(reverse("two-factor-verify") + "?next=" + quote(request.path))
        return render(
            request, "security/two_factor_setup.html", {"enabled": True, "form": DisableForm()}
        )
    device = _setup_device(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = "".join(ch for ch in form.cleaned_data["code"] if ch.isdigit())
        limit = failure_limit()
        if limit.is_limited(str(user.pk)):
            form.add_error("code", ratelimit.wait_message(limit.retry_after()))
        elif code and device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("两步验证已开启。以后登录时需要输入验证码。"))
            return redirect(_next_url(request) if request.POST.get("next") else "two-factor-setup")
        else:
            limit.hit(str(user.pk))
            form.add_error("code", _("验证码不对，请确认手机时间准确后输入当前显示的数字。"))
    uri = device.config_url
    return render(
        request,
        "security/two_factor_setup.html",
        {
            "enabled": False,
            "form": form,
            "qr": qr_svg(uri),
            "secret": _secret_b32(device),
            "next": request.GET.get("next", ""),
        },
    )


def _secret_b32(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
def disable(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("two-factor-setup")
    user = request.user
    if confirmed_device(user) is None:
        return redirect("two-factor-setup")
    form = DisableForm(request.POST)
    status = 200
    if form.is_valid():
        if not user.check_password(form.cleaned_data["password"]):
            form.add_error("password", _("密码不对。"))
        else:
            try:
                device = check_code(user, form.cleaned_data["code"])
            except RateLimited as exc:
                form.add_error("code", str(exc))
                status = 429
            else:
                if device is None:
                    form.add_error("code", _("验证码不对或已过期，请输入应用里当前显示的数字。"))
                else:
                    TOTPDevice.objects.filter(user=user).delete()
                    messages.success(request, _("两步验证已关闭。"))
                    return redirect("two-factor-setup")
    return render(
        request,
        "security/two_factor_setup.html",
        {"enabled": True, "form": form},
        status=status,
    )


urlpatterns = [
    path("", setup, name="two-factor-setup"),
    path("verify/", verify, name="two-factor-verify"),
    path("disable/", disable, name="two-factor-disable"),
]
