"""Oscar's checkout session mixin with per-request memory.

Oscar asks for the shipping address and the shipping method several times
in one request (pre-conditions, skip conditions, the context, the
submission): each time it reads the address book row, its country and its
division, and prices the basket again (a carrier rate lookup). Every
checkout view is built per request, so remembering the answers on the view
instance never outlives the request; the key includes what could change
within it (the address chosen in the session, the basket's lines and
quantities), so a change made during the request is priced again.

Oscar's class loader picks this module up for every checkout view
(``get_class("checkout.session", "CheckoutSessionMixin")``).
"""

from __future__ import annotations

from oscar.apps.checkout import session
from oscar.core.loading import get_class, get_model

Repository = get_class("shipping.repository", "Repository")
ShippingAddress = get_model("order", "ShippingAddress")
UserAddress = get_model("address", "UserAddress")


def basket_key(basket) -> tuple:
    """What a shipping quote depends on in the basket: its lines, their
    quantities and stock records (the lines are cached on the basket)."""
    if basket.id is None:
        return (None,)
    return (basket.id,) + tuple(
        (line.pk, line.quantity, line.stockrecord_id) for line in basket.all_lines()
    )


class CheckoutSessionMixin(session.CheckoutSessionMixin):
    def _memo(self) -> dict:
        return self.__dict__.setdefault("_checkout_memo", {})

    def _user_address(self, addr_id):
        """The address book row, with its country and division, once per
        request (None if it has gone)."""
        memo = self._memo()
        key = ("user-address", addr_id)
        if key not in memo:
            memo[key] = (
                UserAddress._default_manager.select_related("country", "division")
                .filter(pk=addr_id)
                .first()
            )
        return memo[key]

    def get_shipping_address(self, basket):
        """Oscar's, reading the address book row once per request. A fresh
        unsaved ``ShippingAddress`` every call, as in Oscar (placement saves
        the one it is given)."""
        if not basket.is_shipping_required():
            return None
        addr_data = self.checkout_session.new_shipping_address_fields()
        if addr_data:
            return ShippingAddress(**addr_data)
        addr_id = self.checkout_session.shipping_user_address_id()
        if addr_id:
            address = self._user_address(addr_id)
            if address is None:
                return None
            shipping_addr = ShippingAddress()
            address.populate_alternative_model(shipping_addr)
            return shipping_addr
        return None

    def shipping_methods_for(self, basket, shipping_address) -> list:
        """The repository's methods for this basket and address, priced once
        per request for the same lines and destination."""
        destination = None
        if shipping_address is not None:
            destination = (
                getattr(shipping_address, "division_id", None),
                getattr(shipping_address, "country_id", None),
                shipping_address.pk,
            )
        key = ("methods", basket_key(basket), shipping_address is None, destination)
        memo = self._memo()
        if key not in memo:
            memo[key] = Repository().get_shipping_methods(
                basket=basket,
                user=self.request.user,
                shipping_addr=shipping_address,
                request=self.request,
            )
        return memo[key]

    def get_shipping_method(self, basket, shipping_address=None, **kwargs):
        code = self.checkout_session.shipping_method_code(basket)
        for method in self.shipping_methods_for(basket, shipping_address):
            if method.code == code:
                return method
        return None
