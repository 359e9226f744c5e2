"""Configuration from the environment, with safe defaults for development.

Nothing secret is a literal here: in production (``ONEWINDOW_ENV=production``) a
missing ``SECRET_KEY`` is an error instead of a development default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: The interface languages of the cluster (issue 5 adds their catalogs).
LANGUAGES = ["en", "lt", "ru", "de", "pl", "uk", "nb", "sv", "fr", "ar"]


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return tuple(part.strip() for part in value.split(",") if part.strip())


#: The types of a health document: PDF, JPEG, PNG, HEIC, WebP, DICOM in a ZIP, DICOM.
DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/heic", "image/webp",
                  "application/zip", "application/dicom")


def _instance_sqlite_url() -> str:
    path = PROJECT_ROOT / "instance" / "onewindow.db"
    return f"sqlite:///{path}"


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask configuration dict from the environment and ``overrides``."""
    env = os.environ.get("ONEWINDOW_ENV", "development")
    secret = os.environ.get("SECRET_KEY")
    if not secret and env != "production":
        # A per-process random key: sessions do not survive a restart in development,
        # and no secret is ever written into the repository.
        secret = secrets.token_hex(32)

    config = {
        "ENV_NAME": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or _instance_sqlite_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "DB_LOCK_TIMEOUT_SECONDS": float(os.environ.get("DB_LOCK_TIMEOUT_SECONDS", "3")),
        # Interface languages and formats.
        "LANGUAGES": LANGUAGES,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "DEFAULT_CURRENCY": os.environ.get("ONEWINDOW_CURRENCY", "EUR"),
        # How long a process keeps the cluster's interface languages (every request
        # needs them to choose its language) before reading them again; a change by an
        # admin reaches the other processes within this time (0: read every request).
        "CLUSTER_LANGUAGES_CACHE_SECONDS": float(
            os.environ.get("CLUSTER_LANGUAGES_CACHE_SECONDS", "5")),
        # Payments: localstripe on loopback in development and tests, real Stripe when
        # STRIPE_API_BASE is https://api.stripe.com and the keys are real.
        "STRIPE_API_KEY": os.environ.get("STRIPE_API_KEY", "sk_test_localstripe"),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:8420"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_localstripe"),
        # The browser side of Stripe: Stripe.js (localstripe serves a fake one under
        # <STRIPE_API_BASE>/js.stripe.com/v3/, used when this is empty) and the
        # publishable key it is given.
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL", ""),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe"),
        # Connect transfers (payouts to members); localstripe has no Connect, so in
        # development this points at the same base and payouts fail until a real one.
        "STRIPE_CONNECT_API_BASE": os.environ.get("STRIPE_CONNECT_API_BASE")
        or os.environ.get("STRIPE_API_BASE", "http://127.0.0.1:8420"),
        "CHECKOUT_HOLD_MINUTES": int(os.environ.get("CHECKOUT_HOLD_MINUTES", "30")),
        # A coordinator's payment link holds the units longer (at most 72 hours).
        "PAYMENT_LINK_HOLD_HOURS": min(72, int(os.environ.get("PAYMENT_LINK_HOLD_HOURS", "72"))),
        # How long a member has to accept or decline a request.
        "MEMBER_RESPONSE_HOURS": int(os.environ.get("MEMBER_RESPONSE_HOURS", "48")),
        # The balance reminder goes out this many days before the balance is due.
        "BALANCE_REMINDER_DAYS": int(os.environ.get("BALANCE_REMINDER_DAYS", "7")),
        # E-mail: SMTP when MAIL_SERVER is set, else .eml files under instance/mail.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "bookings@onewindow.localhost"),
        # Where the links in e-mails point.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # Days after a line's last day before its member is paid (a complaint, a
        # no-show, comes to light first).
        "PAYOUT_DELAY_DAYS": int(os.environ.get("PAYOUT_DELAY_DAYS", "7")),
        # Where a bank sends the patient back after 3-D Secure (PUBLIC_URL + the page).
        "STRIPE_RETURN_URL": os.environ.get("STRIPE_RETURN_URL", ""),
        # The scheduler inside the web process (``make run``); production runs one
        # ``flask scheduler`` process instead.
        "RUN_SCHEDULER": _bool("RUN_SCHEDULER", False),
        # Accounts.
        # Login throttling (journey/core/accounts/throttle.py): failures of one client
        # for one account before it backs off, of all clients for one account, of one
        # client for addresses without an account, and of one client in all.
        "LOGIN_FAILURE_LIMIT": int(os.environ.get("LOGIN_FAILURE_LIMIT", "5")),
        "LOGIN_ACCOUNT_LIMIT": int(os.environ.get("LOGIN_ACCOUNT_LIMIT", "20")),
        "LOGIN_UNKNOWN_IP_LIMIT": int(os.environ.get("LOGIN_UNKNOWN_IP_LIMIT", "20")),
        "LOGIN_IP_LIMIT": int(os.environ.get("LOGIN_IP_LIMIT", "100")),
        "LOGIN_BACKOFF_SECONDS": int(os.environ.get("LOGIN_BACKOFF_SECONDS", "120")),
        "LOGIN_FAILURE_WINDOW_MINUTES": int(os.environ.get("LOGIN_FAILURE_WINDOW_MINUTES", "15")),
        # Account links (invitations, resets, e-mail confirmation) and how many such
        # e-mails one address or one client may ask for.
        "ACCOUNT_INVITATION_DAYS": int(os.environ.get("ACCOUNT_INVITATION_DAYS", "7")),
        "EMAIL_VERIFICATION_DAYS": int(os.environ.get("EMAIL_VERIFICATION_DAYS", "7")),
        "PASSWORD_RESET_MINUTES": int(os.environ.get("PASSWORD_RESET_MINUTES", "60")),
        "ACCOUNT_MAIL_ADDRESS_LIMIT": int(os.environ.get("ACCOUNT_MAIL_ADDRESS_LIMIT", "3")),
        "ACCOUNT_MAIL_IP_LIMIT": int(os.environ.get("ACCOUNT_MAIL_IP_LIMIT", "20")),
        "ACCOUNT_MAIL_WINDOW_MINUTES": int(os.environ.get("ACCOUNT_MAIL_WINDOW_MINUTES", "60")),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host
        # (0: none, trust no such header). The client address comes from there.
        "PROXY_FIX_HOPS": int(os.environ.get("PROXY_FIX_HOPS", "0")),
        # How many days ahead the coordinators' board lists arrivals and departures.
        "BOARD_HORIZON_DAYS": int(os.environ.get("BOARD_HORIZON_DAYS", "30")),
        # Files (journey/core/storage.py): encrypted under FILES_ROOT (default
        # <instance>/files) with FILE_KEYS, comma-separated Fernet keys, newest first
        # (unset in development: a key generated once into <instance>/file.key).
        "FILES_ROOT": os.environ.get("FILES_ROOT", ""),
        "FILE_KEYS": os.environ.get("FILE_KEYS", ""),
        # Uploads (journey/core/files.py): the largest file, and the types of a health
        # document, as MIME types sniffed from the content.
        "UPLOAD_MAX_BYTES": int(os.environ.get("UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))),
        "DOCUMENT_TYPES": _list("DOCUMENT_TYPES", DOCUMENT_TYPES),
        # No request body beyond this (413); JSON has its own limits (core/safe_json.py).
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # The REST API and its OpenAPI document (flask-smorest).
        "API_TITLE": "One Window API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        # Vendored assets, served by the app itself: no CDN.
        "OPENAPI_SWAGGER_UI_URL": "/api/swagger-ui-assets/",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                }
            },
            "info": {
                "description": (
                    "The catalogue of a medical-tourism cluster. Authenticate with "
                    "`Authorization: Bearer <token>` (POST /api/v1/auth/tokens). "
                    "Language: `?lang=` (every operation takes it) or "
                    "`Accept-Language`; currency: `?currency=`. A query parameter an "
                    "operation does not know is refused (422), as an unknown field of "
                    "a body is."
                )
            },
        },
    }
    if overrides:
        config.update(overrides)
    if config["ENV_NAME"] == "production":
        check_production(config)
    return config


#: Values that are only right for development (localstripe's fixed keys and the like).
DEVELOPMENT_VALUES = {"sk_test_localstripe", "whsec_localstripe", "pk_test_localstripe",
                      "dev", "secret", "changeme", "change-me", "test-secret"}
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """Production was asked to start with a setting that is unsafe or missing."""


def check_production(config: dict) -> None:
    """Refuse to run production with a weak secret key, without the webhook secret or the
    file keys, or with localstripe's keys; the message names every variable to set."""
    problems = []
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < MIN_SECRET_KEY_LENGTH or secret.lower() in DEVELOPMENT_VALUES:
        problems.append(f"SECRET_KEY: at least {MIN_SECRET_KEY_LENGTH} random characters "
                        "(python -c 'import secrets; print(secrets.token_hex(32))')")
    for name, prefix in (("STRIPE_API_KEY", "sk_"), ("STRIPE_WEBHOOK_SECRET", "whsec_"),
                         ("STRIPE_PUBLISHABLE_KEY", "pk_")):
        value = config.get(name) or ""
        if value in DEVELOPMENT_VALUES or not value.startswith(prefix):
            problems.append(f"{name}: your Stripe account's {prefix}... value")
    problem = file_keys_problem(config.get("FILE_KEYS") or "")
    if problem:
        problems.append(problem)
    base = urlsplit(config.get("STRIPE_API_BASE") or "")
    if base.hostname in (None, "localhost") or (base.hostname or "").startswith("127."):
        problems.append("STRIPE_API_BASE: https://api.stripe.com (not localstripe)")
    if problems:
        raise ConfigurationError(
            "ONEWINDOW_ENV=production refuses to start. Set:\n  " + "\n  ".join(problems))


FERNET_KEY_HINT = ('python -c "from cryptography.fernet import Fernet; '
                   'print(Fernet.generate_key().decode())"')


def file_keys_problem(value: str) -> str | None:
    """What is wrong with ``FILE_KEYS`` (comma-separated Fernet keys, newest first), or
    None. The key itself is never part of the message."""
    keys = [part.strip() for part in (value or "").split(",") if part.strip()]
    if not keys:
        return ("FILE_KEYS: the key that encrypts stored files, a Fernet key (several "
                f"comma-separated, newest first, while rotating); make one with {FERNET_KEY_HINT}")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return (f"FILE_KEYS: key {position} of {len(keys)} is not a Fernet key "
                    f"(32 url-safe base64-encoded bytes); make one with {FERNET_KEY_HINT}")
    return None
