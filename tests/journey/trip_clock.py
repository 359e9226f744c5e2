"""Moments of a booked trip for the tests that mark its progress by hand (a coordinator
may do so only once its days have come: journey.trip.services.progress)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from journey.builder.models import Journey
from journey.trip.services.progress import trip_span


def begun(journey: Journey) -> datetime:
    """Noon (UTC) on the first day of the trip's first booked line."""
    start, _zone, _end, _end_zone = trip_span(journey)
    return datetime.combine(start, time(12), tzinfo=UTC)


def over(journey: Journey) -> datetime:
    """Noon (UTC) the day after the trip's last day."""
    _start, _zone, end, _end_zone = trip_span(journey)
    return datetime.combine(end + timedelta(days=1), time(12), tzinfo=UTC)
