"""Our templates carry no inline scripts or inline event handlers (the
Content-Security-Policy refuses them): scripts are static files. The one
exception is Oscar's dashboard page-load script in templates/oscar/base.html,
which carries the request's nonce."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
)
HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']|javascript:", re.IGNORECASE)
COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.DOTALL)


def our_templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for app in ("cooperatives", "stations", "logistics", "cms", "divisions", "shop", "config"):
        found += list((ROOT / app).rglob("templates/**/*.html"))
    return found


def test_no_inline_scripts_or_handlers():
    problems = []
    for path in our_templates():
        text = COMMENT.sub("", path.read_text(encoding="utf-8"))
        for match in INLINE_SCRIPT.finditer(text):
            if "nonce=" not in match.group(0):
                problems.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        for match in HANDLER.finditer(text):
            problems.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert our_templates(), "no templates found"
    assert problems == []


def test_the_scan_finds_an_inline_script():
    text = '<p>x</p><script>alert(1)</script><a href="#" onclick="go()">y</a>'
    assert INLINE_SCRIPT.search(text) and HANDLER.search(text)
    assert not INLINE_SCRIPT.search('<script src="/static/js/a.js"></script>')
