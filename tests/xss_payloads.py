"""A stored XSS probe set (issue 8): payloads that, if a page ever ran them,
would set ``window.__xss_<n>`` (or call ``alert``), and the structural
check that a page's HTML holds none of them in a form a browser executes.

``PAYLOADS`` are raw strings typed into text fields; ``LINK_URLS`` are
link targets (rich text links). Escaping is the defence; a
Content-Security-Policy is the second line, so the browser test must pass
with or without one.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser


def _m(n: int) -> str:
    return f"window.__xss_{n}=1"


PAYLOADS: list[str] = [
    f"<script>{_m(1)}</script>",
    f'<img src=x onerror="{_m(2)}">',
    f'<svg onload="{_m(3)}"></svg>',
    f'"><script>{_m(4)}</script>',
    f"' onmouseover='{_m(5)}' data-x='",
    f'" autofocus onfocus="{_m(6)}" x="',
    f"</textarea><script>{_m(7)}</script>",
    f"</title><script>{_m(8)}</script>",
    '<iframe srcdoc="<script>parent.__xss_9=1</script>"></iframe>',
    "{{constructor.constructor('window.__xss_10=1')()}}{% now 'Y' %}${alert(10)}",
    f"</script><script>{_m(11)}</script>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxMik8L3NjcmlwdD4=">数据链接</a>',
    f'<a href="javascript:{_m(13)}">点这里</a>',
    f'<div style="background:url(javascript:{_m(14)});width:expression({_m(14)})">样式</div>',
    f"&lt;script&gt;{_m(15)}&lt;/script&gt;",
    f"\\u003cscript\\u003e{_m(16)}\\u003c/script\\u003e",
    f'<math><mtext><table><mglyph><style><img src=x onerror="{_m(17)}">',
    f'<details open ontoggle="{_m(18)}">详情</details>',
    f'<body onload="{_m(19)}">',
    f'<input autofocus onfocus="{_m(20)}">',
    f'<object data="javascript:{_m(21)}"></object>',
    f"<ScRiPt>{_m(22)}</sCrIpT>",
    f"<img src=x onerror={_m(23)}//",
    f'<video><source onerror="{_m(24)}"></video>',
    f"<svg><script>{_m(25)}</script></svg>",
    f'<form action="javascript:{_m(26)}"><button>提交</button></form>',
    f'<a href="jav&#x09;ascript:{_m(27)}">编码链接</a>',
]
LINK_URLS: list[str] = [
    f"javascript:{_m(30)}",
    f"JaVaScRiPt:{_m(31)}",
    "data:text/html,<script>alert(32)</script>",
    f"vbscript:{_m(33)}",
]
MARKER = "__xss_"
# A short one for fields with a small max_length (display names, titles).
SHORT = [f"<svg onload={_m(40)}>", f"<img src=x onerror={_m(41)}>"]


def joined(first: int = 0, count: int | None = None) -> str:
    """Several payloads in one text (with a visible label between them)."""
    chosen = PAYLOADS[first : None if count is None else first + count]
    return " 探针 ".join(chosen)


# --- the structural check ------------------------------------------------------------

_URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"}
_SAFE_SCRIPT_TYPES = {"application/json", "application/ld+json"}
_BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|data)\s*:", re.IGNORECASE)


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: str | None = None  # inside an executable <script>
        self._script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and MARKER in value:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in _URL_ATTRS:
                cleaned = re.sub(r"[\x00-\x20]", "", value)
                if _BAD_SCHEME.match(cleaned) and (MARKER in value or "alert" in value):
                    self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "srcdoc" and MARKER.strip("_") in value:
                self.problems.append(f"<{tag} srcdoc={value!r}>")
            if name == "style" and ("expression(" in value or "javascript:" in value.lower()):
                self.problems.append(f"<{tag} style={value!r}>")
        if tag == "script":
            kind = (dict(attrs).get("type") or "").lower()
            self._script = None if kind in _SAFE_SCRIPT_TYPES else tag
            self._script_text = []

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            text = "".join(self._script_text)
            if MARKER in text or "alert(" in text:
                self.problems.append(f"<script>{text[:80]}</script>")
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script_text.append(data)


def executable_probes(html: str) -> list[str]:
    """Where ``html`` would run a probe: event-handler attributes, script
    elements, javascript:/data: URLs, srcdoc frames or CSS expressions
    carrying a marker. Escaped text (``&lt;script&gt;…``) is not a problem."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.problems


def raw_payloads_in(html: str) -> list[str]:
    """Payloads (with markup) that appear in ``html`` exactly as typed."""
    return [p for p in PAYLOADS + SHORT if "<" in p and p in html]


# Recorded by the browser: any marker set, any alert/confirm/prompt called.
INIT_SCRIPT = """
(() => {
  const hits = [];
  Object.defineProperty(window, '__xssHits', {value: hits});
  for (const name of ['alert', 'confirm', 'prompt']) {
    const original = window[name];
    window[name] = function (...args) { hits.push(name + ':' + args.join(',')); };
  }
})();
"""
READ_HITS = """
() => {
  const seen = [...(window.__xssHits || [])];
  for (const win of [window, ...Array.from(window.frames)]) {
    try {
      for (const key of Object.keys(win)) if (key.startsWith('__xss_')) seen.push(key);
    } catch (e) { /* a cross-origin frame */ }
  }
  return seen;
}
"""
