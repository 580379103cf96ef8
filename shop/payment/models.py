"""Oscar's payment models, plus the platform's double-entry ledger.

The ledger (services in shop/payment/ledger.py) records every movement of
money between the platform, each cooperative, each station, the payment
provider's clearing account and cash in transit as a balanced JournalEntry:
its Postings (signed amounts in fen, the CNY minor unit; never floats) sum
to zero. Entries are never edited or deleted — a correction is a new entry;
on PostgreSQL triggers enforce both that and the balance at commit
(migration payment/0007).
"""

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


from oscar.apps.payment.models import *  # noqa: E402,F403  (Oscar's models, after ours)
