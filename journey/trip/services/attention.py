"""What the coordinators' board flags: confirmed journeys that nobody coordinates, and
tasks due soon that nobody has been given."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from journey.builder.models import Journey, JourneyStatus
from journey.core.accounts.permissions import require_cluster
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.trip.models import Task, TaskStatus

#: Tasks due within this long without an assignee are flagged.
SOON = timedelta(hours=72)


def uncoordinated_journeys(actor) -> list[Journey]:
    require_cluster(actor)
    return list(db.session.scalars(select(Journey).where(
        Journey.status.in_((JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS)),
        Journey.coordinator_id.is_(None)).order_by(Journey.arrival_on, Journey.id)))


def unassigned_soon(actor, *, now: datetime | None = None) -> list[Task]:
    require_cluster(actor)
    now = now or utcnow()
    return list(db.session.scalars(select(Task).where(
        Task.status == TaskStatus.OPEN, Task.assignee_id.is_(None),
        Task.due_at < now + SOON).order_by(Task.due_at, Task.id)))
