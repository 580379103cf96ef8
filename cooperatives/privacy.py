"""Showing a buyer's details to a cooperative only as far as it needs to ship.

The portal shows the recipient's name and the full delivery address (the
packer must ship there) but masks the phone number and never shows the
buyer's e-mail.
"""

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
