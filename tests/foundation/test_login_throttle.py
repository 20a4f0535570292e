"""Login throttling: at most LOGIN_FAILURE_LIMIT failures per account and per address in the
window, then 429 with Retry-After and a sentence saying when; it lifts when the window ends."""

import pytest
import time_machine
from django.core.cache import cache
from prometheus_client import REGISTRY

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _forget_counters():
    # Only the throttle's own keys: Redis's clear() is FLUSHDB, which would also wipe what
    # parallel test workers keep under their own prefixes in the same database.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("login-failures:*")
    else:
        cache.clear()  # the local-memory cache of this process alone


@pytest.fixture(autouse=True)
def fresh_counters():
    _forget_counters()
    yield
    _forget_counters()


def _login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def _failures(client, username, n, **extra):
    for _ in range(n):
        assert _login(client, username, "wrong-password", **extra).status_code == 200


def _count(outcome):
    return REGISTRY.get_sample_value("payflow_login_attempts_total", {"outcome": outcome}) or 0


def test_ten_failures_lock_the_account_even_for_the_right_password(client, viewer, settings):
    before = _count("failed")
    with time_machine.travel("2026-12-01 10:00:00Z", tick=False):
        _failures(client, viewer.username, settings.LOGIN_FAILURE_LIMIT)
        response = _login(client, viewer.username, TEST_PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert "Too many failed attempts; try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert _count("failed") - before == settings.LOGIN_FAILURE_LIMIT


def test_the_lock_lifts_when_the_window_ends(client, viewer, settings):
    with time_machine.travel("2026-12-01 10:00:00Z", tick=False) as traveller:
        _failures(client, viewer.username, settings.LOGIN_FAILURE_LIMIT)
        traveller.shift(settings.LOGIN_FAILURE_WINDOW_SECONDS - 120)
        locked = _login(client, viewer.username, TEST_PASSWORD)
        assert locked.status_code == 429
        assert "try again in 2 minutes" in locked.content.decode()
        traveller.shift(121)
        response = _login(client, viewer.username, TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(viewer.pk)


def test_one_address_is_throttled_across_accounts(client, viewer, operator, settings):
    addr = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(client, f"guess-{n}", "x", **addr).status_code == 200
    assert _login(client, operator.username, TEST_PASSWORD, **addr).status_code == 429
    # Another address may still log in to the same account.
    other = _login(client, operator.username, TEST_PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302


def test_one_account_is_throttled_across_addresses(client, viewer, settings):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        _login(client, viewer.username, "x", REMOTE_ADDR=f"198.51.100.{n}")
    response = _login(client, viewer.username, TEST_PASSWORD, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 429


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(client, viewer, settings):
    settings.PAYFLOW_TRUSTED_PROXIES = ["10.0.0.0/8"]
    spoof = {"REMOTE_ADDR": "203.0.113.50", "HTTP_X_FORWARDED_FOR": "192.0.2.77"}
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        _login(client, f"someone-{n}", "x", **spoof)
    # The spoofed header did not move the counter off the real peer address.
    assert _login(client, "another", "x", REMOTE_ADDR="203.0.113.50").status_code == 429
    via_proxy = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "192.0.2.78"}
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        _login(client, f"other-{n}", "x", **via_proxy)
    assert _login(client, "x", "x", **via_proxy).status_code == 429
    # The proxy itself is not locked out for every client behind it.
    fresh = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "192.0.2.79"}
    assert _login(client, viewer.username, TEST_PASSWORD, **fresh).status_code == 302


def test_the_admin_login_is_throttled_too(client, admin, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": admin.username, "password": "x"})
    response = client.post("/admin/login/", {"username": admin.username, "password": "x"})
    assert response.status_code == 429
    assert "Retry-After" in response


def test_failures_are_logged(client, viewer, caplog):
    with caplog.at_level("WARNING", logger="payflow.login"):
        _login(client, viewer.username, "wrong")
    assert any("login failed" in record.getMessage() for record in caplog.records)
