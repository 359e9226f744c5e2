"""Races through the HTTP API, each request in its own thread, app context, session
and connection (the test client runs every request in an empty context), started
together by a barrier, round after round: the last member's accept, which captures
the deposit, against the patient's cancellation of the whole booking; two
cancellations of one booking; two payout runs of one booking. Whichever wins, money
and states agree, in the database, at localstripe and at the Connect stub."""

import pytest

from bookings.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    LineStatus,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
)
from bookings.services import confirmation, settlement
from bookings.services.amounts import paid_minor
from bookings.services.settlement import booking_net_by_member
from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.services import offers
from tests.booking_fixtures import authorised_booking, confirmed_booking
from tests.connect_stub import connect_stub
from tests.http_races import post, race
from tests.journey.builder_world import soon

pytestmark = pytest.mark.commits  # threads at once, each with its own connection

ROUNDS = 10
DEPOSIT = 219000
#: How long each of the two requests waits after the barrier, round by round, so
#: that the rounds cover both orders and the windows in between (e.g. a cancellation
#: arriving while the capture, the refunds or the transfers are under way).
STAGGER = [(0, 0), (0, 0.002), (0, 0.005), (0.005, 0), (0, 0.02), (0.02, 0), (0, 0.05),
           (0.05, 0), (0, 0.1), (0, 0)]


@pytest.fixture
def full_refund(world):
    """Both offers refund in full: cancelling after the capture refunds the deposit."""
    for offer in (world["room"], world["surgery"]):
        offers.set_cancellation_tiers(world["admin"], offer.id,
                                      [{"days_before": 0, "refund_percent": 100}])
    db.session.commit()


def _twice(app, url, headers, key, json, n):
    """The same caller sends the same request twice at once (a double click, two tabs),
    each under its own Idempotency-Key (``key-a``, ``key-b``), staggered as round ``n``
    of :data:`STAGGER`; returns the status codes, sorted, and the responses."""
    results = race(app, *[post(url, headers, f"{key}-{k}", json, delay=delay)
                           for k, delay in zip("ab", STAGGER[n], strict=True)])
    return sorted(code for code, _body in results), results


def _stripe_refunds(gateway, intent_id) -> list[int]:
    return sorted(r.amount for r in gateway.client.v1.refunds.list(
        {"payment_intent": intent_id, "limit": 100}).data)


def _events(booking_id, subject, to_state) -> int:
    return db.session.scalar(db.select(db.func.count(BookingEvent.id)).where(
        BookingEvent.booking_id == booking_id, BookingEvent.subject == subject,
        BookingEvent.to_state == to_state))


def _check_cancelled(booking_id, gateway) -> str:
    """The booking is cancelled and its money adds up, whichever request won. Returns
    which way it ended: "refunded" (captured, then refunded) or "released"."""
    db.session.rollback()
    booking = db.session.get(Booking, booking_id)
    assert booking.status == BookingStatus.CANCELLED
    statuses = [line.status for line in booking.lines]
    assert statuses == [LineStatus.CANCELLED] * 2, statuses  # none confirmed
    (payment,) = booking.payments
    refunds = db.session.scalars(db.select(Refund).where(
        Refund.booking_id == booking_id)).all()
    intent = gateway.retrieve(payment.intent_id)
    assert intent.status == payment.status  # localstripe agrees
    assert _events(booking_id, "booking", "cancelled") == 1
    assert _events(booking_id, "payment", "captured") <= 1
    if payment.status == PaymentStatus.CAPTURED:
        assert payment.captured_minor == DEPOSIT
        assert [(r.amount_minor, r.status) for r in refunds] == [
            (DEPOSIT, RefundStatus.SUCCEEDED)]
        assert payment.refunded_minor == DEPOSIT  # never beyond the capture
        assert _stripe_refunds(gateway, payment.intent_id) == [DEPOSIT]
        assert paid_minor(booking) == booking.total_minor == 0
        assert _events(booking_id, "booking", "confirmed") == 1
        assert _events(booking_id, "payment", "cancelled") == 0
        # Posted at the confirmation, reversed at the cancellation (no fee is kept).
        assert set(booking_net_by_member(booking_id).values()) == {0}
        return "refunded"
    assert payment.status == PaymentStatus.CANCELLED  # the authorisation released
    assert payment.captured_minor == payment.refunded_minor == 0 and refunds == []
    assert _events(booking_id, "booking", "confirmed") == 0
    assert _events(booking_id, "payment", "cancelled") == 1  # released once
    assert booking_net_by_member(booking_id) == {}  # nothing was posted
    return "released"


def test_the_last_accept_against_the_patients_cancellation(stripe_app, make, world,
                                                           gateway, full_refund):
    clinic = make.token(world["clinic_staff"])
    outcomes = []
    for n in range(ROUNDS):
        patient = make.user(Role.PATIENT, full_name=f"Racer {n}")
        booking = authorised_booking(world, gateway, patient=patient)
        room, surgery = (next(line.id for line in booking.lines if line.offer_id == offer.id)
                         for offer in (world["room"], world["surgery"]))
        confirmation.accept_line(world["hotel_staff"], room, gateway=gateway)
        db.session.commit()
        booking_id, surgery_id, headers = booking.id, surgery, make.token(patient)
        db.session.rollback()
        accept_delay, cancel_delay = STAGGER[n % len(STAGGER)]
        (accepted, accept_body), (cancelled, cancel_body) = race(
            stripe_app,
            post(f"/api/v1/booking-lines/{surgery_id}/accept", clinic, f"accept-{n:04d}",
                  delay=accept_delay),
            post(f"/api/v1/bookings/{booking_id}/cancel", headers, f"cancel-{n:04d}",
                  {"reason": "Race"}, delay=cancel_delay))
        assert cancelled == 200, (n, cancelled, cancel_body)
        assert accepted in (200, 409), (n, accepted, accept_body)  # never a 500
        outcome = _check_cancelled(booking_id, gateway)
        if accepted == 409:  # the cancellation came first: nothing to accept
            assert outcome == "released", n
        outcomes.append((accepted, outcome))
    print("accept/cancel outcomes:", outcomes)  # which orders occurred (pytest -s)


def test_two_cancellations_of_one_booking_refund_once(stripe_app, make, world, gateway,
                                                     full_refund):
    for n in range(ROUNDS // 2):
        patient = make.user(Role.PATIENT, full_name=f"Twice {n}")
        booking = confirmed_booking(world, gateway, patient=patient)
        booking_id, headers = booking.id, make.token(patient)
        db.session.rollback()
        codes, results = _twice(stripe_app, f"/api/v1/bookings/{booking_id}/cancel",
                                headers, f"twice-{n:04d}", {"reason": "Cannot travel"}, n)
        assert codes == [200, 409], (n, results)
        assert _check_cancelled(booking_id, gateway) == "refunded"
        assert _events(booking_id, "line", "cancelled") == 2


def test_two_payout_runs_of_one_booking_transfer_once(stripe_app, make, world, gateway,
                                                       monkeypatch):
    """Two admins pay a booking out at once (different keys): both get the paid
    payouts, and each member has one transfer and one "paid" row. (The trip counts as
    over; the deposit, 30 %, is what was received: that share is paid.)"""
    monkeypatch.setattr(settlement, "_delay_source", [lambda: -60])
    admins = [make.token(world["admin"]), make.token(make.user(Role.ADMIN))]
    for provider, account in ((world["clinic"], "acct_clinic01"),
                              (world["hotel"], "acct_hotel001")):
        settlement.set_payout_account(world["admin"], provider.id, account)
    offers.set_capacity(world["admin"], world["surgery"].id, start=soon(12), end=soon(12),
                        capacity=ROUNDS // 2)  # a confirmed booking per round
    db.session.commit()
    with connect_stub(stripe_app) as stub:
        for n in range(ROUNDS // 2):  # five rooms
            patient = make.user(Role.PATIENT, full_name=f"Payee {n}")
            booking_id = confirmed_booking(world, gateway, patient=patient).id
            db.session.rollback()
            stub.requests.clear()
            results = race(stripe_app, *[
                post(f"/api/v1/bookings/{booking_id}/payouts", h, f"payout-{n:04d}-{k}",
                      delay=delay)
                for k, (h, delay) in enumerate(zip(admins, STAGGER[n], strict=True))])
            assert [code for code, _body in results] == [200, 200], (n, results)
            assert results[0][1] == results[1][1]  # the same payouts, both paid
            db.session.rollback()
            payouts = db.session.scalars(db.select(Payout).where(
                Payout.booking_id == booking_id)).all()
            assert sorted((p.amount_minor, p.status) for p in payouts) == [
                (24000, PayoutStatus.PAID), (195000, PayoutStatus.PAID)]
            assert _events(booking_id, "payout", "created") == 2
            assert _events(booking_id, "payout", "paid") == 2, n
            keys = [key for path, _params, key, _auth in stub.requests
                    if path == "/v1/transfers"]
            assert sorted(keys) == sorted(f"payout-{p.id}" for p in payouts), n


def test_two_checkouts_of_one_quote_under_different_keys_book_it_once(stripe_app, make,
                                                                     world):
    """A patient's double click from two tabs: two checkouts of one accepted quote, each
    with its own Idempotency-Key, at once. One booking, one payment authorised once, its
    lines and the calendar's usage counted once (the kept counts are checked after the
    test), whichever order they came in. (Under load about one run in 25 failed here
    with the payment authorised twice: the second tab read the booking still waiting for
    its payment, then that payment authorised by the first tab, cancelled it and
    authorised the card again. start_checkout now returns the booking locked and read
    afresh.)"""
    from bookings.models import Payment
    from tests.booking_fixtures import accepted_quote

    for offer in (world["room"], world["surgery"]):  # room for every round's booking
        offers.set_capacity(world["admin"], offer.id, start=soon(5), end=soon(30),
                            capacity=2 * ROUNDS)
    db.session.commit()
    for n in range(ROUNDS):
        patient = make.user(Role.PATIENT, full_name=f"Two tabs {n}")
        quote = accepted_quote(world, patient=patient)
        quote_id, headers = quote.id, make.token(patient)
        db.session.rollback()
        codes, results = _twice(stripe_app, f"/api/v1/quotes/{quote_id}/checkout",
                                headers, f"tabs-{n:04d}", {"payment_method": "pm_card_visa"}, n)
        assert 201 in codes and set(codes) <= {201, 409}, (n, results)
        db.session.rollback()
        (booking,) = db.session.scalars(db.select(Booking).where(
            Booking.reference == f"quote:{quote_id}")).all()
        assert booking.status == BookingStatus.AUTHORISED, n
        authorised = [p for p in booking.payments if p.status == PaymentStatus.AUTHORISED]
        assert len(authorised) == 1, (n, [(p.id, p.status) for p in booking.payments])
        assert _events(booking.id, "booking", "authorised") == 1, n
        assert _events(booking.id, "payment", "authorised") == 1, n
        for line in booking.lines:
            assert db.session.scalar(db.select(db.func.count(BookingEvent.id)).where(
                BookingEvent.booking_id == booking.id, BookingEvent.subject == "line",
                BookingEvent.subject_id == line.id,
                BookingEvent.from_state == LineStatus.HELD.value)) == 1, (n, line.id)
        assert db.session.scalar(db.select(db.func.count(Payment.id)).where(
            Payment.booking_id == booking.id, Payment.intent_id.is_not(None))) >= 1
