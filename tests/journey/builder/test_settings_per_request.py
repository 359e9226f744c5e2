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
