"""Deleting an account at its owner's request (删除账户), and anonymising an
order's delivery details (also used by the retention task).

What goes and what stays:

* The account itself stays as an empty shell so that orders keep their
  buyer reference: username ``deleted-<random>``, no e-mail, no name, no
  usable password, inactive. Every session dies with the password hash.
* Deleted: the address book, baskets, wishlists, product alerts, e-mails
  and notifications, browsing and search history, review votes, lesson
  progress and quiz attempts, complaint photos (rows and files), two-factor
  devices, login-attempt logs under the account's names.
* Anonymised: orders' shipping and billing addresses (name → 已注销用户,
  phone, detail line, post code and notes blank; province … town and the
  division stay for statistics), the shipments' recipient copies, the
  online-payment checkout snapshots, the resident record of a station's
  resident, certificates' names, invitations' contact fields, reviews'
  author (the score and text stay: they describe the product; the review
  is no longer linked to the person), the buyer's own complaint
  descriptions and event texts (the cooperative's and staff's answers stay:
  they are the record of how the complaint was handled), listing reports'
  reporter and contact (the report itself stays with the listing).
* Kept as they are: orders, lines, totals, payment sources and events,
  refunds and every ledger entry — bookkeeping records the law requires.
  The access log about the person stays (it records who looked, not them).

Refused, with nothing changed, while anything is in flight: an order or
line not delivered, cancelled or refunded, an open complaint, a parcel on
its way to or waiting at a station, an online payment not yet settled.
Staff, cooperative members and station staff are refused too: their
accounts are work accounts, closed by the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from privacy.export import optional_model
from privacy.models import DeletionRecord

ANONYMOUS_NAME = "已注销用户"
REMOVED_TEXT = "（已随账户删除）"

FINAL_STATUSES = ("delivered", "cancelled", "refunded")


class ErasureRefused(Exception):
    """Deletion is not possible now; ``str(exc)`` says why, in words."""


@dataclass
class Blockers:
    orders: list[str] = field(default_factory=list)
    work_account: bool = False

    def __bool__(self) -> bool:
        return bool(self.orders) or self.work_account

    def message(self) -> str:
        if self.work_account:
            return _("工作人员、合作社成员和服务站工作人员的账户请联系平台注销。")
        return _("您有尚未完成的订单（%(orders)s），请在收货完成后再申请删除。") % {
            "orders": "、".join(self.orders)
        }


def user_hash(user_id: int) -> str:
    """A keyed one-way hash of a user id (HMAC-SHA256 with the secret key)."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"user:{user_id}".encode(), hashlib.sha256
    ).hexdigest()


def blockers(user) -> Blockers:
    """What stops ``user``'s account from being deleted now."""
    from cooperatives.models import Complaint, Membership
    from shop.payment.models import Refund, StripePayment
    from stations.models import Parcel, StationStaff

    Order = get_model("order", "Order")
    Line = get_model("order", "Line")
    found = Blockers()
    found.work_account = (
        user.is_staff
        or user.is_superuser
        or Membership.objects.filter(user=user).exists()
        or StationStaff.objects.filter(user=user).exists()
    )
    numbers: set[str] = set()
    numbers.update(
        Order.objects.filter(user=user)
        .exclude(status__in=FINAL_STATUSES)
        .values_list("number", flat=True)
    )
    numbers.update(
        Line.objects.filter(order__user=user)
        .exclude(status__in=FINAL_STATUSES)
        .values_list("order__number", flat=True)
    )
    numbers.update(
        # Waiting for the cooperative or for staff; an answered complaint
        # (a reply, a replacement) needs nothing more from the buyer.
        Complaint.objects.filter(buyer=user)
        .filter(status__in=(Complaint.Status.OPEN, Complaint.Status.ESCALATED))
        .values_list("order__number", flat=True)
    )
    numbers.update(
        Parcel.objects.filter(station_order__order__user=user)
        .filter(status__in=(Parcel.Status.IN_TRANSIT, Parcel.Status.ARRIVED))
        .values_list("station_order__order__number", flat=True)
    )
    numbers.update(
        StripePayment.objects.filter(user=user, placement=StripePayment.Placement.WAITING)
        .exclude(status__in=(StripePayment.Status.FAILED, StripePayment.Status.CANCELED))
        .exclude(status=StripePayment.Status.CREATED)
        .values_list("order_number", flat=True)
    )
    # A Stripe refund asked for and not final yet: if it fails, staff must
    # still be able to reach the buyer.
    numbers.update(
        Refund.objects.filter(order__user=user, status=Refund.Status.PENDING).values_list(
            "order__number", flat=True
        )
    )
    found.orders = sorted(numbers)
    return found


def _blank_address(fields: dict) -> dict:
    """A JSON address snapshot (start_payment.address_fields) without the
    person: name, phone, detail line, post code and notes."""
    if not fields:
        return fields
    cleaned = dict(fields)
    for key in ("title", "first_name", "phone_number", "line1", "postcode", "notes", "search_text"):
        if key in cleaned:
            cleaned[key] = ""
    if "last_name" in cleaned:
        cleaned["last_name"] = ANONYMOUS_NAME
    return cleaned


def anonymise_order_delivery(order_ids: list[int]) -> dict[str, int]:
    """Remove the person from the delivery details of these orders: their
    shipping and billing addresses, the shipments' recipient copies and the
    online checkout snapshots. Province … town and the division stay.
    Idempotent; a constant number of queries per call."""
    from logistics.models import Shipment
    from shop.payment.models import StripePayment

    Order = get_model("order", "Order")
    ShippingAddress = get_model("order", "ShippingAddress")
    BillingAddress = get_model("order", "BillingAddress")
    if not order_ids:
        return {"orders": 0, "shipments": 0}
    orders = Order.objects.filter(pk__in=order_ids)
    address_ids = [a for a in orders.values_list("shipping_address_id", flat=True) if a]
    billing_ids = [a for a in orders.values_list("billing_address_id", flat=True) if a]
    blank = {
        "title": "",
        "first_name": "",
        "last_name": ANONYMOUS_NAME,
        "line1": "",
        "postcode": "",
        "search_text": "",
    }
    ShippingAddress.objects.filter(pk__in=address_ids).update(phone_number="", notes="", **blank)
    BillingAddress.objects.filter(pk__in=billing_ids).update(**blank)
    orders.exclude(guest_email="").update(guest_email="")
    # Shipments carry a copy of the recipient; a consolidated one (order
    # empty) goes to the station and names the station, not a person.
    regions = {
        a.pk: a.region_text
        for a in ShippingAddress.objects.filter(pk__in=address_ids).only(
            "state", "line4", "line3", "line2"
        )
    }
    shipments = 0
    by_region: dict[str, list[int]] = {}
    for order_id, address_id in orders.values_list("pk", "shipping_address_id"):
        by_region.setdefault(regions.get(address_id, ""), []).append(order_id)
    for region, ids in by_region.items():
        shipments += Shipment.objects.filter(order_id__in=ids).update(
            recipient_name=ANONYMOUS_NAME, recipient_phone="", recipient_address=region
        )
    payments = list(StripePayment.objects.filter(order_id__in=order_ids).exclude(checkout={}))
    for payment in payments:
        checkout = dict(payment.checkout)
        checkout["shipping_address"] = _blank_address(checkout.get("shipping_address"))
        checkout["billing_address"] = _blank_address(checkout.get("billing_address"))
        if checkout.get("guest_email"):
            checkout["guest_email"] = ""
        payment.checkout = checkout
    if payments:
        StripePayment.objects.bulk_update(payments, ["checkout"])
    return {"orders": len(order_ids), "shipments": shipments}


def erase(user) -> DeletionRecord:
    """Delete ``user``'s personal data as described above, in one
    transaction. Raises ErasureRefused (nothing changed) while blocked."""
    from cms.models import Certificate, LessonProgress, QuizAttempt
    from cooperatives.models import Complaint, ComplaintEvent, ComplaintPhoto, Invitation
    from shop.payment.models import StripePayment
    from stations.models import Resident

    User = get_user_model()
    Order = get_model("order", "Order")
    counts: dict[str, int] = {}
    photo_files: list = []
    with transaction.atomic():
        user = User._default_manager.select_for_update().get(pk=user.pk)
        found = blockers(user)
        if found:
            raise ErasureRefused(found.message())

        def deleted(name: str, qs) -> None:
            counts[name] = qs.delete()[0]

        deleted("addresses", get_model("address", "UserAddress").objects.filter(user=user))
        deleted("baskets", get_model("basket", "Basket")._default_manager.filter(owner=user))
        deleted("wishlists", get_model("wishlists", "WishList").objects.filter(owner=user))
        deleted("product_alerts", get_model("customer", "ProductAlert").objects.filter(user=user))
        deleted("emails", get_model("communication", "Email").objects.filter(user=user))
        Notification = get_model("communication", "Notification")
        deleted("notifications", Notification.objects.filter(recipient=user))
        Notification.objects.filter(sender=user).update(sender=None)
        deleted("review_votes", get_model("reviews", "Vote").objects.filter(user=user))
        for label in ("UserRecord", "UserProductView", "UserSearch"):
            deleted(f"analytics_{label}", get_model("analytics", label).objects.filter(user=user))
        deleted("lesson_progress", LessonProgress.objects.filter(user=user))
        deleted("quiz_attempts", QuizAttempt.objects.filter(user=user))

        counts["reviews"] = (
            get_model("reviews", "ProductReview")
            .objects.filter(user=user)
            .update(user=None, name=ANONYMOUS_NAME, email="", homepage="")
        )
        counts["certificates"] = Certificate.objects.filter(user=user).update(name=ANONYMOUS_NAME)
        Invitation.objects.filter(accepted_by=user).update(phone="", email="")

        complaints = Complaint.objects.filter(buyer=user)
        photos = ComplaintPhoto.objects.filter(complaint__in=complaints)
        photo_files = [p.image for p in photos if p.image]
        deleted("complaint_photos", photos)
        counts["complaints"] = complaints.update(description=REMOVED_TEXT)
        ComplaintEvent.objects.filter(
            complaint__buyer=user, actor=ComplaintEvent.Actor.BUYER
        ).exclude(text="").update(text=REMOVED_TEXT)

        order_ids = list(Order.objects.filter(user=user).values_list("pk", flat=True))
        done = anonymise_order_delivery(order_ids)
        counts["orders_anonymised"] = done["orders"]
        counts["shipments_anonymised"] = done["shipments"]
        # Checkouts that never became orders still hold the address typed.
        for payment in StripePayment.objects.filter(user=user, order__isnull=True):
            payment.checkout = {
                **payment.checkout,
                "shipping_address": _blank_address(payment.checkout.get("shipping_address")),
                "billing_address": _blank_address(payment.checkout.get("billing_address")),
                "guest_email": "",
            }
            payment.save(update_fields=["checkout"])

        # Models of apps that may be absent in some set-ups.
        Report = optional_model("cooperatives.ListingReport")
        if Report is not None:
            counts["listing_reports"] = Report.objects.filter(reporter=user).update(
                reporter=None, contact="", session_key="", ip_hash=""
            )
        Device = optional_model("otp_totp.TOTPDevice")
        if Device is not None:
            deleted("two_factor_devices", Device.objects.filter(user=user))
        names = [n for n in (user.get_username(), user.email) if n]
        for label in ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"):
            Log = optional_model(label)
            if Log is not None and names:
                deleted(label.replace(".", "_"), Log.objects.filter(username__in=names))

        counts["resident"] = Resident.objects.filter(user=user).update(
            name=ANONYMOUS_NAME, phone="", address_detail=""
        )

        user.username = f"deleted-{secrets.token_hex(8)}"
        user.email = ""
        user.first_name = ""
        user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        record = DeletionRecord.objects.create(user_hash=user_hash(user.pk), counts=counts)

        def remove_files() -> None:
            for image in photo_files:
                try:
                    image.storage.delete(image.name)
                except OSError:
                    pass

        transaction.on_commit(remove_files)
    return record
