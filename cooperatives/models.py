"""Cooperatives (农民专业合作社) and the people who work for them.

Each Cooperative is tied one-to-one to an Oscar Partner, so stock records,
order lines and fulfilment already belong to it. Status changes go through
cooperatives.services (never set ``status`` directly): they keep the
partner's ``is_selling`` flag, which hides or shows every product of the
cooperative at once, and write a StatusChange row saying who and why.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cooperatives.credit_code import EntityType
from shop.catalogue.produce import Certification as CertificationType


class Cooperative(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("待审核")
        VERIFIED = "verified", _("已认证")
        REJECTED = "rejected", _("未通过")
        SUSPENDED = "suspended", _("已暂停")

    partner = models.OneToOneField(
        "partner.Partner", on_delete=models.PROTECT, related_name="cooperative"
    )
    legal_name = models.CharField(_("法定名称"), max_length=200)
    display_name = models.CharField(_("简称"), max_length=40)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    entity_type = models.CharField(_("主体类型"), max_length=2, choices=EntityType.choices)
    legal_representative = models.CharField(_("法定代表人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    division = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("所在地区"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("乡镇或村一级的行政区划。"),
    )
    address_detail = models.CharField(_("详细地址"), max_length=200, blank=True)
    description = models.TextField(_("简介"), blank=True)
    business_licence = models.ImageField(
        _("营业执照"), upload_to="cooperatives/licences/%Y/%m/", blank=True
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.APPLIED, db_index=True
    )
    status_reason = models.TextField(_("状态说明"), blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Where settlements are paid; only managers may change them.
    bank_account_name = models.CharField(_("开户名称"), max_length=100, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    bank_account_number = models.CharField(_("银行账号"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("合作社")
        verbose_name_plural = _("合作社")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name or self.legal_name

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED

    def current_certifications(self):
        """Certifications not yet expired today (expired ones stop showing)."""
        return self.certifications.filter(expires_on__gte=timezone.localdate())


class CooperativePhoto(models.Model):
    cooperative = models.ForeignKey(Cooperative, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to="cooperatives/photos/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "pk"]
        verbose_name = _("合作社照片")
        verbose_name_plural = _("合作社照片")

    def __str__(self) -> str:
        return self.caption or f"{self.cooperative} #{self.pk}"


class Certification(models.Model):
    """A certificate the cooperative holds (绿色食品, 有机产品, 地理标志 …).

    Products may only claim certification types their cooperative holds."""

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="certifications"
    )
    type = models.CharField(_("认证类型"), max_length=32, choices=CertificationType.choices)
    number = models.CharField(_("证书编号"), max_length=64)
    issuer = models.CharField(_("发证机构"), max_length=100)
    expires_on = models.DateField(_("有效期至"))
    document = models.FileField(
        _("证书扫描件"), upload_to="cooperatives/certificates/%Y/%m/", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["type", "-expires_on"]
        verbose_name = _("认证证书")
        verbose_name_plural = _("认证证书")

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.number}"

    @property
    def is_current(self) -> bool:
        return self.expires_on >= timezone.localdate()


class Membership(models.Model):
    """A person working for a cooperative. One cooperative per person."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("负责人")
        MEMBER = "member", _("社员")

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cooperative_membership"
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("合作社成员")
        verbose_name_plural = _("合作社成员")

    def __str__(self) -> str:
        return f"{self.user} @ {self.cooperative} ({self.get_role_display()})"

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class Invitation(models.Model):
    """A manager's invitation to join, by mobile number or e-mail."""

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(
        _("角色"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("邀请")
        verbose_name_plural = _("邀请")

    def __str__(self) -> str:
        return self.phone or self.email

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class StatusChange(models.Model):
    """Who changed a cooperative's status, when and why (never edited)."""

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16, choices=Cooperative.Status.choices)
    to_status = models.CharField(max_length=16, choices=Cooperative.Status.choices)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("状态变更记录")
        verbose_name_plural = _("状态变更记录")

    def __str__(self) -> str:
        return f"{self.cooperative}: {self.from_status} → {self.to_status}"
