"""Checkout: Oscar's flow with a payment-method step, cash on delivery, and
order placement that refuses cleanly when stock runs out."""

import logging
from decimal import Decimal, InvalidOperation

from django import http
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import generic
from oscar.apps.checkout import views as oscar_views
from oscar.apps.checkout.exceptions import FailedPreCondition

from config import messaging
from logistics import shipments as logistics_shipments
from logistics.planning import plan_basket
from shop.checkout import pay_views
from shop.checkout.forms import PaymentMethodForm
from shop.order import tasks as order_tasks
from shop.partner.exceptions import InsufficientStock
from shop.payment import accounting, methods, start_payment
from shop.payment.cash import cod_source
from shop.shipping.repository import address_division, plan_of

logger = logging.getLogger("oscar.checkout")


def parse_amount(value) -> Decimal | None:
    """An amount the page sent back ("181.00"), or None if absent or garbled."""
    try:
        amount = Decimal(str(value or "").strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


class IndexView(oscar_views.IndexView):
    """Oscar's gateway, whose "existing customer" option checks a password:
    the form gets the request, so django-axes counts and locks it like every
    other login form (without a request the lockout never sees it)."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs


class PaymentMethodMixin:
    def get_payment_method(self):
        return methods.get_method(self.checkout_session._get("payment", "method"))

    def check_payment_data_is_captured(self, request):
        if self.get_payment_method() is None:
            raise FailedPreCondition(
                url=reverse("checkout:payment-method"),
                message=_("请选择付款方式。"),
            )


class ShippingMethodView(oscar_views.ShippingMethodView):
    """Delivery is priced per shipment (shop/shipping/repository.py), so
    there is one method when the basket can be shipped to the address. When
    it cannot, say exactly why — which goods, which place — before payment,
    instead of Oscar's generic "shipping is unavailable"."""

    def get(self, request, *args, **kwargs):
        if (
            request.basket.is_shipping_required()
            and self.checkout_session.is_shipping_address_set()
        ):
            self._methods = self.get_available_shipping_methods()
            if not self._methods:
                address = self.get_shipping_address(request.basket)
                plan = plan_basket(request.basket, address_division(address))
                return self.render_to_response(
                    self.get_context_data(problems=plan.problems, methods=[])
                )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("methods", getattr(self, "_methods", []))
        return super().get_context_data(**kwargs)

    def get_available_shipping_methods(self):
        basket = self.request.basket
        return self.shipping_methods_for(basket, self.get_shipping_address(basket))


class PaymentMethodView(PaymentMethodMixin, oscar_views.PaymentMethodView, generic.FormView):
    """Choose how to pay. Shown even with one method so the buyer sees it."""

    template_name = "oscar/checkout/payment_method.html"
    form_class = PaymentMethodForm

    def get(self, request, *args, **kwargs):
        return generic.FormView.get(self, request, *args, **kwargs)

    def get_initial(self):
        method = self.get_payment_method()
        return {"method": method.code if method else methods.CASH_ON_DELIVERY}

    def form_valid(self, form):
        self.checkout_session._set("payment", "method", form.cleaned_data["method"])
        return redirect("checkout:preview")


class PaymentDetailsView(PaymentMethodMixin, oscar_views.PaymentDetailsView):
    def get(self, request, *args, **kwargs):
        if not self.preview:
            # No details to collect for cash on delivery: straight to review.
            return redirect("checkout:preview")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["payment_method"] = self.get_payment_method()
        ctx["shipping_plan"] = plan_of(ctx.get("shipping_method"))
        return ctx

    def handle_place_order_submission(self, request):
        """Place the order only for the total the buyer was shown: if it
        changed since the preview (a carrier's rates, a price), show the
        preview again with the new total instead of charging it unseen."""
        submission = self.build_submission()
        shown = parse_amount(request.POST.get("shown_total"))
        total = submission["order_total"].incl_tax
        if shown is not None and shown != total:
            messages.warning(
                request,
                _("应付总额已按最新价格和运费变为 ¥%(new)s（刚才显示 ¥%(old)s），请确认后再提交。")
                % {"new": total, "old": shown},
            )
            return http.HttpResponseRedirect(reverse("checkout:preview"))
        method = self.get_payment_method()
        if method is not None and method.is_online:
            return self.start_online_payment(method, submission)
        return self.submit(**submission)

    def start_online_payment(self, method, submission):
        """Online methods do not place the order here: the basket is frozen,
        the order number reserved and a Stripe PaymentIntent created; the
        order is placed when Stripe has the money (shop/payment/
        complete_payment.py). Stripe unreachable: the preview again, with
        the basket as it was."""
        request = self.request
        basket = submission["basket"]
        try:
            payment = start_payment.start(
                basket=basket,
                user=request.user,
                method=method,
                submission=submission,
                guest_email=submission["order_kwargs"].get("guest_email") or "",
                return_url=lambda token: request.build_absolute_uri(
                    reverse("checkout:pay-return", kwargs={"token": token})
                ),
            )
        except start_payment.PaymentNotStarted as exc:
            return self.render_preview(request, error=str(exc))
        self.checkout_session.set_order_number(payment.order_number)
        self.checkout_session.set_submitted_basket(basket)
        pay_views.remember(request, payment)
        return http.HttpResponseRedirect(reverse("checkout:pay", kwargs={"token": payment.token}))

    def handle_payment(self, order_number, total, **kwargs):
        method = self.get_payment_method()
        if method is None or method.code != methods.CASH_ON_DELIVERY:
            from oscar.apps.payment.exceptions import UnableToTakePayment

            raise UnableToTakePayment(_("请选择付款方式。"))
        self.add_payment_source(cod_source(total.incl_tax, total.currency))

    def handle_order_placement(
        self,
        order_number,
        user,
        basket,
        shipping_address,
        shipping_method,
        shipping_charge,
        billing_address,
        order_total,
        **kwargs,
    ):
        """Place the order in one transaction; a stock shortage undoes it all
        and sends the buyer back to the basket with everything still in it."""
        try:
            with transaction.atomic():
                # By keyword: place_order takes order_total before
                # billing_address, the reverse of this method's order.
                order = self.place_order(
                    order_number=order_number,
                    user=user,
                    basket=basket,
                    shipping_address=shipping_address,
                    shipping_method=shipping_method,
                    shipping_charge=shipping_charge,
                    order_total=order_total,
                    billing_address=billing_address,
                    **kwargs,
                )
                # The shipments and their hand-off outbox rows commit with
                # the order, or not at all.
                logistics_shipments.create_for_order(order)
                # The sale's ledger entry commits with the order, or not at all.
                accounting.record_sale(order, by=order.user)
                basket.submit()
        except InsufficientStock as exc:
            self.restore_frozen_basket()
            messages.error(self.request, str(exc))
            return http.HttpResponseRedirect(reverse("basket:summary"))
        except logistics_shipments.Unshippable as exc:
            self.restore_frozen_basket()
            for message in exc.messages:
                messages.error(self.request, message)
            return http.HttpResponseRedirect(reverse("checkout:shipping-method"))
        return self.handle_successful_order(order)

    def send_order_placed_email(self, order):
        """The order is committed by now. The confirmation is a task
        (shop/order/tasks.py): rendering and sending it stays out of the
        request when there is a broker. If it cannot be sent (mail server
        down), it is logged: letting the error through makes Oscar show a
        failed checkout and re-open the submitted basket, and the buyer
        orders twice."""
        messaging.after_commit(order_tasks.send_placed_email, order.pk, translation.get_language())
