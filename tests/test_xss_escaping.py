"""The stored XSS probe set (tests/xss_payloads.py) planted in product text,
reviews, a cooperative's profile, complaint text, a harvest batch and CMS
rich text (tests/xss_plant.py): no page that shows them — public, the
buyer's, the cooperative portal's or staff's — contains a payload as typed,
nor any marker in a form a browser runs (event handlers, script elements,
javascript:/data: URLs, srcdoc, CSS expressions)."""

from __future__ import annotations

import pytest

from tests.cms.pages_helpers import programme_index
from tests.xss_payloads import PAYLOADS, executable_probes, raw_payloads_in
from tests.xss_plant import plant

pytestmark = pytest.mark.django_db


def test_the_probe_set_is_big_and_distinct():
    assert len(set(PAYLOADS)) == len(PAYLOADS) >= 20


def test_the_check_can_fail():
    assert executable_probes('<img src=x onerror="window.__xss_2=1">')
    assert executable_probes("<p><script>window.__xss_1=1</script></p>")
    assert executable_probes('<a href=" javascript:window.__xss_13=1">x</a>')
    assert executable_probes('<iframe srcdoc="&lt;script&gt;parent.__xss_9=1"></iframe>')
    assert not executable_probes("<p>&lt;script&gt;window.__xss_1=1&lt;/script&gt;</p>")
    assert not executable_probes('<input value="&lt;img onerror=&quot;window.__xss_2=1&quot;&gt;">')
    assert not executable_probes(
        '<script type="application/json">{"t": "\\u003cscript\\u003e__xss_1"}</script>'
    )


@pytest.fixture
def planted(china, carriers):
    return plant(programme_index=programme_index())


def check(client, urls: list[str]) -> None:
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        assert not raw_payloads_in(html), (url, raw_payloads_in(html))
        assert not executable_probes(html), (url, executable_probes(html))


def test_public_pages(client, planted):
    check(client, planted.public)
    # The probes are shown, as text.
    product = client.get(planted.public[0]).content.decode()
    assert "&lt;script&gt;window.__xss_1=1&lt;/script&gt;" in product


def test_buyer_pages(client, planted):
    client.force_login(planted.buyer)
    check(client, planted.buyer_pages + planted.public[:3])


def test_cooperative_portal_pages(client, planted):
    client.force_login(planted.manager)
    check(client, planted.manager_pages)


def test_staff_pages(client, planted, django_user_model):
    staff = django_user_model.objects.create_superuser("xss-staff", "s@example.com", "pw")
    client.force_login(staff)
    check(client, planted.staff_pages)
