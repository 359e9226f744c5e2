"""Login throttling (``journey.core.accounts.throttle``): an attacker slows down only
themselves. Requests come from the address the test client sets (REMOTE_ADDR)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journey.core.accounts import services
from journey.core.accounts.models import Role
from journey.core.errors import NotAuthenticated, TooManyRequests
from journey.core.types import utcnow
from tests.conftest import PASSWORD

pytestmark = pytest.mark.commits  # failed logins stand in transactions of their own


def _login(client, email, password, ip="203.0.113.7", headers=None):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, headers=headers or {})


def test_guessing_made_up_addresses_does_not_stop_a_real_user(client, make):
    admin, coordinator = make.admin(), make.user(Role.COORDINATOR)
    for n in range(20):
        assert _login(client, f"ghost{n}@nowhere.example", "guess-guess").status_code == 401
    assert _login(client, "ghost99@nowhere.example", "guess-guess").status_code == 429
    assert _login(client, admin.email, PASSWORD).status_code == 201  # the same client
    assert _login(client, coordinator.email, PASSWORD, ip="198.51.100.9").status_code == 201


def test_one_client_guessing_one_account_backs_off_alone(client, make):
    user = make.user()
    for _ in range(5):
        assert _login(client, user.email, "wrong-password").status_code == 401
    blocked = _login(client, user.email, PASSWORD)
    assert blocked.status_code == 429 and 0 < int(blocked.headers["Retry-After"]) <= 120
    assert blocked.json["message"]
    assert _login(client, user.email, PASSWORD, ip="198.51.100.9").status_code == 201


def test_the_pair_back_off_doubles_and_ends(ctx, make):
    user = make.user()
    start = utcnow() - timedelta(hours=1)
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            services.authenticate(user.email, "wrong", ip="192.0.2.1", now=start)
    with pytest.raises(TooManyRequests) as waiting:
        services.authenticate(user.email, PASSWORD, ip="192.0.2.1",
                              now=start + timedelta(seconds=60))
    assert waiting.value.headers["Retry-After"] == "60"
    later = start + timedelta(seconds=121)
    with pytest.raises(NotAuthenticated):  # allowed again; one more failure ...
        services.authenticate(user.email, "wrong", ip="192.0.2.1", now=later)
    with pytest.raises(TooManyRequests) as doubled:  # ... waits twice as long
        services.authenticate(user.email, PASSWORD, ip="192.0.2.1", now=later)
    assert doubled.value.headers["Retry-After"] == "240"
    assert services.authenticate(user.email, PASSWORD, ip="192.0.2.1",
                                 now=later + timedelta(seconds=241)).id == user.id


def test_many_clients_guessing_one_account_slow_it_by_seconds_not_minutes(ctx, make):
    user = make.user()
    now = utcnow()
    for n in range(20):
        with pytest.raises(NotAuthenticated):
            services.authenticate(user.email, "wrong", ip=f"192.0.2.{n}", now=now)
    with pytest.raises(TooManyRequests) as waiting:
        services.authenticate(user.email, PASSWORD, ip="198.51.100.1", now=now)
    assert 0 < int(waiting.value.headers["Retry-After"]) <= 60
    assert services.authenticate(user.email, PASSWORD, ip="198.51.100.1",
                                 now=now + timedelta(seconds=61)).id == user.id


def test_a_client_failing_a_hundred_times_waits_the_window(ctx, make):
    users = [make.user() for _ in range(25)]
    now = utcnow()
    for user in users:
        for _ in range(4):
            with pytest.raises(NotAuthenticated):
                services.authenticate(user.email, "wrong", ip="192.0.2.200", now=now)
    with pytest.raises(TooManyRequests):
        services.authenticate(make.user().email, PASSWORD, ip="192.0.2.200", now=now)


def test_the_client_address_comes_from_the_proxy_only_when_configured(app, client, make):
    user = make.user()
    forwarded = {"X-Forwarded-For": "198.51.100.77"}
    for _ in range(5):  # the proxy (one address) forwards one attacker
        _login(client, user.email, "wrong-password", ip="10.0.0.1", headers=forwarded)
    # Without PROXY_FIX_HOPS the header is not trusted: everyone is the proxy.
    other = {"X-Forwarded-For": "203.0.113.50"}
    assert _login(client, user.email, PASSWORD, ip="10.0.0.1",
                  headers=other).status_code == 429


def test_behind_a_configured_proxy_each_client_is_itself(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "PROXY_FIX_HOPS", 1)
    proxied_client = client
    user = make.user()
    for _ in range(5):
        _login(proxied_client, user.email, "wrong-password", ip="10.0.0.1",
               headers={"X-Forwarded-For": "198.51.100.77"})
    assert _login(proxied_client, user.email, PASSWORD, ip="10.0.0.1",
                  headers={"X-Forwarded-For": "198.51.100.77"}).status_code == 429
    assert _login(proxied_client, user.email, PASSWORD, ip="10.0.0.1",
                  headers={"X-Forwarded-For": "203.0.113.50"}).status_code == 201
