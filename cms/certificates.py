"""Certificate codes and the certificate PDF.

A code looks like ``WN-7KQ4-M2XD-H9TB``: eight random characters from an
alphabet without the look-alikes 0/O, 1/I (so a code read aloud or copied
from paper survives), then four check characters, an HMAC of the random
part keyed with the site's secret. A mistyped or invented code therefore
fails the check before any database lookup, so the verification page can
tell "证书编号无效" (not a code we could have issued) from "没有找到这张证书"
(a well-formed code that is not on record), and guessing codes is useless
without the secret. ``SECRET_KEY_FALLBACKS`` are accepted too, so rotating
the secret does not void certificates already printed.

The PDF is an A4 landscape page rendered by WeasyPrint from
``cms/certificate_pdf.html`` in the Noto CJK fonts, like the waybill
(logistics/waybill.py) and the settlement statement, loading nothing from
the network; its QR code (segno) is the public verification URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from config.documents import html_to_pdf, qr_svg

# 32 characters: digits 2–9 and A–Z without I and O. Five bits each.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX = "WN"
RANDOM_LENGTH = 8
CHECK_LENGTH = 4
GROUP = 4
HMAC_SALT = b"wangnong.cms.certificates.code"

# The certificate's dates are China's, wherever the server runs.
CHINA = ZoneInfo("Asia/Shanghai")
DOCUMENT_LANGUAGE = "zh-hans"
PROGRAMME_NAME = _("天津市农产品网络销售全覆盖工程")


def _secrets() -> list[str]:
    keys = [settings.SECRET_KEY]
    keys += list(getattr(settings, "SECRET_KEY_FALLBACKS", []) or [])
    return keys


def _check_part(random_part: str, key: str) -> str:
    digest = hmac.new(
        hashlib.sha256(HMAC_SALT + key.encode()).digest(), random_part.encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest[:4], "big") >> (32 - 5 * CHECK_LENGTH)
    chars = []
    for _i in range(CHECK_LENGTH):
        chars.append(ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def _format(body: str) -> str:
    groups = [body[i : i + GROUP] for i in range(0, len(body), GROUP)]
    return "-".join([PREFIX, *groups])


def new_code() -> str:
    """A fresh code (``WN-XXXX-XXXX-XXXX``). Uniqueness is the database's
    job (Certificate.code is unique); 40 random bits make a clash rare."""
    random_part = "".join(secrets.choice(ALPHABET) for _i in range(RANDOM_LENGTH))
    return _format(random_part + _check_part(random_part, settings.SECRET_KEY))


def normalise(text: str | None) -> str:
    """What a person typed, as we store codes: upper case, dashes in place.
    Spaces, dashes and the ``WN`` prefix are optional when typing. Returns
    "" when the text cannot be a code at all."""
    raw = "".join(ch for ch in (text or "").upper() if ch not in " -\u2010\u2011\u2013\u2014_")
    if raw.startswith(PREFIX) and len(raw) == len(PREFIX) + RANDOM_LENGTH + CHECK_LENGTH:
        raw = raw[len(PREFIX) :]
    if len(raw) != RANDOM_LENGTH + CHECK_LENGTH:
        return ""
    return _format(raw)


def is_well_formed(code: str | None) -> bool:
    """True when ``code`` (as typed) has our shape and a correct check part
    under the current or a fallback secret. No database access."""
    formatted = normalise(code)
    if not formatted:
        return False
    body = formatted[len(PREFIX) + 1 :].replace("-", "")
    if any(ch not in ALPHABET for ch in body):
        return False
    random_part, check = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    return any(hmac.compare_digest(check, _check_part(random_part, key)) for key in _secrets())


# --- Dates and URLs -------------------------------------------------------------------


def china_date(moment: dt.datetime) -> dt.date:
    """The calendar day in China of an aware datetime."""
    return moment.astimezone(CHINA).date()


def chinese_date(day: dt.date) -> str:
    """``2026年3月5日``: how a certificate states its date."""
    return f"{day.year}年{day.month}月{day.day}日"


def verification_path(code: str) -> str:
    return reverse("learning:certificate-public", kwargs={"code": code})


def verification_url(code: str, request=None) -> str:
    """The public verification URL of ``code``: absolute, for the QR code
    and for sharing. From the request when there is one, else from
    ``WANGNONG_SITE_URL``."""
    path = verification_path(code)
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.WANGNONG_SITE_URL.rstrip("/") + path


# --- The PDF --------------------------------------------------------------------------


def certificate_context(certificate, request=None) -> dict:
    url = verification_url(certificate.code, request)
    return {
        "certificate": certificate,
        "programme": PROGRAMME_NAME,
        "shop_name": settings.OSCAR_SHOP_NAME,
        "issued_on": chinese_date(china_date(certificate.issued_at)),
        "verification_url": url,
        "qr_svg": qr_svg(url),
    }


def certificate_html(certificate, request=None) -> str:
    """The certificate as HTML (always in Chinese: it is a record kept)."""
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(
            "cms/certificate_pdf.html", certificate_context(certificate, request)
        )


def certificate_pdf(certificate, request=None) -> bytes:
    """The certificate as PDF bytes: one A4 landscape page."""
    return html_to_pdf(certificate_html(certificate, request))
