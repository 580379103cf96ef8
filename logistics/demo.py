"""Demo carriers, configured by ``manage.py load_demo`` before the stations
(whose demo order needs a carrier).

Three carriers speak the generic protocol through the HTTP adapter and are
served by the carrier simulator ``make run`` starts (``manage.py
carrier_simulator``, which reads their accounts from the database), so a
demo order is really handed off and tracked to the door:

* 津速快递 — express and village-station runs, the whole country; cheapest
  for light parcels in Tianjin and 京津冀.
* 中国邮政 — parcels to every province including the remote ones; slower,
  cheaper for heavy parcels and far destinations. Tracking is also polled.
* 鲜达冷链 — the cold chain for chilled and frozen produce, Tianjin, Beijing
  and Hebei only (so checkout refuses chilled goods to, say, Shanghai).

One more has no API (the manual adapter): 村村通同城配送, a Tianjin local
courier that is cheapest in the outer rural districts, where staff print
our waybill and type the courier's tracking number.

Rate cards are illustrative but of the usual shape (first kilogram plus
each further kilogram, per zone; a cold-chain surcharge for the insulated
box and ice packs). The API keys and secrets below are demo values shared
with the local simulator, not secrets.

Idempotent like the rest of load_demo: a carrier is found by its code and,
once it exists, its rate card and regions are never touched again (staff
may have edited them). The only thing brought up to date is the base URL of
a demo carrier still pointing at a local simulator, so the demo follows
``WANGNONG_DEMO_CARRIER_URL`` when the simulator moves to another port.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import time
from decimal import Decimal
from urllib.parse import urlsplit

from django.db import transaction

from divisions.models import Division
from logistics.models import Carrier, RateZone, ServiceArea
from logistics.vocabulary import Service

# Where the demo's carrier simulator listens (`make run` starts it there).
DEMO_CARRIER_URL_ENV = "WANGNONG_DEMO_CARRIER_URL"
DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8765"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# Every province not given a zone of its own.
REST_OF_CHINA = "*"
# Tianjin's outer districts: 武清, 宝坻, 宁河, 静海, 蓟州.
OUTER_TIANJIN = ["120114", "120115", "120117", "120118", "120119"]
JING_JI = ["11", "13"]  # Beijing, Hebei
REMOTE = ["54", "65"]  # Tibet, Xinjiang

# Illustrative phone numbers (the 1380013xxxx test range), not real ones.
CARRIERS = [
    {
        "code": "jinsu-express",
        "name": "津速快递",
        "services": [Service.EXPRESS, Service.STATION_DELIVERY],
        "adapter": Carrier.Adapter.HTTP,
        "contact_phone": "13800138501",
        "api_key": "demo-jinsu-express",
        "api_secret": "demo-only-secret-jinsu-express",
        "pickup_cutoff": time(17, 0),
        "cold_chain_surcharge": "0.00",
        "poll_tracking": False,
        # (name, first kg, each further kg, days, regions)
        "zones": [
            ("天津同城", "7.00", "1.50", 1, ["12"]),
            ("天津远郊", "9.00", "2.00", 2, OUTER_TIANJIN),
            ("京津冀", "10.00", "3.00", 2, JING_JI),
            ("全国", "11.00", "6.00", 3, [REST_OF_CHINA]),
            ("偏远地区", "20.00", "15.00", 5, REMOTE),
        ],
    },
    {
        "code": "china-post",
        "name": "中国邮政",
        "services": [Service.POSTAL],
        "adapter": Carrier.Adapter.HTTP,
        "contact_phone": "13800138502",
        "api_key": "demo-china-post",
        "api_secret": "demo-only-secret-china-post",
        "pickup_cutoff": time(15, 30),
        "cold_chain_surcharge": "0.00",
        "poll_tracking": True,
        "zones": [
            ("天津市内", "8.00", "2.00", 3, ["12"]),
            ("京津冀", "11.00", "2.50", 3, JING_JI),
            ("全国", "12.00", "4.00", 5, [REST_OF_CHINA]),
            ("偏远地区", "18.00", "10.00", 7, REMOTE),
        ],
    },
    {
        "code": "xianda-cold",
        "name": "鲜达冷链",
        "services": [Service.COLD_CHAIN],
        "adapter": Carrier.Adapter.HTTP,
        "contact_phone": "13800138503",
        "api_key": "demo-xianda-cold",
        "api_secret": "demo-only-secret-xianda-cold",
        "pickup_cutoff": time(14, 0),
        "cold_chain_surcharge": "6.00",
        "poll_tracking": False,
        "zones": [
            ("天津同城冷链", "16.00", "4.00", 1, ["12"]),
            ("京冀冷链", "22.00", "6.00", 2, JING_JI),
        ],
    },
    {
        "code": "cuncuntong",
        "name": "村村通同城配送",
        "services": [Service.LOCAL_COURIER, Service.STATION_DELIVERY],
        "adapter": Carrier.Adapter.MANUAL,
        "contact_phone": "13800138504",
        "pickup_cutoff": time(16, 0),
        "cold_chain_surcharge": "0.00",
        "poll_tracking": False,
        "zones": [
            ("天津市内", "10.00", "2.00", 1, ["12"]),
            ("远郊村镇", "6.00", "1.00", 1, OUTER_TIANJIN),
        ],
    },
]


def default_simulator_url() -> str:
    """The demo simulator's base URL: ``WANGNONG_DEMO_CARRIER_URL`` or
    http://127.0.0.1:8765."""
    return (os.environ.get(DEMO_CARRIER_URL_ENV) or DEFAULT_SIMULATOR_URL).rstrip("/")


def configure_carriers(simulator_url: str | None = None) -> Counter:
    """Create whatever demo carrier is missing, with its rate card and
    regions; returns what was created or changed (empty on a second run).
    ``simulator_url`` defaults to :func:`default_simulator_url`."""
    url = (simulator_url or default_simulator_url()).rstrip("/")
    created: Counter = Counter()
    provinces = list(Division.objects.filter(level=1).values_list("code", flat=True))
    for spec in CARRIERS:
        with transaction.atomic():
            carrier = Carrier.objects.filter(code=spec["code"]).first()
            if carrier is None:
                _create(spec, url, provinces, created)
            elif _follow_simulator(carrier, url):
                created["carriers moved to the simulator's address"] += 1
    return created


def _create(spec: dict, url: str, provinces: list[str], created: Counter) -> Carrier:
    http = spec["adapter"] == Carrier.Adapter.HTTP
    carrier = Carrier.objects.create(
        code=spec["code"],
        name=spec["name"],
        services=[str(s) for s in spec["services"]],
        adapter=spec["adapter"],
        contact_phone=spec["contact_phone"],
        api_base_url=url if http else "",
        api_key=spec.get("api_key", ""),
        api_secret=spec.get("api_secret", ""),
        timeout_seconds=5,
        poll_tracking=spec["poll_tracking"],
        pickup_cutoff=spec["pickup_cutoff"],
        cold_chain_surcharge=Decimal(spec["cold_chain_surcharge"]),
    )
    created["carriers"] += 1
    named = {code for *_zone, regions in spec["zones"] for code in regions}
    known = set(Division.objects.filter(code__in=named).values_list("code", flat=True))
    areas = []
    for name, first, additional, days, regions in spec["zones"]:
        zone = RateZone.objects.create(
            carrier=carrier,
            name=name,
            first_weight_g=1000,
            first_price=Decimal(first),
            additional_weight_g=1000,
            additional_price=Decimal(additional),
            transit_days=days,
        )
        created["carrier rate zones"] += 1
        if regions == [REST_OF_CHINA]:
            codes = [code for code in provinces if code not in named]
        else:
            codes = [code for code in regions if code in known]
        areas += [ServiceArea(carrier=carrier, zone=zone, division_id=code) for code in codes]
    ServiceArea.objects.bulk_create(areas)
    created["carrier service areas"] += len(areas)
    return carrier


def _follow_simulator(carrier: Carrier, url: str) -> bool:
    """Point a demo HTTP carrier still on a local simulator at ``url``."""
    if carrier.adapter != Carrier.Adapter.HTTP or carrier.api_base_url.rstrip("/") == url:
        return False
    if not carrier.api_key.startswith("demo-"):
        return False
    current = urlsplit(carrier.api_base_url).hostname
    if current is not None and current not in LOOPBACK_HOSTS:
        return False
    if urlsplit(url).hostname not in LOOPBACK_HOSTS:
        return False
    carrier.api_base_url = url
    carrier.save(update_fields=["api_base_url", "updated_at"])
    return True
