"""The local Stripe (shop/payment/stripe_simulator.py) for tests.

``stripe_sim``: a simulator of its own for one test, with the settings
(keys, ``STRIPE_API_BASE``) pointed at it, so ``stripe_client.client()`` —
the production path — talks to it. Events are kept (``sim.events()``);
set ``sim.webhook_url`` to have them POSTed, signed, to a live server, or
post them yourself: ``body, header = sim.signed(event)``.

``stripe_sim_session``: one simulator for the whole session (browser tests
point its ``webhook_url`` at the live server); ``stripe_sim_shared`` is that
simulator for one test, with the settings pointed at it and its faults and
webhook modes reset.
"""

from __future__ import annotations

import pytest

from shop.payment.stripe_simulator import StripeSimulator

SECRET_KEY = "sk_test_wangnong"
PUBLISHABLE_KEY = "pk_test_wangnong"
WEBHOOK_SECRET = "whsec_test_wangnong"


def new_simulator(webhook_url: str | None = None) -> StripeSimulator:
    return StripeSimulator(
        SECRET_KEY, WEBHOOK_SECRET, webhook_url, publishable_key=PUBLISHABLE_KEY
    ).start()


def point_settings_at(settings, sim: StripeSimulator) -> None:
    """Make pytest-django's ``settings`` use the simulator (undone after
    the test)."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = sim.base_url


@pytest.fixture
def stripe_sim(settings):
    sim = new_simulator()
    point_settings_at(settings, sim)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="session")
def stripe_sim_session():
    sim = new_simulator()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def stripe_sim_shared(stripe_sim_session, settings):
    sim = stripe_sim_session
    sim.reset_modes()
    point_settings_at(settings, sim)
    yield sim
    sim.reset_modes()
