"""After the authorisation: the members' answers, capture only when every line is
confirmed, the patient's decision after a decline, deadlines, the journey following
its booking, and the timeline."""

from datetime import timedelta

import pytest

from bookings.jobs import chase_member_deadlines
from bookings.models import (
    BookingEvent,
    BookingStatus,
    Escalation,
    EscalationKind,
    LedgerEntry,
    LineStatus,
    Notification,
    PaymentStatus,
)
from bookings.services import confirmation
from bookings.services.availability import Line, free_units
from journey.builder.models import JourneyStatus, Quote
from journey.core.errors import Conflict, Forbidden, NotFound
from journey.core.extensions import db
from journey.core.types import utcnow
from providers.services.availability import used_units
from tests.booking_fixtures import (
    authorised_booking,
    confirmed_booking,
    line_of,
    room_declined_surgery_accepted,
)
from tests.journey.builder_world import soon


def _journey(booking):
    return db.session.get(Quote, int(booking.reference.split(":")[1])).journey


def test_authorisation_sends_each_line_to_its_members_inbox_with_a_deadline(world, gateway):
    before = utcnow()
    booking = authorised_booking(world, gateway)
    assert booking.status == BookingStatus.AUTHORISED
    assert _journey(booking).status == JourneyStatus.BOOKED
    inbox = confirmation.member_inbox(world["clinic_staff"], world["clinic"].id)
    assert [line.offer_id for line in inbox] == [world["surgery"].id]
    deadline = inbox[0].respond_by
    assert timedelta(hours=47) < deadline - before < timedelta(hours=49)
    notices = db.session.scalars(db.select(Notification.recipient)).all()
    assert sorted(notices) == sorted([f"provider:{world['clinic'].id}",
                                      f"provider:{world['hotel'].id}"])
    with pytest.raises(Forbidden):  # another member's inbox
        confirmation.member_inbox(world["clinic_staff"], world["hotel"].id)


def test_capture_waits_for_every_member_then_takes_the_deposit(world, gateway):
    booking = authorised_booking(world, gateway)
    payment = booking.payments[0]
    confirmation.accept_line(world["hotel_staff"], line_of(booking, world["room"]).id,
                             gateway=gateway)
    assert booking.status == BookingStatus.AUTHORISED  # the clinic has not answered
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.AUTHORISED
    assert payment.captured_minor == 0
    confirmation.accept_line(world["clinic_staff"], line_of(booking, world["surgery"]).id,
                             gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.captured_minor == booking.due_now_minor == 219000
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.CAPTURED
    assert _journey(booking).status == JourneyStatus.CONFIRMED
    assert db.session.scalar(db.select(db.func.count(LedgerEntry.id))) > 0


def test_a_member_answers_only_its_own_requests_and_only_once(world, gateway):
    booking = authorised_booking(world, gateway)
    surgery = line_of(booking, world["surgery"])
    with pytest.raises(Forbidden):
        confirmation.accept_line(world["hotel_staff"], surgery.id, gateway=gateway)
    db.session.rollback()
    assert surgery.status == LineStatus.REQUESTED
    confirmation.accept_line(world["clinic_staff"], surgery.id, gateway=gateway)
    with pytest.raises(Conflict):
        confirmation.decline_line(world["clinic_staff"], surgery.id, "changed my mind",
                                  gateway=gateway)
    with pytest.raises(NotFound):
        confirmation.accept_line(world["clinic_staff"], 999999, gateway=gateway)


def test_a_decline_frees_the_units_and_asks_the_patient(world, gateway, client, make):
    booking = authorised_booking(world, gateway)
    room = line_of(booking, world["room"])
    assert free_units(Line(world["room"].id, soon(10), 10, 1)) == 4
    with pytest.raises(Exception) as error:
        confirmation.decline_line(world["hotel_staff"], room.id, "no", gateway=gateway)
    assert "reason" in error.value.fields
    confirmation.decline_line(world["hotel_staff"], room.id, "Closed for renovation",
                              gateway=gateway)
    confirmation.accept_line(world["clinic_staff"], line_of(booking, world["surgery"]).id,
                             gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.ACTION_REQUIRED
    assert booking.payments[0].status == PaymentStatus.AUTHORISED  # nothing captured
    assert free_units(Line(world["room"].id, soon(10), 10, 1)) == 5
    assert db.session.scalar(db.select(Escalation.kind)) == EscalationKind.LINE_DECLINED
    # The patient sees the decline with alternatives from the journey builder.
    journey = _journey(booking)
    answer = client.get(f"/api/v1/journeys/{journey.id}/booking",
                        headers=make.token(world["patient"]))
    assert answer.status_code == 200, answer.json
    assert answer.json["booking"]["status"] == "action_required"
    options = answer.json["alternatives"][str(room.id)]
    assert [o["offer_id"] for o in options] == [world["room2"].id]
    other = client.get(f"/api/v1/journeys/{journey.id}/booking",
                       headers=make.token(world["patient2"]))
    assert other.status_code == 404


def test_going_on_without_the_declined_line_captures_only_the_confirmed_part(world, gateway):
    booking = authorised_booking(world, gateway)
    room_declined_surgery_accepted(world, booking, gateway)
    with pytest.raises(Forbidden):
        confirmation.proceed_without_declined(world["clinic_staff"], booking.id,
                                              gateway=gateway)
    db.session.rollback()
    confirmation.proceed_without_declined(world["patient"], booking.id, gateway=gateway)
    db.session.commit()
    payment = booking.payments[0]
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.total_minor == 650000
    # 219000 deposit on 730000, scaled to the 650000 that stays: 195000.
    assert payment.captured_minor == booking.due_now_minor == 195000
    assert payment.captured_minor < payment.amount_minor
    assert line_of(booking, world["room"]).status == LineStatus.CANCELLED
    assert _journey(booking).status == JourneyStatus.CONFIRMED
    with pytest.raises(Conflict):
        confirmation.proceed_without_declined(world["patient"], booking.id, gateway=gateway)


def test_cancelling_after_a_decline_releases_the_card_and_reopens_the_journey(world,
                                                                              gateway):
    from bookings.services.cancellation import cancel_booking
    booking = authorised_booking(world, gateway)
    confirmation.decline_line(world["hotel_staff"], line_of(booking, world["room"]).id,
                              "Closed for renovation", gateway=gateway)
    cancel_booking(world["patient"], booking.id, reason="I will choose another hotel",
                   gateway=gateway)
    db.session.commit()
    payment = booking.payments[0]
    assert booking.status == BookingStatus.CANCELLED
    assert payment.status == PaymentStatus.CANCELLED and payment.captured_minor == 0
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.CANCELLED
    assert _journey(booking).status == JourneyStatus.DRAFT  # editable: swap and requote
    assert free_units(Line(world["surgery"].id, soon(12), 1, 1)) == 2


def test_a_member_is_reminded_once_when_half_the_answer_time_is_gone(world, gateway):
    booking = authorised_booking(world, gateway)
    surgery = line_of(booking, world["surgery"])
    reminders = db.select(db.func.count(Notification.id)).where(
        Notification.kind == "request_reminder")
    chase_member_deadlines(gateway)  # just requested: no reminder yet
    assert db.session.scalar(reminders) == 0
    half_way = surgery.respond_by - timedelta(hours=24) + timedelta(minutes=1)  # 48 h
    chase_member_deadlines(gateway, now=half_way)
    chase_member_deadlines(gateway, now=half_way + timedelta(hours=1))
    assert db.session.scalar(reminders) == 2  # one per open line, once


def test_a_missed_deadline_escalates_once_and_a_coordinator_may_answer(world, gateway):
    booking = authorised_booking(world, gateway)
    surgery = line_of(booking, world["surgery"])
    assert chase_member_deadlines(gateway) == 0  # nothing late yet
    late = surgery.respond_by + timedelta(minutes=1)
    assert chase_member_deadlines(gateway, now=late) == 2  # both lines are late
    assert chase_member_deadlines(gateway, now=late) == 0  # once
    kinds = db.session.scalars(db.select(Escalation.kind)).all()
    assert kinds == [EscalationKind.MEMBER_DEADLINE] * 2
    for line in booking.lines:
        confirmation.accept_line(world["coordinator"], line.id, gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.CONFIRMED


def test_the_timeline_shows_every_transition_to_those_who_may_see_it(world, gateway,
                                                                     client, make):
    booking = confirmed_booking(world, gateway)
    answer = client.get(f"/api/v1/bookings/{booking.id}/timeline",
                        headers=make.token(world["patient"]))
    assert answer.status_code == 200
    rows = [(e["subject"], e["from_state"], e["to_state"]) for e in answer.json]
    assert rows[0] == ("booking", None, "pending_payment")
    for expected in [("booking", "pending_payment", "authorised"),
                     ("line", "held", "requested"), ("line", "requested", "confirmed"),
                     ("payment", "authorised", "captured"),
                     ("booking", "authorised", "confirmed")]:
        assert expected in rows
    assert all(e["actor"] and e["at"] for e in answer.json)
    assert len(answer.json) == db.session.scalar(db.select(db.func.count(BookingEvent.id)))
    staff = client.get(f"/api/v1/bookings/{booking.id}/timeline",
                       headers=make.token(world["hotel_staff"]))
    surgery = line_of(booking, world["surgery"]).id
    assert staff.status_code == 200
    assert not any(e["subject"] == "line" and e["subject_id"] == surgery for e in staff.json)
    assert not any(e["subject"] == "payment" for e in staff.json)
    for outsider in ("patient2", "other_staff"):
        refused = client.get(f"/api/v1/bookings/{booking.id}/timeline",
                             headers=make.token(world[outsider]))
        assert refused.status_code == 404


def test_answers_through_the_api_with_an_idempotency_key(world, gateway, client, make):
    booking = authorised_booking(world, gateway)
    line_id = line_of(booking, world["surgery"]).id
    headers = {**make.token(world["clinic_staff"]), "Idempotency-Key": "accept-0001"}
    first = client.post(f"/api/v1/booking-lines/{line_id}/accept", headers=headers)
    again = client.post(f"/api/v1/booking-lines/{line_id}/accept", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json and first.json["status"] == "confirmed"
    plain = client.post(f"/api/v1/booking-lines/{line_id}/accept",
                        headers=make.token(world["clinic_staff"]))
    assert plain.status_code == 409  # without the key it is a second answer
    inbox = client.get(f"/api/v1/members/{world['hotel'].id}/inbox",
                       headers=make.token(world["hotel_staff"]))
    assert [line["offer_id"] for line in inbox.json] == [world["room"].id]
    declined = client.post(f"/api/v1/booking-lines/{inbox.json[0]['id']}/decline",
                           json={"reason": ""}, headers={
                               **make.token(world["hotel_staff"]),
                               "Accept-Language": "de"})
    assert declined.status_code == 422 and "reason" in declined.json["errors"]["json"]
    # too short, or blank: the rule is said once, not once per check that found it
    for reason in ("ab", "   "):
        short = client.post(f"/api/v1/booking-lines/{inbox.json[0]['id']}/decline",
                            json={"reason": reason}, headers={
                                **make.token(world["hotel_staff"]), "Accept-Language": "nb"})
        assert short.status_code == 422
        [said] = short.json["errors"]["json"]["reason"]
        assert said != "Tell the patient why, in 3 to 500 characters."  # translated


def test_a_crash_between_the_last_answer_and_the_capture_is_repaired_by_the_job(
        world, gateway, monkeypatch):
    from bookings.jobs import reconcile_payments
    booking = authorised_booking(world, gateway)
    monkeypatch.setattr(type(gateway), "capture", _crash)
    for line in booking.lines:
        staff = world["hotel_staff"] if line.offer_id == world["room"].id \
            else world["clinic_staff"]
        with pytest.raises(RuntimeError):
            confirmation.accept_line(staff, line.id, gateway=gateway) \
                if line.offer_id == world["surgery"].id else _accept_ok(staff, line, gateway)
    db.session.rollback()
    payment = booking.payments[0]
    assert all(line.status == LineStatus.CONFIRMED for line in booking.lines)  # committed
    assert booking.status == BookingStatus.AUTHORISED and payment.captured_minor == 0
    monkeypatch.undo()
    reconcile_payments(gateway)
    reconcile_payments(gateway)
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.CAPTURED and payment.captured_minor == 219000


def test_a_capture_whose_answer_was_lost_is_recorded_not_repeated(world, gateway,
                                                                  monkeypatch):
    from bookings.jobs import reconcile_payments
    booking = authorised_booking(world, gateway)
    real_capture = type(gateway).capture
    calls = []

    def capture_then_crash(self, payment, amount):
        calls.append(amount)
        real_capture(self, payment, amount)  # Stripe captures ...
        raise RuntimeError("killed before the answer was written")  # ... we never know

    monkeypatch.setattr(type(gateway), "capture", capture_then_crash)
    room, surgery = line_of(booking, world["room"]), line_of(booking, world["surgery"])
    confirmation.accept_line(world["hotel_staff"], room.id, gateway=gateway)
    with pytest.raises(RuntimeError):
        confirmation.accept_line(world["clinic_staff"], surgery.id, gateway=gateway)
    db.session.rollback()
    assert booking.status == BookingStatus.AUTHORISED
    reconcile_payments(gateway)  # sees the intent captured: records it, no new capture
    db.session.refresh(booking)
    payment = booking.payments[0]
    assert calls == [219000]
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.CAPTURED and payment.captured_minor == 219000


def test_a_capture_retried_after_its_answer_was_lost_records_the_first_one(world, gateway,
                                                                          monkeypatch):
    """The next step captures straight away (no read of the intent first); Stripe
    refusing a second capture of an intent it captured already, the intent as it now
    stands is read and recorded: captured once, the booking confirmed."""
    from bookings.services.saga import advance_all
    booking = authorised_booking(world, gateway)
    real_capture = type(gateway).capture
    calls = []

    def capture(self, payment, amount):
        calls.append(amount)
        intent = real_capture(self, payment, amount)
        if len(calls) == 1:
            raise RuntimeError("killed before the answer was written")
        return intent

    monkeypatch.setattr(type(gateway), "capture", capture)
    retrieved = []
    real_retrieve = type(gateway).retrieve
    monkeypatch.setattr(type(gateway), "retrieve", lambda self, intent_id: (
        retrieved.append(intent_id), real_retrieve(self, intent_id))[1])
    confirmation.accept_line(world["hotel_staff"], line_of(booking, world["room"]).id,
                             gateway=gateway)
    with pytest.raises(RuntimeError):
        confirmation.accept_line(world["clinic_staff"], line_of(booking, world["surgery"]).id,
                                 gateway=gateway)
    db.session.rollback()
    assert booking.status == BookingStatus.AUTHORISED and retrieved == []
    advance_all(gateway)
    db.session.refresh(booking)
    payment = booking.payments[0]
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.CAPTURED and payment.captured_minor == 219000
    assert calls[0] == 219000 and len(calls) == 2


def _crash(self, payment, amount):
    raise RuntimeError("the process died here")


def _accept_ok(staff, line, gateway):
    confirmation.accept_line(staff, line.id, gateway=gateway)
    raise RuntimeError("not the last line: nothing to capture yet")


def test_confirmed_lines_keep_their_units_while_the_patient_decides(world, gateway):
    booking = authorised_booking(world, gateway)
    room_declined_surgery_accepted(world, booking, gateway)
    assert booking.status == BookingStatus.ACTION_REQUIRED
    assert free_units(Line(world["surgery"].id, soon(12), 1, 1)) == 1  # 2 slots, 1 kept


def test_an_authorisation_after_the_units_were_sold_fails_and_releases_the_card(
        world, gateway, make):
    """The holds lapsed, others bought the last slots, then the card of the first
    checkout is authorised: it must not book (no oversell), and the card is released."""
    from bookings.models import Hold
    from bookings.services.checkout import request_payment
    from bookings.services.saga import advance_all
    from journey.builder.services import checkout as journey_checkout
    from journey.core.accounts.models import Role
    from tests.booking_fixtures import accepted_quote

    link = journey_checkout.checkout_quote(world["coordinator"],
                                           accepted_quote(world).id)  # no Stripe yet
    lapsed = utcnow() - timedelta(minutes=1)
    link.expires_at = lapsed
    db.session.execute(db.update(Hold).where(Hold.group_key == link.hold_group)
                       .values(expires_at=lapsed))
    db.session.commit()
    for n in range(2):
        confirmed_booking(world, gateway,
                          patient=make.user(Role.PATIENT, full_name=f"Buyer {n}"))
    assert free_units(Line(world["surgery"].id, soon(12), 1, 1)) == 0
    payment = link.payments[0]
    request_payment(payment, gateway, actor="user:test", payment_method="pm_card_visa")
    db.session.refresh(link)
    assert link.status == BookingStatus.FAILED
    assert all(line.status == LineStatus.CANCELLED for line in link.lines)
    advance_all(gateway)
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.CANCELLED
    assert gateway.retrieve(payment.intent_id).status == PaymentStatus.CANCELLED
    used = used_units(world["surgery"].id, soon(12), soon(12))
    assert used[soon(12)] == 2  # two slots sold, not three


def test_a_member_sees_its_own_lines_of_a_booking_and_no_payment(world, gateway, client,
                                                                 make):
    booking = authorised_booking(world, gateway)
    staff = client.get(f"/api/v1/bookings/{booking.id}",
                       headers=make.token(world["hotel_staff"]))
    assert staff.status_code == 200
    assert [line["offer_id"] for line in staff.json["lines"]] == [world["room"].id]
    assert staff.json["payment"] is None and staff.json["payments"] == []
    assert staff.json["total"]["amount_minor"] == 80000
    assert "client_secret" not in str(staff.json)
    refunds = client.get(f"/api/v1/bookings/{booking.id}/refunds",
                         headers=make.token(world["hotel_staff"]))
    assert refunds.status_code == 403
    patient = client.get(f"/api/v1/bookings/{booking.id}", headers=make.token(world["patient"]))
    assert len(patient.json["lines"]) == 2 and patient.json["payment"]["client_secret"]


def test_a_step_reads_the_lines_and_payments_afresh_under_the_booking_lock(world, gateway):
    """The session may hold a booking's lines and payments from before (a commit that
    kept them loaded, an earlier unit of a job); another process changed them since.
    The lock reads them again, so a step never decides on what it read before."""
    from sqlalchemy import update

    from bookings.models import BookingLine, Payment
    from bookings.services.access import lock_booking

    booking = authorised_booking(world, gateway)
    line, payment = booking.lines[0], booking.payments[0]
    assert (line.status, payment.status) == (LineStatus.REQUESTED, PaymentStatus.AUTHORISED)
    # Written past the ORM, as another process would: the objects here do not know.
    connection = db.session.connection()
    connection.execute(update(BookingLine.__table__).where(BookingLine.id == line.id)
                       .values(status=LineStatus.DECLINED.value))
    connection.execute(update(Payment.__table__).where(Payment.id == payment.id)
                       .values(status=PaymentStatus.CAPTURED.value, captured_minor=1))
    assert payment.status == PaymentStatus.AUTHORISED  # still what was read before

    locked = lock_booking(booking.id)
    assert locked is booking
    assert next(x for x in locked.lines if x.id == line.id).status == LineStatus.DECLINED
    assert (locked.payments[0].status, locked.payments[0].captured_minor) == (
        PaymentStatus.CAPTURED, 1)
