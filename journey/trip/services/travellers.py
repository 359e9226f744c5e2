"""The people on a journey.

Those who compose the journey (the patient, the member who opened it, the cluster)
name the travellers and enter the travel details; every member on the journey sees the
travellers' names and needs, and only the members whose line needs it (the visa
agency, the hotel, the treating members) see passport data and dates of birth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select

from journey.builder.models import Journey, JourneyItem
from journey.builder.services.journeys import (
    COMPOSERS,
    JourneyAccess,
    access_of,
    visible_journey,
)
from journey.core.accounts.models import Role
from journey.core.errors import Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.types import today_in
from journey.core.validation import EARLIEST_BIRTH_DATE, EARLIEST_DATE, latest_date
from journey.trip.models import Traveller
from providers.models import ChainLink, Offer
from providers.services.case_requirements import TREATMENT_SIDE
from providers.services.common import check_country

PASSPORT = re.compile(r"[A-Z0-9<]{4,20}")
#: The links whose member needs the travellers' passport data to deliver its line.
PASSPORT_LINKS = frozenset({ChainLink.VISA_SUPPORT, ChainLink.ACCOMMODATION, *TREATMENT_SIDE})
MAX_TRAVELLERS = 12
PASSPORT_FIELDS = ("birth_date", "nationality", "passport_number", "passport_expires_on")


@dataclass
class TravellerView:
    """A traveller as a reader may see it (passport fields None when not theirs)."""

    id: int
    is_patient: bool
    full_name: str
    relationship_to_patient: str
    needs: list[str]
    birth_date: date | None = None
    nationality: str | None = None
    passport_number: str | None = None
    passport_expires_on: date | None = None


def sees_passports(actor, journey: Journey) -> bool:
    access = access_of(actor, journey)
    if access in COMPOSERS or access == JourneyAccess.TREATING:
        return True
    return db.session.scalar(select(JourneyItem.id).join(Offer).where(
        JourneyItem.journey_id == journey.id, Offer.provider_id == actor.provider_id,
        Offer.chain_link.in_(PASSPORT_LINKS)).limit(1)) is not None


def composed_journey(actor, journey_id: int, *, lock: bool = False) -> Journey:
    """The journey, for those who compose it (a member on it 403, anyone else 404).
    ``lock`` (every change of the trip): its row locked for the rest of the transaction
    and read afresh, so two changes at once take turns and the second decides on what
    the first wrote (two travellers added at once were both the patient, both at
    position 0)."""
    journey = visible_journey(actor, journey_id, lock=lock)
    if access_of(actor, journey) not in COMPOSERS:
        raise Forbidden(_l("Only the patient, the member who opened the journey or a "
                           "coordinator can change it."))
    return journey


def travellers_of(journey_id: int) -> list[Traveller]:
    return list(db.session.scalars(select(Traveller).where(Traveller.journey_id == journey_id)
                                   .order_by(Traveller.position, Traveller.id)))


def list_travellers(actor, journey_id: int) -> list[TravellerView]:
    journey = visible_journey(actor, journey_id)
    passports = sees_passports(actor, journey)
    views = []
    for t in travellers_of(journey.id):
        view = TravellerView(t.id, t.is_patient, t.full_name, t.relationship_to_patient,
                             list(t.needs or []))
        if passports:
            for name in PASSPORT_FIELDS:
                setattr(view, name, getattr(t, name))
        views.append(view)
    return views


def save_traveller(actor, journey_id: int, traveller_id: int | None = None,
                   **data) -> Traveller:
    """Add a traveller (``traveller_id`` None) or change one. The first one added is the
    patient unless said otherwise; there is at most one patient."""
    journey = composed_journey(actor, journey_id, lock=True)
    existing = travellers_of(journey.id)
    if traveller_id is None:
        if len(existing) >= MAX_TRAVELLERS:
            raise InvalidInput(fields={"full_name": [lazy_ngettext(
                "At most %(num)d traveller.", "At most %(num)d travellers.", MAX_TRAVELLERS)]})
        traveller = Traveller(journey_id=journey.id, position=len(existing),
                              is_patient=data.pop("is_patient", not existing))
        db.session.add(traveller)
    else:
        traveller = next((t for t in existing if t.id == traveller_id), None)
        if traveller is None:
            raise NotFound(_l("No such traveller."))
        data.pop("is_patient", None)
    _apply(traveller, data)
    if traveller.is_patient and any(t.is_patient and t is not traveller for t in existing):
        raise InvalidInput(fields={"is_patient": [_l("The journey has its patient already.")]})
    db.session.flush()
    return traveller


def _apply(traveller: Traveller, data: dict) -> None:
    """Check every field given and, when all are right, write them; else refuse them all
    at once (422 with each wrong field's message), writing nothing."""
    errors: dict[str, list] = {}
    name = (data.get("full_name", traveller.full_name) or "").strip()
    if not name:
        errors["full_name"] = [_l("The name as in the passport.")]
    if data.get("nationality"):
        try:
            data["nationality"] = check_country(data["nationality"])
        except InvalidInput as refused:
            errors["nationality"] = [message for messages in refused.fields.values()
                                     for message in messages]
    if data.get("passport_number"):
        number = str(data["passport_number"]).strip().upper()
        if not PASSPORT.fullmatch(number):
            errors["passport_number"] = [_l(
                "4 to 20 letters and digits, as printed in the passport.")]
        data["passport_number"] = number
    if "relationship_to_patient" in data:
        data["relationship_to_patient"] = (data["relationship_to_patient"] or "").strip()[:40]
    if "needs" in data:
        needs = [str(n).strip() for n in data["needs"] or [] if str(n).strip()]
        if len(needs) > 20 or any(len(n) > 90 or "\x00" in n for n in needs):
            errors["needs"] = [_l("At most 20 needs of 90 characters.")]
        data["needs"] = needs
    born = data["birth_date"] or None if "birth_date" in data else traveller.birth_date
    if born is not None and not EARLIEST_BIRTH_DATE <= born <= today_in():
        errors["birth_date"] = [_l("Not a possible date of birth.")]
    expires = (data["passport_expires_on"] or None if "passport_expires_on" in data
               else traveller.passport_expires_on)
    if expires is not None and not (EARLIEST_DATE <= expires <= latest_date()
                                     .replace(year=latest_date().year + 10)):
        errors["passport_expires_on"] = [_l("Not a possible expiry date.")]
    if errors:
        raise InvalidInput(fields=errors)
    traveller.full_name = name[:200]
    for field in ("nationality", "birth_date", "passport_number", "passport_expires_on"):
        if field in data:
            setattr(traveller, field, data[field] or None)  # "" clears it
    for field in ("relationship_to_patient", "needs"):
        if field in data:
            setattr(traveller, field, data[field])


def remove_traveller(actor, journey_id: int, traveller_id: int) -> None:
    journey = composed_journey(actor, journey_id, lock=True)
    traveller = next((t for t in travellers_of(journey.id) if t.id == traveller_id), None)
    if traveller is None:
        raise NotFound(_l("No such traveller."))
    db.session.delete(traveller)
    db.session.flush()


def known_nationality(actor) -> str | None:
    """The nationality a patient gave before: the patient's own traveller on their latest
    journey that has one, else the latest journey's; None for anyone but a patient or
    when none was given. Only the actor's own journeys are read."""
    if actor is None or getattr(actor, "role", None) != Role.PATIENT:
        return None
    own = select(Journey.id).where(Journey.patient_id == actor.id)
    found = db.session.scalar(
        select(Traveller.nationality)
        .where(Traveller.journey_id.in_(own), Traveller.is_patient.is_(True),
               Traveller.nationality.is_not(None))
        .order_by(Traveller.created_at.desc(), Traveller.id.desc()).limit(1))
    if found is None:
        found = db.session.scalar(
            select(Journey.nationality)
            .where(Journey.patient_id == actor.id, Journey.nationality.is_not(None))
            .order_by(Journey.created_at.desc(), Journey.id.desc()).limit(1))
    return found
