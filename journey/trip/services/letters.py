"""Visa invitation letters: one per traveller, on the letterhead of the member that
treats the patient, for a consulate.

A letter is issued only when the trip is real: the deposit authorised (or taken) and
every medical review of the case approved; and only for a traveller whose passport
data is complete and valid three months beyond the departure (what a Schengen visa
asks). What the letter says is frozen when it is issued (``VisaLetter.content``);
issuing again with the same facts gives the same letter, with changed facts (new dates,
a corrected passport number) a new one that replaces the old. A consulate checks a
letter on the public page ``/verify/<code>``, which shows the number, the issuing
member, the traveller's initials and the dates: never the treatment or the passport.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookings.models import Booking, BookingStatus, Payment, PaymentKind, PaymentStatus
from journey.builder.models import Journey, JourneyStatus, Quote, quote_reference
from journey.builder.services.journeys import load_items, visible_journey
from journey.case.services.reviews import review_refusal
from journey.core.errors import Conflict, DomainError, Forbidden, NotFound, refuse
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.trip.models import LetterStatus, Traveller, VisaLetter
from journey.trip.services.itinerary import item_end
from journey.trip.services.travel import legs_of
from journey.trip.services.travellers import sees_passports, travellers_of
from providers.models import ChainLink, Provider
from providers.services.case_requirements import TREATMENT_SIDE

#: A Schengen visa asks for a passport valid three months beyond the departure.
PASSPORT_MARGIN = timedelta(days=90)
#: Letters are for a trip that happens; a cancelled journey's letters are withdrawn.
LIVE = (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS)
HELD_MONEY = (PaymentStatus.AUTHORISED, PaymentStatus.CAPTURED)
#: No 0/O or 1/I: a consulate types the code from paper.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
STAY_LINKS = (ChainLink.ACCOMMODATION, ChainLink.REHABILITATION)


class LetterNotYet(Conflict):
    code = "letter_not_ready"


@dataclass
class LetterSlot:
    """A traveller and their letter: the valid one, or why there is none yet."""

    traveller: Traveller
    letter: VisaLetter | None
    refusal: DomainError | None


# --- when a letter may be issued --------------------------------------------------------

def _bookings(journey: Journey) -> list[Booking]:
    return list(db.session.scalars(select(Booking).join(
        Quote, Booking.reference == quote_reference()).where(
        Quote.journey_id == journey.id,
        Booking.status.notin_((BookingStatus.FAILED, BookingStatus.EXPIRED,
                               BookingStatus.CANCELLED))).order_by(Booking.id.desc())))


def _deposit(booking: Booking) -> Payment | None:
    return db.session.scalar(select(Payment).where(
        Payment.booking_id == booking.id, Payment.kind == PaymentKind.DEPOSIT,
        Payment.status.in_(HELD_MONEY)).order_by(Payment.id.desc()).limit(1))


def _treating(journey: Journey):
    """The first treating line (consultation, diagnostics, treatment, rehabilitation)."""
    return next((item for item in load_items(journey)
                 if item.offer.chain_link in TREATMENT_SIDE), None)


def journey_refusal(journey: Journey) -> DomainError | None:
    """Why no letter can be issued for the journey yet (None: it can)."""
    if journey.status not in LIVE:
        return LetterNotYet(_l("Visa letters are issued for a booked journey."))
    if _treating(journey) is None:
        return LetterNotYet(_l("A visa letter is issued by the member that treats the "
                               "patient; this journey has no treatment."))
    booking = next(iter(_bookings(journey)), None)
    if booking is None or _deposit(booking) is None:
        return LetterNotYet(_l("The visa letter is issued once the deposit is paid."))
    pending = review_refusal(journey)
    if pending is not None:
        return LetterNotYet(_l("The visa letter is issued once the medical review of the "
                               "case is approved."))
    return None


def traveller_refusal(traveller: Traveller, departure_on: date | None) -> DomainError | None:
    missing = [name for name, value in (
        (_l("date of birth"), traveller.birth_date),
        (_l("nationality"), traveller.nationality),
        (_l("passport number"), traveller.passport_number),
        (_l("passport expiry"), traveller.passport_expires_on)) if not value]
    if missing:
        return LetterNotYet(_l("The letter needs the traveller's %(fields)s.",
                               fields=", ".join(str(m) for m in missing)))
    if departure_on is not None and traveller.passport_expires_on < (
            departure_on + PASSPORT_MARGIN):
        return LetterNotYet(_l("The passport must be valid at least three months after the "
                               "departure (%(date)s) for a visa.", date=departure_on.isoformat()))
    return None


# --- what a letter says ----------------------------------------------------------------

def _dates(journey: Journey, items) -> tuple[date, date]:
    legs = legs_of(journey.id)
    first = min(item.start_on for item in items)
    last = max(item_end(item) for item in items)
    arrival = journey.arrival_on or first
    departure = journey.departure_on or last
    for direction, leg in legs.items():
        local = leg.at.astimezone(ZoneInfo(leg.timezone)).date()
        if direction.value == "arrival":
            arrival = local
        else:
            departure = local
    return min(arrival, first), max(departure, last)


def _member(provider: Provider) -> dict:
    return {"id": provider.id, "name": provider.name, "legal_name": provider.legal_name,
            "street_address": provider.street_address, "city": provider.city,
            "country": provider.country, "phone": provider.phone, "email": provider.email,
            "website": provider.website, "registration_number": provider.registration_number}


def letter_content(journey: Journey, traveller: Traveller) -> dict:
    """What the letter for ``traveller`` says now (JSON: frozen into the letter)."""
    items = load_items(journey)
    treating = _treating(journey)
    arrival, departure = _dates(journey, items)
    booking = _bookings(journey)[0]
    deposit = _deposit(booking)
    patient = next((t for t in travellers_of(journey.id) if t.is_patient), None)
    return {
        "traveller": {
            "full_name": traveller.full_name, "birth_date": traveller.birth_date.isoformat(),
            "nationality": traveller.nationality,
            "passport_number": traveller.passport_number,
            "passport_expires_on": traveller.passport_expires_on.isoformat(),
            "is_patient": traveller.is_patient,
            "relationship": traveller.relationship_to_patient},
        "patient_name": patient.full_name if patient else journey.patient.full_name,
        "member": _member(treating.offer.provider),
        "arrival_on": arrival.isoformat(), "departure_on": departure.isoformat(),
        "treatment": [{"offer_id": item.offer_id, "provider": item.offer.provider.name,
                       "start_on": item.start_on.isoformat(),
                       "end_on": item_end(item).isoformat()}
                      for item in items if item.offer.chain_link in TREATMENT_SIDE],
        "stays": [{"offer_id": item.offer_id, "provider": item.offer.provider.name,
                   "address": ", ".join(filter(None, (item.offer.provider.street_address,
                                                      item.offer.provider.city))),
                   "start_on": item.start_on.isoformat(),
                   "end_on": item_end(item).isoformat()}
                  for item in items if item.offer.chain_link in STAY_LINKS],
        "cost_minor": booking.total_minor, "currency": booking.currency,
        "deposit_minor": deposit.captured_minor if deposit.status == PaymentStatus.CAPTURED
        else deposit.amount_minor,
        "booking": booking.id,
    }


# --- issuing and reading -----------------------------------------------------------------

def _letter_journey(actor, journey_id: int) -> Journey:
    """The journey, for someone who may hold its letters: they carry passport data."""
    journey = visible_journey(actor, journey_id)
    if not sees_passports(actor, journey):
        raise Forbidden(_l("Visa letters are for the patient, the coordinators and the "
                           "members that need the passport data."))
    return journey


def _valid(traveller_id: int) -> VisaLetter | None:
    return db.session.scalar(select(VisaLetter).where(
        VisaLetter.traveller_id == traveller_id, VisaLetter.status == LetterStatus.VALID))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def issue_letter(actor, journey_id: int, traveller_id: int, *,
                 now: datetime | None = None) -> VisaLetter:
    """The traveller's letter: the valid one when nothing it says has changed, else a
    new one that replaces it. Refused (409, with the reason) before it may be issued."""
    journey = _letter_journey(actor, journey_id)
    traveller = next((t for t in travellers_of(journey.id) if t.id == traveller_id), None)
    if traveller is None:
        raise NotFound(_l("No such traveller."))
    refuse(journey_refusal(journey))
    refuse(traveller_refusal(traveller, _dates(journey, load_items(journey))[1]))
    content = letter_content(journey, traveller)
    current = _valid(traveller.id)
    if current is not None and current.content == content:
        return current
    now = now or utcnow()
    try:
        with db.session.begin_nested():
            if current is not None:
                current.status, current.ended_at = LetterStatus.SUPERSEDED, now
                db.session.flush()
            code = new_code()
            letter = VisaLetter(journey_id=journey.id, traveller_id=traveller.id,
                                provider_id=content["member"]["id"], number=f"tmp-{code}",
                                code=code, content=content, status=LetterStatus.VALID,
                                issued_at=now, issued_by_id=actor.id)
            db.session.add(letter)
            db.session.flush()
            letter.number = f"VL-{now.year}-{letter.id:06d}"
            db.session.flush()
    except IntegrityError:  # issued at the same moment by another request: that one
        found = _valid(traveller.id)
        if found is None:
            raise
        return found
    return letter


def letter_slots(actor, journey_id: int) -> list[LetterSlot]:
    """Each traveller with their valid letter, or why it cannot be issued yet."""
    journey = _letter_journey(actor, journey_id)
    general = journey_refusal(journey)
    departure = None
    if general is None:
        departure = _dates(journey, load_items(journey))[1]
    slots = []
    for traveller in travellers_of(journey.id):
        letter = _valid(traveller.id)
        refusal = general or traveller_refusal(traveller, departure)
        slots.append(LetterSlot(traveller, letter if general is None else None, refusal))
    return slots


def get_letter(actor, journey_id: int, letter_id: int) -> VisaLetter:
    journey = _letter_journey(actor, journey_id)
    letter = db.session.get(VisaLetter, letter_id)
    if letter is None or letter.journey_id != journey.id:
        raise NotFound(_l("No such letter."))
    if letter.content["traveller"].get("passport_number") is None:
        raise NotFound(_l("This letter was erased with the patient's data."))
    return letter


def revoke_letter(actor, journey_id: int, letter_id: int, *,
                  now: datetime | None = None) -> VisaLetter:
    """A coordinator withdraws a letter (issued by mistake, the trip called off)."""
    if not actor.role.is_cluster:
        raise Forbidden(_l("A coordinator withdraws a letter."))
    letter = get_letter(actor, journey_id, letter_id)
    if letter.status == LetterStatus.VALID:
        letter.status, letter.ended_at = LetterStatus.REVOKED, now or utcnow()
        db.session.flush()
    return letter


def status_of(letter: VisaLetter) -> LetterStatus:
    """The letter's status as a consulate must read it: a valid letter of a journey
    cancelled since is withdrawn."""
    if letter.status == LetterStatus.VALID:
        journey = db.session.get(Journey, letter.journey_id)
        if journey is None or journey.status not in (*LIVE, JourneyStatus.COMPLETED):
            return LetterStatus.REVOKED
    return letter.status


# --- the public check ---------------------------------------------------------------------

@dataclass
class Verification:
    """What the public page may tell about a letter: nothing medical, no passport."""

    number: str
    status: LetterStatus
    member: str
    city: str
    initials: str
    nationality: str | None
    arrival_on: date
    departure_on: date
    issued_at: datetime


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())


def initials(full_name: str) -> str:
    return " ".join(f"{part[0]}." for part in full_name.split() if part)


def verify(raw_code: str) -> Verification:
    code = normalise_code(raw_code)
    letter = None
    if len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET):
        letter = db.session.scalar(select(VisaLetter).where(VisaLetter.code == code))
    if letter is None:
        raise NotFound(_l("No letter has this code. Check the code on the letter."))
    content = letter.content
    return Verification(
        number=letter.number, status=status_of(letter), member=content["member"]["name"],
        city=content["member"]["city"], initials=initials(content["traveller"]["full_name"]),
        nationality=content["traveller"]["nationality"],
        arrival_on=date.fromisoformat(content["arrival_on"]),
        departure_on=date.fromisoformat(content["departure_on"]), issued_at=letter.issued_at)


def grouped(code: str) -> str:
    """``ABCD-EFGH-JKLM``: how the code is printed."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
