"""The patient's rights over their data (GDPR articles 15, 17 and 20): everything the
cluster holds about them as one ZIP (JSON, their documents, a FHIR R4 Bundle), and
erasure on request or after the retention period the admin sets: documents deleted,
answers and personal fields gone, while bookings, payments, refunds and ledger rows stay
under a pseudonym (financial records are kept by law). Both are logged."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from bookings.models import (
    Booking,
    BookingEvent,
    BookingLine,
    Escalation,
    IdempotentRequest,
    Notification,
    Refund,
)
from journey.builder.models import Journey, JourneyStatus, JourneyTransition
from journey.builder.services.journeys import trip_days
from journey.builder.services.settings import get_settings
from journey.case.models import (
    AccessAction,
    AccessLog,
    CaseAnswer,
    CaseDocument,
    CaseReview,
    Consent,
    ConsentScope,
)
from journey.case.services.access import as_audit_event
from journey.core.accounts.models import (
    AccountMailRequest,
    AccountToken,
    ApiToken,
    LoginFailure,
    Role,
    User,
)
from journey.core.accounts.services import unusable_password_hash
from journey.core.errors import Conflict, Forbidden, NotFound
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.storage import get_storage
from journey.core.types import today_in, utcnow
from journey.messages.services.threads import erase_messages, export_messages
from journey.reviews.services.reviews import erase_reviews
from journey.trip.models import (
    CalendarToken,
    LetterStatus,
    Task,
    TravelLeg,
    Traveller,
    VisaLetter,
)
from providers.services.offers import offer_text

#: Journeys in these states have a trip ahead or under way: no erasure before it ends.
UNDER_WAY = (JourneyStatus.BOOKED, JourneyStatus.CONFIRMED, JourneyStatus.IN_PROGRESS)


def _patient(actor, patient_id: int | None) -> User:
    """The patient whose data ``actor`` asks for: themselves, or any patient for an admin."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden()
    patient_id = patient_id or actor.id
    if actor.role == Role.PATIENT and patient_id != actor.id:
        raise NotFound(_l("No such patient."))
    if actor.role != Role.PATIENT and actor.role != Role.ADMIN:
        raise Forbidden(_l("Only the patient or a cluster admin asks for this."))
    patient = db.session.get(User, patient_id)
    if patient is None or patient.role != Role.PATIENT:
        raise NotFound(_l("No such patient."))
    return patient


def _journeys(patient: User) -> list[Journey]:
    return list(db.session.scalars(select(Journey).where(Journey.patient_id == patient.id)
                                   .order_by(Journey.id)))


def _log(actor, patient: User, journeys: list[Journey], action: AccessAction, entity: str,
         now: datetime) -> None:
    for journey in journeys or [None]:
        db.session.add(AccessLog(
            at=now, actor_id=actor.id if actor is not None else None,
            actor_role=actor.role.value if actor is not None else "system",
            provider_id=None, journey_id=journey.id if journey is not None else None,
            patient_id=patient.id, action=action, entity=entity))


# --- export --------------------------------------------------------------------------------

#: What an erased letter says of its traveller: nothing.
ERASED_TRAVELLER = {"full_name": "—", "birth_date": None, "nationality": None,
                    "passport_number": None, "passport_expires_on": None,
                    "is_patient": None, "relationship": ""}


def export_patient(actor, patient_id: int | None = None, *,
                   now: datetime | None = None) -> bytes:
    """A ZIP of everything held about the patient: ``patient.json``, ``fhir-bundle.json``
    (a FHIR R4 Bundle) and ``documents/``; one access-log row per journey."""
    patient = _patient(actor, patient_id)
    now = now or utcnow()
    journeys = _journeys(patient)
    data = {"exported_at": now.isoformat(), "account": _account(patient),
            "journeys": [_journey(j) for j in journeys],
            "messages": export_messages([j.id for j in journeys])}
    buffer = io.BytesIO()
    storage = get_storage()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for journey in data["journeys"]:
            for document in journey["case"]["documents"]:
                row = db.session.get(CaseDocument, document["id"])
                if row.storage_key:
                    document["file"] = f"documents/{row.id}-{row.filename}"
                    archive.writestr(document["file"], storage.open(row.storage_key))
        archive.writestr("patient.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("fhir-bundle.json",
                         json.dumps(fhir_bundle(patient, journeys, data), ensure_ascii=False,
                                    indent=2))
    _log(actor, patient, journeys, AccessAction.EXPORT, "export", now)
    db.session.flush()
    return buffer.getvalue()


def _account(patient: User) -> dict:
    return {"id": patient.id, "email": patient.email, "full_name": patient.full_name,
            "locale": patient.locale, "currency": patient.currency,
            "created_at": patient.created_at.isoformat(),
            "erased_at": patient.erased_at.isoformat() if patient.erased_at else None}


def _journey(journey: Journey) -> dict:
    language = journey.language
    answers = db.session.scalars(select(CaseAnswer).where(CaseAnswer.journey_id == journey.id))
    documents = db.session.scalars(select(CaseDocument).where(
        CaseDocument.journey_id == journey.id).order_by(CaseDocument.id))
    consents = db.session.scalars(select(Consent).where(Consent.journey_id == journey.id))
    reviews = db.session.scalars(select(CaseReview).where(CaseReview.journey_id == journey.id))
    log = db.session.scalars(select(AccessLog).where(AccessLog.journey_id == journey.id)
                             .order_by(AccessLog.id))
    return {
        "id": journey.id, "status": journey.status.value, "language": language,
        "currency": journey.currency, "nationality": journey.nationality,
        "residence": journey.residence, "adults": journey.adults,
        "children": journey.children,
        "arrival_on": _iso(journey.arrival_on), "departure_on": _iso(journey.departure_on),
        "travellers": [{"full_name": t.full_name, "is_patient": t.is_patient,
                        "birth_date": _iso(t.birth_date), "nationality": t.nationality,
                        "passport_number": t.passport_number,
                        "passport_expires_on": _iso(t.passport_expires_on),
                        "relationship": t.relationship_to_patient, "needs": t.needs}
                       for t in db.session.scalars(select(Traveller).where(
                           Traveller.journey_id == journey.id).order_by(Traveller.position))],
        "travel": [{"direction": leg.direction.value, "mode": leg.mode.value,
                    "number": leg.number, "carrier": leg.carrier, "place": leg.place,
                    "at": leg.at.isoformat(), "timezone": leg.timezone}
                   for leg in db.session.scalars(select(TravelLeg).where(
                       TravelLeg.journey_id == journey.id))],
        "items": [{"offer_id": item.offer_id, "member": item.offer.provider.name,
                   "chain_link": item.offer.chain_link.value,
                   "title": _title(item.offer, language), "start_on": _iso(item.start_on),
                   "days": item.days, "quantity": item.quantity} for item in journey.items],
        "history": [{"at": t.at.isoformat(), "from": t.from_status and t.from_status.value,
                     "to": t.to_status.value, "reason": t.explained}
                    for t in journey.transitions],
        "quotes": [{"version": q.version, "total_minor": q.total_minor,
                    "currency": q.currency, "accepted_at": _iso(q.accepted_at)}
                   for q in journey.quotes],
        "case": {
            "answers": [{"question": a.question.key, "value": a.value,
                         "answered_at": a.answered_at.isoformat()} for a in answers],
            "documents": [{"id": d.id, "kind": d.kind.value, "filename": d.filename,
                           "content_type": d.content_type, "size": d.size,
                           "sha256": d.sha256, "uploaded_at": d.uploaded_at.isoformat(),
                           "deleted_at": _iso(d.deleted_at)} for d in documents],
            "consents": [{"scope": c.scope.value, "version": c.version,
                          "language": c.language, "given_at": c.given_at.isoformat(),
                          "withdrawn_at": _iso(c.withdrawn_at)} for c in consents],
            "reviews": [{"member": r.provider.name, "status": r.status.value,
                         "notes": r.notes, "missing": r.missing} for r in reviews],
            "access_log": [{"at": r.at.isoformat(), "actor_role": r.actor_role,
                            "member_id": r.provider_id, "action": r.action.value,
                            "entity": r.entity, "flagged": r.flagged, "refused": r.refused}
                           for r in log],
        },
    }


def _iso(value):
    return value.isoformat() if value is not None else None


def _title(offer, language: str) -> str:
    _served, text = offer_text(offer, language)
    return text.title if text is not None else f"#{offer.id}"


def fhir_bundle(patient: User, journeys: list[Journey], data: dict) -> dict:
    """A FHIR R4 Bundle (collection): Patient, a ServiceRequest per treatment-side line,
    QuestionnaireResponse of the answers, DocumentReference, Consent and AuditEvent."""
    entries = [{"resourceType": "Patient", "id": str(patient.id), "active": patient.active,
                "name": [{"text": patient.full_name}],
                "telecom": [{"system": "email", "value": patient.email}],
                **({"communication": [{"language": {"coding": [{
                    "system": "urn:ietf:bcp:47", "code": patient.locale}]}}]}
                   if patient.locale else {})}]
    subject = {"reference": f"Patient/{patient.id}"}
    for journey, exported in zip(journeys, data["journeys"], strict=True):
        for index, item in enumerate(journey.items):
            if item.offer.chain_link.value not in ("consultation", "diagnostics", "treatment",
                                                   "rehabilitation"):
                continue
            entries.append({
                "resourceType": "ServiceRequest", "id": f"{journey.id}-{index}",
                "status": "active" if journey.status in UNDER_WAY else "draft",
                "intent": "order", "subject": subject,
                "code": {"text": exported["items"][index]["title"]},
                "category": [{"text": item.offer.chain_link.value}],
                "performer": [{"display": item.offer.provider.name}],
                "occurrenceDateTime": item.start_on.isoformat()})
        answers = exported["case"]["answers"]
        if answers:
            entries.append({"resourceType": "QuestionnaireResponse", "id": f"{journey.id}",
                            "status": "completed", "subject": subject,
                            "item": [{"linkId": a["question"],
                                      "answer": [_fhir_answer(a["value"])]} for a in answers]})
        for document in exported["case"]["documents"]:
            if document["deleted_at"]:
                continue
            entries.append({
                "resourceType": "DocumentReference", "id": str(document["id"]),
                "status": "current", "subject": subject, "date": document["uploaded_at"],
                "type": {"text": document["kind"]},
                "content": [{"attachment": {"contentType": document["content_type"],
                                            "url": document.get("file", ""),
                                            "size": document["size"],
                                            "title": document["filename"]}}]})
        for number, consent in enumerate(exported["case"]["consents"]):
            entries.append({
                "resourceType": "Consent", "id": f"{journey.id}-{number}",
                "status": "inactive" if consent["withdrawn_at"] else "active",
                "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "consentscope", "code": "patient-privacy"}]},
                "category": [{"text": consent["scope"]}], "patient": subject,
                "dateTime": consent["given_at"],
                "policyRule": {"text": f"One Window consent {consent['version']}"},
                "provision": {"type": "permit" if consent["scope"] in (
                    ConsentScope.HEALTH_DATA.value, ConsentScope.SHARE_WITH_TREATING.value)
                    else "deny"}})
        for row in db.session.scalars(select(AccessLog).where(
                AccessLog.journey_id == journey.id).order_by(AccessLog.id)):
            entries.append(as_audit_event(row))
    return {"resourceType": "Bundle", "type": "collection",
            "timestamp": data["exported_at"],
            "entry": [{"fullUrl": f"urn:uuid:{resource['resourceType']}-{resource['id']}",
                       "resource": resource} for resource in entries]}


def _fhir_answer(value) -> dict:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueString": str(value)}


# --- erasure -------------------------------------------------------------------------------

def erasure_refusal(patient: User, *, now: datetime | None = None) -> Conflict | None:
    """Why the patient cannot be erased yet: a trip booked or under way."""
    today = today_in(now=now)
    for journey in _journeys(patient):
        end = trip_days(journey)[1]
        if journey.status in UNDER_WAY and (end is None or end >= today):
            return Conflict(_l("A trip is booked or under way: the data is erased after "
                               "it ends."))
    return None


def erase_patient(actor, patient_id: int | None = None, *,
                  now: datetime | None = None) -> User:
    """Erase the patient's health data and personal fields (the patient, or an admin;
    ``actor`` None is the retention job). Bookings, payments, refunds and the ledger
    stay, under the pseudonym the account becomes. Erasing twice changes nothing."""
    now = now or utcnow()
    patient = _patient(actor, patient_id) if actor is not None else db.session.get(
        User, patient_id)
    if patient.erased_at is not None:
        return patient
    refusal = erasure_refusal(patient, now=now)
    if refusal is not None:
        raise refusal
    journeys = _journeys(patient)
    journey_ids = [j.id for j in journeys]
    keys = []
    for document in db.session.scalars(select(CaseDocument).where(
            CaseDocument.journey_id.in_(journey_ids))):
        keys.append(document.storage_key)
        document.storage_key, document.filename, document.deleted_at = None, "erased", \
            document.deleted_at or now
        document.sha256 = "0" * 64
    db.session.execute(delete(CaseAnswer).where(CaseAnswer.journey_id.in_(journey_ids)))
    db.session.execute(update(CaseReview).where(CaseReview.journey_id.in_(journey_ids))
                       .values(notes="", missing=[]))
    db.session.execute(update(AccessLog).where(AccessLog.patient_id == patient.id)
                       .values(reason=""))
    db.session.execute(update(Journey).where(Journey.id.in_(journey_ids))
                       .values(nationality=None, residence=None))
    db.session.execute(delete(Traveller).where(Traveller.journey_id.in_(journey_ids)))
    db.session.execute(delete(CalendarToken).where(CalendarToken.journey_id.in_(journey_ids)))
    db.session.execute(update(Task).where(Task.journey_id.in_(journey_ids)).values(note=""))
    erase_messages(journey_ids)
    erase_reviews(journey_ids)
    for letter in db.session.scalars(select(VisaLetter).where(
            VisaLetter.journey_id.in_(journey_ids))):  # the check then says "withdrawn"
        letter.content = {**letter.content, "traveller": ERASED_TRAVELLER,
                          "patient_name": "—"}
        letter.status = LetterStatus.REVOKED
        letter.ended_at = letter.ended_at or now
    db.session.execute(update(JourneyTransition).where(
        JourneyTransition.journey_id.in_(journey_ids)).values(reason=""))
    customer = f"user:{patient.id}"
    booking_ids = select(Booking.id).where(Booking.customer_ref == customer)
    db.session.execute(update(BookingEvent).where(BookingEvent.booking_id.in_(booking_ids))
                       .values(reason=""))
    db.session.execute(update(BookingLine).where(BookingLine.booking_id.in_(booking_ids))
                       .values(decline_reason=""))
    db.session.execute(update(Refund).where(Refund.booking_id.in_(booking_ids))
                       .values(reason=""))
    db.session.execute(update(Escalation).where(Escalation.booking_id.in_(booking_ids))
                       .values(detail="", note=""))
    db.session.execute(delete(Notification).where(or_(
        Notification.recipient == customer, Notification.booking_id.in_(booking_ids))))
    db.session.execute(delete(IdempotentRequest).where(
        IdempotentRequest.scope.like(f"user:{patient.id}:%")))
    for model in (LoginFailure, AccountMailRequest):
        db.session.execute(delete(model).where(model.email == patient.email))
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == patient.id))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == patient.id))
    pseudonym = secrets.token_hex(6)
    patient.full_name = f"Erased patient {pseudonym}"
    patient.email = f"erased-{pseudonym}@erased.invalid"
    patient.password_hash = unusable_password_hash()
    patient.active, patient.erased_at = False, now
    _log(actor, patient, journeys, AccessAction.ERASE, "patient", now)
    db.session.flush()
    storage = get_storage()
    for key in keys:  # after the rows, so a failure above leaves the files readable
        if key:
            storage.delete(key)
    return patient


def erase_expired(*, now: datetime | None = None) -> int:
    """The retention job: erase the patients whose last journey ended more than the
    cluster's retention period ago (none when no period is set). One patient a unit."""
    now = now or utcnow()
    days = get_settings().health_data_retention_days
    if not days:
        return 0
    limit = today_in(now=now) - timedelta(days=days)
    erased = 0
    for patient in db.session.scalars(select(User).where(
            User.role == Role.PATIENT, User.erased_at.is_(None))).all():
        journeys = _journeys(patient)
        ends = [trip_days(j)[1] or j.created_at.date() for j in journeys]
        if not journeys or max(ends) > limit or erasure_refusal(patient, now=now) is not None:
            continue
        erase_patient(None, patient.id, now=now)
        commit_unit()  # one patient, one unit of work
        erased += 1
    return erased
