"""Reminders before the trip, at the cadence patients keep to: a week, two days and one
day before the arrival, each at most once per journey, only the stage that is due (a
job that runs late sends the nearest stage, not the ones it missed), none for a journey
that is cancelled. The e-mail carries the pick-up and the calendar (journey/mail.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from journey import notices
from journey.builder.models import Journey, JourneyStatus
from journey.core.extensions import db
from journey.core.types import CLUSTER_TIMEZONE, utcnow
from journey.trip.models import LegDirection, TravelLeg

#: stage -> how long before the arrival it starts; it lasts until the next stage.
STAGES = (("7d", timedelta(days=7)), ("48h", timedelta(hours=48)), ("24h", timedelta(hours=24)))
UPCOMING = (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED)


def arrival_of(journey: Journey) -> tuple[datetime | None, str]:
    """When the travellers arrive and the zone of the place: the arrival leg's, else noon
    of the arrival day on the cluster's clock (None without either)."""
    leg = db.session.scalar(select(TravelLeg).where(
        TravelLeg.journey_id == journey.id, TravelLeg.direction == LegDirection.ARRIVAL))
    if leg is not None:
        return leg.at, leg.timezone
    if journey.arrival_on is None:
        return None, CLUSTER_TIMEZONE
    return (datetime.combine(journey.arrival_on, time(12), tzinfo=ZoneInfo(CLUSTER_TIMEZONE)),
            CLUSTER_TIMEZONE)


def due_stage(arrival: datetime, now: datetime) -> str | None:
    """The stage whose window ``now`` is in (None before the first and after arriving)."""
    if now >= arrival:
        return None
    due = None
    for stage, before in STAGES:
        if now >= arrival - before:
            due = stage
    return due


def queue_reminders(*, now: datetime | None = None) -> int:
    """The job: queue the reminder that is due for each upcoming journey, once."""
    now = now or utcnow()
    queued = 0
    for journey in db.session.scalars(select(Journey).where(Journey.status.in_(UPCOMING))):
        arrival, _zone = arrival_of(journey)
        stage = due_stage(arrival, now) if arrival is not None else None
        if stage is None:
            continue
        queued += notices.queue(f"trip_reminder:{journey.id}:{stage}",
                                f"user:{journey.patient_id}", f"trip_reminder_{stage}",
                                payload={"journey_id": journey.id}, now=now)
    return queued
