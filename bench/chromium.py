"""How the project starts Debian's Chromium headless (never a downloaded
browser): shared by the browser tests (tests/browser/conftest.py) and the
page-weight benchmark (bench/page_weight.py), which must load pages the
same way."""

import os

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# A low-end phone's screen, as issue 9 measures it.
PHONE = {"width": 360, "height": 740}
