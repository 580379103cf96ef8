"""Registering and finding residents, and showing their contact details.

A resident is registered with the least the station needs (name, village,
how they want parcels delivered; a mobile number only if they have one) and
only after they agreed to the station keeping these details: who recorded
the consent, when, and the statement read to them are kept with the record.
Lists show phone numbers masked; the full number is shown on purpose, one
resident at a time, and that is written to the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from divisions.forms import normalise_mobile
from divisions.models import Division
from privacy import access_log
from privacy.masking import mask_phone
from stations import audit
from stations.models import Resident, Station

User = get_user_model()

# Read to the resident before registering; the text recorded is the Chinese.
CONSENT_STATEMENT = gettext_lazy(
    "本站将保存您的姓名、所在村、收货方式和手机号（如有），仅用于为您代购商品、"
    "送货和通知取件，不会用于其他用途或提供给无关的人。您可以随时要求查看、更正或删除。"
)


@dataclass
class ResidentData:
    name: str
    village_code: str
    phone: str = ""
    address_detail: str = ""
    delivery_preference: str = Resident.Delivery.STATION


def consent_statement() -> str:
    with translation.override("zh-hans"):
        return str(CONSENT_STATEMENT)


def village_choices(station: Station) -> list[tuple[str, str]]:
    """Villages a station registers residents in: those of its own town,
    its own village first."""
    town = station.village_id[:9]
    villages = Division.objects.filter(parent_id=town).order_by("code")
    choices = [(v.code, v.name) for v in villages]
    choices.sort(key=lambda c: c[0] != station.village_id)
    return choices


def _clean(station: Station, data: ResidentData, *, exclude_pk: int | None = None) -> dict:
    errors: dict[str, str] = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = _("请填写居民姓名。")
    phone = ""
    if (data.phone or "").strip():
        phone = normalise_mobile(data.phone) or ""
        if not phone:
            errors["phone"] = _("手机号格式不对，请填写 11 位手机号；没有手机可以不填。")
        else:
            clash = Resident.objects.filter(station=station, phone=phone)
            if exclude_pk:
                clash = clash.exclude(pk=exclude_pk)
            existing = clash.first()
            if existing is not None:
                errors["phone"] = _("这个手机号已登记为居民“%(name)s”，请直接为其下单。") % {
                    "name": existing.name
                }
    if data.village_code not in {code for code, _name in village_choices(station)}:
        errors["village_code"] = _("请选择居民所在的村。")
    if data.delivery_preference not in Resident.Delivery.values:
        errors["delivery_preference"] = _("请选择收货方式。")
    if (
        data.delivery_preference == Resident.Delivery.HOME
        and not (data.address_detail or "").strip()
    ):
        errors["address_detail"] = _("送货上门需要填写门牌地址。")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "phone": phone,
        "village_id": data.village_code,
        "address_detail": (data.address_detail or "").strip(),
        "delivery_preference": data.delivery_preference,
    }


def register_resident(
    station: Station, staff_user, data: ResidentData, *, consent_given: bool
) -> Resident:
    """Register a resident at ``station``. Raises ValidationError (by field)
    for missing consent, a bad or already registered phone, and so on."""
    if not consent_given:
        raise ValidationError({"consent": _("请先向居民说明并取得同意，再登记。")})
    values = _clean(station, data)
    try:
        with transaction.atomic():
            user = User(
                username=f"resident-{uuid.uuid4().hex[:16]}", first_name=values["name"][:150]
            )
            user.set_unusable_password()
            user.save()
            resident = Resident.objects.create(
                station=station,
                user=user,
                consent_at=timezone.now(),
                consent_recorded_by=staff_user,
                consent_statement=consent_statement(),
                **values,
            )
            audit.record(
                station=station,
                actor=staff_user,
                action=audit.Action.RESIDENT_CREATED,
                resident=resident,
                village=values["village_id"],
                delivery=values["delivery_preference"],
                has_phone=bool(values["phone"]),
            )
    except IntegrityError as exc:
        # Two staff registering the same phone at once: the constraint wins.
        raise ValidationError({"phone": _("这个手机号已登记为本站居民，请直接为其下单。")}) from exc
    return resident


def update_resident(resident: Resident, staff_user, data: ResidentData) -> Resident:
    values = _clean(resident.station, data, exclude_pk=resident.pk)
    changed = [k for k, v in values.items() if getattr(resident, k) != v]
    if not changed:
        return resident
    with transaction.atomic():
        for key, value in values.items():
            setattr(resident, key, value)
        resident.save()
        if "name" in changed:
            User.objects.filter(pk=resident.user_id).update(first_name=values["name"][:150])
        audit.record(
            station=resident.station,
            actor=staff_user,
            action=audit.Action.RESIDENT_UPDATED,
            resident=resident,
            fields=sorted(f.removesuffix("_id") for f in changed),
        )
    return resident


def find_residents(station: Station, query: str) -> QuerySet:
    """Residents of ``station`` matching a name fragment or (part of) a
    phone number; all of them, newest first, for an empty query."""
    qs = Resident.objects.filter(station=station).select_related("village")
    query = " ".join((query or "").split())[:50]
    if not query:
        return qs.order_by("-created_at", "-pk")
    digits = "".join(ch for ch in query if ch.isdigit())
    condition = Q(name__icontains=query)
    if digits and len(digits) >= 4:
        full = normalise_mobile(query)
        condition |= Q(phone=full) if full else Q(phone__contains=digits)
    return qs.filter(condition).order_by("name", "pk")


def masked_phone(resident: Resident) -> str:
    return mask_phone(resident.phone)


def reveal_contact(resident: Resident, staff_user, request=None) -> str:
    """The resident's full phone number, for a staff member who needs it
    now; recorded in the station's audit log (an act on the resident's
    behalf) and in the platform's contact-access log (privacy/)."""
    audit.record(
        station=resident.station,
        actor=staff_user,
        action=audit.Action.CONTACT_VIEWED,
        resident=resident,
    )
    access_log.record(
        request,
        [access_log.Subject(user_id=resident.user_id, resident_id=resident.pk)],
        fields=[access_log.PHONE],
        view="station:resident-reveal",
        purpose="station",
        viewer=staff_user,
    )
    return resident.phone
