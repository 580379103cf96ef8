"""Context processors that replace eager ones from Oscar."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from oscar.core.loading import get_model


def notifications(request: HttpRequest) -> dict:
    """Oscar's ``num_unread_notifications`` (its account menu shows it),
    counted only when a template reads it rather than on every page a
    signed-in user sees."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    Notification = get_model("communication", "Notification")

    def count() -> int:
        return Notification.objects.filter(recipient=user, date_read=None).count()

    return {"num_unread_notifications": SimpleLazyObject(count)}
