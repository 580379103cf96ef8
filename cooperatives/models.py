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


def _import_upload_to(instance, filename: str) -> str:
    """Uploaded import files get an unguessable name (they hold a price list)."""
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:8]
    return f"cooperatives/imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ImportJob(models.Model):
    """One bulk upload of products (CSV or XLSX), run by a Celery task
    (cooperatives.import_tasks.run_import). Progress and outcome live here so
    the portal page can show a progress bar and every bad row."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="import_jobs"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(_("文件"), upload_to=_import_upload_to, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=255)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增商品数"), default=0)
    updated_count = models.PositiveIntegerField(_("更新商品数"), default=0)
    # [{"row": 7, "errors": ["价格必须大于 0"]}, …] in row order.
    error_rows = models.JSONField(_("出错的行"), default=list, blank=True)
    # Large files are imported by several worker processes ("lanes") at
    # once: {"lanes": 2, "0": rows done by lane 0, "1": …}.
    lane_progress = models.JSONField(default=dict, blank=True)
    message = models.TextField(_("说明"), blank=True)
    # The uploader's language, so row errors are written in it.
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("批量导入")
        verbose_name_plural = _("批量导入")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def error_count(self) -> int:
        return len(self.error_rows)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class FulfilmentEvent(models.Model):
    """Who moved an order line along the fulfilment pipeline, and when.

    Oscar's ``Line.set_status`` records nothing; cooperatives.fulfilment
    writes one row per change (never edited)."""

    line = models.ForeignKey(
        "order.Line", on_delete=models.CASCADE, related_name="fulfilment_events"
    )
    from_status = models.CharField(_("原状态"), max_length=32, blank=True)
    to_status = models.CharField(_("新状态"), max_length=32)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = _("发货记录")
        verbose_name_plural = _("发货记录")

    def __str__(self) -> str:
        return f"{self.line_id}: {self.from_status} → {self.to_status}"


# --- Traceability (溯源) --------------------------------------------------------------

# No 0/O, 1/I/L: a code read off a box label is typed back without mistakes.
BATCH_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BATCH_CODE_LENGTH = 8


def new_batch_code() -> str:
    import secrets

    return "".join(secrets.choice(BATCH_CODE_ALPHABET) for _ in range(BATCH_CODE_LENGTH))


class HarvestBatch(models.Model):
    """One harvest of one product, with a public trace page at /t/<code>/
    (cooperatives.traceability). Create and change through that module."""

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="harvest_batches"
    )
    product = models.ForeignKey(
        "catalogue.Product",
        verbose_name=_("商品"),
        on_delete=models.PROTECT,
        related_name="harvest_batches",
    )
    code = models.CharField(_("溯源码"), max_length=16, unique=True, default=new_batch_code)
    label = models.CharField(_("批次号"), max_length=40, blank=True)
    harvest_date = models.DateField(_("采收日期"))
    village = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("产地（村）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"level": 5},
    )
    field = models.CharField(_("地块"), max_length=100, blank=True)
    grower = models.CharField(_("种植户"), max_length=50, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-harvest_date", "-pk"]
        verbose_name = _("采收批次")
        verbose_name_plural = _("采收批次")

    def __str__(self) -> str:
        return f"{self.label or self.code} ({self.harvest_date:%Y-%m-%d})"


class BatchInput(models.Model):
    """A fertiliser, pesticide or other input applied to a batch."""

    class Kind(models.TextChoices):
        FERTILISER = "fertiliser", _("化肥")
        ORGANIC = "organic", _("有机肥")
        PESTICIDE = "pesticide", _("农药")
        OTHER = "other", _("其他")

    batch = models.ForeignKey(HarvestBatch, on_delete=models.CASCADE, related_name="inputs")
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    applied_on = models.DateField(_("使用日期"))
    amount = models.CharField(_("用量"), max_length=60, blank=True)

    class Meta:
        ordering = ["applied_on", "pk"]
        verbose_name = _("投入品")
        verbose_name_plural = _("投入品")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class BatchInspection(models.Model):
    """An inspection (检测) of a batch, with the report as uploaded."""

    class Result(models.TextChoices):
        PASS = "pass", _("合格")
        FAIL = "fail", _("不合格")

    batch = models.ForeignKey(HarvestBatch, on_delete=models.CASCADE, related_name="inspections")
    inspected_on = models.DateField(_("检测日期"))
    agency = models.CharField(_("检测机构"), max_length=100)
    result = models.CharField(_("结果"), max_length=8, choices=Result.choices)
    summary = models.CharField(_("检测项目与结论"), max_length=300, blank=True)
    report = models.FileField(
        _("检测报告"), upload_to="cooperatives/inspections/%Y/%m/", blank=True
    )

    class Meta:
        ordering = ["-inspected_on", "-pk"]
        verbose_name = _("检测记录")
        verbose_name_plural = _("检测记录")

    def __str__(self) -> str:
        return f"{self.agency} {self.inspected_on:%Y-%m-%d} {self.get_result_display()}"


class OrderLineBatch(models.Model):
    """Which batch an order line was packed from (chosen while packing)."""

    line = models.OneToOneField("order.Line", on_delete=models.CASCADE, related_name="batch_link")
    batch = models.ForeignKey(HarvestBatch, on_delete=models.PROTECT, related_name="line_links")
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("发货批次")
        verbose_name_plural = _("发货批次")

    def __str__(self) -> str:
        return f"{self.line_id} → {self.batch.code}"


# --- Consumer complaints (消费者投诉) ------------------------------------------------------


class Complaint(models.Model):
    """A buyer's complaint about one order line, answered by the line's
    cooperative before ``deadline`` or arbitrated by platform staff. Every
    change goes through cooperatives.complaints, which writes a
    ComplaintEvent for it."""

    class Kind(models.TextChoices):
        NOT_RECEIVED = "not_received", _("未收到货")
        DAMAGED = "damaged", _("破损")
        NOT_AS_DESCRIBED = "not_as_described", _("与描述不符")
        QUALITY = "quality", _("质量问题")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("待合作社答复")
        ANSWERED = "answered", _("合作社已答复")
        ESCALATED = "escalated", _("平台处理中")
        RESOLVED = "resolved", _("已解决")

    class Resolution(models.TextChoices):
        REFUND = "refund", _("退款")
        REPLACEMENT = "replacement", _("补发")
        REPLY = "reply", _("答复")
        REJECTED = "rejected", _("驳回")

    order = models.ForeignKey("order.Order", on_delete=models.PROTECT, related_name="complaints")
    line = models.ForeignKey("order.Line", on_delete=models.PROTECT, related_name="complaints")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints"
    )
    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.PROTECT, related_name="complaints"
    )
    kind = models.CharField(_("投诉类型"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("问题描述"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(_("投诉时间"), default=timezone.now, db_index=True)
    deadline = models.DateTimeField(_("合作社答复期限"), db_index=True)
    answered_at = models.DateTimeField(_("合作社答复时间"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("逾期时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("转平台时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    resolution = models.CharField(
        _("处理结果"), max_length=16, choices=Resolution.choices, blank=True
    )
    refund = models.ForeignKey(
        "payment.Refund",
        verbose_name=_("退款"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        constraints = [
            models.UniqueConstraint(
                fields=["line"],
                condition=~models.Q(status="resolved"),
                name="one_unresolved_complaint_per_line",
            )
        ]

    def __str__(self) -> str:
        return f"投诉 #{self.pk} ({self.get_kind_display()})"

    @property
    def is_overdue(self) -> bool:
        return self.overdue_at is not None


class ComplaintPhoto(models.Model):
    """A buyer's photo of the problem (validated by cooperatives.uploads;
    at most ``complaints.MAX_PHOTOS`` per complaint)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("照片"), upload_to="complaints/%Y/%m/")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("投诉照片")
        verbose_name_plural = _("投诉照片")


class ComplaintEvent(models.Model):
    """One step of a complaint's timeline (append-only, shown to both sides)."""

    class Actor(models.TextChoices):
        BUYER = "buyer", _("买家")
        COOPERATIVE = "cooperative", _("合作社")
        STAFF = "staff", _("平台")
        SYSTEM = "system", _("系统")

    class Action(models.TextChoices):
        OPENED = "opened", _("提交投诉")
        REPLIED = "replied", _("答复")
        REPLACEMENT = "replacement", _("提出补发")
        REFUNDED = "refunded", _("退款")
        ESCALATED = "escalated", _("转平台处理")
        OVERDUE = "overdue", _("合作社逾期未答复")
        REJECTED = "rejected", _("驳回")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    actor = models.CharField(_("谁"), max_length=16, choices=Actor.choices)
    action = models.CharField(_("做了什么"), max_length=16, choices=Action.choices)
    text = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("投诉记录")
        verbose_name_plural = _("投诉记录")

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.actor} {self.action}"


# --- Reports of listings (举报) and platform withdrawals (平台下架) --------------------------


class ListingReport(models.Model):
    """Anyone's report of a listing (signed in or not), reviewed by platform
    staff at /dashboard/reports/ (cooperatives.reports). An anonymous
    reporter is known by session and a hash of the address only."""

    class Kind(models.TextChoices):
        COUNTERFEIT = "counterfeit", _("假冒伪劣")
        FALSE_ORIGIN = "false_origin", _("产地不实")
        PROHIBITED = "prohibited", _("违禁物品")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        DISMISSED = "dismissed", _("不予处理")
        ACTIONED = "actioned", _("已处理")

    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.CASCADE, related_name="listing_reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="listing_reports",
    )
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    contact = models.CharField(_("联系方式"), max_length=100, blank=True)
    kind = models.CharField(_("举报类型"), max_length=16, choices=Kind.choices)
    reason = models.TextField(_("举报理由"), max_length=1000)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    decision_note = models.TextField(_("处理说明"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("举报时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("商品举报")
        verbose_name_plural = _("商品举报")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "reporter"],
                condition=models.Q(status="open", reporter__isnull=False),
                name="one_open_report_per_user_product",
            ),
            models.UniqueConstraint(
                fields=["product", "session_key"],
                condition=models.Q(status="open", reporter__isnull=True)
                & ~models.Q(session_key=""),
                name="one_open_report_per_session_product",
            ),
        ]

    def __str__(self) -> str:
        return f"举报 #{self.pk} ({self.get_kind_display()})"


class ListingWithdrawal(models.Model):
    """Platform staff took a listing (a top-level product and its variants)
    out of the shop (平台下架). While ``restored_at`` is empty the
    cooperative cannot publish it again; staff restore it."""

    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.CASCADE, related_name="platform_withdrawals"
    )
    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.CASCADE, related_name="withdrawals"
    )
    reason = models.TextField(_("下架原因"))
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("下架时间"), default=timezone.now)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restored_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    restore_note = models.TextField(_("恢复说明"), blank=True)

    class Meta:
        ordering = ["-withdrawn_at", "-pk"]
        verbose_name = _("平台下架")
        verbose_name_plural = _("平台下架")
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(restored_at__isnull=True),
                name="one_active_withdrawal_per_product",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} 平台下架"

    @property
    def is_active(self) -> bool:
        return self.restored_at is None
