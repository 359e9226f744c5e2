"""Coverage products of insurer members, policies on journeys, guarantees of payment.

- :class:`CoverageProduct`: what an insurer pays for (chain links, optionally only some
  offers), how (a share in percent of each covered line, or a fixed amount per line),
  a deductible the patient pays first and a cap per journey, in the product's currency,
  between two dates (the line's first day must fall within them). Only a published
  product can be put on a journey; its insurer's manager writes it.
- :class:`InsurancePolicy`: the patient's policy on a journey (number, holder). At most
  one active per journey; removing it keeps the row (``removed_at``).
- :class:`Guarantee`: the insurer's promise to pay for one quote: asked when a journey
  with a policy is quoted, answered by the insurer's staff (amount, valid until) before
  ``respond_by``; an unanswered one lapses then (the patient may remove the policy and
  pay everything, or ask for a new quote).

The insurer's share of a booking, once confirmed, is a receivable of the booking
engine: :class:`bookings.models.InsurerReceivable`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow
from providers.models import Provider


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CoverageProduct(db.Model):
    __tablename__ = "coverage_product"
    __table_args__ = (
        CheckConstraint("share_percent IS NULL OR (share_percent >= 1 AND "
                        "share_percent <= 100)", name="share_percent_range"),
        CheckConstraint("fixed_minor IS NULL OR fixed_minor >= 1", name="fixed_positive"),
        CheckConstraint("(share_percent IS NULL) <> (fixed_minor IS NULL)",
                        name="share_or_fixed"),
        CheckConstraint("cap_minor IS NULL OR cap_minor >= 1", name="cap_positive"),
        CheckConstraint("deductible_minor >= 0", name="deductible_not_negative"),
        CheckConstraint("valid_until >= valid_from", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"),
                                             index=True)  # the insurer
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    chain_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Only these offers (empty: every offer of the covered chain links).
    offer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    share_percent: Mapped[int | None] = mapped_column()
    fixed_minor: Mapped[int | None] = mapped_column(BigInteger)
    cap_minor: Mapped[int | None] = mapped_column(BigInteger)
    deductible_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[ProductStatus] = mapped_column(StrEnumType(ProductStatus),
                                                  default=ProductStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Provider] = relationship()


class InsurancePolicy(db.Model):
    __tablename__ = "insurance_policy"
    __table_args__ = (Index("ix_insurance_policy_journey", "journey_id", "removed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("coverage_product.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))  # the insurer
    policy_number: Mapped[str] = mapped_column(String(60))
    holder_name: Mapped[str] = mapped_column(String(200))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    product: Mapped[CoverageProduct] = relationship()
    provider: Mapped[Provider] = relationship()


class GuaranteeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    LAPSED = "lapsed"  # not answered by its deadline, or its policy was removed


GUARANTEE_STATUS_TITLES = {
    GuaranteeStatus.PENDING: _l("Waiting for the insurer"),
    GuaranteeStatus.APPROVED: _l("Approved"),
    GuaranteeStatus.DECLINED: _l("Declined"),
    GuaranteeStatus.LAPSED: _l("Lapsed"),
}


class Guarantee(db.Model):
    __tablename__ = "insurance_guarantee"
    __table_args__ = (
        Index("ix_insurance_guarantee_provider", "provider_id", "status"),
        CheckConstraint("requested_minor >= 0", name="requested_not_negative"),
        CheckConstraint("approved_minor IS NULL OR approved_minor >= 0",
                        name="approved_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policy.id",
                                                      ondelete="CASCADE"), index=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"),
                                          unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))  # the insurer
    requested_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: The quote's line positions it covers (those with a covered share).
    line_positions: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[GuaranteeStatus] = mapped_column(StrEnumType(GuaranteeStatus),
                                                    default=GuaranteeStatus.PENDING)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_minor: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    policy: Mapped[InsurancePolicy] = relationship()
    provider: Mapped[Provider] = relationship()
