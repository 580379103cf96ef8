"""China's administrative divisions (National Bureau of Statistics codes).

The whole country down to towns (乡镇/街道), and Tianjin down to villages
(村委会/居委会). Addresses, product origins, cooperatives and village stations
all point at a Division by its code. A code's ancestors are its prefixes
(2, 4, 6, 9 and 12 digits), so walking up the tree needs no joins.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

# Length of a code at each level.
CODE_LENGTHS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


# How the NBS data names a villagers' committee (an administrative village):
# 3,422 names end 村委会, 108 村民委员会 and 2 （村委会） in Tianjin.
ADMINISTRATIVE_VILLAGE_SUFFIXES = ("村委会", "村民委员会", "（村委会）")


class Division(models.Model):
    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省")
        CITY = 2, _("市")
        COUNTY = 3, _("区县")
        TOWN = 4, _("乡镇/街道")
        VILLAGE = 5, _("村/社区")

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        indexes = [models.Index(fields=["parent", "code"], name="division_parent_code")]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes of this division and every level above it, top first."""
        return [self.code[: CODE_LENGTHS[lvl]] for lvl in range(1, self.level + 1)]

    @property
    def is_administrative_village(self) -> bool:
        """A villagers' committee (村委会, also written 村民委员会 or with the
        word in brackets), as opposed to an urban community (居委会)."""
        return self.level == self.Level.VILLAGE and self.name.endswith(
            ADMINISTRATIVE_VILLAGE_SUFFIXES
        )
