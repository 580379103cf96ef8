"""Members and roles (成员): a cooperative has managers (负责人) and members
(社员). Managers invite people by mobile number or e-mail, change roles and
remove people; members see who is in the cooperative.

An invitation is a link with a long random token, /coop/members/join/<token>/.
The manager sees it on screen; it is also sent by e-mail and/or SMS
(config.sms). The invited person signs in or registers (Oscar's
/accounts/login/), opens the link and presses 加入. An e-mail invitation can
only be accepted by an account with that e-mail address; links expire after
INVITATION_DAYS and can be revoked.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from config.sms import SMSError, send_sms
from cooperatives.models import Cooperative, Invitation, Membership
from cooperatives.portal.access import CooperativePortalMixin, ScopedObjectMixin
from shop.catalogue.templatetags.storefront_tags import LIST_SEPARATOR

logger = logging.getLogger(__name__)

INVITATION_DAYS = 7
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
Role = Membership.Role


# --- Rules ---------------------------------------------------------------------


def normalise_mobile(value: str) -> str:
    """A mainland mobile number as 11 digits ("+86 138-1234-5678" → "13812345678")."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def invitation_expires_at(invitation: Invitation):
    return invitation.created_at + timedelta(days=INVITATION_DAYS)


def invitation_is_usable(invitation: Invitation) -> bool:
    return invitation.is_open and timezone.now() < invitation_expires_at(invitation)


def _manager_count(cooperative: Cooperative) -> int:
    return cooperative.memberships.filter(role=Role.MANAGER).count()


def _lock(cooperative: Cooperative) -> None:
    """Serialise role changes of one cooperative (the last-manager rule)."""
    Cooperative.objects.select_for_update().filter(pk=cooperative.pk).first()


@transaction.atomic
def create_invitation(
    cooperative: Cooperative, *, by, phone: str = "", email: str = "", role: str = Role.MEMBER
) -> Invitation:
    """A new invitation (older open ones to the same phone or e-mail are
    revoked). Raises ValidationError if there is nobody to send it to."""
    phone = normalise_mobile(phone)
    email = (email or "").strip().lower()
    if not phone and not email:
        raise ValidationError(_("请填写对方的手机号或电子邮箱。"))
    if phone and not MOBILE_RE.match(phone):
        raise ValidationError({"phone": [_("手机号应为 11 位数字，如 13812345678。")]})
    if role not in Role.values:
        raise ValidationError({"role": [_("请选择角色。")]})
    if email and cooperative.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": [_("这个邮箱的用户已经是本社成员。")]})
    now = timezone.now()
    same = open_invitations(cooperative)
    if phone:
        same.filter(phone=phone).update(revoked_at=now)
    if email:
        same.filter(email__iexact=email).update(revoked_at=now)
    return Invitation.objects.create(
        cooperative=cooperative,
        role=role,
        phone=phone,
        email=email,
        token=secrets.token_urlsafe(32),
        invited_by=by,
    )


def open_invitations(cooperative: Cooperative):
    return cooperative.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)


def invitation_url(request: HttpRequest, invitation: Invitation) -> str:
    return request.build_absolute_uri(
        reverse("coop:member-join", kwargs={"token": invitation.token})
    )


def send_invitation(request: HttpRequest, invitation: Invitation) -> list[str]:
    """E-mail and/or text the link; returns the channels that failed."""
    url = invitation_url(request, invitation)
    coop = invitation.cooperative
    role = invitation.get_role_display()
    failed = []
    if invitation.email:
        subject = _("邀请您加入%(coop)s") % {"coop": coop}
        body = _(
            "%(coop)s 邀请您以“%(role)s”的身份加入网农合作社后台。\n\n"
            "请先登录或注册网农账号（使用本邮箱），再打开下面的链接接受邀请"
            "（%(days)s 天内有效）：\n%(url)s\n"
        ) % {"coop": coop, "role": role, "days": INVITATION_DAYS, "url": url}
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
        except Exception:  # noqa: BLE001 - any mail failure: the link is on screen
            logger.exception("invitation e-mail to %s failed", invitation.email)
            failed.append(_("邮件"))
    if invitation.phone:
        text = _("【网农】%(coop)s 邀请您加入合作社后台，登录网农后打开：%(url)s") % {
            "coop": coop,
            "url": url,
        }
        try:
            send_sms(invitation.phone, text)
        except (SMSError, Exception):  # noqa: BLE001 - any gateway failure: the link is on screen
            logger.exception("invitation SMS to %s failed", invitation.phone)
            failed.append(_("短信"))
    return failed


def invitation_problem(invitation: Invitation, user) -> str:
    """Why ``user`` cannot accept ``invitation`` ("" if they can)."""
    if invitation.revoked_at is not None:
        return _("这个邀请已被撤销，请联系合作社负责人重新邀请。")
    if invitation.accepted_at is not None:
        return _("这个邀请已经被使用过了。")
    if timezone.now() >= invitation_expires_at(invitation):
        return _("这个邀请已过期，请联系合作社负责人重新邀请。")
    if invitation.email and (user.email or "").strip().lower() != invitation.email.lower():
        return _("这个邀请是发给 %(email)s 的，请用该邮箱的账号登录后再打开链接。") % {
            "email": invitation.email
        }
    existing = Membership.objects.filter(user=user).select_related("cooperative").first()
    if existing is not None:
        if existing.cooperative_id == invitation.cooperative_id:
            return _("你已经是本社成员了。")
        return _("你已经是“%(coop)s”的成员，一个账号只能加入一个合作社。") % {
            "coop": existing.cooperative
        }
    return ""


@transaction.atomic
def accept_invitation(invitation: Invitation, user) -> Membership:
    """Make ``user`` a member; raises ValidationError with the reason if not."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    problem = invitation_problem(invitation, user)
    if problem:
        raise ValidationError(problem)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                cooperative=invitation.cooperative, user=user, role=invitation.role
            )
    except IntegrityError:  # joined another cooperative a moment ago
        raise ValidationError(_("你已经是另一个合作社的成员，一个账号只能加入一个合作社。"))
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def change_role(membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError(_("请选择角色。"))
    _lock(membership.cooperative)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.MANAGER and role != Role.MANAGER:
        if _manager_count(membership.cooperative) <= 1:
            raise ValidationError(_("合作社至少要有一位负责人：请先把另一位成员设为负责人。"))
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    _lock(membership.cooperative)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.MANAGER and _manager_count(membership.cooperative) <= 1:
        raise ValidationError(_("不能移出唯一的负责人：请先把另一位成员设为负责人。"))
    membership.delete()


def revoke_invitation(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def display_name(user) -> str:
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or user.email or user.get_username()


# --- Forms -----------------------------------------------------------------------


class InviteForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("手机号"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=gettext_lazy("会给这个号码发短信。"),
    )
    email = forms.EmailField(
        label=gettext_lazy("电子邮箱"),
        required=False,
        help_text=gettext_lazy("会给这个邮箱发邮件；对方须用这个邮箱的账号接受邀请。"),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("角色"),
        choices=Role.choices,
        initial=Role.MEMBER,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "社员可以管理商品和处理订单；负责人还可以修改合作社资料、成员和收款账户。"
        ),
    )

    def clean(self):
        data = super().clean()
        if not (data.get("phone") or "").strip() and not data.get("email") and not self.errors:
            raise ValidationError(_("请填写对方的手机号或电子邮箱（至少一项）。"))
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=Role.choices)


# --- Views -------------------------------------------------------------------------


def _members_context(view, **extra) -> dict:
    coop = view.cooperative
    is_manager = view.membership.is_manager
    memberships = list(coop.memberships.select_related("user").order_by("role", "created_at", "pk"))
    invitations = []
    if is_manager:
        for invitation in open_invitations(coop).order_by("-created_at"):
            invitations.append(
                {
                    "object": invitation,
                    "url": invitation_url(view.request, invitation),
                    "expires_at": invitation_expires_at(invitation),
                    "usable": invitation_is_usable(invitation),
                }
            )
    rows = [
        {
            "membership": m,
            "name": display_name(m.user),
            "is_self": m.user_id == view.request.user.pk,
            "role_form": RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}"),
        }
        for m in memberships
    ]
    return {
        "cooperative": coop,
        "membership": view.membership,
        "rows": rows,
        "invitations": invitations,
        "is_manager": is_manager,
        **extra,
    }


class MemberListView(CooperativePortalMixin, View):
    template_name = "cooperatives/portal/members.html"

    def get(self, request):
        return render(request, self.template_name, _members_context(self))


class MemberInviteView(CooperativePortalMixin, View):
    manager_required = True
    template_name = "cooperatives/portal/members_invite.html"

    def render(self, form):
        return render(
            self.request,
            self.template_name,
            {
                "cooperative": self.cooperative,
                "membership": self.membership,
                "form": form,
                "days": INVITATION_DAYS,
            },
        )

    def get(self, request):
        return self.render(InviteForm())

    def post(self, request):
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation = create_invitation(
                    self.cooperative,
                    by=request.user,
                    phone=form.cleaned_data["phone"],
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
        if form.errors:
            return self.render(form)
        failed = send_invitation(request, invitation)
        messages.success(
            request,
            _("已创建邀请（%(to)s）。请把下面“待接受的邀请”里的链接发给对方。")
            % {"to": invitation},
        )
        if failed:
            messages.warning(
                request,
                _("%(channels)s没有发出，请把链接直接发给对方。")
                % {"channels": str(LIST_SEPARATOR).join(str(c) for c in failed)},
            )
        return HttpResponseRedirect(reverse("coop:members") + f"#invitation-{invitation.pk}")


class MemberRoleView(CooperativePortalMixin, ScopedObjectMixin, View):
    manager_required = True

    def get_scoped_queryset(self):
        return self.cooperative.memberships.select_related("user", "cooperative")

    def post(self, request, pk):
        form = RoleForm(request.POST, prefix=f"m{pk}")
        if not form.is_valid():
            form = RoleForm(request.POST)  # also accept an unprefixed "role"
        if not form.is_valid():
            messages.error(request, _("请选择角色。"))
        else:
            try:
                change_role(self.object, form.cleaned_data["role"])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    _("%(name)s 现在是%(role)s。")
                    % {
                        "name": display_name(self.object.user),
                        "role": Role(form.cleaned_data["role"]).label,
                    },
                )
                if (
                    self.object.user_id == request.user.pk
                    and form.cleaned_data["role"] != Role.MANAGER
                ):
                    return HttpResponseRedirect(reverse("coop:members"))
        return HttpResponseRedirect(reverse("coop:members") + f"#member-{pk}")


class MemberRemoveView(CooperativePortalMixin, ScopedObjectMixin, View):
    manager_required = True

    def get_scoped_queryset(self):
        return self.cooperative.memberships.select_related("user", "cooperative")

    def post(self, request, pk):
        name = display_name(self.object.user)
        is_self = self.object.user_id == request.user.pk
        try:
            remove_member(self.object)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(reverse("coop:members"))
        if is_self:
            messages.success(request, _("你已退出%(coop)s。") % {"coop": self.cooperative})
            return HttpResponseRedirect("/")
        messages.success(request, _("已将 %(name)s 移出本社。") % {"name": name})
        return HttpResponseRedirect(reverse("coop:members"))


class InvitationRevokeView(CooperativePortalMixin, ScopedObjectMixin, View):
    manager_required = True

    def get_scoped_queryset(self):
        return self.cooperative.invitations.all()

    def post(self, request, pk):
        if self.object.accepted_at is not None:
            messages.error(request, _("这个邀请已被接受，不能撤销；如需要，请移出该成员。"))
        else:
            revoke_invitation(self.object)
            messages.success(request, _("已撤销对 %(to)s 的邀请。") % {"to": self.object})
        return HttpResponseRedirect(reverse("coop:members"))


class MemberJoinView(LoginRequiredMixin, View):
    """Not scoped to a membership: the invited person is not a member yet;
    the unguessable token is what grants access (see test_isolation.EXEMPT)."""

    template_name = "cooperatives/portal/members_join.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.invitation = get_object_or_404(
                Invitation.objects.select_related("cooperative"), token=kwargs["token"]
            )
        return super().dispatch(request, *args, **kwargs)

    def render(self, problem: str = ""):
        invitation = self.invitation
        problem = problem or invitation_problem(invitation, self.request.user)
        return render(
            self.request,
            self.template_name,
            {"invitation": invitation, "problem": problem, "days": INVITATION_DAYS},
        )

    def get(self, request, token):
        return self.render()

    def post(self, request, token):
        try:
            accept_invitation(self.invitation, request.user)
        except ValidationError as exc:
            return self.render(" ".join(exc.messages))
        messages.success(
            request,
            _("欢迎加入%(coop)s！") % {"coop": self.invitation.cooperative},
        )
        return HttpResponseRedirect(reverse("coop:home"))
