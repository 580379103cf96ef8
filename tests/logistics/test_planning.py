"""Splitting baskets and orders into priced shipments (logistics/planning.py):
one per cooperative and temperature class, weights from the products (or
the fallback weight, said so), and plain-language problems when something
cannot be shipped. Carriers: tests.factories.carriers() (测试快递 nationwide
¥12 + ¥2/kg; 测试冷链 Tianjin and Beijing ¥20 + ¥5/kg + ¥8)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from logistics import planning
from logistics.models import Carrier
from tests import factories
from tests.logistics.builders import (
    CRAB_COOP,
    DESTINATION,
    GUANGZHOU_PLACE,
    RADISH_COOP,
    goods,
    place,
)

pytestmark = pytest.mark.django_db

GUANGZHOU = "440106001"  # 广东省广州市天河区五山街道


@pytest.fixture
def coops(carriers):
    return factories.partner(RADISH_COOP), factories.partner(CRAB_COOP)


def summary(plan):
    return [
        (s.partner_name, s.temperature, s.weight_g, s.rate.carrier.code, s.rate.cost)
        for s in plan.shipments
    ]


def test_two_cooperatives_make_two_shipments(coops):
    radish_coop, crab_coop = coops
    radish = goods("沙窝萝卜", radish_coop, weight_g=2500)
    rice = goods("小站稻", crab_coop, weight_g=5000)
    basket = factories.basket((radish, 2), (rice, 1))

    plan = planning.plan_basket(basket, DESTINATION)

    assert plan.ok and plan.problems == []
    # Sorted by cooperative name (宁河 before 西青).
    assert summary(plan) == [
        (CRAB_COOP, "ambient", 5000, "test-express", Decimal("20.00")),
        (RADISH_COOP, "ambient", 5000, "test-express", Decimal("20.00")),
    ]
    assert [[line.product for line in s.lines] for s in plan.shipments] == [[rice], [radish]]
    assert plan.total == Decimal("40.00")


def test_one_cooperative_with_chilled_and_ambient_goods_makes_two_shipments(coops):
    _radish_coop, crab_coop = coops
    crab = goods("七里海河蟹", crab_coop, weight_g=1500, storage="chilled")
    rice = goods("小站稻", crab_coop, weight_g=5000)
    basket = factories.basket((crab, 1), (rice, 1))

    plan = planning.plan_basket(basket, DESTINATION)

    assert plan.ok
    assert summary(plan) == [
        (CRAB_COOP, "ambient", 5000, "test-express", Decimal("20.00")),
        (CRAB_COOP, "chilled", 1500, "test-cold", Decimal("33.00")),
    ]
    chilled = plan.shipments[1]
    assert chilled.rate.service == "cold_chain"
    assert plan.total == Decimal("53.00")


def test_frozen_and_chilled_goods_of_one_cooperative_travel_apart(coops):
    _radish_coop, crab_coop = coops
    crab = goods("七里海河蟹", crab_coop, weight_g=1500, storage="chilled")
    dumplings = goods("速冻水饺", crab_coop, weight_g=1000, storage="frozen")
    plan = planning.plan_basket(factories.basket((crab, 1), (dumplings, 1)), DESTINATION)
    assert [(s.temperature, s.rate.carrier.code) for s in plan.shipments] == [
        ("chilled", "test-cold"),
        ("frozen", "test-cold"),
    ]


def test_weights_are_summed_per_line_quantity(coops):
    radish_coop, _crab_coop = coops
    radish = goods("沙窝萝卜", radish_coop, weight_g=2500)
    grapes = goods("茶淀玫瑰香葡萄", radish_coop, weight_g=800)
    plan = planning.plan_basket(factories.basket((radish, 3), (grapes, 2)), DESTINATION)

    [shipment] = plan.shipments
    assert shipment.weight_g == 3 * 2500 + 2 * 800 == 9100
    assert shipment.missing_weight == [] and not shipment.weight_estimated
    # 12 for the first kg, 9 started kilos more at 2.
    assert shipment.cost == Decimal("30.00")


def test_product_without_weight_uses_the_fallback_and_is_named(coops, settings):
    settings.WANGNONG_FALLBACK_WEIGHT_G = 700
    radish_coop, _crab_coop = coops
    radish = goods("沙窝萝卜", radish_coop, weight_g=2500)
    mystery = goods("农家土鸡蛋", radish_coop, weight_g=None)
    plan = planning.plan_basket(factories.basket((radish, 1), (mystery, 3)), DESTINATION)

    [shipment] = plan.shipments
    assert shipment.weight_g == 2500 + 3 * 700
    assert shipment.missing_weight == ["农家土鸡蛋"]
    assert shipment.weight_estimated
    assert plan.ok  # an estimated weight does not stop the sale

    settings.WANGNONG_FALLBACK_WEIGHT_G = 1500
    again = planning.plan_basket(factories.basket((mystery, 3)), DESTINATION)
    assert again.shipments[0].weight_g == 4500


def test_no_division_is_a_problem(coops):
    radish_coop, _crab_coop = coops
    radish = goods("沙窝萝卜", radish_coop, weight_g=2500)
    for code in (None, ""):
        plan = planning.plan_basket(factories.basket((radish, 1)), code)
        assert not plan.ok
        assert plan.problems == ["请选择收货地址所在的省、市、区县，才能计算运费。"]
        assert all(s.rate is None for s in plan.shipments)


def test_chilled_goods_to_an_uncovered_region_are_refused_by_name_and_place(coops):
    radish_coop, crab_coop = coops
    radish = goods("沙窝萝卜", radish_coop, weight_g=2500)
    crab = goods("七里海河蟹", crab_coop, weight_g=1500, storage="chilled")
    roe = goods("河蟹黄", crab_coop, weight_g=200, storage="chilled")
    basket = factories.basket((radish, 1), (crab, 2), (roe, 1))

    plan = planning.plan_basket(basket, GUANGZHOU)

    assert not plan.ok
    assert plan.problems == [
        f"“七里海河蟹、河蟹黄”需要冷藏配送，目前没有冷链承运商能送到{GUANGZHOU_PLACE}。"
        "请从购物篮删除这些商品，或换一个收货地址。"
    ]
    # The radish alone could go: the express carrier serves Guangdong.
    by_temperature = {s.temperature: s for s in plan.shipments}
    assert by_temperature["ambient"].rate.carrier.code == "test-express"
    assert by_temperature["chilled"].rate is None
    # Without the chilled goods the same basket ships.
    assert planning.plan_basket(factories.basket((radish, 1)), GUANGZHOU).ok


def test_ambient_goods_no_carrier_serves_name_the_cooperative(coops):
    radish_coop, _crab_coop = coops
    radish = goods("沙窝萝卜", radish_coop, weight_g=2500)
    Carrier.objects.filter(code="test-express").update(is_active=False)
    plan = planning.plan_basket(factories.basket((radish, 1)), GUANGZHOU)
    assert plan.problems == [
        f"目前没有承运商能把{RADISH_COOP}的“沙窝萝卜”送到{GUANGZHOU_PLACE}。请换一个收货地址。"
    ]


def test_variants_inherit_weight_and_storage_class_from_their_parent(coops):
    _radish_coop, crab_coop = coops
    parent = factories.parent_product(
        "七里海河蟹礼盒",
        [("4只装", "128.00", 10), ("8只装", "238.00", 10)],
        partner_obj=crab_coop,
        net_weight_g=1200,
        storage_class="chilled",
    )
    four, eight = parent.children.order_by("pk")
    eight.net_weight_g = 2300  # a variant's own weight wins
    eight.save()

    plan = planning.plan_basket(factories.basket((four, 2), (eight, 1)), DESTINATION)

    [shipment] = plan.shipments
    assert shipment.temperature == "chilled"
    assert shipment.rate.carrier.code == "test-cold"
    assert shipment.weight_g == 2 * 1200 + 2300
    assert shipment.missing_weight == []
    # 20 + 4 started kilos × 5 + 8 surcharge
    assert shipment.cost == Decimal("48.00")


def test_order_plan_matches_the_basket_plan_and_skips_cancelled_lines(coops):
    radish_coop, crab_coop = coops
    radish = goods("沙窝萝卜", radish_coop, weight_g=2500)
    crab = goods("七里海河蟹", crab_coop, weight_g=1500, storage="chilled")
    basket_plan = planning.plan_basket(factories.basket((radish, 2), (crab, 1)), DESTINATION)

    order = place([(radish, 2), (crab, 1)])
    order_plan = planning.plan_order(order)

    assert summary(order_plan) == summary(basket_plan)
    assert order.shipping_incl_tax == basket_plan.total == Decimal("53.00")

    order.lines.filter(product=crab).update(status="cancelled")
    assert summary(planning.plan_order(order)) == [
        (RADISH_COOP, "ambient", 5000, "test-express", Decimal("20.00"))
    ]
