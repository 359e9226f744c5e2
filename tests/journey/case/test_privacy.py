"""The patient's rights over their data: the export (a ZIP with JSON, the documents and a
FHIR R4 Bundle that a FHIR library accepts) and erasure, which leaves no personal field
of the patient in any text column while the money stays on record to the cent."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import JSON, String, Text, func, select

from bookings.models import LedgerEntry, Payment, Refund
from bookings.services import cancellation
from journey.builder.models import Journey
from journey.builder.services import settings
from journey.case.models import AccessAction, AccessLog, CaseDocument, ConsentScope
from journey.case.services import case, consent, privacy
from journey.core.extensions import db
from journey.core.storage import get_storage
from journey.core.types import utcnow
from journey.invoicing.models import Document
from journey.trip.services import travellers
from providers.services import case_requirements
from tests.booking_fixtures import confirmed_booking
from tests.journey.case.case_world import DOCUMENTS, PDF, QUESTIONS, case_world, full_answers

SECRETS = ("Ingrid", "Solberg", "Penicillin", "cannot travel, my mother", "NO1234567")


def _fill_case(world, journey_id):
    patient = world["patient"]
    consent.give_consent(patient, journey_id, [ConsentScope.HEALTH_DATA])
    questions = {q.key: q.id for q in world["surgery"].questions}
    answers = full_answers({"questions": questions})
    case.answer_questions(patient, journey_id, answers)
    return case.add_document(patient, journey_id, data=PDF, filename="Ingrid-knee.pdf",
                             request_id=world["surgery"].document_requests[0].id)


def test_the_export_holds_everything_and_a_valid_fhir_bundle(client, make):
    world = case_world(make)
    _fill_case(world, world["journey_id"])
    db.session.commit()
    response = client.get("/api/v1/me/export", headers=make.token(world["patient"]))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("patient.json"))
    assert data["account"]["full_name"] == "Ingrid Solberg"
    journey = data["journeys"][0]
    assert {a["question"]: a["value"] for a in journey["case"]["answers"]}["allergies"] \
        == "Penicillin"
    document = journey["case"]["documents"][0]
    assert archive.read(document["file"]) == PDF
    bundle = Bundle.model_validate(json.loads(archive.read("fhir-bundle.json")))
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry}
    assert {"Patient", "ServiceRequest", "QuestionnaireResponse", "DocumentReference",
            "Consent", "AuditEvent"} <= kinds
    assert db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.action == AccessAction.EXPORT)) == 1


def test_only_the_patient_or_an_admin_exports(client, make):
    world = case_world(make)
    other = client.get(f"/api/v1/patients/{world['patient'].id}/export",
                       headers=make.token(world["coordinator"]))
    assert other.status_code == 403
    admin = client.get(f"/api/v1/patients/{world['patient'].id}/export",
                       headers=make.token(world["admin"]))
    assert admin.status_code == 200


#: Kept through an erasure: invoices, receipts and credit notes are accounting records
#: the law makes the cluster keep, with the buyer's name (GDPR art. 17(3)(b)).
KEPT_BY_LAW = {"invoice_document"}


def _text_values() -> list[str]:
    """Every text, string and JSON value in every table (but what the law keeps)."""
    found = []
    for table in db.metadata.sorted_tables:
        if table.name in KEPT_BY_LAW:
            continue
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            found += [json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
                      for v in row if v is not None]
    return found


def test_erasure_leaves_no_personal_field_and_the_money_to_the_cent(world, make, gateway):
    case_requirements.set_requirements(world["admin"], world["surgery"].id,
                                       requires_review=False, questions=QUESTIONS,
                                       documents=DOCUMENTS)
    world["patient"].email = "ingrid.solberg@example.no"
    db.session.commit()
    booking = confirmed_booking(world, gateway)
    journey_id = db.session.scalar(select(func.max(Journey.id)))
    document = _fill_case(world, journey_id)
    travellers.save_traveller(world["patient"], journey_id, full_name="Ingrid Solberg",
                              passport_number="NO1234567", nationality="NO")
    key = document.storage_key
    db.session.commit()
    assert privacy.erasure_refusal(world["patient"]) is not None  # the trip is ahead
    cancellation.cancel_booking(world["patient"], booking.id,
                                reason="cannot travel, my mother", gateway=gateway)
    db.session.commit()
    money = _money()
    privacy.erase_patient(world["patient"])
    db.session.commit()
    values = "\n".join(_text_values())
    for secret in (*SECRETS, "ingrid.solberg@example.no"):
        assert secret not in values, secret
    assert _money() == money
    invoices = db.session.scalars(select(Document)).all()
    assert invoices and all(d.number for d in invoices)  # the accounts stay whole
    for invoice in invoices:  # ... and hold nothing medical or of the passport
        assert not any(secret in json.dumps(invoice.content, ensure_ascii=False)
                       for secret in ("Penicillin", "NO1234567", "cannot travel"))
    assert db.session.get(CaseDocument, document.id).storage_key is None
    assert not get_storage().exists(key)
    assert world["patient"].erased_at is not None and not world["patient"].active
    assert db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.action == AccessAction.ERASE)) >= 1


def _money():
    return (db.session.scalar(select(func.sum(LedgerEntry.amount_minor))),
            db.session.scalar(select(func.count()).select_from(LedgerEntry)),
            db.session.scalar(select(func.sum(Payment.captured_minor))),
            db.session.scalar(select(func.sum(Refund.amount_minor))))


def test_the_retention_job_erases_after_the_period(make):
    world = case_world(make)
    _fill_case(world, world["journey_id"])
    assert privacy.erase_expired() == 0  # no period set
    settings.update_settings(world["admin"], health_data_retention_days=30)
    assert privacy.erase_expired() == 0  # the journey ends in 20 days
    later = utcnow() + timedelta(days=60)
    assert privacy.erase_expired(now=later) == 1
    assert world["patient"].erased_at is not None


@pytest.mark.parametrize("who", ["coordinator", "clinic_staff"])
def test_only_the_patient_or_an_admin_erases(client, make, who):
    world = case_world(make)
    response = client.post(f"/api/v1/patients/{world['patient'].id}/erasure",
                           headers=make.token(world[who]))
    assert response.status_code == 403
    assert client.post("/api/v1/me/erasure",
                       headers=make.token(world[who])).status_code == 403
