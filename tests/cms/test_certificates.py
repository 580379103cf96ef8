"""Certificate codes (cms/certificates.py), the PDF and the public
verification: a valid code, a well-formed code nobody was given, and a
mistyped or tampered one (refused before the database)."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms import certificates, learning
from tests.cms.learning_helpers import learner, lessons_of, make_course, right_answers

pytestmark = pytest.mark.django_db

CODE_SHAPE = re.compile(r"^WN-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")


def pdf_text(pdf: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils' pdftotext is needed"
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


def compact(text: str) -> str:
    return "".join(text.split())


def tampered(code: str, position: int) -> str:
    """``code`` with the character at ``position`` (of the 12) changed to
    another character of the alphabet."""
    body = list(code.replace("WN-", "").replace("-", ""))
    body[position] = next(c for c in certificates.ALPHABET if c != body[position])
    raw = "".join(body)
    return f"WN-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@pytest.fixture
def certificate():
    course = make_course("安全收款与防范电信诈骗", [("识别骗局", None), ("小测验", None)])
    user = learner("chunsheng", first_name="春生", last_name="李")
    for lesson in lessons_of(course):
        learning.mark_done(user, lesson)
    return course.certificates.get(user=user)


# --- Codes ---------------------------------------------------------------------------------


def test_new_codes_have_the_shape_and_pass_their_check():
    codes = {certificates.new_code() for _i in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert CODE_SHAPE.match(code), code
        assert certificates.is_well_formed(code)


def test_any_single_changed_character_fails_the_check():
    code = certificates.new_code()
    failures = sum(not certificates.is_well_formed(tampered(code, i)) for i in range(12))
    # The check covers the random part (8 characters); changing the check
    # itself always fails. 20 check bits: a one-character slip passes by
    # chance about once in a million.
    assert failures == 12


def test_typing_variations_are_accepted_and_junk_is_not():
    code = certificates.new_code()
    body = code.replace("-", "")
    for typed in (code.lower(), body, body[2:], f"  {code} ", code.replace("-", " ")):
        assert certificates.normalise(typed) == code
        assert certificates.is_well_formed(typed)
    for junk in ("", "WN", "WN-0000-0000-0000", code[:-1], code + "A", "x" * 500, None):
        assert not certificates.is_well_formed(junk)


def test_a_code_made_before_the_secret_was_rotated_still_checks(settings):
    old = certificates.new_code()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-" + uuid.uuid4().hex
    assert certificates.is_well_formed(old)
    settings.SECRET_KEY_FALLBACKS = []
    assert not certificates.is_well_formed(old)


def test_chinese_date_in_shanghai():
    import datetime as dt

    late_utc = dt.datetime(2026, 3, 4, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 5th in China
    assert certificates.chinese_date(certificates.china_date(late_utc)) == "2026年3月5日"


# --- verify() -----------------------------------------------------------------------------


def test_verify_valid_unknown_and_tampered(certificate):
    result = learning.verify(certificate.code.lower())
    assert result.valid and result.certificate == certificate

    unknown = certificates.new_code()  # well-formed, never issued
    result = learning.verify(unknown)
    assert result.status is learning.Verification.NOT_FOUND and result.certificate is None

    bad = tampered(certificate.code, 3)
    with CaptureQueriesContext(connection) as ctx:
        result = learning.verify(bad)
    assert result.status is learning.Verification.INVALID
    assert ctx.captured_queries == []  # refused before any lookup


# --- The PDF -------------------------------------------------------------------------------


def test_the_pdf_is_one_a4_landscape_page_with_name_course_date_and_code(certificate):
    pdf = certificates.certificate_pdf(certificate)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    flat = compact(text)
    assert "李春生" in flat
    assert "安全收款与防范电信诈骗" in flat
    assert certificate.code in flat
    assert "结业证书" in flat and "天津市农产品网络销售全覆盖工程" in flat
    day = certificates.chinese_date(certificates.china_date(certificate.issued_at))
    assert day in flat
    url = certificates.verification_url(certificate.code)
    assert url in flat
    if shutil.which("pdfinfo"):
        info = subprocess.run(
            ["pdfinfo", "-"], input=pdf, capture_output=True, check=True, timeout=60
        ).stdout.decode()
        assert re.search(r"Pages:\s+1\b", info)
        width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
        assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points


def test_the_qr_code_holds_the_verification_url(certificate):
    html = certificates.certificate_html(certificate)
    url = certificates.verification_url(certificate.code)
    assert certificates.qr_svg(url) in html
    assert url.endswith(f"/certificates/{certificate.code}/")


def test_the_pdf_download_is_for_the_owner_only(client, certificate):
    url = reverse("learning:certificate-pdf", args=[certificate.code])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(learner("stranger"))
    assert client.get(url).status_code == 404
    client.force_login(certificate.user)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "李春生" in compact(pdf_text(response.content))
    # The QR code and the text point at this server's verification page.
    assert f"http://testserver/certificates/{certificate.code}/" in compact(
        pdf_text(response.content)
    )


# --- The public pages ------------------------------------------------------------------------


def test_the_public_page_confirms_a_valid_certificate_without_personal_data(client, certificate):
    response = client.get(reverse("learning:certificate-public", args=[certificate.code]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "证书有效" in page and "李春生" in page and "安全收款与防范电信诈骗" in page
    assert certificates.chinese_date(certificates.china_date(certificate.issued_at)) in page
    assert certificate.user.email not in page and "chunsheng" not in page
    assert "下载结业证书" not in page  # only the owner gets the download link
    client.force_login(certificate.user)
    page = client.get(reverse("learning:certificate-public", args=[certificate.code])).content
    assert "下载结业证书".encode() in page


def test_the_verification_form_and_its_answers(client, certificate):
    url = reverse("learning:verify")
    assert client.get(url).status_code == 200
    # A valid code as typed goes to the certificate's own address.
    response = client.get(url, {"code": certificate.code.lower().replace("-", " ")})
    assert response.status_code == 302
    assert response["Location"] == reverse("learning:certificate-public", args=[certificate.code])

    page = client.get(url, {"code": certificates.new_code()}).content.decode()
    assert "没有找到这张证书" in page and "证书编号无效" not in page

    page = client.get(url, {"code": tampered(certificate.code, 0)}).content.decode()
    assert "证书编号无效" in page and "李春生" not in page

    page = client.get(url, {"code": "<script>alert(1)</script>"}).content.decode()
    assert "证书编号无效" in page and "<script>alert(1)" not in page


def test_the_certificate_address_answers_404_for_unknown_and_tampered_codes(client, certificate):
    unknown = client.get(reverse("learning:certificate-public", args=[certificates.new_code()]))
    assert unknown.status_code == 404 and "没有找到这张证书" in unknown.content.decode()
    bad = client.get(reverse("learning:certificate-public", args=[tampered(certificate.code, 9)]))
    assert bad.status_code == 404 and "证书编号无效" in bad.content.decode()


def test_issue_after_a_quiz_pass_gives_a_verifiable_certificate():
    course = make_course("生鲜包装与冷链发货", [("测验", None)])
    user = learner(first_name="秀兰", last_name="张")
    quizless = lessons_of(course)[0]
    learning.mark_done(user, quizless)
    certificate = course.certificates.get(user=user)
    assert learning.verify(certificate.code).certificate == certificate
    assert right_answers(quizless) == {}
