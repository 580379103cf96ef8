"""Who saw whose full contact details, and which accounts were deleted.

Neither table holds personal data of its own beyond references: an access
row points at the person seen (user, resident or order), a deletion record
keeps only a one-way hash of the deleted account's id and counts.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactAccess(models.Model):
    """One person's full contact details shown to someone else on one page
    view. A page listing several people writes one row per person in one
    ``bulk_create`` (privacy/access_log.py), sharing ``view_id``."""

    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("查看人"),
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("被查看的用户"),
    )
    resident = models.ForeignKey(
        "stations.Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("被查看的居民"),
    )
    order = models.ForeignKey(
        "order.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("订单"),
    )
    fields = models.JSONField(_("查看的信息"), default=list)
    view = models.CharField(_("页面"), max_length=100)
    purpose = models.CharField(_("用途"), max_length=100, blank=True)
    view_id = models.UUIDField(_("页面访问"), db_index=True)
    ip_hash = models.CharField(_("IP 摘要"), max_length=64, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("联系方式查看记录")
        verbose_name_plural = _("联系方式查看记录")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["subject_user", "-at"]),
            models.Index(fields=["resident", "-at"]),
            models.Index(fields=["order", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.view} {self.at:%Y-%m-%d %H:%M}"


class DeletionRecord(models.Model):
    """An account deleted at its owner's request: when, a one-way hash of
    the user id (to answer "was account N deleted?" without keeping N),
    and how many rows of each kind were removed or anonymised."""

    user_hash = models.CharField(_("账户摘要"), max_length=64, db_index=True)
    requested_at = models.DateTimeField(_("删除时间"), auto_now_add=True, db_index=True)
    counts = models.JSONField(_("处理数量"), default=dict)

    class Meta:
        verbose_name = _("账户删除记录")
        verbose_name_plural = _("账户删除记录")
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_hash[:12]} {self.requested_at:%Y-%m-%d}"


class AnonymisedDelivery(models.Model):
    """An order whose delivery details the retention task has anonymised,
    so the next run does not look at it again."""

    order = models.OneToOneField(
        "order.Order", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("已匿名化的收货信息")
        verbose_name_plural = _("已匿名化的收货信息")
