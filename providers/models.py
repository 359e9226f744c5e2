"""The catalogue: members (providers), their offers, texts, prices and calendars."""

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
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false, func, text

from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow
from providers.procedures import Procedure


class MemberKind(enum.StrEnum):
    CLINIC = "clinic"
    DENTAL_CLINIC = "dental_clinic"
    HOSPITAL = "hospital"
    DIAGNOSTIC_CENTRE = "diagnostic_centre"
    SANATORIUM = "sanatorium"
    SPA = "spa"
    HOTEL = "hotel"
    TRAVEL_AGENCY = "travel_agency"
    TRANSFER_OPERATOR = "transfer_operator"
    INTERPRETER_SERVICE = "interpreter_service"
    CHILDCARE = "childcare"
    EXCURSION_OPERATOR = "excursion_operator"
    INSURER = "insurer"


MEMBER_KIND_TITLES = {
    MemberKind.CLINIC: _l("Clinic"),
    MemberKind.DENTAL_CLINIC: _l("Dental clinic"),
    MemberKind.HOSPITAL: _l("Hospital"),
    MemberKind.DIAGNOSTIC_CENTRE: _l("Diagnostic centre"),
    MemberKind.SANATORIUM: _l("Sanatorium / rehabilitation centre"),
    MemberKind.SPA: _l("Spa"),
    MemberKind.HOTEL: _l("Hotel"),
    MemberKind.TRAVEL_AGENCY: _l("Visa and travel agency"),
    MemberKind.TRANSFER_OPERATOR: _l("Transfer operator"),
    MemberKind.INTERPRETER_SERVICE: _l("Interpreter service"),
    MemberKind.CHILDCARE: _l("Childcare"),
    MemberKind.EXCURSION_OPERATOR: _l("Excursion operator"),
    MemberKind.INSURER: _l("Insurer"),
}


class ChainLink(enum.StrEnum):
    """The links of a medical tourist's path, in their usual order."""

    VISA_SUPPORT = "visa_support"
    TRAVEL = "travel"
    TRANSFER = "transfer"
    ACCOMMODATION = "accommodation"
    CONSULTATION = "consultation"
    DIAGNOSTICS = "diagnostics"
    TREATMENT = "treatment"
    REHABILITATION = "rehabilitation"
    LEISURE = "leisure"
    TRANSLATION = "translation"
    CHILDCARE = "childcare"
    INSURANCE = "insurance"
    AFTERCARE = "aftercare"


CHAIN_LINK_TITLES = {
    ChainLink.VISA_SUPPORT: _l("Visa support"),
    ChainLink.TRAVEL: _l("Tickets and travel"),
    ChainLink.TRANSFER: _l("Transfer"),
    ChainLink.ACCOMMODATION: _l("Accommodation"),
    ChainLink.CONSULTATION: _l("Consultation"),
    ChainLink.DIAGNOSTICS: _l("Diagnostics"),
    ChainLink.TREATMENT: _l("Treatment / surgery"),
    ChainLink.REHABILITATION: _l("Rehabilitation"),
    ChainLink.LEISURE: _l("Leisure and excursions"),
    ChainLink.TRANSLATION: _l("Translation / interpreter"),
    ChainLink.CHILDCARE: _l("Childcare"),
    ChainLink.INSURANCE: _l("Insurance"),
    ChainLink.AFTERCARE: _l("Aftercare follow-up"),
}


class MemberStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    SUSPENDED = "suspended"


class OfferStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class PriceUnit(enum.StrEnum):
    STAY = "stay"
    NIGHT = "night"
    DAY = "day"
    PERSON = "person"
    SESSION = "session"


PRICE_UNIT_TITLES = {
    PriceUnit.STAY: _l("per stay"),
    PriceUnit.NIGHT: _l("per night"),
    PriceUnit.DAY: _l("per day"),
    PriceUnit.PERSON: _l("per person"),
    PriceUnit.SESSION: _l("per session"),
}


class DurationUnit(enum.StrEnum):
    NIGHTS = "nights"
    DAYS = "days"
    SESSIONS = "sessions"


DURATION_UNIT_TITLES = {
    DurationUnit.NIGHTS: _l("nights"),
    DurationUnit.DAYS: _l("days"),
    DurationUnit.SESSIONS: _l("sessions"),
}


class CapacityUnit(enum.StrEnum):
    ROOM = "room"
    BED = "bed"
    SURGERY_SLOT = "surgery_slot"
    CONSULTATION_SLOT = "consultation_slot"
    SEAT = "seat"
    PLACE = "place"


class ConfirmationMode(enum.StrEnum):
    INSTANT = "instant"
    APPROVAL = "approval"


class QuestionKind(enum.StrEnum):
    """How a question of an offer's questionnaire is answered."""

    TEXT = "text"
    YES_NO = "yes_no"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"


QUESTION_KIND_TITLES = {
    QuestionKind.TEXT: _l("Text"),
    QuestionKind.YES_NO: _l("Yes or no"),
    QuestionKind.NUMBER: _l("Number"),
    QuestionKind.DATE: _l("Date"),
    QuestionKind.CHOICE: _l("Choice"),
}


class DocumentKind(enum.StrEnum):
    """What a document of the patient's case is."""

    MEDICAL_RECORD = "medical_record"
    IMAGING_REPORT = "imaging_report"
    IMAGING = "imaging"
    PHOTO = "photo"
    LAB_RESULTS = "lab_results"
    PRESCRIPTIONS = "prescriptions"
    PASSPORT = "passport"
    OTHER = "other"


DOCUMENT_KIND_TITLES = {
    DocumentKind.MEDICAL_RECORD: _l("Medical record"),
    DocumentKind.IMAGING_REPORT: _l("Imaging report"),
    DocumentKind.IMAGING: _l("Imaging (X-ray, MRI, CT)"),
    DocumentKind.PHOTO: _l("Photo"),
    DocumentKind.LAB_RESULTS: _l("Laboratory results"),
    DocumentKind.PRESCRIPTIONS: _l("List of prescriptions"),
    DocumentKind.PASSPORT: _l("Passport"),
    DocumentKind.OTHER: _l("Other document"),
}


class Provider(db.Model):
    """A member of the cluster."""

    __tablename__ = "provider"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)",
                        name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)",
                        name="longitude_range"),
        # The catalogue search compares cities case-insensitively.
        Index("ix_provider_lower_city", func.lower(text("city"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[MemberKind] = mapped_column(StrEnumType(MemberKind), index=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Vilnius")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_language: Mapped[str] = mapped_column(String(20), default="en")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    #: For letters and invoices: the street address, and the legal entity behind the name.
    street_address: Mapped[str | None] = mapped_column(String(300))
    legal_name: Mapped[str | None] = mapped_column(String(200))
    registration_number: Mapped[str | None] = mapped_column(String(40))
    vat_number: Mapped[str | None] = mapped_column(String(40))
    #: The member's Stripe Connect account (``acct_...``), where its payouts go.
    stripe_account_id: Mapped[str | None] = mapped_column(String(100))
    #: Days the member takes to review a patient's case before a coordinator is alerted.
    review_days: Mapped[int] = mapped_column(default=3, server_default="3")
    status: Mapped[MemberStatus] = mapped_column(StrEnumType(MemberStatus),
                                                 default=MemberStatus.PENDING, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    texts: Mapped[list[ProviderText]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="ProviderText.language")
    accreditations: Mapped[list[Accreditation]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="Accreditation.id")
    offers: Mapped[list[Offer]] = relationship(back_populates="provider",
                                               cascade="all, delete-orphan")

    @property
    def is_verified(self) -> bool:
        return self.status == MemberStatus.VERIFIED


class ProviderText(db.Model):
    __tablename__ = "provider_text"
    __table_args__ = (UniqueConstraint("provider_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")

    provider: Mapped[Provider] = relationship(back_populates="texts")


class AccreditationStatus(enum.StrEnum):
    """Where an accreditation stands: the member submits it (pending), an admin verifies
    or rejects it; an admin may revoke a verified one, the member withdraw its own."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"


ACCREDITATION_STATUS_TITLES = {
    AccreditationStatus.PENDING: _l("Waiting for verification"),
    AccreditationStatus.VERIFIED: _l("Verified"),
    AccreditationStatus.REJECTED: _l("Rejected"),
    AccreditationStatus.REVOKED: _l("Revoked"),
    AccreditationStatus.WITHDRAWN: _l("Withdrawn"),
}


class Accreditation(db.Model):
    """An accreditation a member claims, shown publicly only once an admin has verified
    it against its evidence (a PDF or an image in the file storage under
    ``evidence_key``), and only until ``valid_until``."""

    __tablename__ = "accreditation"
    __table_args__ = (
        CheckConstraint("evidence_size IS NULL OR evidence_size > 0",
                        name="evidence_size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(200))
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[AccreditationStatus] = mapped_column(
        StrEnumType(AccreditationStatus), default=AccreditationStatus.PENDING,
        server_default=AccreditationStatus.PENDING.value, index=True)
    #: Why an admin rejected or revoked it (shown to the member).
    status_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    evidence_key: Mapped[str | None] = mapped_column(String(200))
    evidence_filename: Mapped[str | None] = mapped_column(String(200))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None] = mapped_column(BigInteger)

    provider: Mapped[Provider] = relationship(back_populates="accreditations")

    @property
    def has_evidence(self) -> bool:
        return self.evidence_key is not None

    @property
    def evidence(self) -> Accreditation | None:
        """Itself when its evidence is uploaded (the API nests the evidence's fields)."""
        return self if self.has_evidence else None


class Offer(db.Model):
    """What a member sells at one link of the chain, with its own price and capacity."""

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint("base_price_minor >= 0", name="base_price_not_negative"),
        CheckConstraint("companion_price_minor IS NULL OR companion_price_minor >= 0",
                        name="companion_price_not_negative"),
        CheckConstraint("min_quantity >= 1", name="min_quantity_positive"),
        CheckConstraint("max_quantity IS NULL OR max_quantity >= min_quantity",
                        name="max_quantity_not_below_min"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
        CheckConstraint("duration_value >= 0", name="duration_not_negative"),
        CheckConstraint("recovery_days >= 0 AND fit_to_fly_days >= 0 "
                        "AND min_days_after_treatment >= 0", name="medical_days_not_negative"),
        Index("ix_offer_status_link", "status", "chain_link"),
        # A member's offers, and the search's "members in this city" lookups.
        Index("ix_offer_provider_status_link", "provider_id", "status", "chain_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"))
    chain_link: Mapped[ChainLink] = mapped_column(StrEnumType(ChainLink))
    #: What it treats (:mod:`providers.procedures`), fitting its chain link; None for
    #: offers that treat nothing in particular (a room, a transfer).
    procedure: Mapped[Procedure | None] = mapped_column(StrEnumType(Procedure), index=True)
    status: Mapped[OfferStatus] = mapped_column(StrEnumType(OfferStatus),
                                                default=OfferStatus.DRAFT)
    currency: Mapped[str] = mapped_column(String(3))
    price_unit: Mapped[PriceUnit] = mapped_column(StrEnumType(PriceUnit))
    base_price_minor: Mapped[int] = mapped_column(BigInteger)
    companion_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    min_quantity: Mapped[int] = mapped_column(default=1)
    max_quantity: Mapped[int | None] = mapped_column()
    capacity_unit: Mapped[CapacityUnit] = mapped_column(StrEnumType(CapacityUnit))
    lead_time_days: Mapped[int] = mapped_column(default=0)
    duration_value: Mapped[int] = mapped_column(default=1)
    duration_unit: Mapped[DurationUnit] = mapped_column(StrEnumType(DurationUnit))
    confirmation_mode: Mapped[ConfirmationMode] = mapped_column(
        StrEnumType(ConfirmationMode), default=ConfirmationMode.APPROVAL)
    # Medical rules the journey builder enforces (0 / False where they do not apply).
    requires_consultation: Mapped[bool] = mapped_column(default=False, server_default=false())
    recovery_days: Mapped[int] = mapped_column(default=0, server_default="0")
    fit_to_fly_days: Mapped[int] = mapped_column(default=0, server_default="0")
    min_days_after_treatment: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The treating member reviews the patient's case before the package can be paid.
    requires_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The VAT rate included in its prices, in percent (0 for medical services; a hotel
    #: may set e.g. 12); invoices show it per line.
    vat_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0),
                                                 server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    provider: Mapped[Provider] = relationship(back_populates="offers")
    texts: Mapped[list[OfferText]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferText.language")
    price_rules: Mapped[list[PriceRule]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="PriceRule.starts_on")
    cancellation_tiers: Mapped[list[CancellationTier]] = relationship(
        back_populates="offer", cascade="all, delete-orphan",
        order_by="CancellationTier.days_before.desc()")
    questions: Mapped[list[OfferQuestion]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferQuestion.position")
    document_requests: Mapped[list[OfferDocumentRequest]] = relationship(
        back_populates="offer", cascade="all, delete-orphan",
        order_by="OfferDocumentRequest.position")


class OfferText(db.Model):
    """An offer's texts in one language."""

    __tablename__ = "offer_text"
    __table_args__ = (UniqueConstraint("offer_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    inclusions: Mapped[list[str]] = mapped_column(JSON, default=list)
    exclusions: Mapped[list[str]] = mapped_column(JSON, default=list)

    offer: Mapped[Offer] = relationship(back_populates="texts")


class OfferQuestion(db.Model):
    """A question of the offer's questionnaire, which the patient's case answers.

    ``texts`` holds, per language, ``{"label": ..., "help": ..., "choices": [...]}``
    (choices' labels in the order of ``choices``, the stable values). A question taken
    out of the questionnaire is retired, not deleted, so the answers given stay readable.
    """

    __tablename__ = "offer_question"
    __table_args__ = (UniqueConstraint("offer_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(StrEnumType(QuestionKind))
    required: Mapped[bool] = mapped_column(default=True)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    texts: Mapped[dict] = mapped_column(JSON, default=dict)
    retired: Mapped[bool] = mapped_column(default=False, server_default=false())

    offer: Mapped[Offer] = relationship(back_populates="questions")


class OfferDocumentRequest(db.Model):
    """A document the treating member asks for before it reviews the case; ``notes``
    says per language what exactly (``{"en": "MRI of the knee, under 6 months"}``)."""

    __tablename__ = "offer_document_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[DocumentKind] = mapped_column(StrEnumType(DocumentKind))
    required: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    retired: Mapped[bool] = mapped_column(default=False, server_default=false())

    offer: Mapped[Offer] = relationship(back_populates="document_requests")


class PriceRule(db.Model):
    """A seasonal override of an offer's price for a date range (inclusive)."""

    __tablename__ = "price_rule"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="range_ordered"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("companion_price_minor IS NULL OR companion_price_minor >= 0",
                        name="companion_price_not_negative"),
        Index("ix_price_rule_offer_dates", "offer_id", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    companion_price_minor: Mapped[int | None] = mapped_column(BigInteger)

    offer: Mapped[Offer] = relationship(back_populates="price_rules")


class CancellationTier(db.Model):
    """Cancelled at least ``days_before`` days before the start -> ``refund_percent`` back."""

    __tablename__ = "cancellation_tier"
    __table_args__ = (
        UniqueConstraint("offer_id", "days_before"),
        CheckConstraint("days_before >= 0", name="days_not_negative"),
        CheckConstraint("refund_percent >= 0 AND refund_percent <= 100", name="percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    days_before: Mapped[int] = mapped_column()
    refund_percent: Mapped[int] = mapped_column()

    offer: Mapped[Offer] = relationship(back_populates="cancellation_tiers")


class CapacityDay(db.Model):
    """How many units (rooms, beds, slots, seats) an offer has on one local date, and
    how many of them are counted as used.

    ``used`` is kept by the booking engine in the same transaction as what uses the
    units: the units of every hold not yet released (expired or not) and of every
    booked line of a live booking. Free at ``now`` is ``capacity - used`` plus the
    units of the holds that expired by ``now`` and wait for their release (see
    :mod:`providers.services.availability`)."""

    __tablename__ = "capacity_day"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("used >= 0", name="used_not_negative"),
        # Availability reads (offer, day, capacity, used) for many days: on PostgreSQL
        # an index-only scan, with no visit to the (large) table.
        Index("ix_capacity_day_covering", "offer_id", "day",
              postgresql_include=["capacity", "used"]),
    )

    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"),
                                          primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[int] = mapped_column()
    used: Mapped[int] = mapped_column(default=0, server_default="0")


class ExchangeRate(db.Model):
    """``1 base = rate quote`` as published on ``effective_on``; kept, never overwritten."""

    __tablename__ = "exchange_rate"
    __table_args__ = (
        UniqueConstraint("base", "quote", "effective_on"),
        CheckConstraint("rate > 0", name="rate_positive"),
        CheckConstraint("base <> quote", name="distinct_currencies"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    effective_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
