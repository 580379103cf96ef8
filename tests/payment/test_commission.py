"""Commission rates per cooperative and per category (shop/payment/commission.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shop.payment.commission import commission_fen, rate_for
from shop.payment.models import CommissionRule
from tests import factories


@pytest.fixture
def setting(settings):
    settings.WANGNONG_COMMISSION_RATE = "5"


@pytest.fixture
def shop_rules(db, setting):
    fruit = factories.category("水果")
    grapes = factories.category("葡萄", parent=fruit)
    veg = factories.category("蔬菜")
    coop_a, coop_b = factories.partner("合作社甲"), factories.partner("合作社乙")
    product_class = factories.product_class("农产品")

    def product(title, partner, category):
        item = factories.product(title, partner_obj=partner, product_class_obj=product_class)
        item.categories.add(category)
        return item

    return {
        "fruit": fruit,
        "grapes": grapes,
        "veg": veg,
        "coop_a": coop_a,
        "coop_b": coop_b,
        "rose_grapes": product("玫瑰香葡萄", coop_a, grapes),
        "radish": product("沙窝萝卜", coop_a, veg),
        "b_grapes": product("巨峰葡萄", coop_b, grapes),
    }


def test_without_rules_the_default_applies(shop_rules):
    assert rate_for(shop_rules["coop_a"].pk, shop_rules["radish"]) == Decimal("5")


def test_the_most_specific_rule_wins(shop_rules):
    s = shop_rules
    CommissionRule.objects.create(category=s["fruit"], rate=Decimal("8"))
    assert rate_for(s["coop_a"].pk, s["rose_grapes"]) == Decimal("8")  # a subcategory
    CommissionRule.objects.create(category=s["grapes"], rate=Decimal("6"))
    assert rate_for(s["coop_a"].pk, s["rose_grapes"]) == Decimal("6")  # deeper category
    CommissionRule.objects.create(partner=s["coop_a"], rate=Decimal("3"))
    assert rate_for(s["coop_a"].pk, s["rose_grapes"]) == Decimal("3")  # the cooperative's
    assert rate_for(s["coop_a"].pk, s["radish"]) == Decimal("3")
    CommissionRule.objects.create(partner=s["coop_a"], category=s["fruit"], rate=Decimal("2.5"))
    assert rate_for(s["coop_a"].pk, s["rose_grapes"]) == Decimal("2.5")  # both
    assert rate_for(s["coop_a"].pk, s["radish"]) == Decimal("3")
    # Another cooperative's rules are not this one's.
    assert rate_for(s["coop_b"].pk, s["b_grapes"]) == Decimal("6")


def test_a_rule_is_set_once_and_must_name_a_cooperative_or_category(shop_rules):
    CommissionRule.objects.create(category=shop_rules["veg"], rate=Decimal("4"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionRule.objects.create(category=shop_rules["veg"], rate=Decimal("7"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionRule.objects.create(rate=Decimal("7"))


@pytest.mark.parametrize(
    ("fen", "rate", "expected"),
    [(10000, "5", 500), (999, "5", 50), (990, "5", 50), (989, "5", 49), (12345, "2.5", 309)],
)
def test_commission_is_rounded_half_up_to_the_fen(fen, rate, expected):
    assert commission_fen(fen, Decimal(rate)) == expected


def test_commission_takes_fen_only():
    with pytest.raises(TypeError):
        commission_fen(Decimal("10.00"), Decimal("5"))
