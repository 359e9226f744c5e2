"""The patient's case through the API: the treating member's questionnaire, consent,
answers, encrypted documents, the review before payment, and the access log."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bookings.models import Notification
from journey.builder.models import Quote
from journey.builder.services import checkout, journeys, quotes
from journey.case.models import AccessLog, CaseDocument
from journey.case.services import reviews
from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.services import case_requirements
from tests.journey.builder_world import soon
from tests.journey.case.case_world import PDF, case_world, full_answers

READERS = ("patient", "clinic_staff", "hotel_staff", "other_staff", "coordinator", "admin")


@pytest.fixture
def world(make):
    world = case_world(make)
    world["tokens"] = {name: make.token(world[name]) for name in READERS}
    world["coordinator2"] = make.user(Role.COORDINATOR, full_name="Second Coordinator")
    world["tokens"]["coordinator2"] = make.token(world["coordinator2"])
    return world


def _url(world, tail="") -> str:
    return f"/api/v1/journeys/{world['journey_id']}/case{tail}"


def _logs() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AccessLog))


def _consent(client, world, scopes=("health_data", "share_with_treating")):
    response = client.post(_url(world, "/consent"), json={"scopes": list(scopes)},
                           headers=world["tokens"]["patient"])
    assert response.status_code == 200, response.json
    return response


def _upload(client, world, data=PDF, name="knee-mri.pdf", who="patient", **form):
    form = {"request_id": str(world["request_id"]), **form}
    return client.post(_url(world, "/documents"), headers=world["tokens"][who],
                       data={**form, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _checkout(client, world):
    return client.post(f"/api/v1/quotes/{world['quote_id']}/checkout", json={},
                       headers={**world["tokens"]["patient"], "Idempotency-Key": "checkout-1"})


# --- the member's questionnaire ------------------------------------------------------------

def test_the_questionnaire_is_read_in_the_patients_language(client, world):
    url = f"/api/v1/offers/{world['surgery'].id}/case-requirements"
    body = client.get(url, headers={"Accept-Language": "lt"}).json
    assert body["requires_review"] is True
    assert [q["key"] for q in body["questions"]] == ["allergies", "diabetic", "weight", "side"]
    case = client.get(_url(world), headers={**world["tokens"]["patient"],
                                            "Accept-Language": "lt"}).json
    side = case["sections"][0]["questions"][3]
    assert side["label"] == "Kuris kelis?" and side["language"] == "lt"
    assert side["choices"] == [{"value": "left", "label": "Kairysis"},
                               {"value": "right", "label": "Dešinysis"}]
    # No Lithuanian text: English, not the member's default language.
    assert case["sections"][0]["questions"][0]["language"] == "en"


def test_only_the_members_staff_change_it_and_only_on_a_treating_offer(client, world):
    url = f"/api/v1/offers/{world['surgery'].id}/case-requirements"
    body = {"requires_review": True, "questions": [], "documents": []}
    assert client.put(url, json=body, headers=world["tokens"]["hotel_staff"]).status_code == 403
    assert client.put(url, json=body,
                      headers=world["tokens"]["patient"]).status_code == 403
    room = f"/api/v1/offers/{world['room'].id}/case-requirements"
    response = client.put(room, json=body, headers={**world["tokens"]["admin"],
                                                    "Accept-Language": "de"})
    assert response.status_code == 422
    assert response.json["message"] == "Einige Felder sind ungültig."
    assert "requires_review" in response.json["errors"]["json"]


def test_a_question_sent_again_keeps_its_answers_and_one_left_out_is_retired(client, world):
    _consent(client, world)
    client.put(_url(world, "/answers"), json={"answers": full_answers(world)},
               headers=world["tokens"]["patient"])
    url = f"/api/v1/offers/{world['surgery'].id}/case-requirements"
    current = client.get(url).json
    questions = [{k: q[k] for k in ("key", "kind", "required", "choices", "texts")}
                 for q in current["questions"] if q["key"] != "weight"]
    documents = [{k: d[k] for k in ("kind", "required", "notes")} for d in current["documents"]]
    response = client.put(url, json={"requires_review": True, "questions": questions,
                                     "documents": documents},
                          headers=world["tokens"]["clinic_staff"])
    assert response.status_code == 200, response.json
    case = client.get(_url(world), headers=world["tokens"]["patient"]).json
    answers = {q["key"]: q["answer"] for q in case["sections"][0]["questions"]}
    assert answers == {"allergies": "Penicillin", "diabetic": False, "side": "left"}


# --- consent, answers and documents ---------------------------------------------------------

def test_consent_comes_before_the_first_answer_or_upload(client, world):
    before = _logs()
    response = client.put(_url(world, "/answers"), json={"answers": full_answers(world)},
                          headers=world["tokens"]["patient"])
    assert response.status_code == 409 and response.json["error"] == "consent_required"
    assert _upload(client, world).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(CaseDocument)) == 0
    assert _logs() == before
    case = _consent(client, world).json
    assert case["consented"] and case["sharing"]
    assert {c["scope"] for c in case["consents"]} == {"health_data", "share_with_treating"}
    assert case["consent_version"] and "health_data" in case["consent_texts"]


def test_answers_are_checked_by_their_kind_in_the_callers_language(client, world):
    _consent(client, world)
    q = world["questions"]
    response = client.put(_url(world, "/answers"), headers={**world["tokens"]["patient"],
                                                            "Accept-Language": "de"},
                          json={"answers": {str(q["diabetic"]): "perhaps",
                                            str(q["weight"]): "heavy",
                                            str(q["side"]): "both",
                                            str(q["allergies"]): "None"}})
    assert response.status_code == 422
    errors = response.json["errors"]["json"]["answers"]
    assert set(errors) == {str(q["diabetic"]), str(q["weight"]), str(q["side"])}
    assert "Ja oder Nein" in errors[str(q["diabetic"])][0]
    case = client.get(_url(world), headers=world["tokens"]["patient"]).json
    assert all(item["answer"] is None for item in case["sections"][0]["questions"])


def test_a_file_is_judged_by_its_content_not_its_name(client, world):
    _consent(client, world)
    refused = _upload(client, world, data=b"just some text, not a scan", name="scan.pdf")
    assert refused.status_code == 422
    assert "allowed types" in refused.json["message"]
    accepted = _upload(client, world, data=PDF, name="photo.jpg")
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["content_type"] == "application/pdf"
    assert db.session.scalar(select(func.count()).select_from(CaseDocument)) == 1


def test_a_file_over_the_limit_is_refused_and_not_stored(client, world, app, monkeypatch):
    _consent(client, world)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1000)
    root = app.config["FILES_ROOT"]
    before = sorted(str(p) for p in Path(root).rglob("*") if p.is_file())
    response = _upload(client, world, data=PDF + b"0" * 2000)
    assert response.status_code == 422 and "larger than" in response.json["message"]
    after = sorted(str(p) for p in Path(root).rglob("*") if p.is_file())
    assert after == before


def test_a_stored_document_is_encrypted_and_downloaded_as_an_attachment(client, world, app):
    _consent(client, world)
    secret = PDF.replace(b"Catalog", b"Catalog/Title(Ingrid knee)")
    document = _upload(client, world, data=secret).json
    stored = db.session.get(CaseDocument, document["id"])
    path = next(Path(app.config["FILES_ROOT"]).rglob(stored.storage_key))
    assert b"Ingrid knee" not in path.read_bytes() and b"%PDF" not in path.read_bytes()
    response = client.get(_url(world, f"/documents/{document['id']}"),
                          headers=world["tokens"]["clinic_staff"])
    assert response.status_code == 200 and response.data == secret
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


# --- the review before payment ---------------------------------------------------------------

def test_checkout_waits_for_the_clinics_approval(client, world):
    refused = _checkout(client, world)
    assert refused.status_code == 409 and refused.json["error"] == "review_pending"
    assert "Neris Clinic" in refused.json["message"]
    _consent(client, world)
    patient = world["tokens"]["patient"]
    gaps = client.post(_url(world, "/submission"), headers=patient)
    assert gaps.status_code == 422
    assert f"question:{world['questions']['allergies']}" in gaps.json["errors"]["json"]["case"]
    client.put(_url(world, "/answers"), json={"answers": full_answers(world)}, headers=patient)
    assert _upload(client, world).status_code == 201
    sent = client.post(_url(world, "/submission"), headers=patient)
    assert sent.status_code == 200 and sent.json[0]["status"] == "waiting"
    board = client.get("/api/v1/case-reviews", headers=world["tokens"]["coordinator"]).json
    assert [r["journey_id"] for r in board] == [world["journey_id"]]
    clinic = world["tokens"]["clinic_staff"]
    more = client.post(_url(world, "/review"), headers=clinic,
                       json={"decision": "more_requested", "missing": ["X-ray, standing"]})
    assert more.status_code == 200 and more.json["missing"] == ["X-ray, standing"]
    notice = db.session.scalar(select(Notification).where(
        Notification.kind == "case_more_requested"))
    assert notice.recipient == f"user:{world['patient'].id}" and notice.booking_id is None
    assert _checkout(client, world).status_code == 409
    assert client.post(_url(world, "/submission"), headers=patient).status_code == 200
    approved = client.post(_url(world, "/review"), headers=clinic,
                           json={"decision": "approved", "notes": "See you on the 12th."})
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert client.post(_url(world, "/review"), headers=clinic,
                       json={"decision": "declined", "notes": "No"}).status_code == 409
    quote = db.session.get(Quote, world["quote_id"])
    assert checkout.checkout_refusal(world["patient"], quote, now=quote.created_at) is None


def test_a_change_of_the_clinics_line_after_approval_asks_it_again(client, world):
    _consent(client, world)
    patient = world["tokens"]["patient"]
    client.put(_url(world, "/answers"), json={"answers": full_answers(world)}, headers=patient)
    _upload(client, world)
    client.post(_url(world, "/submission"), headers=patient)
    client.post(_url(world, "/review"), headers=world["tokens"]["clinic_staff"],
                json={"decision": "approved"})
    journey = journeys.visible_journey(world["patient"], world["journey_id"])
    surgery = next(i for i in journey.items if i.offer_id == world["surgery"].id)
    journeys.update_item(world["patient"], journey.id, surgery.id, start_on=soon(13))
    quote = quotes.create_quote(world["patient"], journey.id)
    quotes.accept_quote(world["patient"], quote.id)
    refusal = reviews.review_refusal(journey)
    assert refusal is not None and refusal.code == "review_pending"


def test_a_decline_needs_a_reason_and_only_the_treating_member_decides(client, world):
    _consent(client, world)
    patient = world["tokens"]["patient"]
    client.put(_url(world, "/answers"), json={"answers": full_answers(world)}, headers=patient)
    _upload(client, world)
    client.post(_url(world, "/submission"), headers=patient)
    assert client.post(_url(world, "/review"), headers=world["tokens"]["hotel_staff"],
                       json={"decision": "approved"}).status_code == 403
    no_reason = client.post(_url(world, "/review"), headers=world["tokens"]["clinic_staff"],
                            json={"decision": "declined"})
    assert no_reason.status_code == 422 and "notes" in no_reason.json["errors"]["json"]
    declined = client.post(_url(world, "/review"), headers=world["tokens"]["clinic_staff"],
                           json={"decision": "declined", "notes": "Not a candidate."})
    assert declined.json["status"] == "declined"
    assert _checkout(client, world).status_code == 409


# --- who sees what, and the log of it ---------------------------------------------------------

@pytest.mark.parametrize(("reader", "status"), [
    ("patient", 200), ("clinic_staff", 200), ("coordinator", 200),
    ("hotel_staff", 403), ("admin", 403), ("coordinator2", 403), ("other_staff", 404)])
def test_who_reads_the_case_and_a_document(client, world, reader, status):
    _consent(client, world)
    document = _upload(client, world).json
    before = _logs()
    headers = world["tokens"][reader]
    case = client.get(_url(world), headers=headers)
    download = client.get(_url(world, f"/documents/{document['id']}"), headers=headers)
    assert (case.status_code, download.status_code) == (status, status)
    if status == 200:
        assert _logs() == before + 2  # one row for each read
        assert download.data == PDF
    else:
        assert "Penicillin" not in case.get_data(as_text=True)
        assert download.data != PDF


def test_a_coordinator_of_another_journey_states_a_reason_and_is_flagged(client, world):
    headers = world["tokens"]["coordinator2"]
    refused = client.get(_url(world), headers=headers)
    assert refused.status_code == 403 and refused.json["error"] == "reason_required"
    read = client.get(_url(world), headers=headers,
                      query_string={"reason": "Patient called the hotline at night"})
    assert read.status_code == 200 and read.json["flagged"] is True
    row = db.session.scalars(select(AccessLog).where(AccessLog.refused.is_(False))
                             .order_by(AccessLog.id.desc())).first()
    assert row.flagged and row.reason == "Patient called the hotline at night"


def test_the_treating_member_sees_its_own_part_only(client, world, make):
    case_requirements.set_requirements(
        world["admin"], world["rehab"].id, requires_review=False,
        questions=[{"key": "stairs", "kind": "yes_no",
                    "texts": {"en": {"label": "Can you climb stairs?"}}}], documents=[])
    journeys.add_item(world["patient"], world["journey_id"], offer_id=world["rehab"].id,
                      start_on=soon(15), days=5)
    db.session.commit()
    sanatorium = make.token(make.user(Role.MEMBER_STAFF, world["sanatorium"]))
    _consent(client, world)
    document = _upload(client, world).json
    seen = client.get(_url(world), headers=sanatorium).json
    assert [s["provider_name"] for s in seen["sections"]] == ["Pines Sanatorium"]
    assert seen["documents"] == []
    assert client.get(_url(world, f"/documents/{document['id']}"),
                      headers=sanatorium).status_code == 404
    shared = client.put(_url(world, f"/documents/{document['id']}/sharing"),
                        json={"provider_ids": [world["sanatorium"].id]},
                        headers=world["tokens"]["patient"])
    assert shared.status_code == 200
    assert client.get(_url(world, f"/documents/{document['id']}"),
                      headers=sanatorium).status_code == 200
    hotel = client.put(_url(world, f"/documents/{document['id']}/sharing"),
                       json={"provider_ids": [world["hotel"].id]},
                       headers=world["tokens"]["patient"])
    assert hotel.status_code == 422


def test_the_patient_sees_who_has_read_the_records(client, world):
    _consent(client, world)
    client.get(_url(world), headers=world["tokens"]["clinic_staff"])
    log = client.get(_url(world, "/access-log"), headers=world["tokens"]["patient"]).json
    assert log[0]["actor_role"] == "member_staff" and log[0]["provider_name"] == "Neris Clinic"
    assert log[0]["action"] == "read"
    fhir = client.get(_url(world, "/access-log"), query_string={"format": "fhir"},
                      headers=world["tokens"]["patient"]).json
    assert fhir["resourceType"] == "Bundle"
    event = fhir["entry"][0]["resource"]
    assert event["resourceType"] == "AuditEvent" and event["action"] == "R"
    assert client.get(_url(world, "/access-log"),
                      headers=world["tokens"]["clinic_staff"]).status_code == 403


def test_every_read_of_the_case_api_writes_one_log_row(app, client, world):
    """Each GET of the case blueprint that returns medical content logs exactly once; a
    new endpoint that reads without logging fails here."""
    _consent(client, world)
    document = _upload(client, world).json
    # The log and the board are not medical content; an admin's export is tested apart.
    not_medical = {"case.CaseAccessLog", "case.WaitingReviews", "case.PatientExport"}
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("api-docs") is False and r.endpoint.startswith("case.")
             and "GET" in r.methods and r.endpoint not in not_medical]
    assert len(rules) >= 2
    for rule in rules:
        url = rule.rule.replace("<int:journey_id>", str(world["journey_id"])).replace(
            "<int:document_id>", str(document["id"]))
        url = re.sub(r"<[^>]*journey_id>", str(world["journey_id"]), url)
        url = re.sub(r"<[^>]*document_id>", str(document["id"]), url)
        before = _logs()
        response = client.get(url, headers=world["tokens"]["patient"])
        assert response.status_code == 200, (url, response.status_code)
        assert _logs() == before + 1, url


def test_only_the_case_service_opens_stored_documents():
    """Document bytes are reached through journey.case.services.case.open_document alone,
    which logs first (file storage's own module and its CLI aside; a member's evidence
    of an accreditation and a member's public pictures are no one's health data and have
    readers of their own)."""
    root = Path(__file__).resolve().parents[3]
    readers = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if ".open(document.storage_key" in text or "storage().open(" in text:
            readers.append(path.relative_to(root).as_posix())
    assert sorted(readers) == ["journey/case/services/case.py",
                               "providers/media/services.py",
                               "providers/services/accreditations.py"]


@pytest.mark.commits  # the refusal's row is written in a transaction of its own
def test_a_refused_read_writes_only_the_refusals_row(client, world):
    before = _logs()
    response = client.get(_url(world), headers=world["tokens"]["hotel_staff"])
    assert response.status_code == 403
    assert _logs() == before + 1
    row = db.session.scalars(select(AccessLog).order_by(AccessLog.id.desc())).first()
    assert row.refused and row.actor_id == world["hotel_staff"].id


def test_an_approval_with_an_amended_plan_makes_a_new_quote_to_accept(client, world):
    _consent(client, world)
    patient = world["tokens"]["patient"]
    client.put(_url(world, "/answers"), json={"answers": full_answers(world)}, headers=patient)
    _upload(client, world)
    client.post(_url(world, "/submission"), headers=patient)
    journey = journeys.visible_journey(world["patient"], world["journey_id"])
    surgery = next(i for i in journey.items if i.offer_id == world["surgery"].id)
    room = next(i for i in journey.items if i.offer_id == world["room"].id)
    clinic = world["tokens"]["clinic_staff"]
    theirs = client.post(_url(world, "/review"), headers=clinic, json={
        "decision": "approved", "amendments": [{"item_id": room.id, "days": 3}]})
    assert theirs.status_code == 422  # the hotel's line is not the clinic's
    approved = client.post(_url(world, "/review"), headers=clinic, json={
        "decision": "approved", "notes": "A day later: the surgeon is away.",
        "amendments": [{"item_id": surgery.id, "start_on": soon(13).isoformat()}]})
    assert approved.status_code == 200, approved.json
    db.session.expire_all()
    versions = [q.version for q in journey.quotes]
    assert versions == [1, 2] and journey.status.value == "quoted"
    assert _checkout(client, world).status_code == 409  # the old version is not the newest
    newest = max(journey.quotes, key=lambda q: q.version)
    quotes.accept_quote(world["patient"], newest.id)
    assert checkout.checkout_refusal(world["patient"], newest, now=newest.created_at) is None
