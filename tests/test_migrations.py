"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from journey.app import create_app
from journey.core.extensions import db

pytestmark = pytest.mark.commits  # migrates databases of its own through the engine

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def _diff(app):
    migrate = app.extensions["migrate"]
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "render_as_batch": True,
            "include_name": migrate.configure_args["include_name"]})
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app):
    """Fails when a model changes without a migration (the same check as `flask db check`)."""
    with app.app_context():
        assert _diff(app) == []


def test_upgrade_and_downgrade_on_an_empty_database(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db", "TESTING": True})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        tables = set(inspect(db.engine).get_table_names())
        assert {"provider", "offer", "offer_text", "capacity_day", "user_account"} <= tables
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
