"""A buyer with an address book and orders delivered to a recognisable
address, so tests can look for every trace of them in the database."""

from __future__ import annotations

import pytest
from oscar.core.loading import get_model

from logistics import shipments as logistics_shipments
from shop.payment import accounting
from shop.payment.cash import cod_source
from tests.logistics import builders
from tests.payment import builders as payment_builders
from tests.payment.refund_orders import cooperatives, produce

User = get_model("auth", "User")
UserAddress = get_model("address", "UserAddress")
Source = get_model("payment", "Source")

NAME = "欧阳晓测"
PHONE_DIGITS = "13911112222"
EMAIL = "ouyang.privacy@example.com"
DETAIL = "幸福路 777 号 3 单元"
BOOK_DETAIL = "和平里 12 栋"
ADDRESS = {
    "last_name": NAME,
    "phone_number": "+86" + PHONE_DIGITS,
    "state": "天津市",
    "line3": "西青区",
    "line2": "辛口镇",
    "line1": DETAIL,
    "notes": "放门口的奶箱里",
    "division_id": "120111102203",
    "country_id": "CN",
}
PERSONAL = [NAME, "晓测", PHONE_DIGITS, EMAIL, DETAIL, BOOK_DETAIL, "放门口的奶箱里"]


@pytest.fixture
def shop(china, carriers):
    radish_coop, crab_coop = cooperatives()
    goods = produce(radish_coop, crab_coop)
    return {**goods, "radish_coop": radish_coop, "crab_coop": crab_coop}


@pytest.fixture
def buyer(china):
    user = User.objects.create_user("ouyang", EMAIL, "secret-pw-123", first_name="晓测")
    user.last_name = "欧阳"
    user.save()
    UserAddress.objects.create(
        user=user,
        last_name=NAME,
        phone_number="+86" + PHONE_DIGITS,
        state="天津市",
        line3="西青区",
        line2="辛口镇",
        line1=BOOK_DETAIL,
        division_id="120111102203",
        country_id="CN",
    )
    return user


def place(items, user, *, source: str = "cod"):
    """An order to ADDRESS with its shipments, payment source and sale entry."""
    order = builders.place(items, fields=ADDRESS, user=user)
    logistics_shipments.create_for_order(order)
    if source == "cod":
        src = cod_source(order.total_incl_tax, order.currency)
        src.order = order
        src.save()
    else:
        Source.objects.create(
            order=order,
            source_type=payment_builders.source_type("stripe-card"),
            currency=order.currency,
            amount_allocated=order.total_incl_tax,
        )
    accounting.record_sale(order)
    return order
