"""Logins, registrations and password-reset requests are rate-limited:
real requests through the test client from given client addresses."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

User = get_user_model()
PASSWORD = "correct horse battery"


@pytest.fixture
def buyer(db):
    return User.objects.create_user(username="buyer", email="buyer@example.com", password=PASSWORD)


def oscar_login(client, ip: str, email: str, password: str):
    return client.post(
        "/accounts/login/",
        {"login-username": email, "login-password": password, "login_submit": "1"},
        REMOTE_ADDR=ip,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_customer_login_locks_after_the_configured_failures(client, buyer, settings):
    settings.AXES_FAILURE_LIMIT = 4
    ip = "203.0.113.7"
    for attempt in range(1, 4):
        response = oscar_login(client, ip, buyer.email, "wrong password")
        assert response.status_code == 200, attempt  # the form again, with its error
    response = oscar_login(client, ip, buyer.email, "wrong password")
    assert response.status_code == 429
    page = response.content.decode()
    assert "登录已暂时锁定" in page
    assert "30 分钟后再试" in page
    assert "/password-reset/" in page
    # The right password is refused while the lock lasts.
    response = oscar_login(client, ip, buyer.email, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    # The lock is for this account from this address: elsewhere the buyer logs in.
    response = oscar_login(client, "198.51.100.20", buyer.email, PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_default_limit_is_ten_from_the_environment_default(client, buyer, settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    ip = "203.0.113.8"
    statuses = [oscar_login(client, ip, buyer.email, "nope").status_code for _ in range(10)]
    assert statuses[:9] == [200] * 9
    assert statuses[9] == 429


@pytest.mark.parametrize(
    "login_url, fields",
    [
        ("/cms-admin/login/", {}),
        ("/django-admin/login/", {"next": "/django-admin/"}),
    ],
)
def test_admin_logins_lock_too(client, db, settings, login_url, fields):
    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    ip = "203.0.113.9"
    for _ in range(2):
        response = client.post(
            login_url, {"username": "editor", "password": "wrong", **fields}, REMOTE_ADDR=ip
        )
        assert response.status_code == 200
    response = client.post(
        login_url, {"username": "editor", "password": "wrong", **fields}, REMOTE_ADDR=ip
    )
    assert response.status_code == 429
    response = client.post(
        login_url, {"username": "editor", "password": PASSWORD, **fields}, REMOTE_ADDR=ip
    )
    assert response.status_code == 429
    assert not logged_in(client)


def test_a_hundred_failed_logins_from_one_address_lock_the_address(client, buyer, settings):
    assert settings.WANGNONG_LOGIN_IP_FAILURE_LIMIT == 100
    ip = "203.0.113.10"
    for n in range(99):
        response = oscar_login(client, ip, f"guess{n}@example.com", "password1")
        assert response.status_code == 200, n
    # Nobody was locked by name: the buyer could still log in from here.
    assert oscar_login(client, ip, f"guess{99}@example.com", "password1").status_code == 429
    # The 100th failure locked the address, whatever the account.
    response = oscar_login(client, ip, buyer.email, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    # Another address is not affected.
    assert oscar_login(client, "198.51.100.21", buyer.email, PASSWORD).status_code == 302


def register(client, ip: str, email: str):
    return client.post(
        "/accounts/register/",
        {"email": email, "password1": "x", "password2": "y"},
        REMOTE_ADDR=ip,
    )


def test_registration_is_limited_per_address(client, db, settings):
    settings.WANGNONG_REGISTER_LIMIT_PER_IP = 3
    ip = "203.0.113.11"
    for n in range(3):
        assert register(client, ip, f"new{n}@example.com").status_code == 200
    response = register(client, ip, "new3@example.com")
    assert response.status_code == 429
    assert "尝试次数过多" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    # Another address may still register (the form comes back with its errors).
    assert register(client, "198.51.100.22", "new4@example.com").status_code == 200
    # The registration half of the login page counts too.
    response = client.post(
        "/accounts/login/",
        {
            "registration-email": "new5@example.com",
            "registration-password1": "x",
            "registration-password2": "y",
            "registration_submit": "1",
        },
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 429


def reset(client, ip: str, email: str):
    return client.post("/password-reset/", {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_is_limited_per_email_without_revealing_accounts(client, buyer, settings):
    settings.WANGNONG_PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    for n in range(4):
        response = reset(client, f"203.0.113.{20 + n}", buyer.email)
        # Always the same answer: "e-mail sent".
        assert response.status_code == 302
        assert response["Location"] == "/password-reset/done/"
    # Only the first two were sent.
    assert len(mail.outbox) == 2
    # An address without an account gets the same answer, limited the same way.
    for n in range(3):
        response = reset(client, f"203.0.113.{30 + n}", "nobody@example.com")
        assert response.status_code == 302
        assert response["Location"] == "/password-reset/done/"
    assert len(mail.outbox) == 2


def test_password_reset_is_limited_per_address(client, buyer, settings):
    settings.WANGNONG_PASSWORD_RESET_LIMIT_PER_IP = 3
    ip = "203.0.113.40"
    for n in range(3):
        assert reset(client, ip, f"someone{n}@example.com").status_code == 302
    response = reset(client, ip, buyer.email)
    assert response.status_code == 429
    assert len(mail.outbox) == 0
    # Wagtail's admin password reset shares the address limit.
    response = client.post("/cms-admin/password_reset/", {"email": buyer.email}, REMOTE_ADDR=ip)
    assert response.status_code == 429


def test_behind_a_proxy_the_forwarded_address_counts_and_cannot_be_forged(client, buyer, settings):
    settings.WANGNONG_TRUSTED_PROXIES = 1
    settings.AXES_FAILURE_LIMIT = 3
    proxy = "10.0.0.2"
    # The client prepends made-up addresses; the proxy appends the real one.
    for n in range(2):
        response = client.post(
            "/accounts/login/",
            {"login-username": buyer.email, "login-password": "bad", "login_submit": "1"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.50",
        )
        assert response.status_code == 200
    response = client.post(
        "/accounts/login/",
        {"login-username": buyer.email, "login-password": "bad", "login_submit": "1"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.50",
    )
    assert response.status_code == 429
    # Another client behind the same proxy is not locked out.
    response = client.post(
        "/accounts/login/",
        {"login-username": buyer.email, "login-password": PASSWORD, "login_submit": "1"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.51",
    )
    assert response.status_code == 302


def test_the_checkout_gateway_password_is_locked_out_too(client, buyer, radish, settings):
    """Checkout's "existing customer" option checks a password: it counts
    against the same lockout as the login page (Oscar's view gave its form
    no request, so the lockout never saw it)."""
    from tests.factories import add_to_basket

    settings.AXES_FAILURE_LIMIT = 3
    ip = "203.0.113.44"
    add_to_basket(client, radish)
    post = {"options": "existing", "username": buyer.email, "password": "wrong"}
    statuses = [client.post("/checkout/", post, REMOTE_ADDR=ip).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    post["password"] = PASSWORD
    assert client.post("/checkout/", post, REMOTE_ADDR=ip).status_code == 429
    assert not logged_in(client)
