"""Order numbers: YYMMDD then a 7-digit serial, never issued twice, even to
buyers checking out at the same moment on separate database connections."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.utils import timezone
from oscar.core.loading import get_class

from shop.order.utils import OrderNumberGenerator

NUMBER = re.compile(r"^(\d{6})(\d{7})$")


def test_the_checkout_uses_our_generator():
    assert get_class("order.utils", "OrderNumberGenerator") is OrderNumberGenerator


@pytest.mark.django_db
def test_format_is_date_then_seven_digits():
    number = OrderNumberGenerator().order_number()
    match = NUMBER.match(number)
    assert match, number
    assert match.group(1) == timezone.localdate().strftime("%y%m%d")
    assert int(match.group(2)) > 0


@pytest.mark.django_db
def test_unique_and_increasing_across_many_calls():
    generator = OrderNumberGenerator()
    numbers = [generator.order_number() for _ in range(300)]
    assert len(set(numbers)) == 300
    assert all(NUMBER.match(n) for n in numbers)
    serials = [int(n[6:]) for n in numbers]
    assert serials == sorted(serials)


@pytest.mark.django_db(transaction=True)
def test_unique_across_concurrent_connections():
    """20 threads, each on its own PostgreSQL connection and in its own
    transaction, take 25 numbers each at the same moment."""
    threads, per_thread = 20, 25
    barrier = threading.Barrier(threads)

    def take(_):
        from django.db import transaction

        try:
            barrier.wait(timeout=30)
            out = []
            for _i in range(per_thread):
                with transaction.atomic():
                    out.append(OrderNumberGenerator().order_number())
            return out
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(take, range(threads)))

    numbers = [n for batch in results for n in batch]
    assert len(numbers) == threads * per_thread
    assert len(set(numbers)) == len(numbers)
    assert all(NUMBER.match(n) for n in numbers)
