"""The outbox is sent as e-mail in each reader's language, to a real SMTP server
(aiosmtpd on loopback), once per notification, and kept when the server is down."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from bookings.models import Notification
from journey import mail
from journey.builder.services.booking_link import journey_of
from journey.core.extensions import db
from tests.booking_fixtures import authorised_booking, confirmed_booking

POLICY = email.policy.default


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=POLICY))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.transport = mail.SmtpTransport("127.0.0.1", controller.port, timeout=5)
    yield inbox
    controller.stop()


def _by_recipient(inbox):
    return {message["To"]: message for message in inbox.messages}


def _body(message) -> str:
    return message.get_content()


def test_members_and_the_patient_are_written_to_in_their_languages(world, gateway, smtp,
                                                                   make):
    patient = make.user(email="ingrid@test.example", locale="de", full_name="Ingrid")
    booking = confirmed_booking(world, gateway, patient=patient)
    kinds = sorted(db.session.scalars(db.select(Notification.kind)))
    assert kinds == ["confirmed", "request", "request"]
    sent = mail.send_outbox(transport=smtp.transport)
    assert [n.last_error for n in db.session.scalars(db.select(Notification))] == [""] * 3
    assert sent == 3
    received = _by_recipient(smtp)
    confirmed = received["ingrid@test.example"]
    assert confirmed["Subject"] == f"Ihre Buchung {booking.id} ist bestätigt"
    assert confirmed["Content-Language"] == "de"
    assert f"http://127.0.0.1:5000/my/journeys/{journey_of(booking).id}" in _body(confirmed)
    # The members have no address of their own: their staff are written to, in
    # the member's default language (Lithuanian), with a link to their requests.
    request = next(m for to, m in received.items() if to != "ingrid@test.example")
    assert request["Subject"] == f"Nauja užklausa rezervacijai {booking.id}"
    assert "/portal/" in _body(request) and "/requests" in _body(request)


def test_each_notification_is_sent_once(world, gateway, smtp):
    confirmed_booking(world, gateway)
    assert mail.send_outbox(transport=smtp.transport) == 3
    assert mail.send_outbox(transport=smtp.transport) == 0
    assert len(smtp.messages) == 3
    assert all(n.sent_at is not None for n in db.session.scalars(db.select(Notification)))


def test_a_server_that_is_down_loses_nothing(world, gateway, smtp):
    confirmed_booking(world, gateway)
    down = mail.SmtpTransport("127.0.0.1", _free_port(), timeout=2)  # nobody listens
    assert mail.send_outbox(transport=down) == 0
    waiting = db.session.scalars(db.select(Notification)).all()
    assert all(n.sent_at is None and n.attempts == 1 and n.last_error for n in waiting)
    assert mail.send_outbox(transport=smtp.transport) == 3  # the next run delivers
    assert len(smtp.messages) == 3


def test_a_recipient_without_any_address_is_given_up_after_a_few_attempts(world, gateway,
                                                                          smtp):
    booking = confirmed_booking(world, gateway)
    orphan = Notification(key="test:orphan", recipient="user:999999", kind="confirmed",
                          booking_id=booking.id, payload={})
    db.session.add(orphan)
    db.session.commit()
    for _ in range(mail.MAX_ATTEMPTS + 2):
        mail.send_outbox(transport=smtp.transport)
    assert orphan.sent_at is None and orphan.attempts == mail.MAX_ATTEMPTS
    assert "no address" in orphan.last_error
    assert len(smtp.messages) == 3  # the others went out once


def test_without_a_mail_server_development_writes_eml_files(world, gateway, app, tmp_path):
    confirmed_booking(world, gateway)
    assert mail.send_outbox(transport=mail.FileTransport(tmp_path)) == 3
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 3
    assert all(email.message_from_bytes(f.read_bytes(), policy=POLICY)["Subject"] for f in files)


def test_a_row_that_cannot_be_written_does_not_hold_up_the_others(world, gateway, smtp):
    booking = confirmed_booking(world, gateway)
    broken = Notification(key="test:broken", recipient=booking.customer_ref,
                          kind="balance_reminder", booking_id=booking.id,
                          payload={"amount_minor": "not a number", "currency": "EUR"})
    db.session.add(broken)
    db.session.commit()
    assert mail.send_outbox(transport=smtp.transport) == 3
    assert broken.sent_at is None and broken.attempts == 1 and broken.last_error


def test_an_assigned_task_is_written_to_its_assignee_in_their_language(world, gateway, smtp,
                                                                        make):
    """Staff hear of the tasks given to them: the task, its local time with the zone
    named, and a link to their own tasks; once, however often the outbox runs."""
    from datetime import datetime, time

    from journey.core.accounts.models import Role
    from journey.trip.models import LegDirection, TaskKind
    from journey.trip.services import tasks, travel
    from tests.journey.builder_world import soon

    booking = confirmed_booking(world, gateway)
    journey = journey_of(booking)
    travel.set_leg(world["patient"], journey.id, LegDirection.ARRIVAL, mode="flight",
                   place="Vilnius Airport (VNO)", number="LH 886",
                   local_time=datetime.combine(soon(10), time(14, 30)),
                   timezone="Europe/Vilnius")
    pickup = next(t for t in tasks.journey_task_rows(journey.id)
                  if t.kind == TaskKind.AIRPORT_PICKUP)
    driver = make.user(Role.COORDINATOR, email="driver@test.example", locale="de")
    tasks.assign_task(world["coordinator"], pickup.id, driver.id)
    tasks.assign_task(world["coordinator"], pickup.id, None)
    tasks.assign_task(world["coordinator"], pickup.id, driver.id)  # again: no second mail
    db.session.commit()
    mail.send_outbox(transport=smtp.transport)
    mails = [m for m in smtp.messages if m["To"] == "driver@test.example"]
    assert len(mails) == 1
    body = _body(mails[0])
    assert mails[0]["Content-Language"] == "de"
    assert "Vilnius Airport (VNO)" in body and "14:30" in body and "Litauen" in body
    assert f"/coordinator/journeys/{journey.id}" in body


def test_an_escalation_is_written_to_every_coordinator(world, gateway, smtp, make):
    from datetime import UTC, datetime

    from bookings.models import EscalationKind
    from bookings.services.escalations import escalate
    from journey.core.accounts.models import Role

    booking = confirmed_booking(world, gateway)
    second = make.user(Role.COORDINATOR, email="second@test.example")
    now = datetime.now(UTC)
    assert escalate(booking, EscalationKind.PAYMENT_FAILED, now=now)
    assert not escalate(booking, EscalationKind.PAYMENT_FAILED, now=now)  # the same fact
    db.session.commit()
    mail.send_outbox(transport=smtp.transport)
    escalated = {m["To"]: m for m in smtp.messages if "Needs a coordinator" in m["Subject"]}
    assert set(escalated) == {world["coordinator"].email, second.email}
    assert "/coordinator/escalations" in _body(escalated[second.email])
    assert f"booking {booking.id}" in _body(escalated[second.email])


def test_a_members_deadline_is_on_its_own_clock_with_the_zone_named(world, gateway, smtp):
    """A request's "accept or decline by" is the member's local time, its zone named in
    the member's language, never a bare UTC clock (a member in Vilnius read 19:34:00
    for a deadline at 21:34 on its own clock)."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime, get_timezone_location

    booking = authorised_booking(world, gateway)
    mail.send_outbox(transport=smtp.transport)
    line = booking.lines[0]
    vilnius = ZoneInfo("Europe/Vilnius")
    expected = format_datetime(line.respond_by, "medium", tzinfo=vilnius, locale="lt")
    utc = format_datetime(line.respond_by, "medium", tzinfo=ZoneInfo("UTC"), locale="lt")
    requests = [m for m in smtp.messages if m["Subject"].startswith("Nauja užklausa")]
    assert requests
    for message in requests:
        body = _body(message)
        assert f"{expected} ({get_timezone_location(vilnius, locale='lt')})" in body
        assert utc not in body
