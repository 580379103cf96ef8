"""Two-factor login for staff with real TOTP codes (django_otp.oath.TOTP)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

User = get_user_model()
PASSWORD = "staff password 123"


@pytest.fixture
def staff(db):
    return User.objects.create_user(
        "ops", "ops@example.com", PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture(autouse=True)
def _no_otp_delay(settings):
    # django-otp's own growing delay after a wrong code (seconds) would make
    # the right code wait; our per-user limit is what these tests check.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def current_code(device: TOTPDevice) -> str:
    """The code the user's phone shows now. A code is accepted once; between
    steps of a test, time has "moved on" to the next step."""
    device.refresh_from_db()
    device.last_t = -1
    device.save(update_fields=["last_t"])
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    code = current_code(device)
    return "000000" if code != "000000" else "111111"


def shop_login(client, user):
    response = client.post(
        "/accounts/login/",
        {"login-username": user.email, "login-password": PASSWORD, "login_submit": "1"},
    )
    assert response.status_code == 302
    return response


def enable(client, staff) -> TOTPDevice:
    page = client.get("/accounts/two-factor/")
    html = page.content.decode()
    assert "<svg" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    from base64 import b32encode

    assert b32encode(device.bin_key).decode().rstrip("=") == secret
    response = client.post("/accounts/two-factor/", {"code": wrong_code(device)})
    assert "验证码不对" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    response = client.post("/accounts/two-factor/", {"code": current_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_enable_then_every_login_asks_for_a_code(client, staff):
    shop_login(client, staff)
    device = enable(client, staff)
    assert client.get("/dashboard/").status_code == 200  # verified in this session
    client.post("/accounts/logout/")

    shop_login(client, staff)
    for url in ("/dashboard/", "/cms-admin/", "/django-admin/", "/accounts/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/two-factor/verify/?next="), url
    response = client.post(
        "/accounts/two-factor/verify/", {"code": wrong_code(device), "next": "/dashboard/"}
    )
    assert response.status_code == 200
    assert "验证码不对" in response.content.decode()
    assert client.get("/dashboard/").status_code == 302
    response = client.post(
        "/accounts/two-factor/verify/", {"code": current_code(device), "next": "/dashboard/"}
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/cms-admin/").status_code == 200


@pytest.mark.parametrize(
    "login_url, admin_url",
    [("/cms-admin/login/", "/cms-admin/"), ("/django-admin/login/", "/django-admin/")],
)
def test_admin_login_forms_do_not_bypass_the_code(client, staff, login_url, admin_url):
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    response = client.post(
        login_url, {"username": staff.username, "password": PASSWORD, "next": admin_url}
    )
    assert response.status_code == 302
    response = client.get(admin_url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")


def test_wrong_codes_are_rate_limited(client, staff, settings):
    settings.WANGNONG_TOTP_MAX_FAILURES = 3
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    shop_login(client, staff)
    for _ in range(3):
        response = client.post("/accounts/two-factor/verify/", {"code": wrong_code(device)})
        assert response.status_code == 200
    response = client.post("/accounts/two-factor/verify/", {"code": current_code(device)})
    assert response.status_code == 429
    assert "尝试次数过多" in response.content.decode()
    assert client.get("/dashboard/").status_code == 302


def test_disable_needs_password_and_code_and_then_no_code_is_asked(client, staff):
    shop_login(client, staff)
    device = enable(client, staff)
    response = client.post(
        "/accounts/two-factor/disable/", {"password": "wrong", "code": current_code(device)}
    )
    assert "密码不对" in response.content.decode()
    response = client.post(
        "/accounts/two-factor/disable/", {"password": PASSWORD, "code": wrong_code(device)}
    )
    assert "验证码不对" in response.content.decode()
    assert TOTPDevice.objects.filter(user=staff).exists()
    response = client.post(
        "/accounts/two-factor/disable/", {"password": PASSWORD, "code": current_code(device)}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff).exists()
    client.post("/accounts/logout/")
    shop_login(client, staff)
    assert client.get("/dashboard/").status_code == 200


def test_required_setting_sends_staff_without_a_device_to_set_one_up(client, staff, settings):
    settings.WANGNONG_STAFF_REQUIRE_TOTP = True
    shop_login(client, staff)
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/?next=")
    # Customers are not affected.
    buyer = User.objects.create_user("buyer", "buyer@example.com", PASSWORD)
    client.post("/accounts/logout/")
    shop_login(client, buyer)
    assert client.get("/accounts/profile/").status_code == 200


def test_customers_cannot_enable_it(client, db):
    buyer = User.objects.create_user("buyer", "buyer@example.com", PASSWORD)
    shop_login(client, buyer)
    response = client.get("/accounts/two-factor/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=buyer).exists()


def test_a_secret_seen_in_another_session_is_never_the_one_confirmed(client, staff):
    """Someone holding the password opens the setup page first and copies its
    secret; the staff member's own setup page gets a fresh secret, and only
    the device their session was shown can be confirmed."""
    from django.test import Client

    intruder = Client()
    shop_login(intruder, staff)
    intruder.get("/accounts/two-factor/")
    seen = TOTPDevice.objects.get(user=staff, confirmed=False)

    shop_login(client, staff)
    client.get("/accounts/two-factor/")
    own = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert own.pk != seen.pk and own.bin_key != seen.bin_key
    assert not TOTPDevice.objects.filter(pk=seen.pk).exists()

    # The intruder's form now confirms nothing (a fresh device for them,
    # which in turn removes the staff member's pending one, never theirs).
    response = intruder.post("/accounts/two-factor/", {"code": "123456"})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
