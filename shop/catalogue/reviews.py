"""Product reviews on the product page (Oscar's reviews app).

Only signed-in buyers who received the product may review it
(``OSCAR_ALLOW_ANON_REVIEWS = False``), once each; staff approve reviews in
Oscar's dashboard (``OSCAR_MODERATE_REVIEWS = True``, /dashboard/reviews/)
before they show. The page shows the latest approved reviews in one query,
each author as a masked name, never an e-mail address.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from privacy.masking import mask_name

PAGE_REVIEWS = 10
DELIVERED = "delivered"  # cooperatives.fulfilment.DELIVERED


def received(user, product) -> bool:
    """Has ``user`` an order line for ``product`` (or one of its variants)
    that was delivered?"""
    if not getattr(user, "is_authenticated", False):
        return False
    Line = get_model("order", "Line")
    return Line.objects.filter(
        Q(product=product) | Q(product__parent=product),
        order__user=user,
        status=DELIVERED,
    ).exists()


def may_review(user, product) -> bool:
    """Signed in, received the product, has not reviewed it yet."""
    if not getattr(user, "is_authenticated", False):
        return False
    return received(user, product) and not product.has_review_by(user)


def author_name(review) -> str:
    """A review's author as shown: masked name (or masked user name)."""
    user = review.user
    if user is None:
        return mask_name(review.name) or _("匿名用户")
    full = f"{user.last_name or ''}{user.first_name or ''}".strip()  # 姓 then 名
    if full:
        return mask_name(full)
    username = (user.get_username() or "").split("@")[0]
    return mask_name(username) or _("匿名用户")


def latest_approved(product, limit: int = PAGE_REVIEWS) -> tuple[list, bool]:
    """The latest ``limit`` approved reviews with their display names, and
    whether there are more: one query."""
    rows = list(
        product.reviews.approved().select_related("user").order_by("-date_created")[: limit + 1]
    )
    for review in rows:
        review.display_name = author_name(review)
    return rows[:limit], len(rows) > limit
