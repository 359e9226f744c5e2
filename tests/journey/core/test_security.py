"""Security headers on every answer, and production refusing unsafe settings."""

from __future__ import annotations

import pytest

from journey.core.config import ConfigurationError, load_config

PRODUCTION = {
    "ONEWINDOW_ENV": "production",
    "SECRET_KEY": "k" * 16 + "9f3a1c07e2d84b6a5c1e0f9d8b7a6c5e",
    "STRIPE_API_KEY": "sk_live_abcdef",
    "STRIPE_WEBHOOK_SECRET": "whsec_abcdef",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_abcdef",
    "STRIPE_API_BASE": "https://api.stripe.com",
    "FILE_KEYS": "Gq9dXu0ZJ0Zq3m4hU9Yb2mJm3Kq1v7cB6yQpWn0sRkE=",
}


@pytest.fixture
def production(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_starts_with_real_settings(production):
    assert load_config()["ENV_NAME"] == "production"


@pytest.mark.parametrize(("name", "value", "named"), [
    ("SECRET_KEY", "x", "SECRET_KEY"),
    ("SECRET_KEY", None, "SECRET_KEY"),
    ("STRIPE_WEBHOOK_SECRET", None, "STRIPE_WEBHOOK_SECRET"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_localstripe", "STRIPE_WEBHOOK_SECRET"),
    ("STRIPE_API_KEY", "sk_test_localstripe", "STRIPE_API_KEY"),
    ("STRIPE_PUBLISHABLE_KEY", None, "STRIPE_PUBLISHABLE_KEY"),
    ("STRIPE_API_BASE", "http://127.0.0.1:8420", "STRIPE_API_BASE"),
    ("FILE_KEYS", None, "FILE_KEYS"),
])
def test_production_refuses_and_says_what_to_set(production, name, value, named):
    if value is None:
        production.delenv(name)
    else:
        production.setenv(name, value)
    with pytest.raises(ConfigurationError, match=named) as refused:
        load_config()
    assert "Set:" in str(refused.value)


PAGES = ["/", "/login", "/register", "/catalogue", "/api/v1/offers", "/api/openapi.json",
         "/api/docs", "/healthz", "/no-such-page", "/api/v1/no-such-thing"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "object-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers  # development over HTTP


def test_pages_allow_no_inline_script_and_only_stripe_beside_self(app, client):
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    stripe = app.config["STRIPE_API_BASE"].rstrip("/")
    assert directives["script-src"].split() == ["'self'", stripe]


def test_every_route_answers_with_the_headers(app, client):
    """Each registered GET route without parameters, and a POST to each with a body the
    route cannot take: all carry the policy (errors included)."""
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods:
            continue
        response = client.get(rule.rule)
        assert "Content-Security-Policy" in response.headers, rule.rule
    response = client.post("/api/v1/journeys", data="{", content_type="application/json")
    assert "Content-Security-Policy" in response.headers


def test_hsts_in_production_over_https(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    response = client.get("/healthz", base_url="https://onewindow.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
