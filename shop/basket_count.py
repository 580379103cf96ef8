"""How many items the header's basket link shows, without loading the basket.

Oscar's basket middleware loads the whole basket the first time anything
touches ``request.basket``: the basket, its lines with their products and
stock, its vouchers and the site's offers (six or seven queries). The header
only needs the number of items, on every page, so unless the page has loaded
the basket anyway (basket, product and checkout pages) it is one SUM over the
open basket's lines: the signed-in buyer's, or the one the signed basket
cookie names, as Oscar's middleware would find them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.db.models import Sum
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty
from oscar.core.loading import get_model


def basket_item_count(request: HttpRequest) -> int:
    basket = getattr(request, "basket", None)
    if basket is None:
        return 0
    if not (isinstance(basket, SimpleLazyObject) and basket._wrapped is empty):
        return basket.num_items  # loaded already: no query
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    cookie = request.COOKIES.get(settings.OSCAR_BASKET_COOKIE_OPEN)
    if signed_in and cookie:
        # Oscar merges the cookie basket into the buyer's on loading it.
        return basket.num_items
    Basket = get_model("basket", "Basket")
    Line = get_model("basket", "Line")
    lines = Line.objects.filter(basket__status=Basket.OPEN)
    if signed_in:
        lines = lines.filter(basket__owner=user)
    elif cookie:
        try:
            basket_id = int(Signer().unsign(cookie))
        except (BadSignature, ValueError):
            return 0
        lines = lines.filter(basket_id=basket_id, basket__owner=None)
    else:
        return 0
    return lines.aggregate(n=Sum("quantity"))["n"] or 0
