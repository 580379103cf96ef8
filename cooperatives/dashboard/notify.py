"""E-mail to a cooperative's applicant and managers when staff change its
status (Django's mail; printed to the console unless EMAIL_URL is set)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from cooperatives.models import Cooperative, Membership

logger = logging.getLogger(__name__)


def recipients(cooperative: Cooperative) -> list[str]:
    """The applicant's and every manager's e-mail address, once each."""
    addresses = []
    if cooperative.applied_by_id and cooperative.applied_by.email:
        addresses.append(cooperative.applied_by.email)
    managers = cooperative.memberships.filter(role=Membership.Role.MANAGER).select_related("user")
    addresses += [m.user.email for m in managers if m.user.email]
    return list(dict.fromkeys(addresses))


def status_changed(cooperative: Cooperative, request=None) -> int:
    """Tell the cooperative its new status (and the reason); returns the
    number of messages sent. A mail failure is logged, never raised: the
    status change has already been made."""
    to = recipients(cooperative)
    if not to:
        return 0
    path = reverse("cooperatives:apply")
    link = request.build_absolute_uri(path) if request is not None else path
    context = {"cooperative": cooperative, "link": link, "shop_name": settings.SITE_NAME}
    base = f"cooperatives/dashboard/email/{cooperative.status}"
    try:
        subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
        body = render_to_string(f"{base}_body.txt", context)
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except Exception:  # noqa: BLE001 - mail is best effort after the change
        logger.exception("Could not e-mail cooperative %s about its status", cooperative.pk)
        return 0
