"""Travellers, travel details and logistics tasks of a journey."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.builder.models import Journey
from journey.core.accounts.models import User
from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow


class Traveller(db.Model):
    """A person on the journey: the patient or a companion, named as in the passport.
    Passport data is seen only by those whose line needs it (see services/travellers)."""

    __tablename__ = "traveller"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(default=0)
    is_patient: Mapped[bool] = mapped_column(default=False)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    nationality: Mapped[str | None] = mapped_column(String(2))
    passport_number: Mapped[str | None] = mapped_column(String(40))
    passport_expires_on: Mapped[date | None] = mapped_column(Date)
    relationship_to_patient: Mapped[str] = mapped_column(String(40), default="")
    #: What the members should prepare: "wheelchair", "diet:halal", "language:ar"...
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    journey: Mapped[Journey] = relationship()


class LegDirection(enum.StrEnum):
    ARRIVAL = "arrival"
    DEPARTURE = "departure"


class TravelMode(enum.StrEnum):
    FLIGHT = "flight"
    TRAIN = "train"
    BUS = "bus"
    CAR = "car"
    OTHER = "other"


TRAVEL_MODE_TITLES = {
    TravelMode.FLIGHT: _l("Flight"), TravelMode.TRAIN: _l("Train"), TravelMode.BUS: _l("Bus"),
    TravelMode.CAR: _l("Car"), TravelMode.OTHER: _l("Other"),
}


class TravelLeg(db.Model):
    """How the travellers arrive or leave: the flight or train, the place and the time
    (stored in UTC, shown in ``timezone``, the zone of the place)."""

    __tablename__ = "travel_leg"
    __table_args__ = (UniqueConstraint("journey_id", "direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    direction: Mapped[LegDirection] = mapped_column(StrEnumType(LegDirection))
    mode: Mapped[TravelMode] = mapped_column(StrEnumType(TravelMode))
    number: Mapped[str] = mapped_column(String(20), default="")
    carrier: Mapped[str] = mapped_column(String(100), default="")
    place: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))


class TaskKind(enum.StrEnum):
    AIRPORT_PICKUP = "airport_pickup"
    AIRPORT_DROPOFF = "airport_dropoff"
    MEET_AND_GREET = "meet_and_greet"
    INTERPRETER = "interpreter"
    TRANSFER_BETWEEN_STAYS = "transfer_between_stays"
    SANATORIUM_HANDOVER = "sanatorium_handover"
    VISA_APPOINTMENT = "visa_appointment"
    FOLLOW_UP = "follow_up"  # aftercare: a check of the patient after the treatment
    OTHER = "other"


TASK_KIND_TITLES = {
    TaskKind.AIRPORT_PICKUP: _l("Pick-up on arrival"),
    TaskKind.AIRPORT_DROPOFF: _l("Drop-off for departure"),
    TaskKind.MEET_AND_GREET: _l("Meet and greet"),
    TaskKind.INTERPRETER: _l("Interpreter at the consultation"),
    TaskKind.TRANSFER_BETWEEN_STAYS: _l("Transfer between stays"),
    TaskKind.SANATORIUM_HANDOVER: _l("Hand-over to the rehabilitation centre"),
    TaskKind.VISA_APPOINTMENT: _l("Visa appointment"),
    TaskKind.FOLLOW_UP: _l("Aftercare follow-up"),
    TaskKind.OTHER: _l("Other task"),
}


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


TASK_STATUS_TITLES = {
    TaskStatus.OPEN: _l("Open"), TaskStatus.ASSIGNED: _l("Assigned"),
    TaskStatus.DONE: _l("Done"), TaskStatus.NO_SHOW: _l("No-show"),
    TaskStatus.CANCELLED: _l("Cancelled"),
}

S = TaskStatus
#: What a task may become (checked by :func:`journey.trip.services.tasks.move_task`).
TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.OPEN: frozenset({S.ASSIGNED, S.DONE, S.NO_SHOW, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.OPEN, S.DONE, S.NO_SHOW, S.CANCELLED}),
    S.DONE: frozenset(),
    S.NO_SHOW: frozenset(),
    # A generated task comes back when its line does (a line restored, a leg re-entered).
    S.CANCELLED: frozenset({S.OPEN}),
}


class Task(db.Model):
    """Something someone must do for the trip, at a time and place. ``source`` names
    what generated it (``line:12:sanatorium_handover``, ``leg:arrival``), so that
    generating again changes it instead of adding another; None for a task by hand."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("journey_id", "source"),
                      Index("ix_task_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    source: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[TaskKind] = mapped_column(StrEnumType(TaskKind))
    title: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    traveller_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    booking_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_line.id", ondelete="SET NULL"))
    provider_id: Mapped[int | None] = mapped_column(  # the member whose line it serves
        ForeignKey("provider.id", ondelete="SET NULL"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"),
                                                    index=True)
    status: Mapped[TaskStatus] = mapped_column(StrEnumType(TaskStatus),
                                               default=TaskStatus.OPEN)
    status_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    journey: Mapped[Journey] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class CalendarToken(db.Model):
    """The private, revocable address of a journey's calendar subscription (hashed)."""

    __tablename__ = "calendar_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LetterStatus(enum.StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"  # a newer letter for the same traveller replaced it
    REVOKED = "revoked"  # withdrawn: the journey was cancelled, or by a coordinator


LETTER_STATUS_TITLES = {
    LetterStatus.VALID: _l("Valid"),
    LetterStatus.SUPERSEDED: _l("Replaced by a newer letter"),
    LetterStatus.REVOKED: _l("Withdrawn"),
}


class VisaLetter(db.Model):
    """A visa invitation letter for one traveller, on the treating member's letterhead.
    What it says is frozen in ``content`` when it is issued, so that the PDF downloaded
    again and the public verification page (``/verify/<code>``) tell the same thing as
    the paper the consulate holds."""

    __tablename__ = "visa_letter"
    __table_args__ = (  # one valid letter per traveller, even when two issue at once
        Index("uq_visa_letter_valid", "traveller_id", unique=True,
              sqlite_where=text("status = 'valid'"), postgresql_where=text("status = 'valid'")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    traveller_id: Mapped[int | None] = mapped_column(
        ForeignKey("traveller.id", ondelete="SET NULL"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))  # the letterhead
    number: Mapped[str] = mapped_column(String(20), unique=True)
    #: Printed on the letter; the public page looks letters up by it.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    content: Mapped[dict] = mapped_column(JSON)
    status: Mapped[LetterStatus] = mapped_column(StrEnumType(LetterStatus),
                                                 default=LetterStatus.VALID)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
