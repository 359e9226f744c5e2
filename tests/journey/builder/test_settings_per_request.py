"""The cluster's settings are read once per request (a quote asks for them several
times), and a change made in the request is what the rest of it reads."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from journey.builder.services import settings
from journey.core.extensions import db


@pytest.fixture
def selects(app):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "FROM cluster_settings" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_once_per_request(app, make, selects):
    admin = make.admin()
    settings.get_settings()
    db.session.commit()
    with app.test_request_context("/"):
        selects.clear()
        first = settings.get_settings()
        assert settings.get_settings() is first and settings.cluster_languages()
        assert len(selects) == 1
        settings.update_settings(admin, deposit_percent=40)
        assert settings.get_settings().deposit_percent == 40
    selects.clear()
    settings.get_settings()
    settings.get_settings()
    assert len(selects) == 2  # outside a request, each call reads the row


@pytest.fixture
def kept_for(app):
    """Keep the cluster's languages in the process for a while (the tests run with 0,
    since each test starts from an empty database)."""
    def keep(seconds: float) -> None:
        app.config["CLUSTER_LANGUAGES_CACHE_SECONDS"] = seconds
    settings_before = app.config["CLUSTER_LANGUAGES_CACHE_SECONDS"]
    with app.app_context():
        settings.forget_cluster_languages()
    yield keep
    app.config["CLUSTER_LANGUAGES_CACHE_SECONDS"] = settings_before
    with app.app_context():
        settings.forget_cluster_languages()


def test_the_languages_are_kept_in_the_process_for_a_while(app, make, selects, kept_for,
                                                           monkeypatch):
    admin = make.admin()
    settings.update_settings(admin, languages=["en", "nb"])
    db.session.commit()
    kept_for(60)
    selects.clear()
    for _ in range(3):
        with app.test_request_context("/"):
            assert settings.cluster_languages() == ["en", "nb"]
    assert len(selects) == 1  # one read, then kept
    # a change in this process is seen at once
    settings.update_settings(admin, languages=["en", "ar"])
    db.session.commit()
    with app.test_request_context("/"):
        assert settings.cluster_languages() == ["en", "ar"]
    # one made elsewhere (another process) once the time is up
    db.session.execute(db.update(settings.ClusterSettings).values(languages=["en", "lt"]))
    db.session.commit()
    with app.test_request_context("/"):
        assert settings.cluster_languages() == ["en", "ar"]
    clock = settings.time.monotonic() + 61
    monkeypatch.setattr(settings.time, "monotonic", lambda: clock)
    with app.test_request_context("/"):
        assert settings.cluster_languages() == ["en", "lt"]


def test_zero_reads_every_time(app, make, selects, kept_for):
    kept_for(0)
    for _ in range(2):
        with app.test_request_context("/"):
            settings.cluster_languages()
    assert len(selects) == 2


def test_settings_with_reads_the_row_and_other_values_in_one_statement(app, make, selects):
    """A quote reads the settings with its next version (settings_with): one statement,
    then the request's later readers get the same row; with none yet, it is created."""
    from flask import g
    from sqlalchemy import literal_column

    two = literal_column("2")
    with app.test_request_context("/"):
        created, values = settings.settings_with(two)  # no row yet: created
        assert values == (2,) and created.deposit_percent == 30
    db.session.commit()
    with app.test_request_context("/"):
        g.pop("_cluster_settings", None)  # the test's app context outlives the request
        selects.clear()
        row, values = settings.settings_with(two, literal_column("'x'"))
        assert values == (2, "x")
        assert settings.get_settings() is row
        assert len(selects) == 1
        again, values = settings.settings_with(two)  # kept: only the values are read
        assert again is row and values == (2,)
        assert len(selects) == 1


def test_settings_with_bound_columns_is_one_statement_built_once(app, make):
    """The same columns (built once, their values bound) make the same statement, whose
    compiled form SQLAlchemy keys once: a quote no longer builds its read per request."""
    from flask import g
    from sqlalchemy import Integer, bindparam

    settings.get_settings()
    db.session.commit()
    doubled = (bindparam("n", type_=Integer()) * 2,)
    statements = set()
    for n in (1, 2):
        with app.test_request_context("/"):
            g.pop("_cluster_settings", None)
            row, values = settings.settings_with(*doubled, parameters={"n": n})
            assert values == (2 * n,) and row is not None
            statements.add(id(settings._with_settings(doubled)))
    assert len(statements) == 1
    assert settings._with_settings.cache_info().hits >= 2
