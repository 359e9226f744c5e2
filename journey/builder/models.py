"""Package templates, journeys with their items and history, quotes with their lines,
and the cluster's settings for them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    cast,
    literal,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.core.accounts.models import User
from journey.core.extensions import db
from journey.core.reasons import Reasoned
from journey.core.types import StrEnumType, UTCDateTime, utcnow
from providers.models import ChainLink, Offer, Provider


class ClusterSettings(db.Model):
    """The cluster's rules for journeys and quotes (one row)."""

    __tablename__ = "cluster_settings"
    __table_args__ = (
        CheckConstraint("deposit_percent >= 0 AND deposit_percent <= 100",
                        name="deposit_percent_range"),
        CheckConstraint("quote_validity_hours >= 1", name="validity_positive"),
        CheckConstraint("balance_due_days >= 0", name="balance_days_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visa_free_nationalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    deposit_percent: Mapped[int] = mapped_column(default=30)
    balance_due_days: Mapped[int] = mapped_column(default=14)
    quote_validity_hours: Mapped[int] = mapped_column(default=72)
    #: The languages the cluster offers its pages and content in (a subset of LANGUAGES).
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Days after a patient's last journey ends before their health data and personal
    #: fields are erased (None: kept until the patient asks).
    health_data_retention_days: Mapped[int | None] = mapped_column()
    #: Days after a line's last day before its member is paid (bookings' settlement).
    payout_delay_days: Mapped[int] = mapped_column(default=7, server_default="7")
    # The cluster's legal details, on its invoices, receipts and credit notes (it sells
    # as agent for its members): see journey.invoicing.
    legal_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    legal_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    registration_number: Mapped[str] = mapped_column(String(40), default="",
                                                     server_default="")
    vat_number: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: Put before each series' letters (``LC-INV-2026-000001``); may be empty.
    invoice_prefix: Mapped[str] = mapped_column(String(10), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TemplateStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class PackageTemplate(db.Model):
    """A curated chain: ordered links relative to the arrival day, with a discount."""

    __tablename__ = "package_template"
    __table_args__ = (
        CheckConstraint("discount_percent IS NULL OR (discount_percent >= 0 AND "
                        "discount_percent <= 100)", name="discount_percent_range"),
        CheckConstraint("discount_minor IS NULL OR discount_minor >= 0",
                        name="discount_not_negative"),
        CheckConstraint("NOT (discount_percent IS NOT NULL AND discount_minor IS NOT NULL)",
                        name="one_kind_of_discount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), index=True)  # curating member
    status: Mapped[TemplateStatus] = mapped_column(StrEnumType(TemplateStatus),
                                                   default=TemplateStatus.DRAFT)
    discount_percent: Mapped[int | None] = mapped_column()
    discount_minor: Mapped[int | None] = mapped_column(BigInteger)
    discount_currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Provider | None] = relationship()
    texts: Mapped[list[TemplateText]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="TemplateText.language")
    links: Mapped[list[TemplateLink]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="TemplateLink.position")


class TemplateText(db.Model):
    __tablename__ = "template_text"
    __table_args__ = (UniqueConstraint("template_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("package_template.id",
                                                        ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    template: Mapped[PackageTemplate] = relationship(back_populates="texts")


class TemplateLink(db.Model):
    """One link of a template: a default offer, the allowed alternatives, and when."""

    __tablename__ = "template_link"
    __table_args__ = (
        UniqueConstraint("template_id", "position"),
        CheckConstraint("days >= 1", name="days_positive"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("package_template.id",
                                                        ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    chain_link: Mapped[ChainLink] = mapped_column(StrEnumType(ChainLink))
    default_offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    alternative_offer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    day_offset: Mapped[int | None] = mapped_column()  # days after arrival (negative: before)
    days: Mapped[int] = mapped_column(default=1)
    quantity: Mapped[int] = mapped_column(default=1)
    borne_by_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="SET NULL"))

    template: Mapped[PackageTemplate] = relationship(back_populates="links")
    default_offer: Mapped[Offer] = relationship()


class JourneyStatus(enum.StrEnum):
    DRAFT = "draft"
    QUOTED = "quoted"
    ACCEPTED = "accepted"
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: The way a journey goes, in order (a cancelled journey leaves it where it was).
JOURNEY_PATH = (JourneyStatus.DRAFT, JourneyStatus.QUOTED, JourneyStatus.ACCEPTED,
                JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS,
                JourneyStatus.COMPLETED)


JOURNEY_STATUS_TITLES = {
    JourneyStatus.DRAFT: _l("Draft"),
    JourneyStatus.QUOTED: _l("Quoted"),
    JourneyStatus.ACCEPTED: _l("Quote accepted"),
    JourneyStatus.BOOKED: _l("Booked"),
    JourneyStatus.CONFIRMED: _l("Confirmed"),
    JourneyStatus.IN_PROGRESS: _l("In progress"),
    JourneyStatus.COMPLETED: _l("Completed"),
    JourneyStatus.CANCELLED: _l("Cancelled"),
}


class Journey(db.Model):
    """One patient's trip, composed from any members' offers."""

    __tablename__ = "journey"
    __table_args__ = (
        CheckConstraint("adults >= 1", name="at_least_the_patient"),
        CheckConstraint("children >= 0", name="children_not_negative"),
        CheckConstraint("departure_on IS NULL OR arrival_on IS NULL OR departure_on > arrival_on",
                        name="departure_after_arrival"),
        Index("ix_journey_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entry_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="SET NULL"), index=True)  # the "one window"
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("package_template.id", ondelete="SET NULL"))
    adults: Mapped[int] = mapped_column(default=1)
    children: Mapped[int] = mapped_column(default=0)
    nationality: Mapped[str | None] = mapped_column(String(2))
    residence: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(20), default="en")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    arrival_on: Mapped[date | None] = mapped_column(Date)
    departure_on: Mapped[date | None] = mapped_column(Date)
    treatment_start_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[JourneyStatus] = mapped_column(StrEnumType(JourneyStatus),
                                                  default=JourneyStatus.DRAFT)
    #: The furthest state on the way (:data:`JOURNEY_PATH`) it has ever been in, kept by
    #: :func:`journey.builder.services.journeys.transition`: a journey cancelled after
    #: it was paid still counts as paid in the figures' funnel.
    reached: Mapped[JourneyStatus] = mapped_column(StrEnumType(JourneyStatus),
                                                   default=JourneyStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    patient: Mapped[User] = relationship(foreign_keys=[patient_id])
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])
    entry_provider: Mapped[Provider | None] = relationship()
    items: Mapped[list[JourneyItem]] = relationship(
        back_populates="journey", cascade="all, delete-orphan",
        order_by="(JourneyItem.start_on, JourneyItem.id)")
    transitions: Mapped[list[JourneyTransition]] = relationship(
        back_populates="journey", cascade="all, delete-orphan",
        order_by="JourneyTransition.id")
    quotes: Mapped[list[Quote]] = relationship(
        back_populates="journey", cascade="all, delete-orphan", order_by="Quote.version")


class JourneyItem(db.Model):
    """One offer in a journey: its dates (``days`` from ``start_on``) and quantity."""

    __tablename__ = "journey_item"
    __table_args__ = (
        CheckConstraint("days >= 1", name="days_positive"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("companions >= 0", name="companions_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    start_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(default=1)
    quantity: Mapped[int] = mapped_column(default=1)
    companions: Mapped[int] = mapped_column(default=0)
    borne_by_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="SET NULL"))
    template_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("template_link.id", ondelete="SET NULL"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    journey: Mapped[Journey] = relationship(back_populates="items")
    offer: Mapped[Offer] = relationship()
    borne_by: Mapped[Provider | None] = relationship()


class JourneyTransition(Reasoned, db.Model):
    """A change of a journey's state: who, when, from, to, why."""

    __tablename__ = "journey_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    from_status: Mapped[JourneyStatus | None] = mapped_column(StrEnumType(JourneyStatus))
    to_status: Mapped[JourneyStatus] = mapped_column(StrEnumType(JourneyStatus))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    journey: Mapped[Journey] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()


class Quote(db.Model):
    """A priced version of a journey. Written once; never changed except its acceptance."""

    __tablename__ = "quote"
    __table_args__ = (
        UniqueConstraint("journey_id", "version"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint("deposit_minor >= 0 AND deposit_minor <= total_minor",
                        name="deposit_within_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(20))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)  # what the patient pays
    #: What the patient's insurer covers (journey.insurance): not in ``total_minor``.
    covered_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    deposit_percent: Mapped[int] = mapped_column()
    deposit_minor: Mapped[int] = mapped_column(BigInteger)
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    balance_due_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    journey: Mapped[Journey] = relationship(back_populates="quotes")
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", order_by="QuoteLine.position")

    @property
    def due_now_minor(self) -> int:
        """What checkout charges: the deposit, or the whole total when there is none.
        The one place this is decided (the API, the pages and checkout read it)."""
        return self.deposit_minor or self.total_minor


def quote_reference():
    """``booking.reference`` of the booking made from ``Quote`` (``quote:<id>``, written
    by checkout), as SQL: ``Booking.reference == quote_reference()`` joins the two."""
    return literal("quote:") + cast(Quote.id, String)


class QuoteLineKind(enum.StrEnum):
    ITEM = "item"  # charged to the patient
    BORNE = "borne"  # included, paid by another member
    DISCOUNT = "discount"  # the package discount (negative)


class QuoteLine(db.Model):
    """A stored line of a quote: everything the patient was shown, as it was shown."""

    __tablename__ = "quote_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[QuoteLineKind] = mapped_column(StrEnumType(QuoteLineKind))
    journey_item_id: Mapped[int | None] = mapped_column()  # kept after the item goes
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id", ondelete="SET NULL"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id",
                                                               ondelete="SET NULL"))
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    chain_link: Mapped[ChainLink | None] = mapped_column(StrEnumType(ChainLink))
    title: Mapped[str] = mapped_column(String(300))
    start_on: Mapped[date | None] = mapped_column(Date)
    days: Mapped[int] = mapped_column(default=0)
    quantity: Mapped[int] = mapped_column(default=0)
    companions: Mapped[int] = mapped_column(default=0)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    offer_currency: Mapped[str] = mapped_column(String(3))
    total_offer_minor: Mapped[int] = mapped_column(BigInteger)  # in the offer's currency
    total_minor: Mapped[int] = mapped_column(BigInteger)  # in the quote's currency
    #: The insurer's share of the line (0 when not covered); the patient pays the rest.
    covered_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10), default=Decimal(1))
    rate_on: Mapped[date | None] = mapped_column(Date)
    borne_by_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="SET NULL"))
    inclusions: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclusions: Mapped[list[str]] = mapped_column(JSON, default=list)
    cancellation_terms: Mapped[list[dict]] = mapped_column(JSON, default=list)

    quote: Mapped[Quote] = relationship(back_populates="lines")


class BearingStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # the line changed after it was accepted: ask again


BEARING_STATUS_TITLES = {
    BearingStatus.PENDING: _l("Waiting for the member"),
    BearingStatus.ACCEPTED: _l("Accepted"),
    BearingStatus.DECLINED: _l("Declined"),
    BearingStatus.WITHDRAWN: _l("Withdrawn"),
    BearingStatus.LAPSED: _l("Lapsed: the line changed"),
}


class BearingRequest(db.Model):
    """A request that a member bear the cost of a line of a journey (a hospital paying
    its patient's hotel nights), decided by that member alone: nobody else can make a
    member pay. ``amount_minor`` is what the line cost when it was asked, in the
    journey's currency; an accepted request covers the line as it stood then."""

    __tablename__ = "bearing_request"
    __table_args__ = (Index("ix_bearing_request_provider", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"),
                                            index=True)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("journey_item.id", ondelete="SET NULL"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))  # the bearer
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[BearingStatus] = mapped_column(StrEnumType(BearingStatus),
                                                  default=BearingStatus.PENDING)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Provider] = relationship()
    journey: Mapped[Journey] = relationship()
    item: Mapped[JourneyItem | None] = relationship()
