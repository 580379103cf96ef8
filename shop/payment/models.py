"""Oscar's payment models, plus the platform's double-entry ledger.

The ledger (services in shop/payment/ledger.py) records every movement of
money between the platform, each cooperative, each station, the payment
provider's clearing account and cash in transit as a balanced JournalEntry:
its Postings (signed amounts in fen, the CNY minor unit; never floats) sum
to zero. Entries are never edited or deleted — a correction is a new entry;
on PostgreSQL triggers enforce both that and the balance at commit
(migration payment/0007).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class LedgerAccount(models.Model):
    """An account: the platform's own (revenue, commission…), one per
    cooperative, one per station, the provider's clearing account, cash in
    transit. ``code`` is the natural key (see ledger.py)."""

    class Kind(models.TextChoices):
        ASSET = "asset", _("资产")
        LIABILITY = "liability", _("负债")
        REVENUE = "revenue", _("收入")
        EXPENSE = "expense", _("费用")

    code = models.CharField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    partner = models.ForeignKey(
        "partner.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class JournalEntry(models.Model):
    """One event's balanced set of postings (a sale, a commission, a
    refund, a payout…). ``idempotency_key`` makes posting the same event
    twice (a webhook delivered again) one entry."""

    kind = models.CharField(_("类型"), max_length=32, db_index=True)
    reference = models.CharField(_("关联单号"), max_length=64, blank=True, db_index=True)
    memo = models.CharField(_("摘要"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}".strip()

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("journal entries are never edited; post a correction")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("journal entries are never deleted; post a correction")


class Posting(models.Model):
    """A signed amount in fen on one account: positive is a debit, negative
    a credit. An entry's postings sum to zero."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount = models.BigIntegerField(_("金额（分）"))
    # What the amount is for, where it is for one order or one order line:
    # a cooperative's statement lists its pending postings by line, a
    # station's by order (shop/payment/settlement.py).
    order = models.ForeignKey(
        "order.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    line = models.ForeignKey(
        "order.Line", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount=0), name="payment_posting_amount_not_zero"
            )
        ]
        indexes = [models.Index(fields=["account", "entry"])]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("postings are never edited; post a correction")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("postings are never deleted; post a correction")


class CommissionRule(models.Model):
    """The platform's commission on a cooperative's sales, in percent of
    the line price: for one cooperative, one category (and its
    subcategories), or one cooperative in one category. The most specific
    rule wins (shop/payment/commission.py); without one,
    WANGNONG_COMMISSION_RATE applies."""

    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("合作社"),
    )
    category = models.ForeignKey(
        "catalogue.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("品类"),
    )
    rate = models.DecimalField(
        _("佣金比例（%）"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("佣金规则")
        verbose_name_plural = _("佣金规则")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "category"],
                name="payment_commission_rule_once",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(partner__isnull=False) | models.Q(category__isnull=False),
                name="payment_commission_rule_scoped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner or '*'} / {self.category or '*'}: {self.rate}%"


def _fen(**kwargs):
    return models.BigIntegerField(**kwargs)


class StripePayment(models.Model):
    """One Stripe PaymentIntent: one attempt to pay for a checkout.

    It is created when the buyer submits the preview, before any order
    exists: ``checkout`` keeps what placing the order needs (address,
    shipping, total, the basket), so the order can be placed by whichever
    of the redirect, the poll or the webhook comes first, without a
    request. ``order`` is set once, under a row lock
    (shop/payment/complete_payment.py). ``status`` only moves forward
    (``STATUS_RANK``), so an event processed late does not undo a later one.
    """

    class Method(models.TextChoices):
        CARD = "card", _("银行卡")
        ALIPAY = "alipay", _("支付宝")
        WECHAT_PAY = "wechat_pay", _("微信支付")

    class Status(models.TextChoices):
        CREATED = "created", _("待付款")
        FAILED = "failed", _("付款失败")
        PROCESSING = "processing", _("处理中")
        AUTHORISED = "authorised", _("已授权")
        SUCCEEDED = "succeeded", _("已付款")
        CANCELED = "canceled", _("已取消")

    class Placement(models.TextChoices):
        WAITING = "waiting", _("等待付款")
        PLACED = "placed", _("已下单")
        REFUSED = "refused", _("未能下单")

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    intent_id = models.CharField(max_length=255, unique=True)
    method = models.CharField(_("付款方式"), max_length=16, choices=Method.choices)
    capture_manual = models.BooleanField(default=False)
    basket = models.ForeignKey(
        "basket.Basket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    order_number = models.CharField(_("订单号"), max_length=128, unique=True)
    order = models.OneToOneField(
        "order.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stripe_payment",
    )
    amount = _fen(verbose_name=_("金额（分）"))
    currency = models.CharField(max_length=3, default="cny")
    status = models.CharField(
        _("付款状态"), max_length=16, choices=Status.choices, default=Status.CREATED
    )
    placement = models.CharField(
        _("下单结果"), max_length=16, choices=Placement.choices, default=Placement.WAITING
    )
    placement_error = models.TextField(_("未能下单的原因"), blank=True)
    # The automatic refund (or, for an authorised card, the cancellation)
    # of a payment whose order could not be placed; empty until done.
    auto_refund_id = models.CharField(max_length=255, blank=True)
    amount_received = _fen(default=0)
    amount_refunded = _fen(default=0)
    disputed = models.BooleanField(_("有争议"), default=False)
    dispute_status = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    checkout = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Forward only: a later status never gives way to an earlier one. A
    # payment that was processing can fail (bank transfer, wallet timeout);
    # one that failed is retried by a new attempt, which is a new payment.
    STATUS_RANK = {
        Status.CREATED: 0,
        Status.PROCESSING: 1,
        Status.FAILED: 2,
        Status.AUTHORISED: 3,
        Status.CANCELED: 4,
        Status.SUCCEEDED: 5,
    }

    class Meta:
        verbose_name = _("在线支付")
        verbose_name_plural = _("在线支付")
        indexes = [models.Index(fields=["status", "placement"])]

    def __str__(self) -> str:
        return f"{self.intent_id} ({self.order_number})"

    def moves_forward_to(self, status: str) -> bool:
        return self.STATUS_RANK[status] > self.STATUS_RANK[self.status]


class StripeEvent(models.Model):
    """Every webhook event id we accepted, so one delivered again is ignored."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=64)
    intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_created = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("Stripe 事件")
        verbose_name_plural = _("Stripe 事件")

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class Refund(models.Model):
    """Money given back to a buyer for some lines (and/or shipping) of an
    order: through Stripe for online payments, as cash for cash on delivery
    and station cash. ``token`` comes from the form, so submitting it twice
    is one refund; its Stripe idempotency key is derived from it."""

    class Via(models.TextChoices):
        STRIPE = "stripe", _("原路退回（Stripe）")
        CASH = "cash", _("退现金")
        UNCOLLECTED = "uncollected", _("货到付款未收款，免收")

    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        SUCCEEDED = "succeeded", _("已退款")
        FAILED = "failed", _("退款失败")

    token = models.UUIDField(unique=True)
    order = models.ForeignKey("order.Order", on_delete=models.PROTECT, related_name="refunds")
    via = models.CharField(_("退款方式"), max_length=16, choices=Via.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    amount = _fen(verbose_name=_("退款总额（分）"))
    shipping = _fen(verbose_name=_("其中运费（分）"), default=0)
    reason = models.CharField(_("退款原因"), max_length=300)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    partner = models.ForeignKey(
        "partner.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="set when a cooperative refunded its own lines",
    )
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.order_id} −{self.amount}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey("order.Line", on_delete=models.PROTECT, related_name="refund_lines")
    amount = _fen(verbose_name=_("金额（分）"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["refund", "line"], name="payment_refundline_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_refundline_pos"),
        ]


class Statement(models.Model):
    """A settlement statement: what the platform owes one cooperative (its
    delivered lines past the return window, less commission and refunds)
    or one station (its commissions) for a period, then paid with a bank
    reference. Its items are the pending postings it settled, each once."""

    class Party(models.TextChoices):
        COOPERATIVE = "cooperative", _("合作社")
        STATION = "station", _("服务站")

    class Status(models.TextChoices):
        ISSUED = "issued", _("待付款")
        PAID = "paid", _("已付款")

    number = models.CharField(_("结算单号"), max_length=40, unique=True)
    party = models.CharField(_("结算对象"), max_length=16, choices=Party.choices)
    partner = models.ForeignKey(
        "partner.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period_start = models.DateField(_("起始日"))
    period_end = models.DateField(_("截止日"))
    gross = _fen(verbose_name=_("货款（分）"), default=0)
    commission = _fen(verbose_name=_("佣金（分）"), default=0)
    refunds = _fen(verbose_name=_("退款（分）"), default=0)
    payable = _fen(verbose_name=_("应付（分）"), default=0)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.ISSUED
    )
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bank_reference = models.CharField(_("银行流水号"), max_length=64, blank=True)
    payout_entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("结算单")
        verbose_name_plural = _("结算单")
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(party="cooperative", partner__isnull=False, station__isnull=True)
                    | models.Q(party="station", station__isnull=False, partner__isnull=True)
                ),
                name="payment_statement_one_party",
            ),
            models.UniqueConstraint(
                fields=["partner", "period_end"],
                condition=models.Q(partner__isnull=False),
                name="payment_statement_partner_period",
            ),
            models.UniqueConstraint(
                fields=["station", "period_end"],
                condition=models.Q(station__isnull=False),
                name="payment_statement_station_period",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class StatementItem(models.Model):
    """One pending posting settled by a statement (each posting once)."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="items")
    posting = models.OneToOneField(Posting, on_delete=models.PROTECT, related_name="statement_item")

    class Meta:
        ordering = ["pk"]


from oscar.apps.payment.models import *  # noqa: E402,F403  (Oscar's models, after ours)
