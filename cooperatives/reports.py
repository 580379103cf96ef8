"""Reports of listings (举报) and what platform staff decide about them.

Anyone may report a top-level product that is on sale (the same products a
shopper can open; anything else is a 404 before this module is asked):
a kind, a reason and, optionally, how to reach them. A signed-in person, or
an anonymous session, has at most one open report per product. For an
anonymous report only a keyed hash of the address is stored, and the
address may file at most ``WANGNONG_REPORT_IP_LIMIT`` reports per
``WANGNONG_REPORT_IP_WINDOW_SECONDS`` (counted in the cache).

Staff decide per product (/dashboard/reports/): dismiss, withdraw the
listing (平台下架: the product and its variants leave the shop at once and
the cooperative cannot publish it again until staff restore it), or
suspend the cooperative (cooperatives.services.suspend, which also handles
its pending orders). Every decision closes the product's open reports with
the note, and tells reporters who left an e-mail address and the
cooperative's managers (config.messaging.email_later, after commit).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from config.messaging import email_later
from cooperatives import services
from cooperatives.models import Cooperative, ListingReport, ListingWithdrawal, Membership
from shop.catalogue.listing import selling_filter

Product = get_model("catalogue", "Product")
Status = ListingReport.Status

REASON_MAX = 1000
CONTACT_MAX = 100


# --- Settings -------------------------------------------------------------------------


def ip_limit() -> int:
    return int(getattr(settings, "WANGNONG_REPORT_IP_LIMIT", 10))


def ip_window() -> int:
    return int(getattr(settings, "WANGNONG_REPORT_IP_WINDOW_SECONDS", 3600))


def hash_ip(ip: str) -> str:
    """A keyed hash of the address: the same address gives the same value,
    the value does not give the address back."""
    if not ip:
        return ""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"listing-report:{ip}".encode(), hashlib.sha256).hexdigest()


def _ip_key(ip_hash: str) -> str:
    return f"listing-report:ip:{ip_hash}"


# --- Which products ---------------------------------------------------------------------


def reportable_products() -> QuerySet:
    """Products one may report: what a shopper can open (top-level, public,
    from a selling cooperative)."""
    return Product.objects.browsable().filter(selling_filter())


def cooperative_of(product) -> Cooperative | None:
    """The cooperative whose stock the product (or its variants) is."""
    return (
        Cooperative.objects.filter(
            Q(partner__stockrecords__product=product)
            | Q(partner__stockrecords__product__parent=product)
        )
        .order_by("pk")
        .first()
    )


# --- Filing -----------------------------------------------------------------------------


def file_report(
    product,
    *,
    user=None,
    session_key: str = "",
    ip: str = "",
    kind: str,
    reason: str,
    contact: str = "",
    now: datetime | None = None,
) -> ListingReport:
    """Record a report; ValidationError (keyed by field where it can) and
    nothing recorded when it cannot be."""
    now = now or timezone.now()
    signed_in = bool(user is not None and getattr(user, "is_authenticated", False))
    errors: dict[str, list[str]] = {}
    if kind not in ListingReport.Kind.values:
        errors["kind"] = [_("请选择举报类型。")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请写明举报理由。")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("举报理由不能超过 %(n)s 字。") % {"n": REASON_MAX}]
    contact = (contact or "").strip()
    if len(contact) > CONTACT_MAX:
        errors["contact"] = [_("联系方式不能超过 %(n)s 字。") % {"n": CONTACT_MAX}]
    if errors:
        raise ValidationError(errors)
    open_reports = ListingReport.objects.filter(product=product, status=Status.OPEN)
    if signed_in:
        duplicate = open_reports.filter(reporter=user).exists()
    else:
        duplicate = (
            bool(session_key)
            and open_reports.filter(reporter__isnull=True, session_key=session_key).exists()
        )
    if duplicate:
        raise ValidationError(_duplicate_message(), code="duplicate")
    ip_hash = ""
    if not signed_in:
        ip_hash = hash_ip(ip)
        if ip_hash and (cache.get(_ip_key(ip_hash)) or 0) >= ip_limit():
            raise ValidationError(
                _(
                    "这个网络的举报次数已达上限（每 %(minutes)s 分钟 %(n)s 次），请稍后再试；"
                    "登录后举报不受此限制。"
                )
                % {"minutes": ip_window() // 60, "n": ip_limit()},
                code="rate_limited",
            )
    try:
        with transaction.atomic():
            report = ListingReport.objects.create(
                product=product,
                reporter=user if signed_in else None,
                session_key="" if signed_in else session_key,
                ip_hash=ip_hash,
                contact=contact,
                kind=kind,
                reason=reason,
                created_at=now,
            )
    except IntegrityError as exc:  # the same person, twice at once
        raise ValidationError(_duplicate_message(), code="duplicate") from exc
    if ip_hash:
        key = _ip_key(ip_hash)
        if cache.add(key, 1, ip_window()) is False:
            try:
                cache.incr(key)
            except ValueError:  # expired in between
                cache.set(key, 1, ip_window())
    return report


def _duplicate_message() -> str:
    return _("您已经举报过这件商品，我们正在核查，请耐心等待处理结果，不需要重复举报。")


# --- The staff queue --------------------------------------------------------------------


@dataclass
class QueueRow:
    product: object
    cooperative: Cooperative | None
    count: int
    kinds: list[str] = field(default_factory=list)
    first_at: datetime | None = None
    last_at: datetime | None = None


def open_queue() -> list[QueueRow]:
    """Open reports grouped by product, most reported first: five queries
    however many products."""
    groups = list(
        ListingReport.objects.filter(status=Status.OPEN)
        .values("product_id")
        .annotate(n=Count("pk"), first=Min("created_at"), last=Max("created_at"))
        .order_by("-n", "first", "product_id")
    )
    ids = [g["product_id"] for g in groups]
    kinds: dict[int, set[str]] = defaultdict(set)
    for product_id, kind in (
        ListingReport.objects.filter(status=Status.OPEN, product_id__in=ids)
        .values_list("product_id", "kind")
        .distinct()
    ):
        kinds[product_id].add(kind)
    products = Product.objects.in_bulk(ids)
    coops = cooperatives_of(ids)
    labels = dict(ListingReport.Kind.choices)
    return [
        QueueRow(
            product=products.get(g["product_id"]),
            cooperative=coops.get(g["product_id"]),
            count=g["n"],
            kinds=[
                str(labels[k]) for k in ListingReport.Kind.values if k in kinds[g["product_id"]]
            ],
            first_at=g["first"],
            last_at=g["last"],
        )
        for g in groups
    ]


def cooperatives_of(product_ids) -> dict[int, Cooperative]:
    """``{product id: its cooperative}`` in one query (own stock or variants')."""
    found: dict[int, Cooperative] = {}
    ids = list(product_ids)
    if not ids:
        return found
    rows = Cooperative.objects.filter(
        Q(partner__stockrecords__product_id__in=ids)
        | Q(partner__stockrecords__product__parent_id__in=ids)
    ).values_list(
        "pk", "partner__stockrecords__product_id", "partner__stockrecords__product__parent_id"
    )
    coop_ids = {pk for pk, _p, _pp in rows}
    coops = Cooperative.objects.in_bulk(coop_ids)
    for pk, product_id, parent_id in sorted(rows):
        for key in (product_id, parent_id):
            if key in ids:
                found.setdefault(key, coops[pk])
    return found


def reports_of(product) -> QuerySet:
    return ListingReport.objects.filter(product=product).select_related("reporter", "decided_by")


def active_withdrawal(product) -> ListingWithdrawal | None:
    return ListingWithdrawal.objects.filter(product=product, restored_at__isnull=True).first()


# --- Decisions --------------------------------------------------------------------------


class Decision:
    DISMISS = "dismiss"
    UNPUBLISH = "unpublish"
    SUSPEND = "suspend"


def _close_reports(reports: QuerySet, *, status: str, note: str, by, now) -> list[ListingReport]:
    closing = list(reports.filter(status=Status.OPEN).select_related("reporter", "product"))
    ListingReport.objects.filter(pk__in=[r.pk for r in closing]).update(
        status=status, decision_note=note, decided_by=by, decided_at=now
    )
    return closing


def _reporter_address(report: ListingReport) -> str:
    if report.contact:
        try:
            validate_email(report.contact)
        except ValidationError:
            pass
        else:
            return report.contact
    if report.reporter_id and report.reporter.email:
        return report.reporter.email
    return ""


def _manager_addresses(cooperative: Cooperative | None) -> list[str]:
    if cooperative is None:
        return []
    return sorted(
        set(
            cooperative.memberships.filter(role=Membership.Role.MANAGER)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _tell(closed: list[ListingReport], cooperative, product, decision: str, note: str) -> None:
    outcome = {
        Decision.DISMISS: _("经核查，暂不予处理"),
        Decision.UNPUBLISH: _("该商品已被平台下架"),
        Decision.SUSPEND: _("该合作社已被暂停销售"),
    }[decision]
    for address in sorted({a for a in map(_reporter_address, closed) if a}):
        email_later(
            address,
            _("您举报的商品“%(title)s”已处理") % {"title": product.title},
            _("感谢您的举报。处理结果：%(outcome)s。说明：%(note)s")
            % {"outcome": outcome, "note": note},
        )
    if decision == Decision.DISMISS:
        return
    for address in _manager_addresses(cooperative):
        email_later(
            address,
            _("平台处理了对“%(title)s”的举报") % {"title": product.title},
            _("处理结果：%(outcome)s。原因：%(note)s。如有异议，请联系平台。")
            % {"outcome": outcome, "note": note},
        )


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请写明处理说明，举报人和合作社会看到它。")})
    if len(note) > REASON_MAX:
        raise ValidationError({"note": _("说明不能超过 %(n)s 字。") % {"n": REASON_MAX}})
    return note


def decide(product, decision: str, *, by, note: str, now: datetime | None = None):
    """Staff decide about ``product``'s open reports. Returns what the
    decision returned (the suspension's outcome for ``suspend``)."""
    now = now or timezone.now()
    note = _clean_note(note)
    cooperative = cooperative_of(product)
    result = None
    if decision == Decision.DISMISS:
        with transaction.atomic():
            closed = _close_reports(
                ListingReport.objects.filter(product=product),
                status=Status.DISMISSED,
                note=note,
                by=by,
                now=now,
            )
    elif decision == Decision.UNPUBLISH:
        with transaction.atomic():
            withdraw(product, by=by, reason=note, now=now)
            closed = _close_reports(
                ListingReport.objects.filter(product=product),
                status=Status.ACTIONED,
                note=note,
                by=by,
                now=now,
            )
    elif decision == Decision.SUSPEND:
        if cooperative is None:
            raise ValidationError(_("找不到销售这件商品的合作社。"))
        if cooperative.status != Cooperative.Status.VERIFIED:
            raise ValidationError(_("该合作社当前不是“已认证”状态，不能暂停。"))
        # The suspension closes every open report of the cooperative's
        # products (this one's too) and tells their reporters
        # (suspension.after_suspension); the cooperative gets the review
        # queue's usual suspension e-mail.
        result = services.suspend(cooperative, by=by, reason=note)
        from cooperatives.dashboard import notify

        notify.status_changed(cooperative)
        return result
    else:
        raise ValidationError(_("未知的操作。"))
    _tell(closed, cooperative, product, decision, note)
    return result


def close_reports_of_cooperative(cooperative: Cooperative, *, by, note: str) -> int:
    """On suspension: every open report of the cooperative's products is
    actioned with the suspension's reason. Returns how many."""
    products = Product.objects.filter(
        Q(stockrecords__partner_id=cooperative.partner_id)
        | Q(children__stockrecords__partner_id=cooperative.partner_id)
    ).values("pk")
    closed = _close_reports(
        ListingReport.objects.filter(product_id__in=products),
        status=Status.ACTIONED,
        note=note,
        by=by,
        now=timezone.now(),
    )
    by_product: dict[int, list[ListingReport]] = defaultdict(list)
    for report in closed:
        by_product[report.product_id].append(report)
    for reports in by_product.values():
        _tell(reports, None, reports[0].product, Decision.SUSPEND, note)
    return len(closed)


# --- Withdrawing a listing (平台下架) -------------------------------------------------------


def withdraw(product, *, by, reason: str, now: datetime | None = None) -> ListingWithdrawal:
    """Take ``product`` (top level) and its variants out of the shop now."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"note": _("请写明下架原因，合作社会看到它。")})
    if product.parent_id:
        product = product.parent
    cooperative = cooperative_of(product)
    if cooperative is None:
        raise ValidationError(_("找不到销售这件商品的合作社。"))
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        found = active_withdrawal(locked)
        if found is not None:
            return found
        withdrawal = ListingWithdrawal.objects.create(
            product=locked,
            cooperative=cooperative,
            reason=reason,
            withdrawn_by=by,
            withdrawn_at=now or timezone.now(),
        )
        for item in [locked, *locked.children.all()]:
            if item.is_public:
                item.is_public = False
                # save(), not update(): the search index follows the signal.
                item.save(update_fields=["is_public", "date_updated"])
    return withdrawal


def restore(product, *, by, note: str = "", now: datetime | None = None) -> ListingWithdrawal:
    """Staff lift a withdrawal: the cooperative may publish the listing again
    (it is not published by this: the cooperative decides when)."""
    with transaction.atomic():
        found = (
            ListingWithdrawal.objects.select_for_update()
            .filter(product=product, restored_at__isnull=True)
            .first()
        )
        if found is None:
            raise ValidationError(_("这件商品没有被平台下架。"))
        found.restored_at = now or timezone.now()
        found.restored_by = by
        found.restore_note = (note or "").strip()
        found.save(update_fields=["restored_at", "restored_by", "restore_note"])
    for address in _manager_addresses(found.cooperative):
        email_later(
            address,
            _("“%(title)s”已解除平台下架") % {"title": product.title},
            _("平台已解除对“%(title)s”的下架，你们可以在合作社后台重新上架。%(note)s")
            % {"title": product.title, "note": found.restore_note},
        )
    return found


def is_withdrawn(product) -> bool:
    """Is the product (or, for a variant, its parent) withdrawn now?"""
    ids = [pk for pk in (product.pk, product.parent_id) if pk]
    if not ids:
        return False
    return ListingWithdrawal.objects.filter(product_id__in=ids, restored_at__isnull=True).exists()


def keep_withdrawn(sender, instance, **kwargs) -> None:
    """pre_save on Product: a withdrawn listing (or a variant of one) is
    never saved public, whichever path saves it (portal, import, admin)."""
    if instance.is_public and is_withdrawn(instance):
        instance.is_public = False


def connect() -> None:
    from django.db.models.signals import pre_save

    receiver(pre_save, sender=Product, dispatch_uid="cooperatives.reports.keep_withdrawn")(
        keep_withdrawn
    )
