"""Visa invitation letters: issued only once the deposit is in and the passport data is
complete and long enough valid; frozen when issued, replaced when the facts change; a
PDF that holds the traveller and the treatment; a public check that tells initials and
dates only and 404 for a made-up code; only those who may see passports hold them."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy.exc import IntegrityError

from bookings.models import Booking
from bookings.services import cancellation
from journey.builder.models import JourneyStatus
from journey.builder.services import journeys
from journey.case.services import reviews
from journey.core.accounts.models import Role
from journey.core.errors import Conflict, Forbidden, NotFound
from journey.core.extensions import db
from journey.trip.models import LetterStatus, VisaLetter
from journey.trip.services import letters, travellers
from tests.booking_fixtures import accepted_quote, confirmed_booking
from tests.journey.builder_world import soon
from tests.journey.pages.patient_fixtures import text
from tests.journey.pages.portal_fixtures import login

PASSPORT = {"birth_date": date(1979, 5, 17), "nationality": "NO",
            "passport_number": "NO1234567", "passport_expires_on": soon(400)}


def _journey(world):
    return journeys.list_journeys(world["patient"])[0][0]


def _traveller(world, journey_id, **data):
    fields = {"full_name": "Ingrid Marie Solberg", **PASSPORT, **data}
    return travellers.save_traveller(world["patient"], journey_id, **fields)


@pytest.fixture
def booked(world, gateway):
    confirmed_booking(world, gateway)
    journey = _journey(world)
    patient = _traveller(world, journey.id)
    companion = _traveller(world, journey.id, full_name="Ola Solberg", is_patient=False,
                           relationship_to_patient="husband", passport_number="NO7654321")
    db.session.commit()
    return journey, patient, companion


def test_no_letter_before_the_deposit(world, gateway):
    accepted_quote(world)
    journey = _journey(world)
    traveller = _traveller(world, journey.id)
    with pytest.raises(Conflict, match="deposit|booked"):
        letters.issue_letter(world["patient"], journey.id, traveller.id)
    assert db.session.query(VisaLetter).count() == 0


def test_the_passport_data_must_be_complete_and_valid_long_enough(booked, world):
    journey, patient, _companion = booked
    travellers.save_traveller(world["patient"], journey.id, patient.id,
                              passport_number="", birth_date=None)
    with pytest.raises(Conflict, match="date of birth, passport number"):
        letters.issue_letter(world["patient"], journey.id, patient.id)
    # valid on the departure day, but not three months beyond it: no Schengen visa
    travellers.save_traveller(world["patient"], journey.id, patient.id,
                              passport_number="NO1234567", birth_date=date(1979, 5, 17),
                              passport_expires_on=soon(40))
    with pytest.raises(Conflict, match="three months"):
        letters.issue_letter(world["patient"], journey.id, patient.id)
    assert db.session.query(VisaLetter).count() == 0


def test_a_letter_is_frozen_and_replaced_when_its_facts_change(booked, world):
    journey, patient, companion = booked
    first = letters.issue_letter(world["patient"], journey.id, patient.id)
    assert re.fullmatch(r"VL-\d{4}-\d{6}", first.number)
    assert len(first.code) == letters.CODE_LENGTH
    assert letters.issue_letter(world["patient"], journey.id, patient.id).id == first.id
    content = first.content
    assert content["member"]["name"] == world["clinic"].name
    assert content["traveller"]["passport_number"] == "NO1234567"
    assert [t["offer_id"] for t in content["treatment"]] == [world["surgery"].id]
    assert [s["offer_id"] for s in content["stays"]] == [world["room"].id]
    assert content["deposit_minor"] > 0 and content["cost_minor"] > content["deposit_minor"]
    assert (content["arrival_on"], content["departure_on"]) == (
        soon(10).isoformat(), soon(20).isoformat())

    travellers.save_traveller(world["patient"], journey.id, patient.id,
                              passport_number="NO1111111")
    second = letters.issue_letter(world["patient"], journey.id, patient.id)
    assert second.id != first.id and second.code != first.code
    assert first.status == LetterStatus.SUPERSEDED and second.status == LetterStatus.VALID
    assert letters.verify(first.code).status == LetterStatus.SUPERSEDED
    companion_letter = letters.issue_letter(world["coordinator"], journey.id, companion.id)
    assert companion_letter.content["traveller"]["is_patient"] is False
    assert companion_letter.content["patient_name"] == "Ingrid Marie Solberg"


def test_one_valid_letter_per_traveller_even_when_two_are_written(booked, world):
    journey, patient, _companion = booked
    letter = letters.issue_letter(world["patient"], journey.id, patient.id)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(VisaLetter(journey_id=journey.id, traveller_id=patient.id,
                                  provider_id=letter.provider_id, number="VL-X", code="X" * 12,
                                  content={}, status=LetterStatus.VALID))
        db.session.flush()


def test_the_public_check_tells_initials_and_dates_only(booked, world, client):
    journey, patient, _companion = booked
    letter = letters.issue_letter(world["patient"], journey.id, patient.id)
    db.session.commit()
    grouped = letters.grouped(letter.code)
    response = client.get(f"/verify/{grouped}")
    page = text(response)
    assert response.status_code == 200 and "noindex" in response.headers["X-Robots-Tag"]
    assert "Genuine and valid" in page and letter.number in page and "I. M. S." in page
    assert world["clinic"].name in page
    for secret in ("Solberg", "NO1234567", "Knee replacement", "1979"):
        assert secret not in page, secret
    # typed by hand: lower case, no dashes
    assert client.get(f"/verify/{letter.code.lower()}").status_code == 200
    assert client.get("/verify?code=" + grouped).status_code == 302
    made_up = client.get("/verify/ABCD-EFGH-JKLM")
    assert made_up.status_code == 404 and "No letter has this code" in text(made_up)
    assert client.get("/verify/not-a-code").status_code == 404


def _call_off(world, journey, gateway) -> None:
    """The coordinator cancels the trip: its booking, which the journey follows (the
    journey alone is refused while its booking is on)."""
    with pytest.raises(Conflict, match="still on"):
        journeys.cancel_journey(world["coordinator"], journey.id, reason="called off")
    booking = db.session.scalars(db.select(Booking)).one()
    cancellation.cancel_booking(world["coordinator"], booking.id, reason="called off",
                                gateway=gateway)
    assert journey.status == JourneyStatus.CANCELLED


def test_a_cancelled_journey_withdraws_its_letters(booked, world, client, gateway):
    journey, patient, _companion = booked
    letter = letters.issue_letter(world["patient"], journey.id, patient.id)
    _call_off(world, journey, gateway)
    db.session.commit()
    assert letters.verify(letter.code).status == LetterStatus.REVOKED
    assert "no longer valid" in text(client.get(f"/verify/{letter.code}"))


def test_a_coordinator_withdraws_a_letter(booked, world):
    journey, patient, _companion = booked
    letter = letters.issue_letter(world["patient"], journey.id, patient.id)
    with pytest.raises(Forbidden):
        letters.revoke_letter(world["patient"], journey.id, letter.id)
    letters.revoke_letter(world["coordinator"], journey.id, letter.id)
    assert letters.verify(letter.code).status == LetterStatus.REVOKED


def test_only_those_who_see_passports_hold_letters(booked, world, make):
    journey, patient, _companion = booked
    letter = letters.issue_letter(world["clinic_staff"], journey.id, patient.id)  # treating
    assert letters.get_letter(world["hotel_staff"], journey.id, letter.id).id == letter.id
    with pytest.raises(NotFound):  # not on the journey at all
        letters.get_letter(world["other_staff"], journey.id, letter.id)
    with pytest.raises(NotFound):
        letters.letter_slots(make.user(Role.PATIENT), journey.id)


def test_the_letter_pdf_holds_the_traveller_and_the_treatment(booked, world, client):
    journey, patient, _companion = booked
    login(client, world["patient"])
    page = client.get(f"/my/journeys/{journey.id}")
    assert "Issue the visa letter" in text(page)
    response = client.post(f"/journeys/{journey.id}/travellers/{patient.id}/letter",
                           data={})
    assert response.status_code == 302
    letter = db.session.query(VisaLetter).one()
    html = text(client.get(response.headers["Location"]))
    assert letter.number in html and "Ingrid Marie Solberg" in html
    pdf = client.get(f"/journeys/{journey.id}/letters/{letter.id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    words = re.sub(r"\s+", " ", words)
    for expected in ("Ingrid Marie Solberg", "NO1234567", world["clinic"].name,
                     "Knee replacement", letter.number, letters.grouped(letter.code),
                     "/verify/"):
        assert expected in words, expected
    arabic = client.get(f"/journeys/{journey.id}/letters/{letter.id}?lang=ar")
    assert 'dir="rtl"' in arabic.get_data(as_text=True)
    assert client.get(f"/journeys/{journey.id}/letters/{letter.id}.pdf?lang=ar").status_code \
        == 200


def test_the_api_lists_and_issues_letters(booked, world, client, make):
    journey, patient, companion = booked
    token = make.token(world["patient"])
    slots = client.get(f"/api/v1/journeys/{journey.id}/letters", headers=token).get_json()
    assert [s["traveller_id"] for s in slots] == [patient.id, companion.id]
    assert all(s["letter"] is None and s["not_yet"] is None for s in slots)
    issued = client.post(f"/api/v1/journeys/{journey.id}/travellers/{patient.id}/letter",
                         headers=token)
    assert issued.status_code == 200, issued.get_json()
    body = issued.get_json()
    assert body["status"] == "valid" and body["verify"].startswith("/verify/")
    again = client.post(f"/api/v1/journeys/{journey.id}/travellers/{patient.id}/letter",
                        headers=token).get_json()
    assert again["id"] == body["id"]  # nothing changed: the same letter
    other = make.token(world["other_staff"])
    assert client.get(f"/api/v1/journeys/{journey.id}/letters",
                      headers=other).status_code == 404


def test_a_letter_waits_for_the_medical_review(booked, world, monkeypatch):
    """The review gates checkout already; the letter asks again, for a review reopened
    after the deposit (the lines changed)."""
    journey, patient, _companion = booked
    assert letters.journey_refusal(journey) is None
    monkeypatch.setattr(letters, "review_refusal",
                        lambda _journey: reviews.ReviewPending("waiting"))
    with pytest.raises(Conflict, match="medical review"):
        letters.issue_letter(world["patient"], journey.id, patient.id)


def test_erasing_the_patient_erases_the_letters_and_the_check_says_withdrawn(booked, world,
                                                                            gateway):
    from journey.case.services import privacy

    journey, patient, _companion = booked
    letter = letters.issue_letter(world["patient"], journey.id, patient.id)
    _call_off(world, journey, gateway)
    privacy.erase_patient(None, world["patient"].id)
    db.session.flush()
    found = letters.verify(letter.code)
    assert found.status == LetterStatus.REVOKED and found.initials == "—."
    assert "NO1234567" not in str(db.session.get(VisaLetter, letter.id).content)
    with pytest.raises(NotFound):
        letters.get_letter(world["coordinator"], journey.id, letter.id)
