"""Locust users for `make bench` (bench/load.py runs this headless, one
scenario per run, in the separate venv .venv-bench: never imports Django).

The scenario comes from the environment:

- ``BENCH_SCENARIO``: ``pages`` (anonymous GETs of the URLs in
  ``BENCH_URLS``, a JSON list, named ``BENCH_NAME``), ``checkout`` (signed-in
  customers: basket and cash-on-delivery checkout), ``coop`` (cooperative
  managers: the portal product list at ``BENCH_URLS[0]``), ``station``
  (station staff: an assisted order for one of their residents).
- ``BENCH_ACCOUNTS``: JSON list of accounts (``login``, ``password``, and for
  station staff ``residents``); each simulated user takes the next one, so no
  two users share a basket. An account with a ``session`` (a session key the
  harness made for it) is signed in with that cookie; otherwise through
  Oscar's login form.
- ``BENCH_PRODUCTS``: JSON list of product page paths (checkout picks from it).
- ``BENCH_EXTRA_OUT``: where to write what locust's own CSV does not hold:
  page-cache hits, HTTP statuses, completed flows, failure samples.

Every user runs back to back (no think time): a closed loop like wrk's;
``BENCH_PACING`` (seconds) paces anonymous visitors instead, one page each
per interval, to see latency below saturation.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import Counter
from urllib.parse import urlsplit

from locust import FastHttpUser, constant, constant_pacing, events, task
from locust.exception import StopUser
from requests.cookies import create_cookie

SCENARIO = os.environ.get("BENCH_SCENARIO", "pages")
NAME = os.environ.get("BENCH_NAME", "page")
URLS: list[str] = json.loads(os.environ.get("BENCH_URLS", "[]"))
ACCOUNTS: list[dict] = json.loads(os.environ.get("BENCH_ACCOUNTS", "[]"))
PRODUCTS: list[str] = json.loads(os.environ.get("BENCH_PRODUCTS", "[]"))
EXTRA_OUT = os.environ.get("BENCH_EXTRA_OUT", "")
SESSION_COOKIE = os.environ.get("BENCH_SESSION_COOKIE", "sessionid")
# Seconds between one user's requests (0: back to back, saturating).
PACING = float(os.environ.get("BENCH_PACING", "0") or 0)

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BASKET_ADD_RE = re.compile(r'action="(/basket/add/\d+/)"')
CHILD_RE = re.compile(r'name="child_id" value="(\d+)"(?! disabled)')
ADDRESS_RE = re.compile(r'name="address_id" value="(\d+)"')
PRODUCT_ID_RE = re.compile(r'name="product_id" value="(\d+)"')
METHOD_RE = re.compile(r'name="method_code" value="([^"]+)"')

_account_numbers = itertools.count()
_random = random.Random(int(os.environ.get("BENCH_SEED", "1")))
cache_status: Counter = Counter()  # (name, hit|miss|none)
statuses: Counter = Counter()  # (name, status)
flows: Counter = Counter()  # completed / failed flows
failure_samples: list[str] = []


def note(name: str, response) -> None:
    statuses[f"{name} {response.status_code}"] += 1
    header = (response.headers or {}).get("X-Page-Cache") or "none"
    cache_status[f"{name} {header}"] += 1


def fail(response, why: str) -> None:
    text = f"{why}: {response.status_code} {response.url}"
    if len(failure_samples) < 20:
        failure_samples.append(text)
    response.failure(text)


def csrf(text: str) -> str:
    match = CSRF_RE.search(text or "")
    return match.group(1) if match else ""


class Signed(FastHttpUser):
    """A user that signs in through Oscar's login form first."""

    abstract = True
    wait_time = constant(0)

    def step(self, method: str, url: str, name: str, expect: int, **kwargs):
        """One request of a flow; its response, or None when the status is
        not ``expect`` (counted as a failure)."""
        with self.client.request(
            method, url, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as r:
            note(name, r)
            if r.status_code != expect:
                fail(r, f"{name}: expected {expect}")
                return None
            return r

    def on_start(self) -> None:
        if not ACCOUNTS:
            raise StopUser()
        self.account = ACCOUNTS[next(_account_numbers) % len(ACCOUNTS)]
        if self.account.get("session"):
            # Signed in by the harness beforehand (bench/load.py): the
            # password hash is not what these scenarios measure.
            host = urlsplit(self.host).hostname or "127.0.0.1"
            self.client.cookiejar.set_cookie(
                create_cookie(SESSION_COOKIE, self.account["session"], domain=host, path="/")
            )
            return
        with self.client.get("/accounts/login/", name="login form", catch_response=True) as r:
            token = csrf(r.text)
        data = {
            "csrfmiddlewaretoken": token,
            "login-username": self.account["login"],
            "login-password": self.account["password"],
            "login_submit": "Log In",
        }
        with self.client.post(
            "/accounts/login/",
            data=data,
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                fail(r, "login refused")
                raise StopUser()


if SCENARIO in ("pages", "trivial"):

    class Browser(FastHttpUser):
        """An anonymous visitor asking for one kind of page again and again:
        back to back, or one page every ``BENCH_PACING`` seconds."""

        wait_time = constant_pacing(PACING) if PACING else constant(0)

        @task
        def page(self) -> None:
            url = _random.choice(URLS)
            with self.client.get(url, name=NAME, catch_response=True) as r:
                note(NAME, r)
                if r.status_code != 200:
                    fail(r, "not 200")


elif SCENARIO == "coop":

    class CoopManager(Signed):
        @task
        def product_list(self) -> None:
            with self.client.get(URLS[0], name=NAME, catch_response=True) as r:
                note(NAME, r)
                if r.status_code != 200:
                    fail(r, "not 200")


elif SCENARIO == "checkout":

    class Buyer(Signed):
        """Product page → add to basket → checkout → saved address →
        delivery → cash on delivery → place order (one order a loop)."""

        def choose_delivery(self) -> bool:
            """Oscar skips the delivery page when one method applies (302);
            with several it shows them (200) and the first is chosen."""
            url = "/checkout/shipping-method/"
            with self.client.get(
                url, name="checkout: delivery", allow_redirects=False, catch_response=True
            ) as r:
                note("checkout: delivery", r)
                if r.status_code == 302:
                    return True
                code = METHOD_RE.search(r.text or "") if r.status_code == 200 else None
                if code is None:
                    fail(r, "checkout: delivery: no method offered")
                    return False
                data = {"csrfmiddlewaretoken": csrf(r.text), "method_code": code.group(1)}
            return self.step("POST", url, "checkout: choose delivery", 302, data=data) is not None

        @task
        def buy(self) -> None:
            r = self.step("GET", _random.choice(PRODUCTS), "checkout: product", 200)
            if r is None:
                return flows.update(["checkout failed"])
            add = BASKET_ADD_RE.search(r.text)
            if not add:
                return flows.update(["checkout skipped (not buyable)"])
            data = {"csrfmiddlewaretoken": csrf(r.text), "quantity": "1"}
            child = CHILD_RE.search(r.text)
            if child:
                data["child_id"] = child.group(1)
            steps = [
                ("POST", add.group(1), "checkout: add to basket", 302, data),
                ("GET", "/checkout/shipping-address/", "checkout: address page", 200, None),
            ]
            for method, url, name, expect, payload in steps:
                r = self.step(method, url, name, expect, data=payload)
                if r is None:
                    return flows.update(["checkout failed"])
            address = ADDRESS_RE.search(r.text)
            if not address:
                fail(r, "no saved address")
                return flows.update(["checkout failed"])
            token = csrf(r.text)
            steps = [
                (
                    "POST",
                    "/checkout/shipping-address/",
                    "checkout: ship to address",
                    302,
                    {"csrfmiddlewaretoken": token, "action": "ship_to", "address_id": address[1]},
                ),
            ]
            for method, url, name, expect, payload in steps:
                r = self.step(method, url, name, expect, data=payload)
                if r is None:
                    return flows.update(["checkout failed"])
            if not self.choose_delivery():
                return flows.update(["checkout failed"])
            r = self.step("GET", "/checkout/payment-method/", "checkout: payment page", 200)
            if r is None:
                return flows.update(["checkout failed"])
            r = self.step(
                "POST",
                "/checkout/payment-method/",
                "checkout: cash on delivery",
                302,
                data={"csrfmiddlewaretoken": csrf(r.text), "method": "cod"},
            )
            if r is None:
                return flows.update(["checkout failed"])
            r = self.step("GET", "/checkout/preview/", "checkout: preview", 200)
            if r is None:
                return flows.update(["checkout failed"])
            r = self.step(
                "POST",
                "/checkout/preview/",
                "checkout: place order",
                302,
                data={"csrfmiddlewaretoken": csrf(r.text), "action": "place_order"},
            )
            if r is None or "thank-you" not in (r.headers.get("Location") or ""):
                if r is not None:
                    fail(r, "not sent to the thank-you page")
                return flows.update(["checkout failed"])
            r = self.step("GET", "/checkout/thank-you/", "checkout: thank you", 200)
            flows.update(["orders placed"])


elif SCENARIO == "station":

    class StationStaff(Signed):
        """Open a resident's order page, add a suggested product, place the
        order for cash at the counter (one order a loop)."""

        @task
        def assisted_order(self) -> None:
            resident = _random.choice(self.account["residents"])
            base = f"/station/order/{resident}/"
            r = self.step("GET", base, "station: order page", 200)
            ids = PRODUCT_ID_RE.findall(r.text) if r is not None else []
            if not ids:
                if r is not None:
                    fail(r, "no product to add")
                return flows.update(["station order failed"])
            data = {
                "csrfmiddlewaretoken": csrf(r.text),
                "product_id": _random.choice(ids),
                "quantity": "1",
                "q": "",
            }
            if self.step("POST", base + "add/", "station: add product", 302, data=data) is None:
                return flows.update(["station order failed"])
            r = self.step("GET", base, "station: order page", 200)
            if r is None:
                return flows.update(["station order failed"])
            data = {
                "csrfmiddlewaretoken": csrf(r.text),
                "delivery": "station",
                "cash_received": "5000",
                "q": "",
            }
            r = self.step("POST", base + "place/", "station: place order", 302, data=data)
            if r is None:
                return flows.update(["station order failed"])
            self.step("GET", r.headers.get("Location") or base, "station: receipt", 200)
            flows.update(["station orders placed"])


@events.test_stop.add_listener
def write_extra(environment, **kwargs) -> None:
    if not EXTRA_OUT:
        return
    with open(EXTRA_OUT, "w", encoding="utf-8") as out:
        json.dump(
            {
                "cache": dict(cache_status),
                "statuses": dict(statuses),
                "flows": dict(flows),
                "failure_samples": failure_samples,
            },
            out,
            ensure_ascii=False,
            indent=1,
        )
