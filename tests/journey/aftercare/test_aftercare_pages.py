"""Aftercare pages with the test client: the patient's questionnaire (CSRF, errors
beside the fields, the photo, Arabic), the journey's panel, the member's follow-ups
(problems first) and the schedule editor."""

from __future__ import annotations

import io
import re

import pytest

from journey.aftercare import jobs
from journey.aftercare.models import FollowUp, FollowUpState
from journey.aftercare.services import answers, schedules
from journey.case.models import AccessLog, CaseDocument
from journey.core.extensions import db
from tests.journey.aftercare.aftercare_world import (
    BAD,
    FINE,
    aftercare_world,
    count,
    followups,
    jpeg,
    local,
    mails,
)
from tests.journey.pages.patient_fixtures import login, text


@pytest.fixture
def w(world, gateway, make):
    w = aftercare_world(world, gateway, make)
    jobs.run_followups(now=local(19, 12))
    db.session.commit()
    opened = [f for f in followups(w["journey"].id) if f.state == FollowUpState.OPEN]
    w["photo_step"] = next(f for f in opened if f.photo)
    w["plain_step"] = next(f for f in opened if not f.photo)
    return w


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _form(**values) -> dict:
    return {"wellbeing": "4", "pain": "2", "complications": "no", "complications_text": "",
            **values}


def test_the_patient_answers_with_csrf_and_a_photo(client, w, app, monkeypatch):
    login(client, w["patient"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = f"/my/followups/{w['photo_step'].id}"
    page = client.get(url)
    assert page.status_code == 200
    html = text(page)
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    forged = client.post(url, data=_form(), content_type="multipart/form-data")
    assert forged.status_code == 400 and db.session.get(FollowUp, w["photo_step"].id).pain is None
    token = _token(html)
    missing = client.post(url, data={**_form(), "csrf_token": token},
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and "your doctor asks for one" in text(missing)
    sent = client.post(url, data={**_form(), "csrf_token": token,
                                  "photo": (io.BytesIO(jpeg()), "wound.jpg")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302, text(sent)
    db.session.expire_all()
    followup = db.session.get(FollowUp, w["photo_step"].id)
    assert followup.state == FollowUpState.ANSWERED and followup.photo_document_id
    assert count(CaseDocument) == 1
    shown = text(client.get(url))
    assert "Thank you for your answers." in shown and "Your answers" in shown


def test_bad_answers_show_beside_the_fields_and_write_nothing(client, w):
    login(client, w["patient"])
    url = f"/my/followups/{w['plain_step'].id}"
    refused = client.post(url, data=_form(pain="11", complications="yes"))
    assert refused.status_code == 422
    html = text(refused)
    assert "Give your pain from 0 (none) to 10 (worst)." in html
    assert "Please say what happened." in html
    nothing = client.post(url, data={})
    assert nothing.status_code == 422 and text(nothing).count("Please answer this question.") == 3
    db.session.expire_all()
    assert db.session.get(FollowUp, w["plain_step"].id).answered_at is None


def test_a_problem_answer_on_the_page_escalates(client, w):
    login(client, w["patient"])
    sent = client.post(f"/my/followups/{w['plain_step'].id}", data=_form(wellbeing="1"),
                       follow_redirects=True)
    assert sent.status_code == 200 and "will contact you" in text(sent)
    assert len(mails("aftercare_problem")) == 2


def test_only_the_patient_sees_the_form(client, w, make):
    login(client, w["patient2"])
    assert client.get(f"/my/followups/{w['plain_step'].id}").status_code == 404
    client.get("/logout")
    login(client, w["hotel_staff"])
    assert client.get(f"/my/followups/{w['plain_step'].id}").status_code == 404


def test_the_questionnaire_in_arabic(client, w):
    login(client, w["patient"])
    client.post("/preferences", data={"lang": "ar", "next": "/"})
    html = text(client.get(f"/my/followups/{w['plain_step'].id}"))
    assert 'dir="rtl"' in html and 'name="pain"' in html


def test_the_panel_lists_the_follow_ups_on_the_journey_pages(client, w):
    login(client, w["patient"])
    html = text(client.get(f"/my/journeys/{w['journey'].id}"))
    assert 'id="aftercare"' in html
    assert f'href="/my/followups/{w["plain_step"].id}"' in html
    assert html.count('data-state="scheduled"') == 3
    client.get("/logout")
    login(client, w["coordinator"])
    answers.answer_followup(w["patient"], w["plain_step"].id, BAD)
    db.session.commit()
    html = text(client.get(f"/coordinator/journeys/{w['journey'].id}"))
    assert 'id="aftercare"' in html and 'data-state="escalated"' in html
    assert "/my/followups/" not in html


def test_the_member_sees_its_follow_ups_problems_first_and_closes_one(client, w):
    answers.answer_followup(w["patient"], w["photo_step"].id, FINE, (jpeg(), "w.jpg"))
    answers.answer_followup(w["patient"], w["plain_step"].id, BAD)
    db.session.commit()
    login(client, w["clinic_staff"])
    logs = count(AccessLog)
    page = client.get(f"/portal/{w['clinic'].id}/aftercare")
    assert page.status_code == 200
    html = text(page)
    assert html.index(f'id="followup-{w["plain_step"].id}"') < \
        html.index(f'id="followup-{w["photo_step"].id}"')
    assert "Pain: 8 of 10" in html and "The photo" in html
    assert count(AccessLog) == logs + 1
    closed = client.post(f"/portal/{w['clinic'].id}/aftercare/{w['plain_step'].id}/closed",
                         data={})
    assert closed.status_code == 302
    db.session.expire_all()
    assert db.session.get(FollowUp, w["plain_step"].id).state == FollowUpState.CLOSED
    client.get("/logout")
    login(client, w["hotel_staff"])
    assert client.get(f"/portal/{w['clinic'].id}/aftercare").status_code in (403, 404)


def test_the_manager_edits_the_schedule(client, w):
    login(client, w["clinic_manager"])
    url = f"/portal/offers/{w['surgery'].id}/aftercare"
    page = client.get(url)
    assert page.status_code == 200 and "This offer follows the default schedule." in text(page)
    refused = client.post(url, data={"kind0": "after_treatment", "offset0": "900",
                                     "kind1": "before_departure", "offset1": "12"})
    assert refused.status_code == 422
    assert "Between 1 and 730 days after the treatment." in text(refused)
    assert schedules.schedule_row(w["surgery"].id) is None
    saved = client.post(url, data={"kind0": "after_treatment", "offset0": "10", "photo0": "y",
                                   "kind3": "before_departure", "offset3": "12"})
    assert saved.status_code == 302
    _offer, steps, default = schedules.read_schedule(w["clinic_manager"], w["surgery"].id)
    assert not default and [(s.kind.value, s.offset, s.photo) for s in steps] == [
        ("before_departure", 12, False), ("after_treatment", 10, True)]
    assert client.post(f"{url}/default", data={}).status_code == 302
    assert schedules.schedule_row(w["surgery"].id) is None
    client.get("/logout")
    login(client, w["clinic_staff"])
    assert client.post(url, data={"kind0": "after_treatment", "offset0": "10"}
                       ).status_code == 403


def test_only_a_treating_offer_has_an_aftercare_tab(client, w):
    """A hotel room has no follow-ups: its portal pages offer no tab for them."""
    login(client, w["clinic_manager"])
    assert "/aftercare\"" in client.get(f"/portal/offers/{w['surgery'].id}").get_data(
        as_text=True)
    client.get("/logout")
    login(client, w["hotel_staff"])
    room = client.get(f"/portal/offers/{w['room'].id}")
    assert room.status_code == 200
    assert f"/portal/offers/{w['room'].id}/aftercare" not in room.get_data(as_text=True)
