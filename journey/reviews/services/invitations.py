"""The invitation to review: once a journey is completed, its patient gets ONE e-mail
(in their language) naming the members that served them, with the link to the
journey's review page; the journey page shows the same invitation
(``reviews/_journey_panel.html``).

Queued once per journey (:func:`journey.notices.queue`, key ``review_invitation:<id>``),
so the job, run twice or alongside a coordinator's hand, sends one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, and_, cast, exists, literal, select

from bookings.models import Notification
from journey import notices
from journey.builder.models import Journey, JourneyStatus, JourneyTransition
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.types import utcnow
from journey.reviews.services.reviews import served_members

INVITATION = "review_invitation"
#: Journeys completed longer ago than this are not invited any more (a job started on
#: an old database does not write to patients of years ago).
INVITE_WITHIN = timedelta(days=30)


def invitation_key(journey_id: int) -> str:
    return f"{INVITATION}:{journey_id}"


def invite(journey: Journey, *, now: datetime | None = None) -> bool:
    """Queue the invitation of a completed journey's patient (once); False when there
    is nothing to invite to, or it was queued before."""
    if journey.status != JourneyStatus.COMPLETED:
        return False
    patient = journey.patient
    if patient is None or not patient.active or patient.erased_at is not None:
        return False
    if not served_members(journey):
        return False
    return notices.queue(invitation_key(journey.id), f"user:{journey.patient_id}",
                         INVITATION, payload={"journey_id": journey.id}, now=now)


def invite_completed(*, now: datetime | None = None) -> int:
    """The job: invite the patients of journeys completed within :data:`INVITE_WITHIN`
    and not invited yet, one unit of work each. Returns how many were queued."""
    now = now or utcnow()
    key = literal(INVITATION + ":") + cast(Journey.id, String)
    completed = exists().where(and_(JourneyTransition.journey_id == Journey.id,
                                    JourneyTransition.to_status == JourneyStatus.COMPLETED,
                                    JourneyTransition.at >= now - INVITE_WITHIN))
    ids = db.session.scalars(
        select(Journey.id).where(Journey.status == JourneyStatus.COMPLETED, completed,
                                 ~exists().where(Notification.key == key))
        .order_by(Journey.id)).all()
    queued = 0
    for journey_id in ids:
        queued += invite(db.session.get(Journey, journey_id), now=now)
        commit_unit()
    return queued
