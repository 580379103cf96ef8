"""The buyer's pages for an online payment started at the preview.

``/checkout/pay/<token>/`` shows how to pay (WeChat Pay's QR code, the card
form, or straight on to Alipay); ``return/`` is where Stripe sends the buyer
back and ``status/`` what the QR page polls (JSON) or its no-script button
opens; ``cancel/`` gives this payment up to pay another way. Each of them
only asks complete_payment to bring the payment up to date and shows the
outcome: the rules live in shop/payment/start_payment.py and
complete_payment.py. Only the session that started the payment, or the
signed-in buyer it belongs to, may see these pages.
"""

from __future__ import annotations

import datetime as dt
import logging

from django import http
from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from oscar.apps.checkout.utils import CheckoutSessionData
from oscar.core.loading import get_model

from shop.payment import complete_payment, ledger, methods, start_payment, stripe_client
from shop.payment.complete_payment import field
from shop.payment.models import StripePayment

logger = logging.getLogger("wangnong.payment")

Basket = get_model("basket", "Basket")

SESSION_KEY = "wangnong_payment_tokens"
REMEMBERED = 20
DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"
POLL_SECONDS = 2
# How long the poll leaves a waiting payment to the webhook before asking
# Stripe itself.
ASK_STRIPE_AFTER = 10


def remember(request, payment: StripePayment) -> None:
    """This session started ``payment``: it may see its pages."""
    tokens = [t for t in request.session.get(SESSION_KEY, []) if t != str(payment.token)]
    tokens.append(str(payment.token))
    request.session[SESSION_KEY] = tokens[-REMEMBERED:]


def payment_for(request, token) -> StripePayment:
    """The payment behind ``token`` if this session started it or it is
    the signed-in user's; 404 otherwise (the same answer as no payment)."""
    payment = get_object_or_404(StripePayment, token=token)
    if str(payment.token) in request.session.get(SESSION_KEY, []):
        return payment
    if request.user.is_authenticated and payment.user_id == request.user.pk:
        return payment
    raise http.Http404


def _urls(payment: StripePayment) -> dict:
    kwargs = {"token": payment.token}
    return {
        "pay_url": reverse("checkout:pay", kwargs=kwargs),
        "return_url": reverse("checkout:pay-return", kwargs=kwargs),
        "status_url": reverse("checkout:pay-status", kwargs=kwargs),
        "cancel_url": reverse("checkout:pay-cancel", kwargs=kwargs),
    }


def _context(payment: StripePayment, **extra) -> dict:
    method = methods.ONLINE_METHODS.get(payment.method)
    return {
        "payment": payment,
        "method": method,
        "amount": ledger.from_fen(payment.amount),
        "state": complete_payment.outcome(payment),
        "poll_seconds": POLL_SECONDS,
        **_urls(payment),
        **extra,
    }


def _restore_basket(request, payment: StripePayment) -> None:
    """Make the payment's (thawed) basket this request's basket again, with
    anything added meanwhile merged in, as Oscar's restore_frozen_basket
    does; for a guest the basket cookie is set to it again."""
    basket = Basket.objects.filter(pk=payment.basket_id, status=Basket.OPEN).first()
    if basket is None:
        return
    current = request.basket
    if current.id == basket.id:
        return
    if current.id:
        basket.merge(current)
    basket.strategy = request.strategy
    request.basket = basket
    if not request.user.is_authenticated:
        # The cookie names the basket made while this one was frozen: the
        # middleware sets it anew when the old one is deleted.
        request.cookies_to_delete.append(settings.OSCAR_BASKET_COOKIE_OPEN)


def _show(request, payment: StripePayment, *, error: str = ""):
    """The page for the payment's outcome."""
    state = complete_payment.outcome(payment)
    if state == "placed":
        request.session["checkout_order_id"] = payment.order_id
        CheckoutSessionData(request).flush()
        return redirect("checkout:thank-you")
    if state in ("refused", "failed"):
        # Thawed once refused or cancelled (not while a failed intent
        # could still be paid again).
        _restore_basket(request, payment)
    return render(
        request,
        "oscar/checkout/pay_result.html",
        _context(payment, error=error),
        status=200,
    )


def _refresh(payment: StripePayment):
    """complete() with the intent as Stripe has it now; on an outage the
    payment as we know it and a message."""
    try:
        payment, intent = complete_payment.refresh(payment)
    except stripe_client.StripeUnavailable as exc:
        return payment, None, str(exc)
    return payment, intent, ""


@never_cache
@require_GET
def pay(request, token):
    """How to pay: Alipay goes on to Alipay's page, WeChat Pay shows its QR
    code, a card gets the Stripe.js form (Stripe.js is loaded here only)."""
    payment = payment_for(request, token)
    if complete_payment.outcome(payment) != "waiting":
        return _show(request, payment)
    payment, intent, error = _refresh(payment)
    if intent is None or complete_payment.outcome(payment) != "waiting":
        return _show(request, payment, error=error)
    action = field(intent, "next_action") or {}
    if payment.method == "alipay":
        url = field(action, "redirect_to_url", "url")
        if url:
            return http.HttpResponseRedirect(url)
        return _show(request, payment)
    ctx = _context(payment)
    if payment.method == "wechat_pay":
        ctx["qr_image"] = field(action, "wechat_pay_display_qr_code", "image_data_url", default="")
        # Stripe's own page with the code and how to pay (opens on a phone
        # when the code is shown on a computer; the local simulator's page
        # lets a demo user "scan").
        ctx["instructions_url"] = field(
            action, "wechat_pay_display_qr_code", "hosted_instructions_url", default=""
        )
        if not ctx["qr_image"]:
            return _show(request, payment)
    elif payment.method == "card":
        if field(intent, "status") not in ("requires_payment_method", "requires_action"):
            return _show(request, payment)
        ctx.update(
            stripe_js_url=getattr(settings, "STRIPE_JS_URL", "") or DEFAULT_STRIPE_JS_URL,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            client_secret=field(intent, "client_secret", default=""),
            absolute_return_url=request.build_absolute_uri(ctx["return_url"]),
        )
    return render(request, "oscar/checkout/pay.html", ctx)


@never_cache
@require_GET
def pay_return(request, token):
    """Back from Alipay (or 3-D Secure, or the card form): complete the
    payment and show the result."""
    payment = payment_for(request, token)
    error = ""
    if complete_payment.outcome(payment) == "waiting":
        payment, _intent, error = _refresh(payment)
    return _show(request, payment, error=error)


@never_cache
@require_GET
def pay_status(request, token):
    """The poll: JSON for the QR page's script (``?format=json``), the
    result page for the no-script button."""
    payment = payment_for(request, token)
    error = ""
    polled = request.GET.get("format") == "json"
    # The script polls every POLL_SECONDS; the webhook normally brings the
    # news, so the poll asks Stripe itself only when the payment has not
    # changed for a while (a lost or late webhook). The button always asks.
    quiet = timezone.now() - payment.updated_at >= dt.timedelta(seconds=ASK_STRIPE_AFTER)
    if complete_payment.outcome(payment) == "waiting" and (quiet or not polled):
        payment, _intent, error = _refresh(payment)
    if polled:
        state = complete_payment.outcome(payment)
        return http.JsonResponse(
            {
                "state": state,
                "next": reverse("checkout:pay-return", kwargs={"token": payment.token})
                if state != "waiting"
                else None,
                "error": error,
            }
        )
    return _show(request, payment, error=error)


@never_cache
@require_POST
def pay_cancel(request, token):
    """Give this payment up (换一种付款方式 / 重新付款): cancel it at Stripe,
    thaw the basket, back to choosing how to pay (or to the preview)."""
    payment = payment_for(request, token)
    try:
        payment = start_payment.abandon(payment)
    except stripe_client.StripeUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("checkout:pay", token=payment.token)
    if payment.status != StripePayment.Status.CANCELED or payment.placement != "waiting":
        # Paid meanwhile: show what became of it.
        return _show(request, payment)
    _restore_basket(request, payment)
    CheckoutSessionData(request)._unset("submission", "order_number")
    if request.POST.get("next") == "preview":
        return redirect("checkout:preview")
    messages.info(request, _("这笔付款已取消，没有扣款。请重新选择付款方式。"))
    return redirect("checkout:payment-method")
