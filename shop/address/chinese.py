"""What Chinese addresses add to Oscar's: the division the address lies in.

Oscar's address has free lines; a Chinese address is province → city →
county → town, then a detail line. The chosen town (or county) is stored as a
Division, and its names are copied into Oscar's lines so every Oscar screen
(dashboard, e-mails) shows a full address without knowing about divisions:
state = province, line4 = city, line3 = county, line2 = town, line1 = detail.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from divisions import services as divisions


class DivisionAddressMixin(models.Model):
    division = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("所在地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    # Large to small, as Chinese addresses are written; the name goes first.
    base_fields = hash_fields = ["salutation", "state", "line4", "line3", "line2", "line1"]

    class Meta:
        abstract = True

    @property
    def region_text(self) -> str:
        """Province, city, county and town joined, without 市辖区 placeholders."""
        parts = [self.state, self.line4, self.line3, self.line2]
        return " ".join(p for p in parts if p and p not in ("市辖区", "县"))


def copy_division_names(address, code: str) -> None:
    """Store ``code`` on ``address`` and copy its province, city, county and
    town names into Oscar's lines (a village's own name belongs in line1)."""
    codes = divisions.ancestor_codes(code)
    names = [divisions.get_name(c) or "" for c in codes[:4]] + [""] * (4 - len(codes[:4]))
    province, city, county, town = names
    address.division_id = code
    address.state = province
    # A municipality's city level is the placeholder 市辖区: leave it out.
    address.line4 = "" if city in divisions.PLACEHOLDER_NAMES else city
    address.line3 = county
    address.line2 = town
