"""stations.residents: registering residents (consent, phone formats, one
phone per station), editing them, finding them, and showing the full phone
number only on purpose (audit-logged)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from stations import residents
from stations.models import AuditEvent, Resident
from tests.stations.conftest import VILLAGE_A, VILLAGE_A2, VILLAGE_B, make_resident, staff_of

pytestmark = pytest.mark.django_db

User = get_user_model()


def data(name="张德福", phone="", village=VILLAGE_A, **fields) -> residents.ResidentData:
    return residents.ResidentData(name=name, village_code=village, phone=phone, **fields)


def register(station, *args, consent=True, **kwargs) -> Resident:
    return residents.register_resident(
        station, staff_of(station), data(*args, **kwargs), consent_given=consent
    )


def counts() -> tuple[int, int, int]:
    return Resident.objects.count(), User.objects.count(), AuditEvent.objects.count()


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# --- Registering ----------------------------------------------------------------------


def test_registering_keeps_the_consent_and_makes_a_passwordless_user(station_a):
    staff = staff_of(station_a)
    resident = register(station_a, "  张  德福 ", phone="13811112222")
    resident.refresh_from_db()
    assert resident.name == "张 德福"
    assert resident.station == station_a
    assert resident.phone == "13811112222"
    assert resident.consent_recorded_by == staff
    assert resident.consent_at is not None
    assert resident.consent_statement == residents.consent_statement()
    assert "仅用于为您代购商品" in resident.consent_statement
    assert not resident.user.has_usable_password()
    assert resident.user.first_name == "张 德福"
    event = AuditEvent.objects.get(resident=resident)
    assert event.action == AuditEvent.Action.RESIDENT_CREATED
    assert event.actor == staff
    assert event.station == station_a
    assert event.detail["has_phone"] is True


def test_consent_missing_registers_nothing(station_a):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        register(station_a, phone="13811112222", consent=False)
    assert "consent" in errors_of(exc)
    assert "同意" in errors_of(exc)["consent"][0]
    assert counts() == before


@pytest.mark.parametrize(
    "typed",
    [
        "+86 138 1111 2222",
        "+8613811112222",
        "0086-138-1111-2222",
        "8613811112222",
        "138 1111 2222",
        "(138) 1111-2222",
        "１３８１１１１２２２２",  # full-width digits
        "＋８６ １３８１１１１２２２２",
    ],
)
def test_phone_formats_are_normalised(station_a, typed):
    resident = register(station_a, phone=typed)
    resident.refresh_from_db()
    assert resident.phone == "13811112222"


@pytest.mark.parametrize(
    "typed",
    ["12345", "1381111222", "138111122223", "23811112222", "abc", "电话号码", "022-27391234"],
)
def test_garbage_phones_are_refused_and_nothing_is_registered(station_a, typed):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        register(station_a, phone=typed)
    assert "手机号格式不对" in errors_of(exc)["phone"][0]
    assert counts() == before


def test_no_phone_is_allowed_and_several_residents_may_have_none(station_a):
    first = register(station_a, "赵大爷", phone="")
    second = register(station_a, "钱大娘", phone="   ")
    assert first.phone == second.phone == ""
    event = AuditEvent.objects.get(resident=second)
    assert event.detail["has_phone"] is False


def test_same_phone_at_this_station_is_refused_naming_the_resident(station_a):
    register(station_a, "王秀英", phone="13811112222")
    before = counts()
    with pytest.raises(ValidationError) as exc:
        # Typed differently, the same number.
        register(station_a, "王秀", phone="+86 138 1111 2222")
    message = errors_of(exc)["phone"][0]
    assert "王秀英" in message
    assert "已登记" in message
    assert counts() == before


def test_same_phone_at_another_station_is_allowed(station_a, station_b):
    a = register(station_a, "王秀英", phone="13811112222")
    b = register(station_b, "王秀英", phone="13811112222", village=VILLAGE_B)
    assert a.phone == b.phone == "13811112222"
    assert a.user_id != b.user_id
    assert {a.station_id, b.station_id} == {station_a.pk, station_b.pk}


def test_the_database_holds_one_phone_per_station(station_a):
    """Two registrations racing past the check: the constraint wins and the
    loser gets the same kind of message, with nothing half-created."""
    from django.db import IntegrityError, transaction

    first = register(station_a, "王秀英", phone="13811112222")
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.create(
            station=station_a,
            user=User.objects.create_user("racer"),
            name="抢先者",
            phone="13811112222",
            village_id=VILLAGE_A,
            consent_at=first.consent_at,
            consent_recorded_by=staff_of(station_a),
            consent_statement="x",
        )


def test_register_race_gives_a_phone_message(station_a, monkeypatch):
    first = register(station_a, "王秀英", phone="13811112222")
    # Pretend the check ran before the other registration committed.
    check = residents._clean
    monkeypatch.setattr(
        residents,
        "_clean",
        lambda station, d, exclude_pk=None: check(station, d, exclude_pk=first.pk),
    )
    before = counts()
    with pytest.raises(ValidationError) as exc:
        register(station_a, "王秀", phone="13811112222")
    assert "已登记为本站居民" in errors_of(exc)["phone"][0]
    assert counts() == before


@pytest.mark.parametrize(
    "fields, key",
    [
        ({"name": "   "}, "name"),
        ({"village": VILLAGE_B}, "village_code"),  # not in the station's town
        ({"village": "120111102"}, "village_code"),  # a town, not a village
        ({"delivery_preference": "drone"}, "delivery_preference"),
        ({"delivery_preference": Resident.Delivery.HOME, "address_detail": " "}, "address_detail"),
    ],
)
def test_other_bad_inputs_are_refused_by_field(station_a, fields, key):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        register(station_a, **fields)
    assert key in errors_of(exc)
    assert counts() == before


def test_resident_of_a_neighbouring_village_in_the_same_town(station_a):
    resident = register(station_a, village=VILLAGE_A2)
    assert resident.village_id == VILLAGE_A2
    codes = [code for code, _name in residents.village_choices(station_a)]
    assert codes[0] == VILLAGE_A  # the station's own village first
    assert VILLAGE_A2 in codes
    assert VILLAGE_B not in codes


# --- Editing ----------------------------------------------------------------------------


def test_update_records_which_fields_changed(station_a):
    staff = staff_of(station_a)
    resident = register(station_a, "张德福", phone="13811112222")
    residents.update_resident(
        resident,
        staff,
        data("张德福", phone="13811113333", address_detail="三排五号", delivery_preference="home"),
    )
    resident.refresh_from_db()
    assert resident.phone == "13811113333"
    assert resident.delivery_preference == Resident.Delivery.HOME
    event = AuditEvent.objects.filter(resident=resident).order_by("-pk").first()
    assert event.action == AuditEvent.Action.RESIDENT_UPDATED
    assert event.detail["fields"] == ["address_detail", "delivery_preference", "phone"]


def test_update_renames_the_oscar_user_too(station_a):
    resident = register(station_a, "张德福")
    residents.update_resident(resident, staff_of(station_a), data("张得福"))
    resident.user.refresh_from_db()
    assert resident.user.first_name == "张得福"


def test_update_without_changes_logs_nothing(station_a):
    resident = register(station_a, "张德福", phone="13811112222")
    before = AuditEvent.objects.count()
    residents.update_resident(resident, staff_of(station_a), data("张德福", phone="138 1111 2222"))
    assert AuditEvent.objects.count() == before


def test_update_to_another_residents_phone_is_refused(station_a):
    register(station_a, "王秀英", phone="13811112222")
    other = register(station_a, "张德福", phone="13811113333")
    with pytest.raises(ValidationError) as exc:
        residents.update_resident(other, staff_of(station_a), data("张德福", phone="13811112222"))
    assert "王秀英" in errors_of(exc)["phone"][0]
    other.refresh_from_db()
    assert other.phone == "13811113333"


# --- Finding and contact ------------------------------------------------------------------


def test_find_residents_by_name_and_phone_stays_in_the_station(station_a, station_b):
    wang = register(station_a, "王秀英", phone="13811112222")
    zhang = register(station_a, "张德福", phone="13911113333")
    register(station_b, "王秀兰", phone="13811112299", village=VILLAGE_B)

    assert list(residents.find_residents(station_a, "王秀")) == [wang]
    assert set(residents.find_residents(station_a, "1111")) == {wang, zhang}
    assert list(residents.find_residents(station_a, "2222")) == [wang]
    assert list(residents.find_residents(station_a, "+86 138 1111 2222")) == [wang]
    assert list(residents.find_residents(station_a, "１３９")) == []  # too short for a phone
    assert list(residents.find_residents(station_a, "")) == [zhang, wang]  # newest first
    assert list(residents.find_residents(station_b, "13811112222")) == []


def test_reveal_contact_is_audit_logged(station_a, resident_a):
    staff = staff_of(station_a)
    assert residents.masked_phone(resident_a) != resident_a.phone
    assert residents.masked_phone(resident_a) == "138****5678"
    assert residents.reveal_contact(resident_a, staff) == "13812345678"
    event = AuditEvent.objects.filter(resident=resident_a).order_by("-pk").first()
    assert event.action == AuditEvent.Action.CONTACT_VIEWED
    assert event.actor == staff


def test_make_resident_helper_gives_unique_phones(station_a):
    one, two = make_resident(station_a, "甲"), make_resident(station_a, "乙")
    assert one.phone != two.phone
