"""Oscar's catalogue, extended with the facts farm produce needs.

These are real columns rather than Oscar's EAV attributes because logistics
(weight, temperature class), search and listings read them for every product;
an attribute lookup per product per page is what makes a stock Oscar listing
slow. Child products (variants such as 5斤装/10斤装) carry their own unit and
weight and inherit the rest from their parent through the ``get_*`` methods.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from oscar.apps.catalogue.abstract_models import AbstractProduct

from shop.catalogue.produce import StorageClass, Unit, certification_labels


class Product(AbstractProduct):
    unit = models.CharField(_("销售单位"), max_length=16, choices=Unit.choices, blank=True)
    net_weight_g = models.PositiveIntegerField(
        _("净重（克）"), null=True, blank=True, help_text=_("每个销售单位的净重，运费按此计算。")
    )
    origin = models.ForeignKey(
        "divisions.Division",
        verbose_name=_("产地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("区、乡镇或村的行政区划代码。"),
    )
    harvest_date = models.DateField(_("采收/生产日期"), null=True, blank=True)
    shelf_life_days = models.PositiveIntegerField(_("保质期（天）"), null=True, blank=True)
    storage_class = models.CharField(
        _("储运温层"), max_length=16, choices=StorageClass.choices, blank=True
    )
    certifications = models.JSONField(_("认证"), default=list, blank=True)
    # Pre-sale (预售): sold now, shipped from ``presale_ships_on`` (e.g. fruit
    # still on the tree). Set on the top-level product; variants inherit it.
    is_presale = models.BooleanField(_("预售"), default=False)
    presale_ships_on = models.DateField(_("预计发货日期"), null=True, blank=True)

    class Meta(AbstractProduct.Meta):
        indexes = [
            # The catalogue's and categories' default order (shop/search/views.py)
            # over browsable products (shop/catalogue/listing.py): a page of 20
            # reads the first rows of this index instead of sorting them all.
            models.Index(
                fields=["-priority", "-date_created", "-id"],
                name="product_browsable_order",
                condition=Q(is_public=True, parent__isnull=True),
            ),
        ]

    def get_title(self) -> str:
        """A variant's full name, e.g. 沙窝萝卜（5斤装）, so basket and order
        lines say what was bought; ``title`` alone holds the variant label."""
        if self.is_child and self.parent_id:
            return f"{self.parent.title}（{self.title}）" if self.title else self.parent.title
        return self.title

    def _own_or_parent(self, field: str):
        value = getattr(self, field)
        if value in (None, "", []) and self.is_child and self.parent_id:
            return getattr(self.parent, field)
        return value

    def get_unit_display_label(self) -> str:
        unit = self._own_or_parent("unit")
        return str(Unit(unit).label) if unit else ""

    def get_net_weight_g(self) -> int | None:
        return self._own_or_parent("net_weight_g")

    def get_origin(self):
        return self._own_or_parent("origin")

    def get_harvest_date(self):
        return self._own_or_parent("harvest_date")

    def get_shelf_life_days(self) -> int | None:
        return self._own_or_parent("shelf_life_days")

    def get_storage_class(self) -> str:
        return self._own_or_parent("storage_class") or StorageClass.AMBIENT

    def get_storage_class_label(self) -> str:
        return str(StorageClass(self.get_storage_class()).label)

    def get_is_presale(self) -> bool:
        return bool(self.parent.is_presale if self.is_child and self.parent_id else self.is_presale)

    def get_presale_ships_on(self):
        if self.is_child and self.parent_id:
            return self.parent.presale_ships_on
        return self.presale_ships_on

    def get_certification_labels(self) -> list[str]:
        return certification_labels(self._own_or_parent("certifications") or [])

    def is_review_permitted(self, user) -> bool:
        """Only a signed-in buyer who received this product, once (Oscar's
        review form checks this; shop/catalogue/reviews.py)."""
        from shop.catalogue.reviews import may_review

        return may_review(user, self)


from oscar.apps.catalogue.models import *  # noqa: E402,F403
