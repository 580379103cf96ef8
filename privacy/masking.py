"""Showing phone numbers, addresses and names only as far as the viewer
needs them.

Pages show a masked value unless the viewer must act on the full one (the
packer of a parcel sees its address, station staff hand-over a parcel by
the resident's name); full contact details shown to someone else are
logged (privacy/access_log.py).
"""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")


def mask_phone(value) -> str:
    """``+86 138 1234 5678`` → ``138****5678``.

    Accepts a string or a phonenumbers/PhoneNumber object. A Chinese mobile
    keeps its first three and last four digits; other numbers keep at most
    their first three and last four digits with at least four digits hidden;
    very short numbers show only their last two.
    """
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("+86") or (len(digits) == 13 and digits.startswith("86")):
        digits = digits[2:]
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 8:
        keep_head = len(digits) - 4 - 4
        return f"{digits[:keep_head]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(value) -> str:
    """``张三丰`` → ``张**``, ``Alice`` → ``A****``: the first character."""
    text = str(value or "").strip()
    if not text:
        return ""
    return text[0] + "*" * max(1, len(text) - 1)


def mask_address(value, keep: int = 6) -> str:
    """The start of an address (its region, up to ``keep`` characters of a
    detail line) and stars for the rest: ``三排五号院2单元`` → ``三排五号**…``.

    Pass the street/detail line; the region (province … town) is not
    personal and can be shown beside it in full.
    """
    text = " ".join(str(value or "").split())
    if not text:
        return ""
    head = max(1, min(keep, len(text) // 3))
    return text[:head] + "****"
