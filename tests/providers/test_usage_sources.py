"""Availability counts what the booking engine uses only through sources that
``create_app`` registers explicitly, and refuses to run without any."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bookings.services.usage import USAGE_SOURCES
from providers.services import availability


def test_create_app_registers_the_booking_engines_sources(app):
    assert all(source in availability._sources for source in USAGE_SOURCES)
    before = list(availability._sources)
    availability.register_usage_sources(*USAGE_SOURCES)  # twice changes nothing
    assert availability._sources == before


def test_availability_without_a_source_refuses_to_run(ctx, monkeypatch):
    monkeypatch.setattr(availability, "_sources", [])
    with pytest.raises(RuntimeError, match="no capacity usage source"):
        availability.used_units(1, date(2027, 1, 1), date(2027, 1, 2))
    with pytest.raises(RuntimeError, match="no capacity usage source"):
        availability.stale_units_expr(1, date(2027, 1, 1), datetime(2027, 1, 1, tzinfo=UTC))


def test_a_seven_item_availability_check_binds_few_enough_parameters_to_be_cached(ctx):
    """psycopg caches the parsing of a statement of at most 50 parameters; a quote's
    availability of a seven-link package (five values per item and the time) stays
    under it, the statement's constants being written into its text."""
    from journey.core.extensions import db

    statement = availability._availability_statement(7)
    compiled = statement.compile(dialect=db.engine.dialect)
    assert len(compiled.params) == 7 * 5 + 1
