"""Vocabulary for farm produce: units of sale, storage classes, certifications.

Kept apart from the models so forms, imports, logistics and templates share
one list.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    JIN = "jin", _("斤")
    KG = "kg", _("公斤")
    BOX = "box", _("箱")
    BAG = "bag", _("袋")
    CARTON = "carton", _("盒")


class StorageClass(models.TextChoices):
    """Temperature class; logistics splits shipments and picks carriers by it."""

    AMBIENT = "ambient", _("常温")
    CHILLED = "chilled", _("冷藏")
    FROZEN = "frozen", _("冷冻")


class Certification(models.TextChoices):
    GREEN_FOOD = "green_food", _("绿色食品")
    ORGANIC = "organic", _("有机产品")
    GEO_INDICATION = "geo_indication", _("农产品地理标志")
    POLLUTION_FREE = "pollution_free", _("无公害农产品")


def certification_labels(codes: list[str]) -> list[str]:
    """Human labels for stored certification codes, ignoring unknown ones."""
    labels = dict(Certification.choices)
    return [str(labels[c]) for c in codes if c in labels]
