"""Browser-test infrastructure: a live server (its own SQLite database, migrated and
loaded with the demo cluster) on a free loopback port, localstripe beside it with the
server's webhook registered, and one Chromium (Debian's, driven by playwright) per
session. Screenshots of each step go to ``tests/artifacts/`` (or ``$TEST_ARTIFACTS``).

Without Chromium the browser tests are skipped locally and fail when ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from journey.app import create_app
from journey.core.extensions import db
from tests.journey.pages.browser_fixtures import seed_live_server
from tests.journey.pages.portal_fixtures import booked
from tests.localstripe import free_port, register_webhook, running_localstripe

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK_SECRET = "whsec_browser_tests"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def require_chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def live_localstripe():
    with running_localstripe() as url:
        yield url


@dataclass
class LiveServer:
    url: str
    app: object
    stripe_url: str
    allowed_origins: set[str] = field(default_factory=set)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, live_localstripe):
    port = free_port()
    database = tmp_path_factory.mktemp("live") / "live.db"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "SECRET_KEY": "browser-tests",
        "STRIPE_API_BASE": live_localstripe,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ARGON2_PROFILE": "CHEAPEST",
        "WTF_CSRF_ENABLED": True,
        "RUN_SCHEDULER": False,
        "FILES_ROOT": str(tmp_path_factory.mktemp("live-files")),  # uploaded documents
    })
    seed_live_server(app, ROOT / "migrations")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    register_webhook(live_localstripe, f"{url}/api/v1/stripe/webhook", WEBHOOK_SECRET)
    try:
        yield LiveServer(url, app, live_localstripe,
                         {url, live_localstripe})  # localstripe stands in for js.stripe.com
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context; every request must stay on the server's origin (or
    localstripe's, the test stand-in for js.stripe.com)."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    outside: list[str] = []

    def check_origin(req):
        parts = urlsplit(req.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" not in live_server.allowed_origins:
            outside.append(req.url)

    tab.on("request", check_origin)
    tab.outside_requests = outside
    # Dangerous actions ask first (data-confirm, app.js): the tests answer yes and keep
    # the questions, so that a test can check one was asked.
    tab.dialogs = []

    def answer(dialog):
        tab.dialogs.append(dialog.message)
        dialog.accept()

    tab.on("dialog", answer)
    yield tab
    context.close()
    assert outside == [], f"requests left the server's origin: {outside}"


class Shots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, directory: Path, name: str):
        self.directory, self.name, self.n = directory, name, 0

    def __call__(self, page, step: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.directory / f"{self.name}-{self.n:02d}-{step}.png"),
                        full_page=True)


@pytest.fixture
def shots(artifacts_dir, request):
    return Shots(artifacts_dir, request.node.name)


@pytest.fixture
def booking(stripe_app, world):
    """The test module's ``world`` booked through localstripe by its patient
    (:func:`portal_fixtures.booked`): the lines wait for the members' answers."""
    return booked(world)
