"""Cancellations under each offer's terms, refunds through Stripe never beyond what
was captured, the member's own cancellation, the balance, and crashes around Stripe."""

from datetime import timedelta

import pytest
from flask_babel import force_locale

from bookings.jobs import balance_reminders, reconcile_payments
from bookings.models import (
    Booking,
    BookingEvent,
    Escalation,
    EscalationKind,
    LineEndedBy,
    LineStatus,
    Notification,
    PaymentKind,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from bookings.payments import GatewayUnavailable
from bookings.services import amounts, balance, cancellation
from bookings.services.availability import Line, free_units
from bookings.services.settlement import booking_net_by_member
from journey.builder.models import JourneyTransition
from journey.core.errors import Conflict, Forbidden, NotFound
from journey.core.extensions import db
from journey.core.types import utcnow
from providers.services import offers
from tests.booking_fixtures import confirmed_booking, paid_booking
from tests.journey.builder_world import soon

TIERS = [{"days_before": 30, "refund_percent": 100}, {"days_before": 7, "refund_percent": 50}]


def _line(booking, offer):
    return next(line for line in booking.lines if line.offer_id == offer.id)


def _stripe_refunds(gateway, payment):
    return gateway.client.v1.refunds.list({"payment_intent": payment.intent_id}).data


@pytest.fixture
def paid(world, gateway):
    """A confirmed booking, deposit and balance paid: 730000 captured in two payments."""
    return paid_booking(world, gateway, {"surgery": TIERS})


def test_the_balance_is_asked_for_once_paid_and_captured(world, gateway):
    booking = confirmed_booking(world, gateway)
    assert amounts.balance_minor(booking) == 511000
    early = utcnow() - timedelta(days=30)
    assert balance_reminders(gateway, now=early) == 0  # not yet in the window
    assert balance_reminders(gateway) == 1
    assert balance_reminders(gateway) == 0  # once
    assert db.session.scalar(db.select(Notification.kind).where(
        Notification.kind == "balance_reminder")) == "balance_reminder"
    with pytest.raises(NotFound):  # another patient does not even see it
        balance.pay_balance(world["patient2"], booking.id, payment_method="pm_card_visa",
                            gateway=gateway)
    db.session.rollback()
    payment = balance.pay_balance(world["patient"], booking.id,
                                  payment_method="pm_card_visa", gateway=gateway)
    db.session.commit()
    assert payment.kind == PaymentKind.BALANCE
    assert payment.status == PaymentStatus.CAPTURED and payment.captured_minor == 511000
    assert amounts.balance_minor(booking) == 0
    with pytest.raises(Conflict):
        balance.pay_balance(world["patient"], booking.id, payment_method="pm_card_visa",
                            gateway=gateway)


def test_a_refused_balance_card_and_an_overdue_balance_go_to_a_coordinator(world, gateway):
    booking = confirmed_booking(world, gateway)
    declined = gateway.client.v1.payment_methods.create({"type": "card", "card": {
        "number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    with pytest.raises(Conflict):
        balance.pay_balance(world["patient"], booking.id, payment_method=declined.id,
                            gateway=gateway)
    db.session.rollback()
    failed = [p for p in booking.payments if p.kind == PaymentKind.BALANCE]
    assert [p.status for p in failed] == [PaymentStatus.FAILED]
    overdue = utcnow() + timedelta(days=30)
    balance_reminders(gateway, now=overdue)
    balance_reminders(gateway, now=overdue)
    kinds = sorted(db.session.scalars(db.select(Escalation.kind)).all())
    assert kinds == [EscalationKind.BALANCE_UNPAID, EscalationKind.PAYMENT_FAILED]


def test_a_patient_cancellation_keeps_the_fee_and_refunds_the_rest(world, gateway, paid):
    surgery = _line(paid, world["surgery"])
    cancellation.cancel_line(world["patient"], surgery.id, reason="Changed plans",
                             gateway=gateway)
    db.session.commit()
    # Day 12 before the start: the 50 % tier. The clinic keeps 325000 of 650000.
    assert surgery.status == LineStatus.CANCELLED and surgery.kept_minor == 325000
    assert paid.total_minor == 80000 + 325000
    refund = db.session.scalar(db.select(Refund))
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount_minor == 325000
    balance_payment = paid.payments[-1]
    assert refund.payment_id == balance_payment.id  # the newest payment first
    assert [r.amount for r in _stripe_refunds(gateway, balance_payment)] == [325000]
    assert free_units(Line(world["surgery"].id, soon(12), 1, 1)) == 2
    assert booking_net_by_member(paid.id)[world["clinic"].id] == 325000  # no commission set


def test_the_audit_trail_stores_codes_and_keeps_only_peoples_words(world, gateway, paid, app):
    """Every row of a booking's life has a reason code; the only free text is what a
    person typed (or Stripe's ids and messages), so the trail reads in any language."""
    surgery = _line(paid, world["surgery"])
    cancellation.cancel_line(world["patient"], surgery.id, reason="Changed plans",
                             gateway=gateway)
    db.session.commit()
    events = db.session.scalars(db.select(BookingEvent).where(
        BookingEvent.booking_id == paid.id)).all()
    uncoded = [(e.subject, e.to_state, e.reason) for e in events
               if not e.reason_code and e.reason]
    assert uncoded == []
    transitions = db.session.scalars(db.select(JourneyTransition)).all()
    assert transitions and all(t.reason_code for t in transitions)
    cancelled = next(e for e in events if e.subject == "line" and e.subject_id == surgery.id
                     and e.to_state == "cancelled")
    assert (cancelled.reason_code, cancelled.reason) == ("cancelled_fee_kept", "Changed plans")
    refund = db.session.scalar(db.select(Refund))
    with app.test_request_context(), force_locale("lt"):
        assert cancelled.explained == \
            "Atšaukta, pagal sąlygas pasilikta 3\xa0250,00\xa0€: Changed plans"
        assert refund.explained == "Atšaukta: Changed plans"


def test_refunds_never_pass_what_was_captured(world, gateway, paid):
    offers.set_cancellation_tiers(world["admin"], world["room"].id,
                                  [{"days_before": 0, "refund_percent": 100}])
    offers.set_cancellation_tiers(world["admin"], world["surgery"].id,
                                  [{"days_before": 0, "refund_percent": 100}])
    cancellation.cancel_booking(world["patient"], paid.id, reason="Cannot travel",
                                gateway=gateway)
    db.session.commit()
    captured = sum(p.captured_minor for p in paid.payments)
    refunds = db.session.scalars(db.select(Refund)).all()
    assert sum(r.amount_minor for r in refunds) == captured == 730000
    for payment in paid.payments:
        assert payment.refunded_minor == payment.captured_minor
        assert sum(r.amount for r in _stripe_refunds(gateway, payment)) == payment.captured_minor
    assert paid.status.value == "cancelled"
    with pytest.raises(Conflict):
        cancellation.cancel_booking(world["patient"], paid.id, gateway=gateway)
    with pytest.raises(Conflict):
        cancellation.cancel_line(world["patient"], paid.lines[0].id, gateway=gateway)
    db.session.rollback()
    # The database refuses a refund beyond the capture even if a bug asked for one.
    payment = paid.payments[0]
    payment.refunded_minor = payment.captured_minor + 1
    with pytest.raises(Exception, match="refunded_within_captured|CHECK|check"):
        db.session.flush()
    db.session.rollback()


def test_a_member_cancelling_its_line_refunds_it_in_full(world, gateway, paid):
    room = _line(paid, world["room"])
    with pytest.raises(Forbidden):  # not the line's member
        cancellation.cancel_line(world["clinic_staff"], room.id, gateway=gateway)
    db.session.rollback()
    cancellation.cancel_line(world["hotel_staff"], room.id, reason="Flood in the hotel",
                             gateway=gateway)
    db.session.commit()
    assert room.kept_minor == 0
    assert room.ended_by == LineEndedBy.MEMBER and room.withdrawn_by_member
    assert sum(r.amount_minor for r in db.session.scalars(db.select(Refund))) == 80000
    assert booking_net_by_member(paid.id).get(world["hotel"].id, 0) == 0
    notice = db.session.scalar(db.select(Notification).where(
        Notification.kind == "line_cancelled_by_member"))
    assert notice.recipient == paid.customer_ref


def test_a_refund_cut_off_by_a_crash_is_sent_once_by_the_job(world, gateway, paid,
                                                              monkeypatch):
    real_refund = type(gateway).refund

    def refund_then_crash(self, refund, intent_id):
        real_refund(self, refund, intent_id)  # Stripe refunds ...
        raise GatewayUnavailable("connection reset")  # ... but the answer is lost

    monkeypatch.setattr(type(gateway), "refund", refund_then_crash)
    cancellation.cancel_line(world["patient"], _line(paid, world["surgery"]).id,
                             gateway=gateway)
    refund = db.session.scalar(db.select(Refund))
    assert refund.status == RefundStatus.CREATED  # on record, to retry
    monkeypatch.undo()
    reconcile_payments(gateway)
    reconcile_payments(gateway)
    db.session.refresh(refund)
    assert refund.status == RefundStatus.SUCCEEDED and refund.stripe_refund_id
    payment = db.session.get(type(refund.payment), refund.payment_id)
    assert [r.amount for r in _stripe_refunds(gateway, payment)] == [325000]  # not twice


def test_fees_beyond_what_was_paid_are_neither_owed_nor_paid_out(world, gateway):
    """No refund at all under the terms, but only the deposit was paid: cancelling
    everything leaves nothing owed, and the members share only what was paid."""
    for offer in (world["room"], world["surgery"]):
        offers.set_cancellation_tiers(world["admin"], offer.id,
                                      [{"days_before": 0, "refund_percent": 0}])
    booking = confirmed_booking(world, gateway)
    cancellation.cancel_booking(world["patient"], booking.id, gateway=gateway)
    db.session.commit()
    assert booking.status.value == "cancelled"
    assert booking.total_minor == amounts.paid_minor(booking) == 219000
    assert amounts.balance_minor(booking) == 0
    assert sum(booking_net_by_member(booking.id).values()) == 219000
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 0


def test_a_line_its_member_cancels_comes_with_alternatives(world, gateway, paid, client,
                                                           make):
    from journey.builder.services.booking_link import journey_of
    room = _line(paid, world["room"])
    cancellation.cancel_line(world["hotel_staff"], room.id, reason="Flood in the hotel",
                             gateway=gateway)
    db.session.commit()
    answer = client.get(f"/api/v1/journeys/{journey_of(paid).id}/booking",
                        headers=make.token(world["patient"]))
    assert [o["offer_id"] for o in answer.json["alternatives"][str(room.id)]] == [
        world["room2"].id]


def test_who_ended_a_line_is_recorded_and_only_a_member_brings_alternatives(world, gateway,
                                                                           paid):
    room, surgery = _line(paid, world["room"]), _line(paid, world["surgery"])
    cancellation.cancel_line(world["patient"], room.id, reason="", gateway=gateway)
    cancellation.cancel_line(world["coordinator"], surgery.id, reason="Moved",
                             gateway=gateway)
    db.session.commit()
    assert (room.ended_by, surgery.ended_by) == (LineEndedBy.PATIENT, LineEndedBy.CLUSTER)
    assert not room.withdrawn_by_member and not surgery.withdrawn_by_member


def test_an_unpaid_booking_whose_intent_cannot_be_cancelled_stays_pending(world, gateway,
                                                                        monkeypatch):
    from bookings.jobs import expire_unpaid
    from journey.builder.services import checkout as journey_checkout
    from tests.booking_fixtures import accepted_quote

    quote = accepted_quote(world)
    journey_checkout.checkout_quote(world["patient"], quote.id, gateway=gateway)
    db.session.commit()  # an intent waiting for a card (no payment method)
    later = utcnow() + timedelta(hours=1)

    def stripe_down(self, intent_id):
        raise GatewayUnavailable("Stripe unreachable")

    monkeypatch.setattr(type(gateway), "cancel", stripe_down)
    assert expire_unpaid(gateway, now=later) == 0
    booking = db.session.scalar(db.select(Booking))
    assert booking.status.value == "pending_payment"  # not ended with a live intent
    monkeypatch.undo()
    assert expire_unpaid(gateway, now=later) == 1
    assert gateway.retrieve(booking.payments[0].intent_id).status == PaymentStatus.CANCELLED


def _noon_of(day):
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from journey.core.types import CLUSTER_TIMEZONE
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(CLUSTER_TIMEZONE))


def test_what_has_taken_place_is_not_cancelled(world, gateway):
    """After a line's last day nobody cancels it (its fee would shrink to what was paid
    once nothing was left to deliver); the booking as a whole neither, once a part of it
    has taken place: the parts still to come are cancelled one by one."""
    booking = confirmed_booking(world, gateway)
    first, last = sorted(booking.lines, key=lambda line: line.end_on)
    assert first.end_on < last.end_on
    paid_before, total_before = amounts.paid_minor(booking), booking.total_minor
    between = _noon_of(first.end_on)  # the first line's day after; the last still to come
    after = _noon_of(last.end_on)
    for actor in (world["patient"], world["coordinator"]):
        with pytest.raises(Conflict, match="already taken place"):
            cancellation.cancel_line(actor, first.id, gateway=gateway, now=between)
        with pytest.raises(Conflict, match="Part of this booking"):
            cancellation.cancel_booking(actor, booking.id, gateway=gateway, now=between)
        with pytest.raises(Conflict, match="Part of this booking"):
            cancellation.preview_cancellation(actor, booking.id, now=between)
        with pytest.raises(Conflict, match="already taken place"):
            cancellation.cancel_booking(actor, booking.id, gateway=gateway, now=after)
        with pytest.raises(Conflict, match="already taken place"):
            cancellation.cancel_line(actor, last.id, gateway=gateway, now=after)
    db.session.rollback()
    assert {line.status for line in booking.lines} == {LineStatus.CONFIRMED}
    assert (amounts.paid_minor(booking), booking.total_minor) == (paid_before, total_before)
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 0
    # The day before the first line ends it may still be cancelled (on its terms).
    assert cancellation.preview_cancellation(
        world["patient"], booking.id, first.id,
        now=_noon_of(first.end_on - timedelta(days=1))).lines[0].line_id == first.id
    cancellation.cancel_line(world["patient"], last.id, gateway=gateway, now=between)
    db.session.commit()
    assert last.status == LineStatus.CANCELLED


def _refusal(lang: str, message: str) -> str:
    with force_locale(lang):
        return str(cancellation._l(message))


def test_a_line_cancel_refused_says_why_in_the_callers_language(world, gateway, client,
                                                                 make):
    """A line of a booking not paid yet (a coordinator's payment link) is refused with
    what to do instead, and a line cancelled already says so; both answered "This line
    cannot be cancelled any more", which sent a client looking for a deadline."""
    from journey.builder.services import checkout as journey_checkout
    from tests.booking_fixtures import accepted_quote

    headers = {**make.token(world["patient"]), "Accept-Language": "de"}
    link = journey_checkout.checkout_quote(world["coordinator"], accepted_quote(world).id)
    db.session.commit()
    unpaid = client.post(f"/api/v1/booking-lines/{link.lines[0].id}/cancel", json={},
                         headers=headers)
    assert unpaid.status_code == 409, unpaid.json
    english = ("This booking is not paid yet, so its lines cannot be cancelled one by one: "
               "cancel the whole booking instead.")
    expected = _refusal("de", english)
    assert unpaid.json["message"] == expected != english
    preview = client.get(f"/api/v1/bookings/{link.id}/cancellation-preview"
                         f"?line_id={link.lines[0].id}", headers=headers)
    assert preview.status_code == 409 and preview.json["message"] == expected
    assert client.post(f"/api/v1/bookings/{link.id}/cancel", json={},
                       headers=headers).status_code == 200
    db.session.expire_all()
    booking = confirmed_booking(world, gateway)
    line = _line(booking, world["room"])
    url = f"/api/v1/booking-lines/{line.id}/cancel"
    assert client.post(url, json={}, headers=headers).status_code == 200
    again = client.post(url, json={}, headers=headers)
    assert again.status_code == 409, again.json
    assert again.json["message"] == _refusal("de", "This line is already cancelled.")


def test_a_member_asking_for_a_bookings_refunds_is_told_whose_they_are(world, gateway,
                                                                       client, make):
    """The member sees the booking (its own lines) but not its refunds: the 403 says so,
    in its language (it was the generic "You are not allowed to do this.")."""
    booking = confirmed_booking(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/refunds?lang=de"
    assert client.get(url, headers=make.token(world["patient"])).status_code == 200
    refused = client.get(url, headers=make.token(world["hotel_staff"]))
    assert refused.status_code == 403, refused.json
    english = "A booking's refunds are for its patient and the cluster to see."
    assert refused.json["message"] == _refusal("de", english) != english
