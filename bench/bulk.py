"""Bulk-insert helpers shared by the benchmark data builders (bench/dataset.py,
bench/station_portal.py).

Import after ``django.setup()``. Everything here writes with ``bulk_create``
in batches: no per-row ``save()``, no signals.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.utils import timezone

from stations import residents
from stations.models import AuditEvent, Resident

CENT = Decimal("0.01")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "秀英",
    "桂兰",
    "德福",
    "建国",
    "玉兰",
    "志强",
    "淑珍",
    "春生",
    "凤英",
    "国庆",
    "海燕",
    "长顺",
]


@contextlib.contextmanager
def explicit_timestamps(*models):
    """Let bulk inserts keep the created_at values they carry (auto_now_add
    would stamp them all with now)."""
    changed = []
    for model in models:
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
                changed.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in changed:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


@lru_cache(maxsize=8)
def hashed_password(password: str) -> str:
    """One hash for every benchmark account with ``password``: hashing is
    deliberately slow, so it is done once and the hash reused."""
    return make_password(password)


def make_residents(
    station,
    staff,
    count: int,
    rng: random.Random,
    start: dt.datetime,
    *,
    span_days: int = 730,
    username: str = "bench-{station}-{i:05d}",
) -> list[Resident]:
    """``count`` residents of ``station`` registered by ``staff`` from
    ``start`` over half of ``span_days``, each with the User row registration
    makes (no usable password) and the audit event it writes."""
    User = get_user_model()
    villages = [code for code, _name in residents.village_choices(station)][:6]
    statement = residents.consent_statement()
    phones: set[str] = set()
    users, people = [], []
    for i in range(count):
        name = person_name(rng)
        phone = ""
        if rng.random() < 0.8:
            while not phone or phone in phones:
                phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
            phones.add(phone)
        home = rng.random() < 0.15
        users.append(
            User(
                username=username.format(station=station.pk, i=i),
                first_name=name,
                password="!bench",
                is_active=True,
            )
        )
        created = start + dt.timedelta(seconds=rng.randrange(span_days * 86400 // 2))
        people.append(
            Resident(
                station=station,
                name=name,
                phone=phone,
                village_id=rng.choice(villages),
                address_detail=f"{rng.randrange(1, 12)}排{rng.randrange(1, 20)}号" if home else "",
                delivery_preference=Resident.Delivery.HOME if home else Resident.Delivery.STATION,
                consent_at=created,
                consent_recorded_by=staff,
                consent_statement=statement,
                created_at=created,
            )
        )
    User.objects.bulk_create(users, batch_size=1000)
    for user, person in zip(users, people, strict=True):
        person.user = user
    with explicit_timestamps(Resident, AuditEvent):
        Resident.objects.bulk_create(people, batch_size=1000)
        AuditEvent.objects.bulk_create(
            (
                AuditEvent(
                    station=station,
                    resident=r,
                    actor=staff,
                    action=AuditEvent.Action.RESIDENT_CREATED,
                    detail={
                        "village": r.village_id,
                        "delivery": r.delivery_preference,
                        "has_phone": bool(r.phone),
                    },
                    created_at=r.created_at,
                )
                for r in people
            ),
            batch_size=2000,
        )
    return people


# Field types whose Python values psycopg writes as they are; anything else
# (JSON, phone numbers …) goes through the field's own preparation.
_PLAIN_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.DecimalField,
    models.ForeignKey,
    models.IntegerField,
    models.TextField,
)


def copy_insert(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (attname → value; every row with the keys of the first)
    into ``model``'s table with COPY and return their new primary keys,
    taken from the table's sequence first. Fields a row leaves out get their
    default; auto_now(_add) fields left out get now. No model instances and
    no signals: for the hundred-thousand-row tables."""
    if not rows:
        return []
    meta = model._meta
    pk = meta.pk
    given = set(rows[0])
    now = timezone.now()
    fields, defaults, prepare = [], [], []
    for field in meta.concrete_fields:
        if field is pk:
            continue
        fields.append(field)
        if field.attname in given:
            defaults.append(None)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults.append(now)
        else:
            defaults.append(field.get_default())
        prepare.append(not isinstance(field, _PLAIN_FIELDS))
    columns = ", ".join(
        connection.ops.quote_name(c) for c in [pk.column] + [f.column for f in fields]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        table = connection.ops.quote_name(meta.db_table)
        attnames = [field.attname for field in fields]
        prepared = [
            (i, field) for i, (field, prep) in enumerate(zip(fields, prepare, strict=True)) if prep
        ]
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk_value, row in zip(ids, rows, strict=True):
                values = [row.get(a, d) for a, d in zip(attnames, defaults, strict=True)]
                for i, field in prepared:
                    if values[i] is not None:
                        values[i] = field.get_db_prep_save(values[i], connection)
                copy.write_row([pk_value, *values])
    return ids
