"""The demo (``manage.py load_demo``): a cooperative sees its statements for
delivered demo orders, one paid with a bank reference, and downloads the
PDF; loading again changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from cooperatives.models import Cooperative
from shop.payment import demo, ledger, settlement
from shop.payment.models import Statement
from tests.payment.test_settlement import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", "--no-images", stdout=out)
    return out.getvalue()


def test_the_demo_cooperative_has_statements_and_downloads_the_pdf(client, fast_passwords):
    load_demo()
    coop = Cooperative.objects.get(partner__code=demo.PARTNER_CODE)
    statements = list(settlement.cooperative_statements(coop.partner).order_by("period_end"))
    assert len(statements) == 2
    first, second = statements
    assert first.status == Statement.Status.PAID and first.bank_reference.startswith("DEMO-")
    assert first.payable > 0 and first.payout_entry is not None
    assert second.status == Statement.Status.ISSUED and second.payable > 0
    # The refund after the first statement is deducted on the second.
    assert second.refunds > 0 and second.gross > 0
    assert settlement.balance(coop.partner).payable == second.payable
    assert settlement.balance(coop.partner).pending > 0  # the order still returnable
    assert ledger.trial_balance() == 0

    client.force_login(coop.memberships.get(role="manager").user)
    page = client.get(reverse("coop:statements")).content.decode()
    assert first.number in page and second.number in page and "已付款" in page
    response = client.get(reverse("coop:statement-pdf", args=[first.number]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert first.number in text and first.bank_reference in text

    before = (Statement.objects.count(), ledger.trial_balance(), len(ledger_entries()))
    assert "Nothing to do" in load_demo()
    assert (Statement.objects.count(), ledger.trial_balance(), len(ledger_entries())) == before


def ledger_entries():
    from shop.payment.models import JournalEntry

    return list(JournalEntry.objects.values_list("pk", flat=True))
