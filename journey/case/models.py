"""The case of a journey: answers to the treating members' questionnaires, documents
(stored encrypted, see :mod:`journey.core.storage`), one review per treating member,
the patient's consents and the append-only log of who read what."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from journey.builder.models import Journey
from journey.core.accounts.models import User
from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow
from providers.models import DocumentKind, OfferDocumentRequest, OfferQuestion, Provider


class ReviewStatus(enum.StrEnum):
    """A treating member's review of the case (one per member and journey)."""

    OPEN = "open"  # the patient is still gathering answers and documents
    WAITING = "waiting"  # sent to the member, who has until ``respond_by``
    MORE_REQUESTED = "more_requested"  # the member asks for more (``missing``)
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the member's line left the package


REVIEW_STATUS_TITLES = {
    ReviewStatus.OPEN: _l("Being prepared"),
    ReviewStatus.WAITING: _l("Waiting for the clinic's review"),
    ReviewStatus.MORE_REQUESTED: _l("More information requested"),
    ReviewStatus.APPROVED: _l("Approved"),
    ReviewStatus.DECLINED: _l("Declined"),
    ReviewStatus.WITHDRAWN: _l("Withdrawn"),
}

R = ReviewStatus
#: What a review may become (checked by :func:`journey.case.services.reviews.move_review`).
REVIEW_TRANSITIONS: dict[ReviewStatus, frozenset[ReviewStatus]] = {
    R.OPEN: frozenset({R.WAITING, R.WITHDRAWN}),
    R.WAITING: frozenset({R.APPROVED, R.MORE_REQUESTED, R.DECLINED, R.WITHDRAWN}),
    R.MORE_REQUESTED: frozenset({R.WAITING, R.APPROVED, R.DECLINED, R.WITHDRAWN}),
    # A change of the treating line after approval asks the member again.
    R.APPROVED: frozenset({R.WAITING, R.WITHDRAWN}),
    R.DECLINED: frozenset({R.WITHDRAWN}),
    R.WITHDRAWN: frozenset({R.OPEN}),
}


class CaseReview(db.Model):
    """A treating member's review of the patient's case."""

    __tablename__ = "case_review"
    __table_args__ = (UniqueConstraint("journey_id", "provider_id"),
                      Index("ix_case_review_status", "status", "respond_by"))

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"),
                                             index=True)
    status: Mapped[ReviewStatus] = mapped_column(StrEnumType(ReviewStatus),
                                                 default=ReviewStatus.OPEN)
    #: What the member asks for (more_requested), in its own words, one item a line.
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")  # the member's, to the patient
    #: The member's lines as they were approved; a change of them asks it again.
    approved_lines: Mapped[list | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    journey: Mapped[Journey] = relationship()
    provider: Mapped[Provider] = relationship()


class CaseAnswer(db.Model):
    """The answer to one question of a treating member's questionnaire; ``value`` is
    typed by the question (text, true/false, a number, an ISO date, a choice's value)."""

    __tablename__ = "case_answer"
    __table_args__ = (UniqueConstraint("journey_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("offer_question.id", ondelete="CASCADE"))
    value: Mapped[object] = mapped_column(JSON)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    question: Mapped[OfferQuestion] = relationship()


class CaseDocument(db.Model):
    """A document of the case. The bytes are in the file storage under ``storage_key``
    (encrypted); the row says what it is and who may see it: the member that asked for
    it (``request``) and those the patient shared it with (``shared_with``)."""

    __tablename__ = "case_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[DocumentKind] = mapped_column(StrEnumType(DocumentKind))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer_document_request.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(200))  # None once erased
    #: Provider ids the patient shared it with, beside the member that asked for it.
    shared_with: Mapped[list[int]] = mapped_column(JSON, default=list)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    request: Mapped[OfferDocumentRequest | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()


class ConsentScope(enum.StrEnum):
    HEALTH_DATA = "health_data"  # processing of the patient's health data
    SHARE_WITH_TREATING = "share_with_treating"  # the journey's treating members see it


class Consent(db.Model):
    """A consent the patient gave (or a member's staff recorded for them), in the
    version and language of the text they read; withdrawn, never deleted."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_journey_scope", "journey_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    scope: Mapped[ConsentScope] = mapped_column(StrEnumType(ConsentScope))
    version: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    given_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    given_by: Mapped[User] = relationship(foreign_keys=[given_by_id])


class AccessAction(enum.StrEnum):
    READ = "read"  # the case (answers, the list of documents)
    DOWNLOAD = "download"  # a document's content
    CHANGE = "change"  # answers given, a document added, shared or removed
    EXPORT = "export"
    ERASE = "erase"
    CONSENT = "consent"  # given or withdrawn


class AccessLog(db.Model):
    """Append-only: who (with role and member) touched which medical content of whose
    journey, when, and why. ``flagged``: a coordinator outside their own journeys, who
    stated ``reason`` first ("break the glass")."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_journey", "journey_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(40))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id", ondelete="SET NULL"))
    journey_id: Mapped[int | None] = mapped_column(ForeignKey("journey.id", ondelete="SET NULL"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id",
                                                              ondelete="SET NULL"), index=True)
    action: Mapped[AccessAction] = mapped_column(StrEnumType(AccessAction))
    #: What was touched: "case", "document:12", "answers", "review:3", "export".
    entity: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(500), default="")
    flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: A refused attempt (403/404), written in a transaction of its own.
    refused: Mapped[bool] = mapped_column(default=False, server_default=false())

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    provider: Mapped[Provider | None] = relationship()
