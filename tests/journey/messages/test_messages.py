"""Messages per journey through the services and the API: who takes part (a member not
a party gets 404), unread counts, the e-mail to each other party (a link, no text),
attachments opened through the case with its access rules and log."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from bookings.models import Notification
from journey import mail
from journey.case.models import AccessAction, AccessLog, ConsentScope
from journey.case.services import case, consent
from journey.core.accounts.models import Role
from journey.core.errors import Conflict, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.messages.services import threads
from tests.journey.case.case_world import PDF, case_world

READERS = ("patient", "clinic_staff", "hotel_staff", "other_staff", "coordinator", "admin")


class ListTransport:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


@pytest.fixture
def world(make):
    world = case_world(make)
    world["tokens"] = {name: make.token(world[name]) for name in READERS}
    world["coordinator2"] = make.user(Role.COORDINATOR, full_name="Second Coordinator")
    return world


def _document(world):
    """The patient's knee MRI, asked for by the clinic (so the clinic sees it)."""
    consent.give_consent(world["patient"], world["journey_id"],
                         [ConsentScope.HEALTH_DATA, ConsentScope.SHARE_WITH_TREATING])
    document = case.add_document(world["patient"], world["journey_id"], data=PDF,
                                 filename="knee-mri.pdf", request_id=world["request_id"])
    db.session.commit()
    return document


def _open(world, who="patient", providers=("clinic",), **kw):
    thread = threads.open_thread(world[who], world["journey_id"], "Before the surgery",
                                 "May I bring my own crutches?",
                                 [world[p].id for p in providers], **kw)
    db.session.commit()
    return thread


def _notifications():
    db.session.expire_all()
    return db.session.scalars(select(Notification).where(
        Notification.kind == "message_posted").order_by(Notification.id)).all()


# --- who takes part ---------------------------------------------------------------------------

def test_a_member_sees_only_the_threads_it_takes_part_in(world):
    with_clinic = _open(world)
    with_hotel = _open(world, providers=("hotel",))
    alone = _open(world, providers=())
    ids = lambda who: {row.thread.id for row in threads.threads(world[who],  # noqa: E731
                                                               world["journey_id"])}
    assert ids("patient") == ids("coordinator") == ids("admin") == {
        with_clinic.id, with_hotel.id, alone.id}
    assert ids("clinic_staff") == {with_clinic.id}
    assert ids("hotel_staff") == {with_hotel.id}
    for thread_id in (with_hotel.id, alone.id):
        with pytest.raises(NotFound):
            threads.thread(world["clinic_staff"], thread_id)
        with pytest.raises(NotFound):
            threads.post(world["clinic_staff"], thread_id, "Hello")
    with pytest.raises(NotFound):  # a member not on the journey at all
        threads.threads(world["other_staff"], world["journey_id"])
    assert threads.thread(world["clinic_staff"], with_clinic.id).messages[0].body == \
        "May I bring my own crutches?"


def test_parties_are_members_on_the_journey(world):
    with pytest.raises(InvalidInput) as refused:
        _open(world, providers=("other",))  # Kaunas Dental is not on this journey
    assert "provider_ids" in refused.value.fields
    with pytest.raises(InvalidInput):  # a member does not bring another one in
        _open(world, who="clinic_staff", providers=("hotel",))
    own = _open(world, who="clinic_staff", providers=())
    assert own.provider_ids == [world["clinic"].id]
    threads.add_member(world["coordinator"], own.id, world["hotel"].id)
    db.session.commit()
    assert threads.thread(world["hotel_staff"], own.id).thread.id == own.id


def test_an_empty_message_is_refused_with_a_message(world):
    thread = _open(world)
    for body in ("", "   \n\t "):
        with pytest.raises(InvalidInput) as refused:
            threads.post(world["patient"], thread.id, body)
        assert str(refused.value.fields["body"][0]) == "Write a message."
    with pytest.raises(InvalidInput):
        threads.post(world["patient"], thread.id, "x" * 5001)


def test_an_erased_patients_threads_are_closed(world):
    thread = _open(world)
    world["patient"].erased_at = utcnow()
    threads.erase_messages([world["journey_id"]])
    db.session.commit()
    with pytest.raises(Conflict):
        threads.post(world["coordinator"], thread.id, "Anything?")
    db.session.expire_all()
    assert threads.thread(world["coordinator"], thread.id).messages[0].body == ""


# --- unread counts ----------------------------------------------------------------------------

def test_unread_counts_go_up_for_the_others_and_down_when_read(world):
    thread = _open(world)
    assert threads.unread_total(world["patient"]) == 0  # one's own message is not unread
    assert threads.unread_total(world["coordinator"]) == 1
    assert threads.unread_total(world["clinic_staff"]) == 1
    assert threads.unread_total(world["hotel_staff"]) == 0
    threads.post(world["patient"], thread.id, "And a wheelchair at the airport?")
    db.session.commit()
    assert threads.unread_total(world["coordinator"]) == 2
    assert [r.unread for r in threads.threads(world["coordinator"], world["journey_id"])] == [2]
    assert threads.thread(world["coordinator"], thread.id).unread == 2
    db.session.commit()
    assert threads.unread_total(world["coordinator"]) == 0
    assert threads.unread_total(world["clinic_staff"]) == 2  # each reader has their own mark
    threads.post(world["coordinator"], thread.id, "Yes, both are arranged.")
    db.session.commit()
    assert threads.unread_total(world["coordinator"]) == 0
    assert threads.unread_total(world["patient"]) == 1
    rows, total = threads.inbox(world["patient"], unread_only=True)
    assert total == 1 and rows[0].unread == 1
    # Another coordinator's nav counts only their journeys and those nobody coordinates.
    assert threads.unread_total(world["coordinator2"]) == 0


# --- e-mail -----------------------------------------------------------------------------------

def test_one_email_per_other_party_with_a_link_and_no_text(app, world):
    world["patient"].locale = "de"
    db.session.commit()
    thread = _open(world)
    first = _notifications()
    assert sorted(n.recipient for n in first) == sorted([
        f"user:{world['coordinator'].id}", f"provider:{world['clinic'].id}"])
    assert all(n.key == f"message:{n.payload['message_id']}:{n.recipient}" for n in first)
    threads.post(world["clinic_staff"], thread.id, "Yes, bring them.")
    db.session.commit()
    second = [n for n in _notifications() if n not in first]
    assert sorted(n.recipient for n in second) == sorted([
        f"user:{world['patient'].id}", f"user:{world['coordinator'].id}"])
    transport = ListTransport()
    mail.send_outbox(transport=transport)
    to_patient = next(m for m in transport.sent if m["To"] == world["patient"].email)
    assert to_patient["Content-Language"] == "de"
    text = to_patient.get_content()
    assert f"/messages/{thread.id}" in text and "Before the surgery" in to_patient["Subject"]
    assert "bring them" not in text and "crutches" not in text  # no message by e-mail
    assert "Neris Clinic" in text
    assert to_patient["Subject"].startswith("Neue Nachricht")  # the patient's German
    # Queued once: the same message never queues twice.
    assert len(_notifications()) == 4


def test_no_coordinator_yet_tells_every_coordinator(world):
    world_journey = db.session.get(__import__("journey.builder.models", fromlist=["Journey"])
                                   .Journey, world["journey_id"])
    world_journey.coordinator_id = None
    db.session.commit()
    _open(world, providers=())
    assert [n.recipient for n in _notifications()] == ["coordinators"]


# --- attachments ------------------------------------------------------------------------------

def _downloads(document_id) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.action == AccessAction.DOWNLOAD,
        AccessLog.entity == f"document:{document_id}", AccessLog.refused.is_(False)))


def test_an_attachment_is_opened_through_the_case_and_logged(client, world):
    document = _document(world)
    thread = _open(world, providers=("clinic", "hotel"), document_ids=[document.id])
    message_id = thread.messages[0].id
    url = f"/api/v1/messages/{message_id}/attachments/{document.id}"
    response = client.get(url, headers=world["tokens"]["clinic_staff"])
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Cache-Control"] == "private, no-store"
    assert _downloads(document.id) == 1
    # The hotel takes part but does not treat the patient: refused, and told why.
    refused = client.get(url, headers=world["tokens"]["hotel_staff"])
    assert refused.status_code == 403 and refused.json["message"]
    assert _downloads(document.id) == 1
    # The hotel's view names no document.
    body = client.get(f"/api/v1/threads/{thread.id}", headers=world["tokens"]["hotel_staff"]).json
    assert body["messages"][0]["attachments"] == [
        {"id": document.id, "filename": None, "available": False}]
    # A member not a party: 404, whatever it may see of the case.
    assert client.get(url, headers=world["tokens"]["other_staff"]).status_code == 404


def test_only_documents_the_writer_sees_are_attached(world):
    document = _document(world)
    thread = _open(world, providers=("hotel",))
    with pytest.raises(InvalidInput) as refused:
        threads.post(world["hotel_staff"], thread.id, "See this", [document.id])
    assert "document_ids" in refused.value.fields


def test_a_treating_member_not_shown_a_document_is_refused(world):
    consent.give_consent(world["patient"], world["journey_id"], [ConsentScope.HEALTH_DATA])
    own = case.add_document(world["patient"], world["journey_id"], data=PDF,
                            filename="private.pdf")  # asked by nobody, shared with nobody
    db.session.commit()
    thread = _open(world, document_ids=[own.id])
    from journey.core.errors import Forbidden

    with pytest.raises(Forbidden) as refused:
        threads.open_attachment(world["clinic_staff"], thread.messages[0].id, own.id)
    assert "share" in str(refused.value.message)


# --- the API ----------------------------------------------------------------------------------

def test_api_round_trip(client, world):
    tokens = world["tokens"]
    base = f"/api/v1/journeys/{world['journey_id']}/threads"
    opened = client.post(base, headers=tokens["patient"], json={
        "subject": "Diet", "body": "I eat halal.", "provider_ids": [world["hotel"].id]})
    assert opened.status_code == 201, opened.json
    thread_id = opened.json["id"]
    assert opened.json["provider_ids"] == [world["hotel"].id]
    assert client.get("/api/v1/threads/unread", headers=tokens["hotel_staff"]).json == {
        "unread": 1}
    listed = client.get(base, headers=tokens["hotel_staff"]).json
    assert [(t["id"], t["unread"]) for t in listed] == [(thread_id, 1)]
    assert client.get(base, headers=tokens["clinic_staff"]).json == []
    assert client.get(f"/api/v1/threads/{thread_id}",
                      headers=tokens["clinic_staff"]).status_code == 404
    read = client.get(f"/api/v1/threads/{thread_id}", headers=tokens["hotel_staff"]).json
    assert read["unread"] == 1 and read["messages"][0]["body"] == "I eat halal."
    assert read["messages"][0]["author_name"] == "Ingrid Solberg"
    posted = client.post(f"/api/v1/threads/{thread_id}/messages", headers=tokens["hotel_staff"],
                         json={"body": "Noted, the kitchen knows."})
    assert posted.status_code == 201
    assert posted.json["author_name"] == f"{world['hotel_staff'].full_name} (Hotel Tilto)"
    empty = client.post(f"/api/v1/threads/{thread_id}/messages", headers=tokens["patient"],
                        json={"body": "   "})
    assert empty.status_code == 422, empty.json
    assert "Write a message." in str(empty.json), empty.json
    inbox = client.get("/api/v1/threads?unread=true", headers=tokens["patient"]).json
    assert inbox["total"] == 1 and inbox["items"][0]["unread"] == 1
    members = client.post(f"/api/v1/threads/{thread_id}/members", headers=tokens["patient"],
                          json={"provider_id": world["clinic"].id})
    assert members.status_code == 403
    added = client.post(f"/api/v1/threads/{thread_id}/members", headers=tokens["coordinator"],
                        json={"provider_id": world["clinic"].id})
    assert added.status_code == 200 and world["clinic"].id in added.json["provider_ids"]


def test_an_upload_through_the_case_can_be_attached(client, world):
    consent.give_consent(world["patient"], world["journey_id"], [ConsentScope.HEALTH_DATA])
    db.session.commit()
    uploaded = client.post(f"/api/v1/journeys/{world['journey_id']}/case/documents",
                           headers=world["tokens"]["patient"],
                           data={"request_id": str(world["request_id"]),
                                 "file": (io.BytesIO(PDF), "mri.pdf")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201
    opened = client.post(f"/api/v1/journeys/{world['journey_id']}/threads",
                         headers=world["tokens"]["patient"],
                         json={"subject": "MRI", "body": "Here it is.",
                               "provider_ids": [world["clinic"].id],
                               "document_ids": [uploaded.json["id"]]})
    assert opened.status_code == 201
    assert opened.json["messages"][0]["attachments"][0]["filename"] == "mri.pdf"
