"""Aftercare through the API: the schedule of an offer (its member's manager), the
follow-ups of a journey (scoped, logged), the patient's answer and closing one."""

from __future__ import annotations

import pytest

from journey.aftercare import jobs
from journey.aftercare.models import FollowUpState
from journey.case.models import AccessLog
from journey.core.extensions import db
from tests.journey.aftercare.aftercare_world import (
    FINE,
    aftercare_world,
    count,
    followups,
    local,
    mails,
)

READERS = ("patient", "patient2", "clinic_staff", "clinic_manager", "hotel_staff",
           "other_staff", "coordinator")


@pytest.fixture
def w(world, gateway, make):
    w = aftercare_world(world, gateway, make)
    w["tokens"] = {name: make.token(w[name]) for name in READERS}
    jobs.run_followups(now=local(19, 12))
    db.session.commit()
    return w


def _open(w):
    return next(f for f in followups(w["journey"].id)
                if f.state == FollowUpState.OPEN and not f.photo)


def test_the_schedule_round_trip(client, w):
    url = f"/api/v1/offers/{w['surgery'].id}/aftercare-schedule"
    shown = client.get(url, headers=w["tokens"]["clinic_staff"])
    assert shown.status_code == 200 and shown.json["default"] is True
    assert [s["label"] for s in shown.json["steps"]] == [
        "Before the flight home", "1 week after the treatment", "4 weeks after the treatment",
        "3 months after the treatment", "12 months after the treatment"]
    body = {"steps": [{"kind": "after_treatment", "offset": 14, "photo": True},
                      {"kind": "before_departure", "offset": 6}]}
    assert client.put(url, json=body, headers=w["tokens"]["clinic_staff"]).status_code == 403
    assert client.put(url, json=body, headers=w["tokens"]["other_staff"]).status_code in (403,
                                                                                          404)
    saved = client.put(url, json=body, headers=w["tokens"]["clinic_manager"])
    assert saved.status_code == 200, saved.json
    assert saved.json["default"] is False
    assert [(s["kind"], s["offset"], s["photo"]) for s in saved.json["steps"]] == [
        ("before_departure", 6, False), ("after_treatment", 14, True)]
    refused = client.put(url, json={"steps": [{"kind": "before_departure", "offset": 100}]},
                         headers=w["tokens"]["clinic_manager"])
    assert refused.status_code == 422 and "steps" in refused.json["errors"]["json"]
    assert client.get(url, headers=w["tokens"]["clinic_staff"]).json["steps"][1]["offset"] == 14
    back = client.delete(url, headers=w["tokens"]["clinic_manager"])
    assert back.status_code == 200 and back.json["default"] is True


def test_answer_round_trip(client, w):
    followup = _open(w)
    url = f"/api/v1/followups/{followup.id}/answer"
    refused = client.post(url, json={**FINE, "pain": 11}, headers=w["tokens"]["patient"])
    assert refused.status_code == 422 and "pain" in refused.json["errors"]["json"]
    missing = client.post(url, json={"pain": 3}, headers=w["tokens"]["patient"])
    assert missing.status_code == 422
    assert set(missing.json["errors"]["json"]) == {"wellbeing", "complications"}
    assert client.post(url, json=FINE, headers=w["tokens"]["coordinator"]).status_code == 403
    assert client.post(url, json=FINE, headers=w["tokens"]["patient2"]).status_code == 404
    assert followups(w["journey"].id)[0].answered_at is None
    answered = client.post(url, json={**FINE, "complications": True,
                                      "complications_text": "Swelling"},
                           headers=w["tokens"]["patient"])
    assert answered.status_code == 200, answered.json
    assert answered.json["state"] == "escalated" and answered.json["complications"] is True
    again = client.post(url, json=FINE, headers=w["tokens"]["patient"])
    assert again.status_code == 409
    assert len(mails("aftercare_problem")) == 2


def test_the_follow_ups_of_a_journey_are_scoped_and_logged(client, w):
    url = f"/api/v1/journeys/{w['journey'].id}/followups"
    before = count(AccessLog)
    clinic = client.get(url, headers=w["tokens"]["clinic_staff"])
    assert clinic.status_code == 200 and len(clinic.json) == 5
    assert {f["provider_id"] for f in clinic.json} == {w["clinic"].id}
    assert count(AccessLog) == before + 1
    assert client.get(url, headers=w["tokens"]["hotel_staff"]).status_code == 404
    assert client.get(url, headers=w["tokens"]["other_staff"]).status_code == 404
    assert client.get(url, headers=w["tokens"]["patient2"]).status_code == 404
    patient = client.get(url, headers=w["tokens"]["patient"])
    assert patient.status_code == 200
    assert {f["state"] for f in patient.json} == {"open", "scheduled"}
    assert patient.json[0]["local_time"].endswith("+03:00") or \
        patient.json[0]["local_time"].endswith("+02:00")


def test_closing_a_follow_up(client, w):
    followup = _open(w)
    url = f"/api/v1/followups/{followup.id}/closed"
    assert client.put(url, headers=w["tokens"]["hotel_staff"]).status_code == 404
    assert client.put(url, headers=w["tokens"]["patient"]).status_code == 403
    closed = client.put(url, headers=w["tokens"]["clinic_staff"])
    assert closed.status_code == 200 and closed.json["state"] == "closed"
    assert client.put(url, headers=w["tokens"]["clinic_staff"]).status_code == 409
