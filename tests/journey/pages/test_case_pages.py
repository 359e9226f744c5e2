"""The patient's case through the pages (Flask test client): consent first, answers with
errors beside the questions and nothing half-written, uploads judged by their content,
sharing, sending for review; the clinic asking for more and approving in its portal;
a hotel never seeing the case; a coordinator outside the journey stating a reason; and
the patient's table of who has seen the records. The services decide and log; these
tests hold the pages to them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from journey.builder.services import journeys
from journey.case.models import AccessLog, CaseAnswer, CaseDocument, CaseReview, ReviewStatus
from journey.case.services import reviews
from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.services import case_requirements
from tests.journey.builder_world import soon
from tests.journey.case.case_world import PDF, case_world, full_answers
from tests.journey.pages.patient_fixtures import field_errors, text
from tests.journey.pages.portal_fixtures import count, fresh, hammer, login


@pytest.fixture
def world(make):
    world = case_world(make)
    world["coordinator2"] = make.user(Role.COORDINATOR, full_name="Second Coordinator")
    return world


def _case(world, tail="") -> str:
    return f"/my/journeys/{world['journey_id']}/case{tail}"


def _portal(world, tail="", provider="clinic") -> str:
    return f"/portal/{world[provider].id}/cases/{world['journey_id']}{tail}"


def _consent(client, world, *scopes):
    response = client.post(_case(world, "/consent"),
                           data=dict.fromkeys(scopes or ("health_data", "share_with_treating"),
                                              "y"))
    assert response.status_code == 302, text(response)


def _answer(client, world, answers=None):
    answers = full_answers(world) if answers is None else answers
    data = {f"q{key}": ("no" if value is False else "yes" if value is True else str(value))
            for key, value in answers.items()}
    return client.post(_case(world, "/answers"), data=data)


def _upload(client, world, data=PDF, name="knee-mri.pdf"):
    return client.post(_case(world, f"/requests/{world['request_id']}/documents"),
                       data={f"r{world['request_id']}-file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _ready(client, world):
    """The patient's consent, every answer and the imaging report: ready to send."""
    login(client, world["patient"])
    _consent(client, world)
    assert _answer(client, world).status_code == 302
    assert _upload(client, world).status_code == 302


def _logs() -> int:
    return count(AccessLog)


def _review(world) -> CaseReview:
    db.session.expire_all()
    return db.session.scalar(select(CaseReview).where(
        CaseReview.journey_id == world["journey_id"],
        CaseReview.provider_id == world["clinic"].id))


# --- the patient ----------------------------------------------------------------------------

def test_the_journey_page_leads_to_the_case_when_a_member_treats(client, world):
    login(client, world["patient"])
    html = text(client.get(f"/my/journeys/{world['journey_id']}"))
    assert "Your medical case" in html and f'href="{_case(world)}"' in html
    only_a_room = journeys.open_journey(world["patient"], arrival_on=soon(30), currency="EUR")
    journeys.add_item(world["patient"], only_a_room.id, offer_id=world["room"].id,
                      start_on=soon(30), days=2)
    db.session.commit()
    html = text(client.get(f"/my/journeys/{only_a_room.id}"))
    assert "Your medical case" not in html


def test_consent_comes_before_anything_else(client, world):
    login(client, world["patient"])
    html = text(client.get(_case(world)))
    assert "process the health information I give for this journey" in html
    assert 'name="health_data"' in html and 'name="share_with_treating"' in html
    assert f'name="q{world["questions"]["allergies"]}"' not in html  # no question yet
    assert "Who has seen my records" in html

    refused = _answer(client, world)
    assert refused.status_code == 409
    assert "consent to the processing of their health data comes first" in text(refused)
    assert count(CaseAnswer) == 0

    nothing_ticked = client.post(_case(world, "/consent"), data={})
    assert nothing_ticked.status_code == 422
    assert field_errors(text(nothing_ticked), "health_data") == [
        "Tick the box to give your consent."]

    _consent(client, world, "health_data")
    html = text(client.get(_case(world)))
    assert f'name="q{world["questions"]["allergies"]}"' in html
    assert 'name="health_data"' not in html and 'name="share_with_treating"' in html
    assert "Withdraw my consent" in html


def test_questions_are_typed_inputs_labelled_in_the_patients_language(client, world):
    login(client, world["patient"])
    _consent(client, world)
    q = world["questions"]
    html = text(client.get(_case(world), headers={"Accept-Language": "de"}))
    assert re.search(rf'<label for="q{q["allergies"]}"><span lang="de" dir="auto">'
                     r"Allergien gegen Medikamente\?</span>", html)
    assert re.search(rf'<textarea[^>]*id="q{q["allergies"]}"', html)
    # No German text: English is served, and marked as such.
    assert re.search(r'<legend><span lang="en" dir="auto">Do you have diabetes\?</span>', html)
    assert re.search(rf'<input[^>]*id="q{q["diabetic"]}-0"[^>]*type="radio"', html)
    assert re.search(rf'<input[^>]*id="q{q["weight"]}"[^>]*type="number"', html)
    assert re.search(rf'<select[^>]*id="q{q["side"]}"', html)
    assert "MRI of the knee, not older than 6 months" in html


def test_a_bad_answer_is_shown_beside_its_question_and_nothing_is_written(client, world):
    login(client, world["patient"])
    _consent(client, world)
    q = world["questions"]
    before = count(CaseAnswer)
    response = client.post(_case(world, "/answers"), data={
        f"q{q['allergies']}": "Penicillin", f"q{q['weight']}": "heavy",
        f"q{q['side']}": "left", f"q{q['diabetic']}": "no"})
    assert response.status_code == 422
    html = text(response)
    assert field_errors(html, f"q{q['weight']}") == ["Give a number."]
    assert 'value="heavy"' in html  # what was typed is shown again
    assert count(CaseAnswer) == before == 0

    assert _answer(client, world).status_code == 302
    html = text(client.get(_case(world)))
    assert "Penicillin" in html and 'value="82.5"' in html
    assert re.search(r'<option selected value="left">Left</option>|'
                     r'<option value="left" selected>Left</option>', html)


def test_uploads_are_judged_by_their_content(client, world, app):
    login(client, world["patient"])
    _consent(client, world)
    root = Path(app.config["FILES_ROOT"])
    before = sorted(p for p in root.rglob("*") if p.is_file())
    refused = _upload(client, world, data=b"just some text, not a scan", name="scan.pdf")
    assert refused.status_code == 422
    errors = field_errors(text(refused), f"r{world['request_id']}-file")
    assert errors and "This file is not one of the allowed types: PDF, JPEG" in errors[0]
    assert count(CaseDocument) == 0
    assert sorted(p for p in root.rglob("*") if p.is_file()) == before

    response = _upload(client, world)
    assert response.status_code == 302
    html = text(client.get(_case(world)))
    document = db.session.scalars(select(CaseDocument)).one()
    link = f'href="{_case(world, f"/documents/{document.id}")}"'
    assert link in html and "knee-mri.pdf" in html
    download = client.get(_case(world, f"/documents/{document.id}"))
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]


def test_an_upload_larger_than_other_bodies_passes_with_its_own_csrf_check(client, world, app,
                                                                          monkeypatch):
    """The app-wide CSRF check would read the body before the view raises the limit
    for an upload: the upload views check the form's token themselves instead."""
    login(client, world["patient"])
    _consent(client, world)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    big = PDF + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1000)
    url = _case(world, f"/requests/{world['request_id']}/documents")
    forged = client.post(url, data={f"r{world['request_id']}-file": (io.BytesIO(big), "x.pdf")},
                         content_type="multipart/form-data")
    assert forged.status_code == 422 and count(CaseDocument) == 0
    token = re.search(r'name="r\d+-csrf_token" type="hidden" value="([^"]+)"',
                      text(client.get(_case(world)))).group(1)
    sent = client.post(url, data={f"r{world['request_id']}-csrf_token": token,
                                  f"r{world['request_id']}-file": (io.BytesIO(big), "big.pdf")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302, text(sent)
    assert count(CaseDocument) == 1


def test_the_patient_shares_a_document_with_another_treating_member(client, world, make):
    journeys.add_item(world["patient"], world["journey_id"], offer_id=world["rehab"].id,
                      start_on=soon(15), days=5)
    db.session.commit()
    sanatorium_staff = make.user(Role.MEMBER_STAFF, world["sanatorium"])
    login(client, world["patient"])
    _consent(client, world)
    assert _upload(client, world).status_code == 302
    document = db.session.scalars(select(CaseDocument)).one()
    html = text(client.get(_case(world)))
    share = re.search(rf'<form[^>]*action="[^"]*/documents/{document.id}/sharing".*?</form>',
                      html, re.S).group(0)
    assert "Pines Sanatorium" in share and "Neris Clinic" not in share  # it asked for it
    assert "Hotel Tilto" not in share

    login(client, sanatorium_staff)
    url = _portal(world, f"/documents/{document.id}", provider="sanatorium")
    assert client.get(url).status_code == 404
    login(client, world["patient"])
    response = client.post(_case(world, f"/documents/{document.id}/sharing"),
                           data={f"s{document.id}-share_with": str(world["sanatorium"].id)})
    assert response.status_code == 302
    refused = client.post(_case(world, f"/documents/{document.id}/sharing"),
                          data={f"s{document.id}-share_with": str(world["hotel"].id)})
    assert refused.status_code == 422
    assert field_errors(text(refused), f"s{document.id}-share_with-0") == [
        "Documents are shared only with the members that treat the patient."]
    login(client, sanatorium_staff)
    assert client.get(url).data == PDF


def test_sending_explains_what_is_missing_then_sends(client, world):
    login(client, world["patient"])
    _consent(client, world)
    response = client.post(_case(world, "/submission"))
    assert response.status_code == 422
    section = re.search(r'<section class="panel" id="send".*?</section>', text(response),
                        re.S).group(0)
    assert "Some required answers or documents are missing." in section
    assert "Allergies to medicines?" in section and "Imaging report" in section
    assert "question:" not in section and "document:" not in section
    assert getattr(_review(world), "status", ReviewStatus.OPEN) == ReviewStatus.OPEN

    assert _answer(client, world).status_code == 302
    assert _upload(client, world).status_code == 302
    assert client.post(_case(world, "/submission")).status_code == 302
    assert _review(world).status == ReviewStatus.WAITING
    html = text(client.get(_case(world)))
    assert 'data-review-status="waiting"' in html and "Waiting for the clinic" in html
    assert 'id="send"' not in html  # nothing more to send


def test_the_patient_withdraws_consent(client, world):
    login(client, world["patient"])
    _consent(client, world)
    response = client.post(_case(world, "/consent/health_data/withdraw"))
    assert response.status_code == 302
    html = text(client.get(_case(world)))
    assert 'name="health_data"' in html
    assert _answer(client, world).status_code == 409


# --- the treating member ----------------------------------------------------------------------

def test_the_clinic_asks_for_more_then_approves(client, world):
    _ready(client, world)
    assert client.post(_case(world, "/submission")).status_code == 302

    login(client, world["clinic_staff"])
    html = text(client.get(f"/portal/{world['clinic'].id}/cases"))
    assert world["patient"].full_name in html and f'href="{_portal(world)}"' in html
    html = text(client.get(_portal(world)))
    assert "Penicillin" in html and "knee-mri.pdf" in html and "Left" in html
    assert "Do you have diabetes?" in html

    before = _logs()
    empty = client.post(_portal(world, "/more"), data={"more-missing": "  \n "})
    assert empty.status_code == 422
    assert field_errors(text(empty), "more-missing") == ["Say what is missing."]
    # The refused page showed the answers again: that read stays in the log.
    assert "Penicillin" in text(empty) and _logs() == before + 1
    asked = client.post(_portal(world, "/more"),
                        data={"more-missing": "X-ray, standing\nBlood test"})
    assert asked.status_code == 302
    assert _review(world).missing == ["X-ray, standing", "Blood test"]

    login(client, world["patient"])
    html = text(client.get(_case(world)))
    assert "More information requested" in html and "X-ray, standing" in html
    assert client.post(_case(world, "/submission")).status_code == 302

    login(client, world["clinic_staff"])
    approved = client.post(_portal(world, "/approve"),
                           data={"approve-notes": "See you on the 12th."})
    assert approved.status_code == 302
    review = _review(world)
    assert review.status == ReviewStatus.APPROVED and review.notes == "See you on the 12th."
    html = text(client.get(_portal(world)))
    assert 'id="decision"' not in html


def test_a_decline_is_confirmed_and_says_why(client, world):
    _ready(client, world)
    client.post(_case(world, "/submission"))
    login(client, world["clinic_staff"])
    unconfirmed = client.post(_portal(world, "/decline"),
                              data={"decline-notes": "Not a candidate."})
    assert unconfirmed.status_code == 422
    assert field_errors(text(unconfirmed), "decline-confirm") == [
        "Tick the box to confirm the decline."]
    no_reason = client.post(_portal(world, "/decline"), data={"decline-confirm": "y"})
    assert no_reason.status_code == 422
    assert field_errors(text(no_reason), "decline-notes") == ["Say why the case is declined."]
    assert _review(world).status == ReviewStatus.WAITING
    declined = client.post(_portal(world, "/decline"),
                           data={"decline-notes": "Not a candidate.", "decline-confirm": "y"})
    assert declined.status_code == 302
    assert _review(world).status == ReviewStatus.DECLINED


def test_the_hotel_never_sees_the_case(client, world):
    _ready(client, world)
    client.post(_case(world, "/submission"))
    document = db.session.scalars(select(CaseDocument)).one()
    login(client, world["hotel_staff"])
    for url in (_portal(world, provider="hotel"), _portal(world, provider="clinic"),
                _portal(world, f"/documents/{document.id}", provider="hotel")):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Penicillin" not in text(response) and b"%PDF" not in response.data
    listing = text(client.get(f"/portal/{world['hotel'].id}/cases"))
    assert "No case is waiting for your review." in listing
    refused = client.post(_portal(world, "/approve", provider="hotel"), data={})
    assert refused.status_code == 403 and "Penicillin" not in text(refused)
    assert _review(world).status == ReviewStatus.WAITING


def test_bad_input_to_the_case_forms_is_never_a_server_error(client, world):
    _ready(client, world)
    q = world["questions"]
    assert hammer(client, _case(world, "/answers"), [f"q{i}" for i in q.values()]) == []
    assert hammer(client, _case(world, "/consent"), ["health_data"]) == []
    client.post(_case(world, "/submission"))
    login(client, world["clinic_staff"])
    assert hammer(client, _portal(world, "/more"), ["more-missing", "more-notes"]) == []
    assert hammer(client, _portal(world, "/decline"), ["decline-notes",
                                                       "decline-confirm"]) == []


# --- the coordinators -------------------------------------------------------------------------

def test_the_board_lists_the_cases_waiting_and_marks_the_overdue(client, world):
    _ready(client, world)
    client.post(_case(world, "/submission"))
    login(client, world["coordinator"])
    board = text(client.get("/coordinator/"))
    row = re.search(r'<tr id="case-review-\d+".*?</tr>', board, re.S).group(0)
    assert f'href="/coordinator/journeys/{world["journey_id"]}/case"' in row
    assert "Neris Clinic" in row and "Overdue" not in row
    assert "Lithuania Time" in row  # the deadline, with its zone named
    review = _review(world)
    review.respond_by = review.submitted_at.replace(year=review.submitted_at.year - 1)
    db.session.commit()
    row = re.search(r'<tr id="case-review-\d+".*?</tr>', text(client.get("/coordinator/")),
                    re.S).group(0)
    assert "Overdue" in row
    html = text(client.get(f"/coordinator/journeys/{world['journey_id']}/case"))
    assert "Penicillin" in html and "flagged" not in html
    assert reviews.waiting_reviews()  # still waiting: the board only reads


def test_another_coordinator_states_a_reason_and_is_flagged(client, world):
    _ready(client, world)
    document = db.session.scalars(select(CaseDocument)).one()
    url = f"/coordinator/journeys/{world['journey_id']}/case"
    login(client, world["coordinator2"])
    first = client.get(url)
    assert first.status_code == 403
    assert "State your reason" in text(first) and "Penicillin" not in text(first)
    short = client.post(url, data={"reason": "urgent"})
    assert short.status_code == 403 and "Penicillin" not in text(short)
    assert "at least 10 characters" in " ".join(field_errors(text(short), "reason"))

    reason = "Patient called the hotline at night"
    read = client.post(url, data={"reason": reason})
    assert read.status_code == 200
    html = text(read)
    assert "Penicillin" in html and "Your access is logged and flagged" in html
    assert reason in html
    row = db.session.scalars(select(AccessLog).where(AccessLog.refused.is_(False))
                             .order_by(AccessLog.id.desc())).first()
    assert row.flagged and row.reason == reason and row.actor_id == world["coordinator2"].id

    doc_url = f"{url}/documents/{document.id}"
    assert client.get(doc_url).status_code == 403
    download = client.post(doc_url, data={"reason": reason})
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_the_patient_sees_who_has_read_the_records(client, world):
    _ready(client, world)
    login(client, world["clinic_staff"])
    assert client.get(_portal(world)).status_code == 200
    login(client, world["coordinator2"])
    client.post(f"/coordinator/journeys/{world['journey_id']}/case",
                data={"reason": "Patient called the hotline at night"})
    login(client, world["patient"])
    html = text(client.get(_case(world)))
    table = re.search(r'<section id="access-log".*?</section>', html, re.S).group(0)
    rows = re.findall(r"<tr[^>]*>.*?</tr>", table, re.S)[1:]
    clinic = [r for r in rows if world["clinic_staff"].full_name in r]
    assert clinic and "Neris Clinic" in clinic[0] and "Read the case" in clinic[0]
    assert "Member staff" in clinic[0] and "Lithuania Time" in clinic[0]
    flagged = [r for r in rows if "Second Coordinator" in r and "flagged" in r]
    assert flagged and "Patient called the hotline at night" in flagged[0]
    assert "Second Coordinator" in rows[0]  # newest first
    # The patient's own readings are left out; their changes are listed.
    assert not [r for r in rows if "You" in r and "Read the case" in r]
    assert [r for r in rows if "You" in r and "Changed the answers" in r]


def test_every_case_page_that_shows_medical_content_logs_one_row(client, world):
    _ready(client, world)
    client.post(_case(world, "/submission"))
    document = db.session.scalars(select(CaseDocument)).one()
    pages = [
        ("patient", _case(world)),
        ("patient", _case(world, f"/documents/{document.id}")),
        ("clinic_staff", _portal(world)),
        ("clinic_staff", _portal(world, f"/documents/{document.id}")),
        ("coordinator", f"/coordinator/journeys/{world['journey_id']}/case"),
        ("coordinator", f"/coordinator/journeys/{world['journey_id']}/case/documents/"
                        f"{document.id}"),
    ]
    for who, url in pages:
        login(client, world[who])
        before = _logs()
        assert client.get(url).status_code == 200, url
        assert _logs() == before + 1, url
    login(client, world["clinic_staff"])
    before = _logs()
    assert client.get(f"/portal/{world['clinic'].id}/cases").status_code == 200
    assert _logs() == before  # the list is no medical content


def test_the_questionnaire_change_keeps_the_page_whole(client, world):
    """A question retired after it was answered leaves the page (the answer is kept);
    answering it from a page read before says why it is refused."""
    login(client, world["patient"])
    _consent(client, world)
    assert _answer(client, world).status_code == 302
    case_requirements.set_requirements(world["admin"], world["surgery"].id,
                                       requires_review=True, questions=[], documents=[])
    db.session.commit()
    html = text(client.get(_case(world)))
    assert "Allergies to medicines?" not in html
    assert fresh(CaseAnswer, db.session.scalar(select(func.min(CaseAnswer.id)))) is not None
    stale = _answer(client, world)  # the page read before the change, sent after it
    assert stale.status_code == 422
    assert "Not a question of this case." in text(stale)
