"""Shared fixtures: an app on a migrated database (SQLite by default, PostgreSQL when
``TEST_DATABASE_URL`` says so), each test rolled back after it; factories that build real
objects through the services."""

from __future__ import annotations

import contextvars
import os
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import Connection, create_engine, make_url, text

from bookings.services.usage import usage_differences
from journey.app import create_app
from journey.core.accounts import services as accounts
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.core.types import today_in
from providers.models import (
    CapacityUnit,
    ChainLink,
    ConfirmationMode,
    DurationUnit,
    MemberKind,
    MemberStatus,
    OfferStatus,
    PriceUnit,
)
from providers.services import members, offers

#: Shared fixtures of the booking engine (localstripe, bookings at a given step).
pytest_plugins = ["tests.booking_fixtures"]

PASSWORD = "correct-horse-battery"


def _database_url(tmp_path_factory) -> str:
    """SQLite in the worker's temp folder, or ``TEST_DATABASE_URL``. Under pytest-xdist
    each worker gets a PostgreSQL database of its own (``<name>_gw0``, ...), created
    here when it is missing."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


class IsolatedClient(FlaskClient):
    """Runs every request in an empty ``contextvars`` context, so it gets its own app
    context (``g``, database session) as in production, even while a test holds one."""

    def open(self, *args, **kwargs):
        _release_callers_savepoint(self.application)
        return contextvars.Context().run(super().open, *args, **kwargs)


def _release_callers_savepoint(app) -> None:
    """In a rolled-back test (see ``_database``) the test's own session and the request's
    share one connection: the test's savepoint is released before a request, so that
    the test rolling its session back afterwards cannot take the request's work too."""
    if (has_app_context() and current_app._get_current_object() is app
            and isinstance(db.engine, Connection) and db.session().in_transaction()):
        db.session.commit()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "WTF_CSRF_ENABLED": False,
        "LOGIN_FAILURE_LIMIT": 5,
        "ARGON2_PROFILE": "CHEAPEST",
        "DB_LOCK_TIMEOUT_SECONDS": 1,
        # each test starts from an empty database: nothing is kept between requests
        "CLUSTER_LANGUAGES_CACHE_SECONDS": 0,
        "FILES_ROOT": str(tmp_path_factory.mktemp("files")),
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _database(request):
    """Each test that uses the database runs in one transaction that is rolled back after
    it: the application's sessions and its own transactions (:func:`own_transaction`)
    join that connection through savepoints, so a commit of theirs is a savepoint
    released. Tests marked ``commits`` (threads, a live server, transactions that must
    stand on their own) commit for real, and every table is emptied after them.

    Savepoints nest, transactions do not: while one session works (a nested
    ``app.app_context()``), do not touch objects of another (the test's own), whose
    lazy load would open a savepoint inside; SQLite then answers "no such savepoint".
    Read ids first. Requests through the test client are safe (``IsolatedClient``)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    if request.node.get_closest_marker("commits"):
        yield
        try:
            _check_usage_counts(app)
        finally:
            _empty_tables(app)
        return
    with app.app_context():
        conn = db.engine.connect()
        outer = conn.begin()
        if conn.dialect.name == "sqlite":
            # pysqlite opens a transaction only before a write, so the first SAVEPOINT
            # would open one and its RELEASE commit it: open the outer one for real.
            conn.exec_driver_sql("BEGIN")
    engines = db._app_engines[app]
    engine, engines[None] = engines[None], conn
    options = db.session.session_factory.kw
    options["join_transaction_mode"] = "create_savepoint"
    try:
        yield
        _check_usage_counts(app)
    finally:
        with app.app_context():
            db.session.remove()
        options.pop("join_transaction_mode")
        engines[None] = engine
        outer.rollback()
        conn.close()


def _check_usage_counts(app) -> None:
    """The invariants of every test that used the database, one query each: each
    calendar day's ``used`` equals what its holds and booked lines count, and each
    member's kept rating its published reviews. A test that leaves its transaction
    unusable fails here rather than skipping the checks."""
    from journey.reviews.services.counts import rating_differences

    for differences, what in (
            (usage_differences, "capacity_day.used disagrees with the holds and bookings"),
            (rating_differences, "member_rating disagrees with the published reviews")):
        with app.app_context():
            try:
                found = differences()
            finally:
                db.session.rollback()
                db.session.remove()
        assert found == [], f"{what}: {found}"


def _empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE {} RESTART IDENTITY CASCADE".format(
                    ", ".join(f'"{t}"' for t in tables))))
            else:
                for table in reversed(tables):
                    conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def ctx(app):
    """An application context with a fresh session, for calling services directly."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


class Factory:
    """Builds users, members and offers through the services, committing each."""

    def __init__(self, app):
        self.app = app
        self._n = 0
        self._admin = None

    def _next(self) -> int:
        self._n += 1
        return self._n

    def admin(self):
        if self._admin is None:
            self._admin = accounts.bootstrap_admin(
                email="admin@test.example", password=PASSWORD, full_name="Ada Admin")
            db.session.commit()
        return self._admin

    def user(self, role: Role = Role.PATIENT, provider=None, **kw):
        n = self._next()
        email = kw.pop("email", f"{role.value}{n}@test.example")
        if role == Role.PATIENT:
            user = accounts.register_patient(email=email, password=PASSWORD,
                                             full_name=kw.pop("full_name", f"Patient {n}"),
                                             **kw)
        elif role == Role.ADMIN:
            user = accounts.create_user(self.admin(), email=email, password=PASSWORD,
                                        full_name=f"Admin {n}", role=role)
        else:
            user = accounts.create_user(self.admin(), email=email, password=PASSWORD,
                                        full_name=kw.pop("full_name", f"{role.value} {n}"),
                                        role=role,
                                        provider_id=provider.id if provider else None, **kw)
        db.session.commit()
        return user

    def member(self, *, kind=MemberKind.CLINIC, city="Vilnius", verified=True, **kw):
        n = self._next()
        data = {"name": f"Member {n}", "kind": kind, "city": city, "country": "LT",
                "timezone": "Europe/Vilnius", "languages": ["lt", "en"],
                "default_language": "lt", "currency": "EUR"}
        data.update(kw)
        provider = members.create_member(self.admin(), **data)
        if verified:
            members.set_member_status(self.admin(), provider.id, MemberStatus.VERIFIED)
        db.session.commit()
        return provider

    def offer(self, member=None, *, texts=None, capacity=None, days=30, start=None,
              status=OfferStatus.PUBLISHED, **kw):
        member = member or self.member()
        n = self._next()
        data = {"chain_link": ChainLink.TREATMENT, "price_unit": PriceUnit.STAY,
                "base_price_minor": 100000, "capacity_unit": CapacityUnit.SURGERY_SLOT,
                "duration_value": 1, "duration_unit": DurationUnit.DAYS,
                "confirmation_mode": ConfirmationMode.APPROVAL}
        data.update(kw)
        texts = texts or {"en": {"title": f"Offer {n}", "description": "An offer."},
                          "lt": {"title": f"Pasiūlymas {n}", "description": "Pasiūlymas."}}
        offer = offers.create_offer(self.admin(), member.id, texts=texts, status=status, **data)
        if capacity is not None:
            first = start or today_in()
            offers.set_capacity(self.admin(), offer.id, start=first,
                                end=first + timedelta(days=days - 1), capacity=capacity)
        db.session.commit()
        return offer

    def token(self, user) -> dict:
        issued = accounts.issue_token(user, name="test")
        db.session.commit()
        return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
def make(app, ctx):
    return Factory(app)
