"""Models of aftercare: the follow-up schedule a treating member sets for an offer, and
the follow-ups of a journey's treating lines, each with the patient's answers.

A schedule is a list of steps; an offer without a :class:`AftercareSchedule` row gets
the default schedule (code, :data:`journey.aftercare.services.schedules.DEFAULT_STEPS`)
when it is a treatment or a consultation, none otherwise. A schedule row with no step
means "no aftercare for this offer".

A :class:`FollowUp` is one step for one booked line: unique per (line, step), so the
planning job run twice writes each once. ``step_key`` names the step by what it is
(``after_treatment:7``), so a default step and the same step set by hand are one.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.builder.models import Journey
from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow


class StepKind(enum.StrEnum):
    #: ``offset`` hours before the departure (the journey's departure leg); without a
    #: leg, the day after the treatment's last day.
    BEFORE_DEPARTURE = "before_departure"
    #: ``offset`` days after the treatment's last day.
    AFTER_TREATMENT = "after_treatment"


STEP_KIND_TITLES = {
    StepKind.BEFORE_DEPARTURE: _l("Before the flight home"),
    StepKind.AFTER_TREATMENT: _l("After the treatment"),
}


class FollowUpState(enum.StrEnum):
    SCHEDULED = "scheduled"  # planned, not due yet
    OPEN = "open"  # due: the task is open and the questionnaire sent
    ANSWERED = "answered"  # the patient answered, nothing alarming
    ESCALATED = "escalated"  # the answer signals a problem: member and coordinators told
    CLOSED = "closed"  # the treating member (or a coordinator) has dealt with it
    CANCELLED = "cancelled"  # the line was cancelled, or the step left the schedule


#: How the patient feels, 5 (best) to 1: the questionnaire's first question.
WELLBEING_TITLES = {5: _l("Very well"), 4: _l("Well"), 3: _l("So-so"), 2: _l("Unwell"),
                    1: _l("Very unwell")}

FOLLOW_UP_STATE_TITLES = {
    FollowUpState.SCHEDULED: _l("Scheduled"),
    FollowUpState.OPEN: _l("Waiting for the answer"),
    FollowUpState.ANSWERED: _l("Answered"),
    FollowUpState.ESCALATED: _l("Problem reported"),
    FollowUpState.CLOSED: _l("Closed"),
    FollowUpState.CANCELLED: _l("Cancelled"),
}

F = FollowUpState
#: What a follow-up may become (checked by ``services.followups.move``).
FOLLOW_UP_TRANSITIONS: dict[FollowUpState, frozenset[FollowUpState]] = {
    F.SCHEDULED: frozenset({F.OPEN, F.CANCELLED}),
    F.OPEN: frozenset({F.ANSWERED, F.ESCALATED, F.CLOSED, F.CANCELLED}),
    F.ANSWERED: frozenset({F.CLOSED}),
    F.ESCALATED: frozenset({F.CLOSED}),
    F.CLOSED: frozenset(),
    # A step back in the schedule, or a line restored, before it was ever sent.
    F.CANCELLED: frozenset({F.SCHEDULED}),
}


class AftercareSchedule(db.Model):
    """The follow-up schedule a member set for one of its treating offers."""

    __tablename__ = "aftercare_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"),
                                          unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    steps: Mapped[list[AftercareStep]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan",
        order_by="AftercareStep.position")


class AftercareStep(db.Model):
    """One check of a schedule: when (``kind`` and ``offset``) and whether the patient is
    asked for a photo."""

    __tablename__ = "aftercare_step"
    __table_args__ = (UniqueConstraint("schedule_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("aftercare_schedule.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[StepKind] = mapped_column(StrEnumType(StepKind))
    #: Hours before the departure, or days after the treatment (see :class:`StepKind`).
    offset: Mapped[int] = mapped_column()
    photo: Mapped[bool] = mapped_column(default=False)

    schedule: Mapped[AftercareSchedule] = relationship(back_populates="steps")


class FollowUp(db.Model):
    """One step of the schedule for one booked treating line of a journey, and the
    patient's answers. Times in UTC, shown in ``timezone`` (the treating member's)."""

    __tablename__ = "aftercare_followup"
    __table_args__ = (UniqueConstraint("booking_line_id", "step_key"),
                      Index("ix_aftercare_followup_due", "state", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    booking_line_id: Mapped[int] = mapped_column(
        ForeignKey("booking_line.id", ondelete="CASCADE"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(  # the treating member
        ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    step_key: Mapped[str] = mapped_column(String(40))
    step_kind: Mapped[StepKind] = mapped_column(StrEnumType(StepKind))
    offset: Mapped[int] = mapped_column()
    photo: Mapped[bool] = mapped_column(default=False)  # the patient is asked for a photo
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    state: Mapped[FollowUpState] = mapped_column(StrEnumType(FollowUpState),
                                                 default=FollowUpState.SCHEDULED)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The answers: how are you (1 very unwell .. 5 very well), pain 0-10, complications.
    wellbeing: Mapped[int | None] = mapped_column()
    pain: Mapped[int | None] = mapped_column()
    complications: Mapped[bool | None] = mapped_column()
    complications_text: Mapped[str] = mapped_column(Text, default="")
    photo_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_document.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    journey: Mapped[Journey] = relationship()

    @property
    def answered(self) -> bool:
        return self.answered_at is not None
