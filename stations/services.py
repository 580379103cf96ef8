"""Platform staff's changes to a station: its status (suspend / reactivate)
and its staff accounts.

Every change is written to the station's history, which is Django's admin
log (``LogEntry``: who, when, what), so the dashboard's station page and the
Django admin's history page show the same record.

Staff rules: one person works at one station (``StationStaff.user`` is
one-to-one, so a user who has ever worked at another station is refused and
needs a new account there); platform staff accounts (``is_staff``), residents'
accounts and disabled accounts cannot be station staff, so the roles stay
apart. A suspended station's staff keep their accounts: they may still sign
in and hand over parcels, but not order or take cash (stations/access.py,
stations/ordering.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stations.models import Resident, Station, StationStaff, staff_name

User = get_user_model()
Status = Station.Status


# --- History --------------------------------------------------------------------

# What the history says. Written in the site's language (Chinese) whatever
# language the staff member browses in: it is a record, read later by others.
STATION_CREATED = gettext_lazy("新建站点")
STATION_CHANGED = gettext_lazy("修改站点资料：%(fields)s")
SUSPENDED = gettext_lazy("暂停站点，原因：%(reason)s")
REACTIVATED = gettext_lazy("恢复运营")
REACTIVATED_WITH_NOTE = gettext_lazy("恢复运营，说明：%(reason)s")
STAFF_ADDED = gettext_lazy("添加工作人员 %(name)s（%(user)s）")
STAFF_REACTIVATED = gettext_lazy("重新启用工作人员 %(name)s（%(user)s）")
STAFF_DEACTIVATED = gettext_lazy("停用工作人员 %(name)s（%(user)s）")


def _text(message, **params) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % params if params else str(message)


def record_history(station: Station, by, message: str, *, flag: int = CHANGE) -> LogEntry:
    """One line in the station's history (the admin log)."""
    return LogEntry.objects.create(
        user_id=by.pk,
        content_type=ContentType.objects.get_for_model(Station),
        object_id=str(station.pk),
        object_repr=str(station)[:200],
        action_flag=flag,
        change_message=message,
    )


def history(station: Station) -> QuerySet:
    """The station's history, newest first."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Station), object_id=str(station.pk)
    ).select_related("user")


def station_created(station: Station, by) -> None:
    record_history(station, by, _text(STATION_CREATED), flag=ADDITION)


def station_changed(station: Station, by, fields: list[str]) -> None:
    """``fields``: the (lazy) labels of what changed."""
    if fields:
        with translation.override(settings.LANGUAGE_CODE):
            labels = "、".join(str(f) for f in fields)
        record_history(station, by, _text(STATION_CHANGED, fields=labels))


# --- Status ---------------------------------------------------------------------


def set_status(station: Station, status: str, reason: str, by) -> Station:
    """Suspend (a reason is required) or reactivate ``station``; records
    who did it, when and why. Raises ValidationError for an unknown status,
    a missing reason, or a station already in that status."""
    if status not in Status.values:
        raise ValidationError(_("未知的站点状态。"))
    reason = " ".join((reason or "").split())[:200]
    if status == Status.SUSPENDED and not reason:
        raise ValidationError({"reason": _("暂停站点必须填写原因。")})
    with transaction.atomic():
        # The same lock assisted ordering and the cash ledger take, so an
        # order being placed finishes before the suspension (or sees it).
        locked = Station.objects.select_for_update().get(pk=station.pk)
        if locked.status == status:
            raise ValidationError(
                _("站点已经是“%(status)s”状态。") % {"status": Status(status).label}
            )
        locked.status = status
        locked.status_reason = reason if status == Status.SUSPENDED else ""
        locked.save(update_fields=["status", "status_reason", "updated_at"])
        if status == Status.SUSPENDED:
            message = _text(SUSPENDED, reason=reason)
        elif reason:
            message = _text(REACTIVATED_WITH_NOTE, reason=reason)
        else:
            message = _text(REACTIVATED)
        record_history(locked, by, message)
    station.status, station.status_reason = locked.status, locked.status_reason
    station.updated_at = locked.updated_at
    return station


def last_status_change(station: Station) -> LogEntry | None:
    """The history entry of the station's latest suspension or reactivation."""
    suspended = _text(SUSPENDED, reason="")
    reactivated = _text(REACTIVATED)
    return (
        history(station)
        .filter(Q(change_message__startswith=suspended) | Q(change_message__startswith=reactivated))
        .first()
    )


# --- Staff ----------------------------------------------------------------------


def refusal(user, station: Station) -> str | None:
    """Why ``user`` cannot work at ``station`` (None if they can). An
    inactive record at ``station`` itself is no refusal: it is reactivated."""
    if not user.is_active:
        return _("账号“%(user)s”已被停用，不能作为站点工作人员。") % {"user": user.get_username()}
    if user.is_staff or user.is_superuser:
        return _(
            "“%(user)s”是平台工作人员账号，不能兼任站点工作人员：两种角色的权限要分开。"
            "请为这位同事另建一个站点账号。"
        ) % {"user": user.get_username()}
    if Resident.objects.filter(user=user).exists():
        return _("“%(user)s”是居民账号，不能作为站点工作人员。") % {"user": user.get_username()}
    other = (
        StationStaff.objects.filter(user=user).exclude(station=station).select_related("station")
    )
    other = other.first()
    if other is not None:
        if other.is_active:
            return _(
                "“%(user)s”已是“%(station)s”的工作人员。一个人只能在一个站点工作；"
                "如需调到本站，请先在原站点停用，再为其新建一个账号。"
            ) % {"user": user.get_username(), "station": other.station}
        return _(
            "“%(user)s”曾是“%(station)s”的工作人员（已停用）。一个账号只对应一个站点，"
            "请为其新建一个账号。"
        ) % {"user": user.get_username(), "station": other.station}
    return None


def add_staff(station: Station, user, by) -> StationStaff:
    """Make ``user`` a staff member of ``station`` (or reactivate their
    record there). Raises ValidationError with the reason it cannot."""
    with transaction.atomic():
        existing = StationStaff.objects.select_for_update().filter(user=user).first()
        reason = refusal(user, station)
        if reason:
            raise ValidationError(reason)
        if existing is not None:  # at this station (refusal() covers others)
            if existing.is_active:
                raise ValidationError(
                    _("“%(user)s”已经是本站的工作人员。") % {"user": user.get_username()}
                )
            existing.is_active = True
            existing.save(update_fields=["is_active"])
            record_history(station, by, _text(STAFF_REACTIVATED, **_names(user)))
            return existing
        try:
            with transaction.atomic():
                staff = StationStaff.objects.create(user=user, station=station, added_by=by)
        except IntegrityError as exc:  # added to another station a moment ago
            raise ValidationError(
                _("“%(user)s”刚被添加为另一个站点的工作人员。一个人只能在一个站点工作。")
                % {"user": user.get_username()}
            ) from exc
        record_history(station, by, _text(STAFF_ADDED, **_names(user)))
    return staff


def create_staff_account(
    station: Station, by, *, username: str, display_name: str, password: str, email: str
) -> StationStaff:
    """A new user account (signing in with ``email`` and ``password``) that
    works at ``station``. The caller has checked the values' format (the
    form does); clashes found here are raised by field."""
    username = username.strip()
    email = User.objects.normalize_email(email.strip())
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("用户名“%(u)s”已被使用。") % {"u": username}})
    if email and User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {
                "email": _("邮箱 %(e)s 已被其他账号使用；如是同一个人，请用“添加已有账号”。")
                % {"e": email}
            }
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=username,
                    email=email,
                    password=password,
                    first_name=" ".join(display_name.split())[:150],
                )
        except IntegrityError as exc:
            raise ValidationError(
                {"username": _("用户名“%(u)s”已被使用。") % {"u": username}}
            ) from exc
        return add_staff(station, user, by)


def find_user(identifier: str):
    """The account with this username, or else this e-mail address; None if
    there is none. An e-mail shared by several accounts is refused."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    user = User.objects.filter(username=identifier).first()
    if user is not None:
        return user
    if "@" in identifier:
        matches = list(User.objects.filter(email__iexact=identifier)[:2])
        if len(matches) > 1:
            raise ValidationError(_("有多个账号使用邮箱 %(e)s，请改填用户名。") % {"e": identifier})
        return matches[0] if matches else None
    return None


def deactivate_staff(staff: StationStaff, by) -> StationStaff:
    """Take ``staff`` off the station: they can no longer use the portal.
    The record stays (the audit log names them)."""
    with transaction.atomic():
        locked = (
            StationStaff.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=staff.pk)
        )
        if not locked.is_active:
            raise ValidationError(_("%(name)s（%(user)s）已经停用了。") % _names(locked.user))
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        record_history(locked.station, by, _text(STAFF_DEACTIVATED, **_names(locked.user)))
    staff.is_active = False
    return staff


def _names(user) -> dict[str, str]:
    return {"name": staff_name(user), "user": user.get_username()}
