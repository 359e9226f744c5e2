"""Models of verified reviews.

A :class:`Review` is one patient's judgement of one member on one journey: unique per
(journey, member) in the database, so two concurrent submits write one review (the
other is a 409). Its text and ratings are the author's alone: only
:func:`journey.reviews.services.reviews.edit_review` (the author, within
:data:`EDIT_DAYS` days) changes them. The cluster's moderation changes only the
``state`` and the ``hidden_*`` columns, and writes a :class:`ReviewModeration` row each
time (append-only). The member's reply is written once (``replied_at``).

``ratings`` holds the optional ratings per dimension (``{"care": 5, "value": 4}``); the
dimensions a review may have follow the chain links of the lines it concerns
(:data:`DIMENSIONS`). ``chain_link`` is the main one of them, ``chain_links`` all.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.builder.models import Journey
from journey.core.accounts.models import User
from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow
from providers.models import ChainLink, Provider

MAX_TEXT = 4000
MAX_REPLY = 4000
MAX_NOTE = 500
#: The author may change a review this many days after writing it.
EDIT_DAYS = 30
RATING_RANGE = (1, 5)


class ReviewDimension(enum.StrEnum):
    CARE = "care"
    COMMUNICATION = "communication"
    CLEANLINESS = "cleanliness"
    COMFORT = "comfort"
    PUNCTUALITY = "punctuality"
    VALUE = "value"


DIMENSION_TITLES = {
    ReviewDimension.CARE: _l("Care"),
    ReviewDimension.COMMUNICATION: _l("Communication"),
    ReviewDimension.CLEANLINESS: _l("Cleanliness"),
    ReviewDimension.COMFORT: _l("Comfort"),
    ReviewDimension.PUNCTUALITY: _l("Punctuality"),
    ReviewDimension.VALUE: _l("Value for money"),
}

D = ReviewDimension
_CLINICAL = (D.CARE, D.COMMUNICATION, D.CLEANLINESS, D.VALUE)
#: The dimensions that fit each link of the chain.
DIMENSIONS: dict[ChainLink, tuple[ReviewDimension, ...]] = {
    ChainLink.VISA_SUPPORT: (D.COMMUNICATION, D.PUNCTUALITY, D.VALUE),
    ChainLink.TRAVEL: (D.PUNCTUALITY, D.COMMUNICATION, D.VALUE),
    ChainLink.TRANSFER: (D.PUNCTUALITY, D.COMFORT),
    ChainLink.ACCOMMODATION: (D.CLEANLINESS, D.COMFORT, D.VALUE),
    ChainLink.CONSULTATION: _CLINICAL,
    ChainLink.DIAGNOSTICS: _CLINICAL,
    ChainLink.TREATMENT: _CLINICAL,
    ChainLink.REHABILITATION: (D.CARE, D.COMMUNICATION, D.CLEANLINESS, D.COMFORT, D.VALUE),
    ChainLink.LEISURE: (D.COMMUNICATION, D.PUNCTUALITY, D.VALUE),
    ChainLink.TRANSLATION: (D.COMMUNICATION, D.PUNCTUALITY),
    ChainLink.CHILDCARE: (D.CARE, D.COMMUNICATION, D.PUNCTUALITY),
    ChainLink.INSURANCE: (D.COMMUNICATION, D.VALUE),
    ChainLink.AFTERCARE: (D.CARE, D.COMMUNICATION),
}
#: Which of a member's links a review is mainly about: the clinical ones first.
LINK_PRIORITY = (ChainLink.TREATMENT, ChainLink.REHABILITATION, ChainLink.DIAGNOSTICS,
                 ChainLink.CONSULTATION, ChainLink.AFTERCARE, ChainLink.ACCOMMODATION,
                 ChainLink.TRANSFER, ChainLink.TRANSLATION, ChainLink.CHILDCARE,
                 ChainLink.TRAVEL, ChainLink.VISA_SUPPORT, ChainLink.LEISURE,
                 ChainLink.INSURANCE)


class ReviewState(enum.StrEnum):
    PUBLISHED = "published"
    HIDDEN = "hidden"  # by the cluster's moderation, with a reason the author sees


REVIEW_STATE_TITLES = {
    ReviewState.PUBLISHED: _l("Published"),
    ReviewState.HIDDEN: _l("Hidden by moderation"),
}


class HideReason(enum.StrEnum):
    """Why the cluster hides a review: its published rules, nothing else (a low rating
    or a negative text is no reason)."""

    PERSONAL_DATA = "personal_data"
    INSULT = "insult"
    OFF_TOPIC = "off_topic"
    NOT_THIS_MEMBER = "not_this_member"
    OTHER = "other"  # needs a note


HIDE_REASON_TITLES = {
    HideReason.PERSONAL_DATA: _l("It reveals personal data (names, contacts, health "
                                 "details of others)."),
    HideReason.INSULT: _l("It insults or spreads hate."),
    HideReason.OFF_TOPIC: _l("It is off-topic or advertising."),
    HideReason.NOT_THIS_MEMBER: _l("It is not about this member's service."),
    HideReason.OTHER: _l("Another breach of the rules (explained in the note)."),
}


class ModerationAction(enum.StrEnum):
    HIDE = "hide"
    UNHIDE = "unhide"


MODERATION_ACTION_TITLES = {
    ModerationAction.HIDE: _l("Hidden"),
    ModerationAction.UNHIDE: _l("Shown again"),
}


class Review(db.Model):
    """One patient's review of one member for one journey."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("journey_id", "provider_id", name="uq_review_journey_provider"),
        CheckConstraint("overall >= 1 AND overall <= 5", name="overall_one_to_five"),
        Index("ix_review_provider_state", "provider_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    overall: Mapped[int] = mapped_column()
    ratings: Mapped[dict] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(20))
    anonymous: Mapped[bool] = mapped_column(default=False)
    #: The country the public reads ("a patient from Norway"): the journey's residence,
    #: else the nationality, when written.
    country: Mapped[str | None] = mapped_column(String(2))
    chain_link: Mapped[ChainLink] = mapped_column(StrEnumType(ChainLink))
    chain_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[ReviewState] = mapped_column(StrEnumType(ReviewState),
                                               default=ReviewState.PUBLISHED)
    hidden_reason: Mapped[HideReason | None] = mapped_column(StrEnumType(HideReason))
    hidden_note: Mapped[str] = mapped_column(String(MAX_NOTE), default="")
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_language: Mapped[str | None] = mapped_column(String(20))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    journey: Mapped[Journey] = relationship()
    provider: Mapped[Provider] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def published(self) -> bool:
        return self.state == ReviewState.PUBLISHED


class ReviewModeration(db.Model):
    """One moderation action on a review: who, when, what, why. Append-only."""

    __tablename__ = "review_moderation"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"),
                                           index=True)
    action: Mapped[ModerationAction] = mapped_column(StrEnumType(ModerationAction))
    reason: Mapped[HideReason | None] = mapped_column(StrEnumType(HideReason))
    note: Mapped[str] = mapped_column(String(MAX_NOTE), default="")
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()


class MemberRating(db.Model):
    """A member's published reviews as the catalogue ranks them: how many, and the sum
    of their overall ratings. Kept equal to those reviews in the transaction that
    writes, edits, hides or shows one (:func:`journey.reviews.services.counts.recount`),
    so a search reads one row per member instead of counting the reviews of every
    member it matches; ``flask ratings check|rebuild`` compare and repair it. A member
    without a published review has no row, or one of zeros."""

    __tablename__ = "member_rating"
    __table_args__ = (
        CheckConstraint("review_count >= 0 AND rating_total >= 0", name="not_negative"),
    )

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    review_count: Mapped[int] = mapped_column(default=0)
    rating_total: Mapped[int] = mapped_column(default=0)
