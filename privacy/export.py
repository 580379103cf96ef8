"""Everything the platform holds about one person (个人信息导出).

``collect(user)`` returns a JSON-safe dict, one section per kind of record.
``COVERED`` names, for every relation from a model to the user model, the
section that exports it; ``NOT_PERSONAL`` names the relations deliberately
left out, with the reason. tests/privacy/test_coverage.py walks every model
and fails on a relation in neither, so a new model cannot be forgotten.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext_noop as N_
from oscar.core.loading import get_model

from privacy import access_log

# (model label of the field's own model, field name) → export section.
COVERED: dict[tuple[str, str], str] = {
    ("address.UserAddress", "user"): "addresses",
    ("order.Order", "user"): "orders",
    ("order.OrderNote", "user"): "orders",
    ("payment.StripePayment", "user"): "online_payments",
    ("payment.Bankcard", "user"): "bankcards",
    ("basket.Basket", "owner"): "baskets",
    ("wishlists.WishList", "owner"): "wishlists",
    ("reviews.ProductReview", "user"): "reviews",
    ("reviews.Vote", "user"): "review_votes",
    ("customer.ProductAlert", "user"): "product_alerts",
    ("communication.Email", "user"): "emails",
    ("communication.Notification", "recipient"): "notifications",
    ("communication.Notification", "sender"): "notifications",
    ("voucher.VoucherApplication", "user"): "voucher_uses",
    ("analytics.UserRecord", "user"): "browsing",
    ("analytics.UserProductView", "user"): "browsing",
    ("analytics.UserSearch", "user"): "browsing",
    ("cooperatives.Complaint", "buyer"): "complaints",
    ("cooperatives.Membership", "user"): "cooperative_membership",
    ("cooperatives.Invitation", "accepted_by"): "cooperative_membership",
    ("partner.Partner", "users"): "cooperative_membership",
    ("stations.Resident", "user"): "station_resident",
    ("stations.StationStaff", "user"): "station_staff",
    ("cms.LessonProgress", "user"): "learning",
    ("cms.QuizAttempt", "user"): "learning",
    ("cms.Certificate", "user"): "learning",
    ("privacy.ContactAccess", "subject_user"): "contact_access",
    ("cooperatives.ListingReport", "reporter"): "listing_reports",
    ("otp_totp.TOTPDevice", "user"): "two_factor_devices",
}

_WORK = "记录的是此人以工作人员身份所做的操作（审计与问责需要），不是关于此人的个人信息"
_CMS = "内容管理后台编辑人员的工作记录（页面作者、修订、评论、上传），不涉及消费者"
_VIEWER = "查看人自己的工作记录（问责需要）；被查看的人在其导出中看到"
# (model label, field name) → why it is not exported.
NOT_PERSONAL: dict[tuple[str, str], str] = {
    ("admin.LogEntry", "user"): _WORK,
    ("cooperatives.Cooperative", "applied_by"): _WORK,
    ("cooperatives.Invitation", "invited_by"): _WORK,
    ("cooperatives.StatusChange", "changed_by"): _WORK,
    ("cooperatives.ImportJob", "uploaded_by"): _WORK,
    ("cooperatives.FulfilmentEvent", "changed_by"): _WORK,
    ("cooperatives.OrderLineBatch", "chosen_by"): _WORK,
    ("cooperatives.ComplaintEvent", "by"): (
        "投诉处理人（合作社、平台）的操作记录；买家自己的投诉及其全部经过在 complaints 中导出"
    ),
    ("stations.StationStaff", "added_by"): _WORK,
    ("stations.Resident", "consent_recorded_by"): _WORK,
    ("stations.StationOrder", "placed_by"): _WORK,
    ("stations.StationOrder", "cancelled_by"): _WORK,
    ("stations.Parcel", "arrived_by"): _WORK,
    ("stations.Parcel", "handed_over_by"): _WORK,
    ("stations.DayClose", "closed_by"): _WORK,
    ("stations.CashEntry", "recorded_by"): _WORK,
    ("stations.AuditEvent", "actor"): _WORK,
    ("logistics.Shipment", "carrier_overridden_by"): _WORK,
    ("logistics.TrackingEvent", "recorded_by"): _WORK,
    ("logistics.ShipmentLog", "by"): _WORK,
    ("payment.JournalEntry", "created_by"): _WORK,
    ("payment.Refund", "requested_by"): (
        "发起退款的人（工作人员或合作社）；退款本身随订单在 orders 中导出"
    ),
    ("payment.Statement", "paid_by"): _WORK,
    ("offer.RangeProductFileUpload", "uploaded_by"): _WORK,
    ("cms.TrainingSession", "recorded_by"): _WORK,
    ("privacy.ContactAccess", "viewer"): _VIEWER,
    ("cooperatives.ListingReport", "decided_by"): _WORK,
    ("cooperatives.ListingWithdrawal", "withdrawn_by"): _WORK,
    ("cooperatives.ListingWithdrawal", "restored_by"): _WORK,
    ("wagtailcore.Page", "owner"): _CMS,
    ("wagtailcore.Page", "locked_by"): _CMS,
    ("wagtailcore.Revision", "user"): _CMS,
    ("wagtailcore.ModelLogEntry", "user"): _CMS,
    ("wagtailcore.PageLogEntry", "user"): _CMS,
    ("wagtailcore.Comment", "user"): _CMS,
    ("wagtailcore.Comment", "resolved_by"): _CMS,
    ("wagtailcore.CommentReply", "user"): _CMS,
    ("wagtailcore.PageSubscription", "user"): _CMS,
    ("wagtailcore.WorkflowState", "requested_by"): _CMS,
    ("wagtailcore.TaskState", "finished_by"): _CMS,
    ("wagtailcore.UploadedFile", "uploaded_by_user"): _CMS,
    ("wagtailcore.APIToken", "user"): _CMS,
    ("wagtailadmin.EditingSession", "user"): _CMS,
    ("wagtailadmin.FormState", "user"): _CMS,
    ("wagtaildocs.Document", "uploaded_by_user"): _CMS,
    ("wagtailimages.Image", "uploaded_by_user"): _CMS,
    (
        "wagtailusers.UserProfile",
        "user",
    ): "内容管理后台的界面偏好（语言、时区、头像），只对编辑人员存在",
}


def _value(value):
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if hasattr(value, "name") and hasattr(value, "url"):  # a file
        return value.name or ""
    return str(value)


def _row(obj, fields: list[str]) -> dict:
    return {name: _value(getattr(obj, name)) for name in fields}


_ADDRESS_FIELDS = [
    "first_name",
    "last_name",
    "phone_number",
    "state",
    "line4",
    "line3",
    "line2",
    "line1",
    "postcode",
    "division_id",
]


def _address(address, extra: tuple[str, ...] = ()) -> dict | None:
    if address is None:
        return None
    return _row(address, _ADDRESS_FIELDS + list(extra))


def profile(user) -> dict:
    return _row(
        user,
        [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "date_joined",
            "last_login",
            "is_active",
        ],
    )


def orders(user) -> list[dict]:
    Order = get_model("order", "Order")
    qs = (
        Order.objects.filter(user=user)
        .select_related("shipping_address", "billing_address")
        .prefetch_related(
            "lines",
            "sources__source_type",
            "payment_events__event_type",
            "notes",
            "refunds__lines",
            "shipments__carrier",
        )
        .order_by("date_placed", "pk")
    )
    result = []
    for order in qs:
        result.append(
            {
                **_row(
                    order,
                    [
                        "number",
                        "date_placed",
                        "status",
                        "currency",
                        "total_incl_tax",
                        "shipping_incl_tax",
                        "guest_email",
                    ],
                ),
                "shipping_address": _address(order.shipping_address, ("notes",)),
                "billing_address": _address(order.billing_address),
                "lines": [
                    _row(
                        line,
                        [
                            "title",
                            "partner_name",
                            "quantity",
                            "line_price_incl_tax",
                            "status",
                        ],
                    )
                    for line in order.lines.all()
                ],
                "payments": [
                    {
                        "method": source.source_type.name,
                        **_row(
                            source,
                            [
                                "amount_allocated",
                                "amount_debited",
                                "amount_refunded",
                                "reference",
                            ],
                        ),
                    }
                    for source in order.sources.all()
                ],
                "payment_events": [
                    {
                        "type": event.event_type.name,
                        **_row(event, ["amount", "reference", "date_created"]),
                    }
                    for event in order.payment_events.all()
                ],
                "refunds": [
                    {
                        **_row(
                            refund,
                            ["via", "status", "reason", "amount", "created_at", "completed_at"],
                        ),
                        "lines": [_row(rl, ["line_id", "amount"]) for rl in refund.lines.all()],
                    }
                    for refund in order.refunds.all()
                ],
                "shipments": [
                    {
                        "carrier": shipment.carrier.name,
                        **_row(
                            shipment,
                            [
                                "status",
                                "tracking_number",
                                "tracking_status",
                                "recipient_name",
                                "recipient_phone",
                                "recipient_address",
                                "handed_off_at",
                            ],
                        ),
                    }
                    for shipment in order.shipments.all()
                ],
                "notes": [
                    _row(note, ["note_type", "message", "date_created"])
                    for note in order.notes.all()
                    if note.user_id == user.pk
                ],
            }
        )
    return result


def complaints(user) -> list[dict]:
    from cooperatives.models import Complaint

    qs = (
        Complaint.objects.filter(buyer=user)
        .select_related("order", "line", "cooperative")
        .prefetch_related("photos", "events")
        .order_by("created_at", "pk")
    )
    return [
        {
            "order": c.order.number,
            "line": c.line.title,
            "cooperative": c.cooperative.display_name,
            **_row(c, ["kind", "description", "status", "resolution", "created_at", "resolved_at"]),
            "photos": [p.image.name for p in c.photos.all()],
            "events": [_row(e, ["actor", "action", "text", "at"]) for e in c.events.all()],
        }
        for c in qs
    ]


def optional_model(label: str):
    """A model of an app that may not be installed (or not yet migrated in
    this checkout): None then."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _simple(model_label: str, filter_field: str, user, fields: list[str]) -> list[dict]:
    Model = optional_model(model_label)
    if Model is None:
        return []
    return [_row(o, fields) for o in Model.objects.filter(**{filter_field: user}).order_by("pk")]


def collect(user) -> dict:
    """Everything held about ``user``, section by section."""
    from cms.models import LessonProgress, QuizAttempt
    from cooperatives.models import Invitation, Membership
    from stations.models import Resident, StationStaff

    Basket = get_model("basket", "Basket")
    WishList = get_model("wishlists", "WishList")
    ProductReview = get_model("reviews", "ProductReview")
    Notification = get_model("communication", "Notification")
    Partner = get_model("partner", "Partner")

    data: dict = {"generated_at": _value(timezone.now()), "profile": profile(user)}
    data["addresses"] = [
        _address(a, ("notes", "is_default_for_shipping", "is_default_for_billing"))
        for a in get_model("address", "UserAddress").objects.filter(user=user).order_by("pk")
    ]
    data["orders"] = orders(user)
    data["online_payments"] = _simple(
        "payment.StripePayment",
        "user",
        user,
        ["order_number", "method", "status", "amount", "amount_refunded", "created_at"],
    )
    data["bankcards"] = _simple(
        "payment.Bankcard", "user", user, ["card_type", "number", "expiry_date"]
    )
    data["baskets"] = [
        {
            **_row(b, ["status", "date_created"]),
            "lines": [_row(line, ["product_id", "quantity"]) for line in b.lines.all()],
        }
        for b in Basket._default_manager.filter(owner=user).prefetch_related("lines").order_by("pk")
    ]
    data["wishlists"] = [
        {
            **_row(w, ["name", "visibility", "date_created"]),
            "lines": [_row(line, ["title", "product_id"]) for line in w.lines.all()],
        }
        for w in WishList.objects.filter(owner=user).prefetch_related("lines").order_by("pk")
    ]
    data["reviews"] = [
        _row(r, ["product_id", "score", "title", "body", "name", "email", "status", "date_created"])
        for r in ProductReview.objects.filter(user=user).order_by("pk")
    ]
    data["review_votes"] = _simple(
        "reviews.Vote", "user", user, ["review_id", "delta", "date_created"]
    )
    data["product_alerts"] = _simple(
        "customer.ProductAlert", "user", user, ["product_id", "email", "status", "date_created"]
    )
    data["emails"] = _simple(
        "communication.Email", "user", user, ["email", "subject", "body_text", "date_sent"]
    )
    data["notifications"] = [
        _row(n, ["subject", "body", "location", "date_sent", "date_read"])
        for n in Notification.objects.filter(recipient=user).order_by("pk")
    ] + [
        {**_row(n, ["subject", "body", "date_sent"]), "sent_by_me": True}
        for n in Notification.objects.filter(sender=user).order_by("pk")
    ]
    data["voucher_uses"] = _simple(
        "voucher.VoucherApplication", "user", user, ["voucher_id", "order_id", "date_created"]
    )
    data["browsing"] = {
        "record": _simple(
            "analytics.UserRecord",
            "user",
            user,
            ["num_product_views", "num_basket_additions", "num_orders", "total_spent"],
        ),
        "product_views": _simple(
            "analytics.UserProductView", "user", user, ["product_id", "date_created"]
        ),
        "searches": _simple("analytics.UserSearch", "user", user, ["query", "date_created"]),
    }
    data["complaints"] = complaints(user)
    data["cooperative_membership"] = {
        "memberships": [
            {"cooperative": m.cooperative.display_name, **_row(m, ["role", "created_at"])}
            for m in Membership.objects.filter(user=user).select_related("cooperative")
        ],
        "invitations_accepted": [
            _row(i, ["cooperative_id", "role", "phone", "email", "accepted_at"])
            for i in Invitation.objects.filter(accepted_by=user).order_by("pk")
        ],
        "partner_accounts": list(Partner.objects.filter(users=user).values_list("name", flat=True)),
    }
    resident = Resident.objects.filter(user=user).select_related("station", "village").first()
    data["station_resident"] = (
        {
            "station": resident.station.name,
            "village": resident.village.name,
            **_row(
                resident,
                [
                    "name",
                    "phone",
                    "address_detail",
                    "delivery_preference",
                    "consent_at",
                    "consent_statement",
                    "created_at",
                ],
            ),
        }
        if resident
        else None
    )
    data["station_staff"] = [
        {"station": s.station.name, **_row(s, ["is_active", "created_at"])}
        for s in StationStaff.objects.filter(user=user).select_related("station")
    ]
    data["learning"] = {
        "progress": [
            {"lesson": p.lesson.title, **_row(p, ["via", "score", "completed_at"])}
            for p in LessonProgress.objects.filter(user=user).select_related("lesson")
        ],
        "quiz_attempts": [
            {"lesson": a.lesson.title, **_row(a, ["correct", "total", "passed", "created_at"])}
            for a in QuizAttempt.objects.filter(user=user).select_related("lesson")
        ],
        "certificates": _simple(
            "cms.Certificate", "user", user, ["code", "name", "course_title", "issued_at"]
        ),
    }
    data["listing_reports"] = _simple(
        "cooperatives.ListingReport",
        "reporter",
        user,
        ["product_id", "kind", "reason", "contact", "status", "created_at"],
    )
    data["two_factor_devices"] = _simple(
        "otp_totp.TOTPDevice", "user", user, ["name", "confirmed", "created_at"]
    )
    data["contact_access"] = [
        {
            "viewer": (e.viewer.get_full_name() or e.viewer.get_username()) if e.viewer else "",
            "order": e.order.number if e.order else "",
            **_row(e, ["fields", "view", "purpose", "at"]),
        }
        for e in access_log.entries_about(user)
    ]
    return data


# The sections' Chinese titles, in the order the HTML page shows them.
SECTION_TITLES: list[tuple[str, str]] = [
    ("profile", N_("账户资料")),
    ("addresses", N_("收货地址")),
    ("orders", N_("订单（含商品、付款、退款、发货）")),
    ("online_payments", N_("在线支付")),
    ("bankcards", N_("银行卡")),
    ("complaints", N_("投诉")),
    ("reviews", N_("商品评价")),
    ("review_votes", N_("评价投票")),
    ("wishlists", N_("收藏夹")),
    ("baskets", N_("购物车")),
    ("product_alerts", N_("到货提醒")),
    ("emails", N_("邮件记录")),
    ("notifications", N_("消息通知")),
    ("voucher_uses", N_("优惠券使用")),
    ("browsing", N_("浏览与搜索记录")),
    ("station_resident", N_("服务站居民登记")),
    ("station_staff", N_("服务站工作人员身份")),
    ("cooperative_membership", N_("合作社成员身份")),
    ("learning", N_("学习进度与证书")),
    ("listing_reports", N_("商品举报")),
    ("two_factor_devices", N_("两步验证设备")),
    ("contact_access", N_("他人查看您联系方式的记录")),
]
