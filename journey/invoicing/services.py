"""Issuing invoices, receipts and credit notes, and who may see them.

**Who sells.** The cluster sells as agent for its members: it issues **one invoice per
booking**, in its own name and numbering, listing the lines grouped by member, each
member with its legal name, address, company code and VAT number (the supplier of
those lines). A patient pays one booking with one card payment and expects one
invoice for it; an accountant finds each supplier and its VAT on it, with subtotals
per member and a VAT summary per rate.

**When.**

- the **invoice**, when the booking is confirmed (every remaining line confirmed and
  the deposit captured): its confirmed lines at their amounts (a line another member
  bears appears at 0, marked included);
- a **receipt** for each captured payment (the deposit, the balance), after the
  invoice (the deposit is captured just before the booking confirms, in the same
  transaction: its receipt follows the invoice, so it can name it);
- a **credit note** for each line of the invoice cancelled, naming the invoice: what the
  line no longer costs, its amount less the fee its member keeps, whether that money
  goes back to the card (a refund) or comes off a balance not paid yet. So the invoice
  less its credit notes is always what the booking costs now. (Until 2026-12-08 a credit
  note followed each refund instead: a line cancelled while only the deposit was paid
  gave nothing back, so it was never credited and the invoice overstated what was owed.)

Each is issued once per fact (``Document.fact`` is unique: a signal or a job run twice
issues once), in the transaction of the fact, numbered without gaps
(:mod:`journey.invoicing.numbering`) and never changed or deleted.

**VAT.** Prices include VAT. Each line carries its offer's ``vat_percent`` (0 for
medical services by default); its VAT is ``gross × rate / (100 + rate)``, rounded
half-even to a minor unit; net is gross less VAT.

**Language.** The payer's: the patient's locale, else the journey's language, else
English; titles of the services are frozen in that language.

**Access.** The payer (the patient) sees their own; a member's staff the documents
that list its lines; coordinators and admins all; anyone else gets 404.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from bookings.models import (
    Booking,
    BookingLine,
    LineStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from bookings.services.saga import BEFORE_CAPTURE
from journey.builder.models import ClusterSettings
from journey.builder.services.booking_link import journey_of
from journey.builder.services.journeys import visible_journey
from journey.builder.services.settings import existing_settings, get_settings
from journey.core.accounts.models import Role, User
from journey.core.accounts.permissions import require_admin
from journey.core.errors import InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.i18n import not_on_the_answer
from journey.core.types import utcnow
from journey.core.validation import at_most
from journey.invoicing.models import Document, DocumentKind, DocumentMember
from journey.invoicing.numbering import series_of, take_number
from providers.models import Offer, Provider
from providers.services.offers import last_day, offer_text

NO_DOCUMENT = _l("No such document.")


# --- amounts ------------------------------------------------------------------------

def vat_in(gross_minor: int, percent) -> int:
    """The VAT contained in ``gross_minor`` at ``percent`` (prices include VAT)."""
    rate = Decimal(str(percent or 0))
    if rate <= 0:
        return 0
    vat = Decimal(gross_minor) * rate / (Decimal(100) + rate)
    return int(vat.to_integral_value(rounding=ROUND_HALF_EVEN))


# --- who pays, who sells -------------------------------------------------------------

def payer_of(booking: Booking) -> User | None:
    ref = booking.customer_ref or ""
    if not ref.startswith("user:") or not ref[5:].isdigit():
        return None
    return db.session.get(User, int(ref[5:]))


def language_of(booking: Booking, payer: User | None = None) -> str:
    known = list(current_app.config["LANGUAGES"])
    payer = payer if payer is not None else payer_of(booking)
    journey = journey_of(booking)
    for candidate in (payer.locale if payer else None, journey.language if journey else None):
        code = (candidate or "").split("_")[0].split("-")[0]
        if code in known:
            return code
    return "en"


def _known_language(code: str | None) -> str:
    code = (code or "").split("_")[0].split("-")[0]
    return code if code in list(current_app.config["LANGUAGES"]) else "en"


def seller_details() -> dict:
    settings = existing_settings()
    if settings is None:
        return {"legal_name": "", "address": "", "registration_number": "", "vat_number": "",
                "prefix": ""}
    return {"legal_name": settings.legal_name or "", "address": settings.legal_address or "",
            "registration_number": settings.registration_number or "",
            "vat_number": settings.vat_number or "", "prefix": settings.invoice_prefix or ""}


def member_details(provider: Provider) -> dict:
    return {"id": provider.id, "name": provider.name,
            "legal_name": provider.legal_name or provider.name,
            "address": provider.street_address or "", "city": provider.city,
            "country": provider.country,
            "registration_number": provider.registration_number or "",
            "vat_number": provider.vat_number or ""}


def _buyer(payer: User | None, booking: Booking) -> dict:
    if payer is None:
        return {"name": booking.customer_ref, "email": "", "user_id": None}
    return {"name": payer.full_name, "email": payer.email, "user_id": payer.id}


def _line_item(line: BookingLine, language: str, gross: int | None = None) -> dict:
    offer = db.session.get(Offer, line.offer_id)
    with not_on_the_answer():  # the document's language, not the request's answer
        _found, text = offer_text(offer, language)
    gross = line.amount_minor if gross is None else gross
    percent = Decimal(offer.vat_percent or 0)
    vat = vat_in(gross, percent)
    return {"line_id": line.id, "offer_id": offer.id, "member_id": line.provider_id,
            "title": text.title if text else f"#{offer.id}",
            "start_on": line.start_on.isoformat(), "end_on": line.end_on.isoformat(),
            "last_on": last_day(offer, line.start_on, line.end_on).isoformat(),
            "days": line.days, "quantity": line.quantity, "gross_minor": gross,
            "vat_percent": str(percent.normalize() if percent else 0), "vat_minor": vat,
            "net_minor": gross - vat, "included": line.borne_by_provider_id is not None
            and line.amount_minor == 0}


# --- issuing -------------------------------------------------------------------------

def document_for(fact: str) -> Document | None:
    return db.session.scalar(select(Document).where(Document.fact == fact))


def invoice_of(booking_id: int) -> Document | None:
    return document_for(f"invoice:booking:{booking_id}")


def _issue(kind: DocumentKind, fact: str, booking: Booking, *, now: datetime,
           lines: list[dict], total_minor: int, extra: dict | None = None,
           payment_id: int | None = None, refund_id: int | None = None,
           related: Document | None = None,
           payer_provider: Provider | None = None) -> Document:
    """Number and insert the document of ``fact``, or find the one issued before. The
    payer is the booking's patient, or ``payer_provider`` (an insurer, in its default
    language).

    A fact is issued once (its column is unique): the insert is tried first, and when
    the fact is there already (issued before, or by a step racing this one) its savepoint
    is rolled back, number included, and the document found is returned. A first issue,
    by far the common case, asks nothing before it inserts."""
    payer = payer_of(booking) if payer_provider is None else None
    if payer_provider is not None:
        language = _known_language(payer_provider.default_language)
        buyer = {**member_details(payer_provider), "user_id": None, "email": ""}
    else:
        language = language_of(booking, payer)
        buyer = _buyer(payer, booking)
    seller = seller_details()
    journey = journey_of(booking)
    members = sorted({item["member_id"] for item in lines})
    content = {"seller": seller, "buyer": buyer, "lines": lines,
               "members": {str(pid): member_details(db.session.get(Provider, pid))
                           for pid in members},
               "booking": {"id": booking.id, "reference": booking.reference},
               "related_number": related.number if related is not None else None,
               **(extra or {})}
    try:
        with db.session.begin_nested():  # a lost race for the same fact: no number taken
            series = series_of(kind, now, seller["prefix"])
            sequence, number = take_number(series)
            document = Document(
                kind=kind, series=series, sequence=sequence, number=number, fact=fact,
                issued_at=now, booking_id=booking.id,
                journey_id=journey.id if journey is not None else None,
                payer_user_id=payer.id if payer is not None else None,
                payer_provider_id=payer_provider.id if payer_provider is not None else None,
                payment_id=payment_id, refund_id=refund_id,
                related_id=related.id if related is not None else None, language=language,
                currency=booking.currency, total_minor=total_minor,
                vat_minor=sum(item["vat_minor"] for item in lines), content=content,
                members=[DocumentMember(provider_id=pid) for pid in members])
            db.session.add(document)
            db.session.flush()
    except IntegrityError:
        found = document_for(fact)
        if found is None:
            raise
        return found
    return document


def issue_invoice(booking: Booking, *, now: datetime | None = None) -> Document:
    """The booking's invoice: its confirmed lines (see the module)."""
    now = now or utcnow()
    language = language_of(booking)
    lines = [_line_item(line, language) for line in booking.lines
             if line.status == LineStatus.CONFIRMED]
    return _issue(DocumentKind.INVOICE, f"invoice:booking:{booking.id}", booking, now=now,
                  lines=lines, total_minor=sum(item["gross_minor"] for item in lines))


# --- an insurer paying its share (journey.insurance) ----------------------------------

def issue_insurer_invoice(booking: Booking, insurer: Provider, *,
                          now: datetime | None = None) -> Document:
    """The invoice to ``insurer`` for its covered shares of the booking's confirmed
    lines, issued with the receivable at confirmation."""
    now = now or utcnow()
    language = _known_language(insurer.default_language)
    lines = [_line_item(line, language, gross=line.covered_minor) for line in booking.lines
             if line.status == LineStatus.CONFIRMED and line.covered_minor]
    return _issue(DocumentKind.INVOICE, f"invoice:insurer:booking:{booking.id}", booking,
                  now=now, lines=lines, total_minor=sum(i["gross_minor"] for i in lines),
                  payer_provider=insurer)


def issue_insurer_receipt(booking: Booking, insurer: Provider, *, transfer: int,
                          amount_minor: int, reference: str,
                          now: datetime | None = None) -> Document:
    """A receipt to ``insurer`` for its bank transfer number ``transfer`` (1, 2, ...)."""
    now = now or utcnow()
    invoice = document_for(f"invoice:insurer:booking:{booking.id}")
    members = sorted({line.provider_id for line in booking.lines if line.covered_minor})
    return _issue(DocumentKind.RECEIPT, f"receipt:insurer:booking:{booking.id}:{transfer}",
                  booking, now=now, lines=[{"member_id": pid, "vat_minor": 0}
                                           for pid in members],
                  total_minor=amount_minor, related=invoice, payer_provider=insurer,
                  extra={"transfer": {"reference": reference, "amount_minor": amount_minor}})


def issue_insurer_credit_note(booking: Booking, insurer: Provider, *, fact: str,
                              amount_minor: int, now: datetime | None = None) -> Document:
    """A credit note to ``insurer`` when a cancellation reduces its share by
    ``amount_minor`` (``fact`` names the cancellation)."""
    now = now or utcnow()
    invoice = document_for(f"invoice:insurer:booking:{booking.id}")
    members = sorted({line.provider_id for line in booking.lines if line.covered_minor})
    return _issue(DocumentKind.CREDIT_NOTE, f"credit_note:insurer:{fact}", booking, now=now,
                  lines=[{"member_id": pid, "vat_minor": 0} for pid in members],
                  total_minor=amount_minor, related=invoice, payer_provider=insurer)


def issue_receipt(payment: Payment, *, now: datetime | None = None,
                  invoice: Document | None = None) -> Document:
    """A receipt for what ``payment`` captured, naming the booking's ``invoice`` (read
    when not given)."""
    now = now or utcnow()
    booking = payment.booking
    invoice = invoice or invoice_of(booking.id)
    members = sorted({line.provider_id for line in booking.lines
                      if line.status == LineStatus.CONFIRMED}) or \
        sorted({line.provider_id for line in booking.lines})
    # A receipt restates no VAT: it lists whom the booking pays, with no amounts.
    lines = [{"member_id": pid, "vat_minor": 0} for pid in members]
    return _issue(DocumentKind.RECEIPT, f"receipt:payment:{payment.id}", booking, now=now,
                  lines=lines, total_minor=payment.captured_minor, payment_id=payment.id,
                  related=invoice, extra={"payment": {
                      "id": payment.id, "kind": payment.kind.value,
                      "amount_minor": payment.captured_minor}})


def issue_line_credit_note(booking: Booking, line: BookingLine, *,
                           now: datetime | None = None) -> Document | None:
    """A credit note for ``line``, cancelled after the booking's invoice listed it: its
    amount on the invoice less the fee its member keeps (``kept_minor``, final). None
    when the invoice does not list the line or the fee keeps it all."""
    now = now or utcnow()
    invoice = invoice_of(booking.id)
    if invoice is None:
        return None
    invoiced = next((item for item in invoice.content["lines"]
                     if item.get("line_id") == line.id), None)
    if invoiced is None:
        return None
    credited = invoiced["gross_minor"] - line.kept_minor
    if credited <= 0:
        return None
    return _issue(DocumentKind.CREDIT_NOTE, f"credit_note:line:{line.id}", booking,
                  now=now, lines=[_line_item(line, invoice.language, gross=credited)],
                  total_minor=credited, related=invoice,
                  extra={"cancelled_line": {"line_id": line.id,
                                            "invoiced_minor": invoiced["gross_minor"],
                                            "kept_minor": line.kept_minor}})


def credit_notes_of(refund: Refund) -> list[Document]:
    """The credit notes of the cancellation ``refund`` pays back: its line's, or, for a
    whole booking, those of the booking's cancelled lines."""
    if refund.line_id is not None:
        facts = [f"credit_note:line:{refund.line_id}"]
    else:
        facts = [f"credit_note:line:{line_id}" for line_id in db.session.scalars(
            select(BookingLine.id).where(BookingLine.booking_id == refund.booking_id,
                                         BookingLine.status == LineStatus.CANCELLED))]
    if not facts:
        return []
    return list(db.session.scalars(select(Document).where(Document.fact.in_(facts))
                                   .order_by(Document.id)))


# --- following the booking engine (connected by journey.invoicing.follow) -------------

def on_booking_confirmed(booking: Booking, *, now: datetime) -> None:
    held = _load_lines_offers(booking)  # read once for the invoice and the receipt
    invoice = issue_invoice(booking, now=now)
    for payment in booking.payments:  # the deposit, captured a moment before
        if payment.status == PaymentStatus.CAPTURED and payment.captured_minor > 0:
            issue_receipt(payment, now=now, invoice=invoice)
    del held


def _load_lines_offers(booking: Booking) -> list:
    """The offers of the booking's lines with their members and texts, and the lines'
    members, in two statements; the caller keeps the list while it issues documents,
    whose reads of them (``db.session.get``, an offer's member and texts) then find them
    in the session (which keeps no loaded row alive by itself)."""
    offer_ids = {line.offer_id for line in booking.lines}
    offers = db.session.scalars(
        select(Offer).where(Offer.id.in_(offer_ids))
        .options(joinedload(Offer.provider), selectinload(Offer.texts))).all() \
        if offer_ids else []
    known = {offer.provider_id for offer in offers}
    members = [db.session.get(Provider, pid) for pid in
               sorted({line.provider_id for line in booking.lines} - known)]
    return [*offers, *members]


def on_payment_captured(payment: Payment, *, now: datetime) -> None:
    """A receipt now when the booking is invoiced; else the confirmation issues it (the
    deposit is captured just before its booking is confirmed: a booking still before
    capture was never confirmed, so it has no invoice to look for)."""
    if payment.captured_minor <= 0 or payment.booking.status in BEFORE_CAPTURE:
        return
    if invoice_of(payment.booking_id) is not None:
        issue_receipt(payment, now=now)


def on_line_cancellation_settled(booking: Booking, line: BookingLine, *,
                                 now: datetime) -> None:
    issue_line_credit_note(booking, line, now=now)


# --- reading, with access ------------------------------------------------------------

def _visible(actor, query):
    if actor is None:
        return None
    if actor.role in (Role.COORDINATOR, Role.ADMIN):
        return query
    if actor.role == Role.PATIENT:
        return query.where(Document.payer_user_id == actor.id)
    if actor.provider_id is not None and actor.role in (Role.MEMBER_STAFF,
                                                        Role.MEMBER_MANAGER):
        # A member sees the invoices and credit notes that list its lines (as an
        # extract of them, :func:`seen_by`), not the receipts of what the patient paid
        # for everything; and every document it pays itself (an insurer).
        listing = Document.id.in_(select(DocumentMember.document_id).where(
            DocumentMember.provider_id == actor.provider_id)) & \
            (Document.kind != DocumentKind.RECEIPT)
        return query.where(listing | (Document.payer_provider_id == actor.provider_id))
    return None


class DocumentExtract:
    """What a member sees of a document that lists other members' lines too: the same
    document (number, date, buyer, seller) with only its own lines, and their sums as
    the total and the VAT. Read-only: the document itself is never changed."""

    def __init__(self, document: Document, provider_id: int):
        self._document = document
        key = str(provider_id)
        content = document.content
        lines = [item for item in content.get("lines", [])
                 if str(item.get("member_id")) == key]
        self.content = {**content, "lines": lines,
                        "members": {k: v for k, v in content.get("members", {}).items()
                                    if k == key},
                        "extract_of": content.get("members", {}).get(key, {})
                        .get("legal_name") or ""}
        self.total_minor = sum(item.get("gross_minor", 0) for item in lines)
        self.vat_minor = sum(item.get("vat_minor", 0) for item in lines)

    def __getattr__(self, name):
        return getattr(self._document, name)


def seen_by(actor, document: Document) -> Document | DocumentExtract:
    """``document`` as ``actor`` may see it: whole for its payer and the cluster, an
    extract of its own lines for a member named on it (a hotel does not read the
    clinic's lines of the same invoice)."""
    if actor.role in (Role.COORDINATOR, Role.ADMIN, Role.PATIENT) or \
            actor.provider_id is None or document.payer_provider_id == actor.provider_id:
        return document
    return DocumentExtract(document, actor.provider_id)


def get_document(actor, document_id: int) -> Document | DocumentExtract:
    """A document ``actor`` may see, as they may see it (:func:`seen_by`; 404 otherwise,
    whatever the id)."""
    query = _visible(actor, select(Document).where(Document.id == document_id))
    document = db.session.scalar(query) if query is not None else None
    if document is None:
        raise NotFound(NO_DOCUMENT)
    return seen_by(actor, document)


def list_documents(actor, *, journey_id: int | None = None, booking_id: int | None = None,
                   provider_id: int | None = None,
                   limit: int = 500) -> list[Document | DocumentExtract]:
    """The documents ``actor`` may see, the newest first, of one journey, booking or
    member when given."""
    query = select(Document)
    if journey_id is not None:
        query = query.where(Document.journey_id == journey_id)
    if booking_id is not None:
        query = query.where(Document.booking_id == booking_id)
    if provider_id is not None:
        query = query.where(Document.id.in_(select(DocumentMember.document_id).where(
            DocumentMember.provider_id == provider_id)))
    query = _visible(actor, query)
    if query is None:
        return []
    return [seen_by(actor, document) for document in db.session.scalars(
        query.order_by(Document.issued_at.desc(), Document.id.desc()).limit(limit))]


def journey_documents(actor, journey_id: int) -> list[Document]:
    """The journey's documents as ``actor`` sees them (404 for a journey they may not
    see)."""
    visible_journey(actor, journey_id)
    return list_documents(actor, journey_id=journey_id)


# --- the cluster's legal details -------------------------------------------------------

#: Field -> its longest length (the columns of ClusterSettings).
LEGAL_FIELDS = {"legal_name": 200, "legal_address": 300, "registration_number": 40,
                "vat_number": 40, "invoice_prefix": 10}


def update_legal_details(actor, **data) -> ClusterSettings:
    """The cluster's legal details on its documents (admins). Documents issued before
    keep the details they froze."""
    require_admin(actor)
    problems = {}
    values = {}
    for name, longest in LEGAL_FIELDS.items():
        if name not in data:
            continue
        value = (data[name] or "").strip()
        if len(value) > longest:
            problems[name] = [at_most(longest)]
        elif name == "invoice_prefix" and value and not value.replace("-", "").isalnum():
            problems[name] = [_l("Letters and digits only.")]
        values[name] = value.upper() if name == "invoice_prefix" else value
    if problems:
        raise InvalidInput(fields=problems)
    settings = get_settings()
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.flush()
    return settings
