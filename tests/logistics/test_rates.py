"""Pricing parcels from carriers' rate cards (logistics/rates.py): first
weight and additional steps, the cold-chain surcharge, the most specific
service area, inactive carriers, cheapest first, and which services may
carry which goods."""

from __future__ import annotations

from decimal import Decimal

import pytest

from logistics import rates
from logistics.models import Carrier, RateZone, ServiceArea

pytestmark = pytest.mark.django_db

XIQING_VILLAGE = "120111102203"  # 天津市西青区辛口镇水高庄村
NINGHE_TOWN = "120117110"  # 天津市宁河区七里海镇
BEIJING_DISTRICT = "110101"  # 北京市东城区
GUANGZHOU_DISTRICT = "440106"  # 广东省广州市天河区


def carrier(code: str, name: str, services, *, surcharge="0.00", **fields) -> Carrier:
    return Carrier.objects.create(
        code=code,
        name=name,
        services=list(services),
        cold_chain_surcharge=Decimal(surcharge),
        **fields,
    )


def zone(carrier_obj, name, first, additional, *, first_g=1000, step_g=1000, areas=()):
    obj = RateZone.objects.create(
        carrier=carrier_obj,
        name=name,
        first_weight_g=first_g,
        first_price=Decimal(first),
        additional_weight_g=step_g,
        additional_price=Decimal(additional),
    )
    for code in areas:
        ServiceArea.objects.create(carrier=carrier_obj, zone=obj, division_id=code)
    return obj


# --- price() ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grams", "expected"),
    [
        (1, "12.00"),
        (1000, "12.00"),  # exactly the first weight
        (1001, "14.00"),  # one gram over starts a step
        (2000, "14.00"),
        (2001, "16.00"),
        (5000, "20.00"),
    ],
)
def test_price_first_weight_then_each_started_step(grams, expected):
    express = carrier("x", "快递", ["express"])
    card = zone(express, "全国", "12.00", "2.00")
    assert rates.price(card, grams, temperature="ambient", carrier=express) == Decimal(expected)


def test_price_with_other_step_sizes():
    express = carrier("x", "快递", ["express"])
    card = zone(express, "同城", "6.00", "1.50", first_g=500, step_g=300)
    # 1600 g: 500 g first, 1100 g more = 4 started steps of 300 g.
    assert rates.price(card, 1600, temperature="ambient", carrier=express) == Decimal("12.00")
    assert rates.price(card, 500, temperature="ambient", carrier=express) == Decimal("6.00")


@pytest.mark.parametrize(
    ("temperature", "expected"), [("ambient", "25.00"), ("chilled", "33.00"), ("frozen", "33.00")]
)
def test_cold_chain_surcharge_only_for_chilled_and_frozen(temperature, expected):
    cold = carrier("c", "冷链", ["cold_chain"], surcharge="8.00")
    card = zone(cold, "京津", "20.00", "5.00")
    assert rates.price(card, 1500, temperature=temperature, carrier=cold) == Decimal(expected)


# --- service areas ----------------------------------------------------------------


def test_most_specific_service_area_gives_the_zone():
    express = carrier("x", "快递", ["express"])
    province = zone(express, "天津", "15.00", "3.00", areas=["12"])
    city = zone(express, "天津市区", "11.00", "2.00", areas=["1201"])
    county = zone(express, "西青同城", "8.00", "1.00", areas=["120111"])

    assert rates.zones_for(XIQING_VILLAGE) == {express.pk: county}
    assert rates.zones_for(NINGHE_TOWN) == {express.pk: city}
    assert rates.zones_for("12") == {express.pk: province}
    assert rates.zones_for(GUANGZHOU_DISTRICT) == {}

    [rate] = rates.rates_for(XIQING_VILLAGE, 2500, "ambient")
    assert (rate.zone, rate.cost) == (county, Decimal("10.00"))
    [rate] = rates.rates_for(NINGHE_TOWN, 2500, "ambient")
    assert (rate.zone, rate.cost) == (city, Decimal("15.00"))


def test_county_zone_wins_even_when_dearer_than_the_province_zone():
    """Specific beats cheap: a remote county's surcharge zone is not undercut
    by the carrier's own province-wide price."""
    express = carrier("x", "快递", ["express"])
    zone(express, "天津", "10.00", "2.00", areas=["12"])
    remote = zone(express, "宁河偏远", "18.00", "4.00", areas=["120117"])
    [rate] = rates.rates_for(NINGHE_TOWN, 1000, "ambient")
    assert rate.zone == remote
    assert rate.cost == Decimal("18.00")


def test_carrier_not_serving_the_destination_is_not_offered():
    tianjin_only = carrier("tj", "天津同城", ["express"])
    zone(tianjin_only, "天津", "8.00", "1.00", areas=["12"])
    assert rates.rates_for(BEIJING_DISTRICT, 1000, "ambient") == []
    assert rates.rate_for_carrier(tianjin_only, BEIJING_DISTRICT, 1000, "ambient") is None
    assert rates.rate_for_carrier(tianjin_only, XIQING_VILLAGE, 1000, "ambient").cost == Decimal(
        "8.00"
    )


def test_inactive_carriers_are_ignored():
    cheap = carrier("cheap", "便宜快递", ["express"], is_active=False)
    zone(cheap, "全国", "5.00", "1.00", areas=["12"])
    dear = carrier("dear", "贵快递", ["express"])
    zone(dear, "全国", "12.00", "2.00", areas=["12"])

    assert cheap.pk not in rates.zones_for(XIQING_VILLAGE)
    assert [r.carrier for r in rates.rates_for(XIQING_VILLAGE, 1000, "ambient")] == [dear]
    assert rates.rate_for_carrier(cheap, XIQING_VILLAGE, 1000, "ambient") is None

    Carrier.objects.filter(pk=cheap.pk).update(is_active=True)
    assert [r.carrier.code for r in rates.rates_for(XIQING_VILLAGE, 1000, "ambient")] == [
        "cheap",
        "dear",
    ]


# --- choosing -----------------------------------------------------------------------


def test_cheapest_first():
    for code, name, first in [("b", "乙快递", "14.00"), ("a", "甲快递", "12.00")]:
        zone(carrier(code, name, ["express"]), "全国", first, "2.00", areas=["12"])
    postal = carrier("p", "邮政", ["postal"])
    zone(postal, "全国", "9.00", "4.00", areas=["12"])

    light = rates.rates_for(XIQING_VILLAGE, 1000, "ambient")
    assert [(r.carrier.code, r.cost) for r in light] == [
        ("p", Decimal("9.00")),
        ("a", Decimal("12.00")),
        ("b", Decimal("14.00")),
    ]
    # Heavier, the postal service's steep steps make it the dearest.
    heavy = rates.rates_for(XIQING_VILLAGE, 5000, "ambient")
    assert [(r.carrier.code, r.cost) for r in heavy] == [
        ("a", Decimal("20.00")),
        ("b", Decimal("22.00")),
        ("p", Decimal("25.00")),
    ]


def test_equal_prices_are_ordered_by_name_then_age_whatever_the_query_order():
    # Created in an order the database might as well return them in.
    for code, name in [("z3", "丙快递"), ("z2", "乙快递"), ("z1", "乙快递")]:
        zone(carrier(code, name, ["express"]), "全国", "12.00", "2.00", areas=["12"])
    # By name (丙 U+4E19 sorts before 乙 U+4E59), then the older carrier.
    expected = ["z3", "z2", "z1"]
    for _ in range(3):
        assert [r.carrier.code for r in rates.rates_for(XIQING_VILLAGE, 1000, "ambient")] == (
            expected
        )
    # A cheaper price still beats the name.
    RateZone.objects.filter(carrier__code="z1").update(first_price=Decimal("11.99"))
    assert [r.carrier.code for r in rates.rates_for(XIQING_VILLAGE, 1000, "ambient")] == [
        "z1",
        "z3",
        "z2",
    ]


@pytest.mark.parametrize("temperature", ["chilled", "frozen"])
def test_chilled_and_frozen_goods_need_a_cold_chain(temperature):
    express = carrier("x", "快递", ["express", "postal"])
    zone(express, "全国", "6.00", "1.00", areas=["12", "44"])
    cold = carrier("c", "冷链", ["cold_chain"], surcharge="8.00")
    zone(cold, "京津", "20.00", "5.00", areas=["12", "11"])

    [rate] = rates.rates_for(XIQING_VILLAGE, 1500, temperature)
    assert rate.carrier == cold
    assert rate.service == "cold_chain"
    assert rate.cost == Decimal("33.00")  # 20 + one step of 5 + 8 surcharge
    # Where no cold chain goes, chilled goods have no carrier at all (the
    # cheap express that serves Guangzhou may not carry them).
    assert rates.rates_for(GUANGZHOU_DISTRICT, 1500, temperature) == []
    assert rates.rate_for_carrier(express, XIQING_VILLAGE, 1500, temperature) is None


def test_ambient_goods_do_not_go_by_a_cold_chain_only_carrier():
    cold = carrier("c", "冷链", ["cold_chain"], surcharge="8.00")
    zone(cold, "京津", "3.00", "1.00", areas=["12"])
    assert rates.rates_for(XIQING_VILLAGE, 1000, "ambient") == []
    express = carrier("x", "快递", ["express"])
    zone(express, "全国", "12.00", "2.00", areas=["12"])
    assert [r.carrier for r in rates.rates_for(XIQING_VILLAGE, 1000, "ambient")] == [express]


def test_station_delivery_service_is_preferred_for_station_shipments():
    both = carrier("both", "快递兼送村", ["express", "station_delivery"])
    zone(both, "全国", "12.00", "2.00", areas=["12"])
    station_only = carrier("run", "送村专线", ["station_delivery"])
    zone(station_only, "天津", "7.00", "1.00", areas=["12"])

    home = rates.rates_for(XIQING_VILLAGE, 1000, "ambient")
    assert [(r.carrier.code, r.service) for r in home] == [("both", "express")]

    station = rates.rates_for(XIQING_VILLAGE, 1000, "ambient", to_station=True)
    assert [(r.carrier.code, r.service) for r in station] == [
        ("run", "station_delivery"),
        ("both", "station_delivery"),
    ]
    rate = rates.rate_for_carrier(both, XIQING_VILLAGE, 1000, "ambient", to_station=True)
    assert rate.service == "station_delivery"
    # Chilled goods to a station still need the cold chain.
    assert rates.rates_for(XIQING_VILLAGE, 1000, "chilled", to_station=True) == []
