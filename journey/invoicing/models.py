"""Models of invoicing (see the package): the documents and their numbering.

- :class:`Document`: an invoice, a receipt or a credit note. Never updated after it is
  issued and never deleted: ``content`` freezes what it says (the seller's and the
  buyer's legal details, the lines with their VAT), so a later change of a member's
  address or an offer's VAT does not rewrite a document already given out.
- :class:`DocumentCounter`: one row per numbering series (``INV-2026``: the cluster's
  optional prefix, the kind, the year). Its ``last`` is raised in the transaction that
  inserts the document, so both commit or neither does: no gap, no duplicate.
- :class:`DocumentMember`: which members' lines a document lists (a member sees those
  documents on its statement).
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.core.extensions import db
from journey.core.types import StrEnumType, UTCDateTime, utcnow


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"  # what the booking's confirmed lines cost, issued at confirmation
    RECEIPT = "receipt"  # money received: one per captured payment
    CREDIT_NOTE = "credit_note"  # what an invoiced line cancelled no longer costs


#: The series' letters per kind (``INV-2026-000001``).
SERIES_CODES = {DocumentKind.INVOICE: "INV", DocumentKind.RECEIPT: "RCT",
                DocumentKind.CREDIT_NOTE: "CN"}

DOCUMENT_KIND_TITLES = {DocumentKind.INVOICE: _l("Invoice"),
                        DocumentKind.RECEIPT: _l("Receipt"),
                        DocumentKind.CREDIT_NOTE: _l("Credit note")}


class DocumentCounter(db.Model):
    """The last number given in a series."""

    __tablename__ = "document_counter"

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger, default=0)


class Document(db.Model):
    """An invoice, a receipt or a credit note, issued once per ``fact``."""

    __tablename__ = "invoice_document"
    __table_args__ = (
        UniqueConstraint("series", "sequence", name="uq_invoice_document_series_sequence"),
        Index("ix_invoice_document_booking", "booking_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(StrEnumType(DocumentKind))
    series: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    #: What it documents, e.g. ``invoice:booking:7``, ``receipt:payment:9``,
    #: ``credit_note:line:3``: issuing it again finds this one.
    fact: Mapped[str] = mapped_column(String(120), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"))
    journey_id: Mapped[int | None] = mapped_column(ForeignKey("journey.id"), index=True)
    #: The payer: the patient, or (later) an insurer member paying for them.
    payer_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    payer_provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"))
    #: A credit note's (and a receipt's) invoice.
    related_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_document.id"))
    language: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    #: Gross (VAT included), and the VAT in it; positive also for a credit note.
    total_minor: Mapped[int] = mapped_column(BigInteger)
    vat_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    content: Mapped[dict] = mapped_column(JSON, default=dict)

    related: Mapped[Document | None] = relationship(remote_side=[id])
    members: Mapped[list[DocumentMember]] = relationship(
        back_populates="document", cascade="all, delete-orphan")


class DocumentMember(db.Model):
    """A member whose lines ``document`` lists."""

    __tablename__ = "invoice_document_member"

    document_id: Mapped[int] = mapped_column(ForeignKey("invoice_document.id"),
                                             primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), primary_key=True,
                                             index=True)

    document: Mapped[Document] = relationship(back_populates="members")
