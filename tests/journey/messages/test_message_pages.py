"""Messages' pages through the Flask test client: the thread page, a reply with its
CSRF token, the new-thread form, the inbox and the unread count in the navigation; a
thread that is not the reader's is a 404."""

from __future__ import annotations

import re

import pytest

from journey.core.extensions import db
from journey.messages.models import Message
from journey.messages.services import threads
from tests.journey.case.case_world import case_world
from tests.journey.pages.patient_fixtures import login, text


@pytest.fixture
def world(make):
    return case_world(make)


def _thread(world, providers=("clinic",)):
    thread = threads.open_thread(world["patient"], world["journey_id"], "Crutches",
                                 "May I bring my own crutches?",
                                 [world[p].id for p in providers])
    db.session.commit()
    return thread


def test_the_thread_page_and_a_reply_with_csrf(app, client, world, monkeypatch):
    thread = _thread(world)
    login(client, world["coordinator"])
    home = text(client.get("/messages"))
    assert "Crutches" in home and "1 unread" in home
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get(f"/messages/{thread.id}")
    html = text(page)
    assert page.status_code == 200
    assert "May I bring my own crutches?" in html and "Ingrid Solberg" in html
    assert "Lithuania" in html  # the time with its zone named
    refused = client.post(f"/messages/{thread.id}", data={"body": "No token"})
    assert refused.status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    sent = client.post(f"/messages/{thread.id}", data={"csrf_token": token,
                                                       "body": "Yes, of course."})
    assert sent.status_code == 302
    db.session.expire_all()
    assert [m.body for m in db.session.query(Message).filter_by(thread_id=thread.id)] == [
        "May I bring my own crutches?", "Yes, of course."]
    empty = client.post(f"/messages/{thread.id}", data={"csrf_token": token, "body": "  "})
    assert empty.status_code == 422 and "Write a message." in text(empty)


def test_a_member_not_a_party_gets_404(client, world):
    thread = _thread(world, providers=())
    login(client, world["hotel_staff"])
    assert client.get(f"/messages/{thread.id}").status_code == 404
    assert client.post(f"/messages/{thread.id}", data={"body": "Hi"}).status_code == 404
    assert "Crutches" not in text(client.get("/messages"))


def test_the_nav_counts_and_the_journey_panel_lists(client, world):
    _thread(world)
    login(client, world["clinic_staff"])
    html = text(client.get("/messages"))
    assert 'aria-label="Messages, 1 unread"' in html
    client.post("/logout")
    login(client, world["patient"])
    page = text(client.get(f"/my/journeys/{world['journey_id']}"))
    assert "Crutches" in page and f"/journeys/{world['journey_id']}/messages/new" in page


def test_a_new_thread_from_the_form(client, world):
    login(client, world["patient"])
    url = f"/journeys/{world['journey_id']}/messages/new"
    form = text(client.get(url))
    assert "Neris Clinic" in form and "Hotel Tilto" in form
    assert "Kaunas Dental" not in form
    sent = client.post(url, data={"subject": "Arrival", "body": "We land at 14:30.",
                                  "provider_ids": [str(world["hotel"].id)]})
    assert sent.status_code == 302
    thread_id = int(sent.headers["Location"].rsplit("/", 1)[1])
    assert threads.get_thread(world["hotel_staff"], thread_id).subject == "Arrival"
    missing = client.post(url, data={"subject": "", "body": ""})
    assert missing.status_code == 422
    assert "Give the conversation a subject." in text(missing) or "Write a message." in \
        text(missing)



def test_an_empty_subject_and_message_are_both_named_at_once(client, world):
    """An empty subject and an empty message were refused one after the other: the
    patient fixed the subject, sent, and only then heard that the message was empty.
    Both are named beside their fields at once, in the page's language."""
    login(client, world["patient"])
    url = f"/journeys/{world['journey_id']}/messages/new?lang=nb"
    missing = client.post(url, data={"subject": " ", "body": ""})
    assert missing.status_code == 422
    page = text(missing)
    assert "Gi samtalen et emne." in page and "Skriv en melding." in page
    assert threads.threads(world["patient"], world["journey_id"]) == []


def test_the_thread_page_in_arabic(client, world):
    thread = _thread(world)
    world["coordinator"].locale = "ar"
    db.session.commit()
    login(client, world["coordinator"])
    html = text(client.get(f"/messages/{thread.id}"))
    assert 'dir="rtl"' in html and "messages.css" in html


def test_the_people_of_a_thread_are_one_list_in_the_reader_s_language(client, world):
    """"Between the patient, the coordinators and A, B": the members were joined by a
    Latin comma inside the sentence (an Arabic page too). Everyone is one list, joined as
    the reader's language joins one."""
    thread = _thread(world, providers=("clinic", "hotel"))
    login(client, world["coordinator"])
    names = [world["clinic"].name, world["hotel"].name]
    norwegian = text(client.get(f"/messages/{thread.id}?lang=nb"))
    assert any(f"Mellom pasienten, koordinatorene, {a} og {b}" in norwegian
               for a, b in (names, names[::-1]))
    arabic = text(client.get(f"/messages/{thread.id}?lang=ar"))
    assert "بين المريض والمنسقين و" in arabic and f"{names[0]}, " not in arabic
