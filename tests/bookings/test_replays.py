"""Idempotency-Key replays through the HTTP API, for every mutating booking endpoint
(the checkout and a member's first answer have theirs in test_checkout and test_saga):
the same key and body give the first answer again and the effect happens once (read
back from the database and from localstripe or the Connect stub); the same key for
another request is a 422; without a key each call runs, so a repeat is refused by the
booking's state instead of repeating the effect."""


import pytest

from bookings.models import (
    Booking,
    BookingEvent,
    BookingLine,
    Escalation,
    EscalationKind,
    IdempotentRequest,
    Payment,
    PaymentKind,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
)
from bookings.services import confirmation, settlement
from bookings.services.escalations import escalate
from journey.builder.services import checkout as journey_checkout
from journey.core.extensions import db
from journey.core.types import utcnow
from tests.booking_fixtures import (
    accepted_quote,
    authorised_booking,
    confirmed_booking,
    paid_booking,
)
from tests.connect_stub import ConnectStub, connect_stub

FULL_REFUND = [{"days_before": 0, "refund_percent": 100}]
DEPOSIT, BALANCE = 219000, 511000
ROOM_DEPOSIT = 24000  # the deposit's share of the room: 219000 * 80000 / 730000


# --- helpers ------------------------------------------------------------------------------

def _post(client, url, headers, *, key=None, json=None):
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post(url, json={} if json is None else json, headers=headers)


def _twice(client, url, headers, key, json=None, *, status=200):
    """The same request with the same key, twice: the same status and body."""
    first = _post(client, url, headers, key=key, json=json)
    assert first.status_code == status, first.json
    again = _post(client, url, headers, key=key, json=json)
    assert again.status_code == first.status_code
    assert again.json == first.json
    return first.json


def _fresh():
    """Forget what this test's session holds: the requests committed in their own."""
    db.session.rollback()


def _count(model, *where) -> int:
    _fresh()
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def _events(booking_id, subject, to_state, subject_id=None) -> int:
    """Moves into ``to_state`` (not the rows that note a step without a move: "sent
    to Stripe", "Stripe did not answer")."""
    where = [BookingEvent.booking_id == booking_id, BookingEvent.subject == subject,
             BookingEvent.to_state == to_state,
             db.or_(BookingEvent.from_state.is_(None),
                    BookingEvent.from_state != BookingEvent.to_state)]
    if subject_id is not None:
        where.append(BookingEvent.subject_id == subject_id)
    return _count(BookingEvent, *where)


def _rows(model, *where) -> list:
    _fresh()
    return list(db.session.scalars(db.select(model).where(*where).order_by(model.id)))


def _line(booking, offer) -> int:
    return next(line.id for line in booking.lines if line.offer_id == offer.id)


def _stripe_refunds(gateway, payment) -> list[int]:
    return sorted(r.amount for r in gateway.client.v1.refunds.list(
        {"payment_intent": payment.intent_id, "limit": 100}).data)


def _stripe_captured(gateway, intent_id) -> int:
    """What localstripe captured on the intent (it records a partial capture as a
    capture of the whole charge and a refund of the rest)."""
    intent = gateway.client.v1.payment_intents.retrieve(intent_id)
    charge = intent.latest_charge
    if intent.status != "succeeded" or not charge.captured:
        return 0
    return charge.amount - charge.amount_refunded


def _stripe_intents(gateway, booking_id) -> list:
    """The PaymentIntents localstripe holds for the booking."""
    listing = gateway.client.v1.payment_intents.list({"limit": 100})
    return [pi for pi in listing.data
            if (pi.metadata.to_dict() if pi.metadata else {}).get("booking_id")
            == str(booking_id)]


def _payments(booking_id) -> list[Payment]:
    return _rows(Payment, Payment.booking_id == booking_id)


@pytest.fixture
def paid(world, gateway):
    """A confirmed booking with deposit and balance paid (730000 in two captures);
    both offers refund in full, so cancelling refunds from both payments."""
    return paid_booking(world, gateway, {"room": FULL_REFUND, "surgery": FULL_REFUND})


def _assert_fully_refunded(gateway, booking_id):
    refunds = _rows(Refund, Refund.booking_id == booking_id)
    assert sorted(r.amount_minor for r in refunds) == [DEPOSIT, BALANCE]
    assert {r.status for r in refunds} == {RefundStatus.SUCCEEDED}
    for payment in _payments(booking_id):
        assert payment.refunded_minor == payment.captured_minor
        assert _stripe_refunds(gateway, payment) == [payment.captured_minor]  # once
    assert _events(booking_id, "refund", "created") == 2
    assert _events(booking_id, "refund", "succeeded") == 2


# --- cancelling a booking ---------------------------------------------------------------------

def test_cancelling_a_booking_again_with_its_key_refunds_once(client, make, world, gateway,
                                                              paid):
    url = f"/api/v1/bookings/{paid.id}/cancel"
    patient = make.token(world["patient"])
    body = _twice(client, url, patient, "cancel-booking-1", {"reason": "Cannot travel"})
    assert body["status"] == "cancelled"
    assert {line["status"] for line in body["lines"]} == {"cancelled"}
    _assert_fully_refunded(gateway, paid.id)
    assert _events(paid.id, "booking", "cancelled") == 1
    assert _events(paid.id, "line", "cancelled") == 2
    assert _count(IdempotentRequest) == 1
    other = _post(client, url, patient, key="cancel-booking-1", json={"reason": "Other"})
    assert other.status_code == 422, other.json
    _assert_fully_refunded(gateway, paid.id)  # nothing more


def test_cancelling_a_booking_without_a_key_runs_once_then_conflicts(client, make, world,
                                                                     gateway, paid):
    url = f"/api/v1/bookings/{paid.id}/cancel"
    patient = make.token(world["patient"])
    short = _post(client, url, patient, key="short", json={"reason": "Cannot travel"})
    assert short.status_code == 422  # a key, if sent, has 8 to 200 characters
    assert _count(Refund) == 0
    first = _post(client, url, patient, json={"reason": "Cannot travel"})
    assert first.status_code == 200, first.json
    again = _post(client, url, patient, json={"reason": "Cannot travel"})
    assert again.status_code == 409
    _assert_fully_refunded(gateway, paid.id)
    assert _events(paid.id, "booking", "cancelled") == 1
    assert _count(IdempotentRequest) == 0


# --- cancelling a line ------------------------------------------------------------------------

def test_cancelling_a_line_again_with_its_key_refunds_once(client, make, world, gateway,
                                                           paid):
    surgery = _line(paid, world["surgery"])
    url = f"/api/v1/booking-lines/{surgery}/cancel"
    patient = make.token(world["patient"])
    body = _twice(client, url, patient, "cancel-line-1", {"reason": "Changed plans"})
    assert body["status"] == "cancelled" and body["kept"]["amount_minor"] == 0
    refunds = _rows(Refund, Refund.booking_id == paid.id)
    assert [(r.line_id, r.amount_minor) for r in refunds] == [
        (surgery, BALANCE), (surgery, 650000 - BALANCE)]  # the newest payment first
    deposit, balance_payment = _payments(paid.id)
    assert _stripe_refunds(gateway, balance_payment) == [BALANCE]
    assert _stripe_refunds(gateway, deposit) == [650000 - BALANCE]
    assert _events(paid.id, "line", "cancelled", surgery) == 1
    assert _events(paid.id, "refund", "succeeded") == 2
    other = _post(client, url, patient, key="cancel-line-1", json={"reason": "Other"})
    assert other.status_code == 422, other.json
    # The same key on another line is another request too.
    room = _line(paid, world["room"])
    elsewhere = _post(client, f"/api/v1/booking-lines/{room}/cancel", patient,
                      key="cancel-line-1", json={"reason": "Changed plans"})
    assert elsewhere.status_code == 422, elsewhere.json
    assert _count(Refund) == 2
    assert _rows(BookingLine, BookingLine.id == room)[0].status.value == "confirmed"


def test_cancelling_a_line_without_a_key_runs_once_then_conflicts(client, make, world,
                                                                  gateway, paid):
    room = _line(paid, world["room"])
    url = f"/api/v1/booking-lines/{room}/cancel"
    patient = make.token(world["patient"])
    first = _post(client, url, patient, json={"reason": "Changed plans"})
    assert first.status_code == 200, first.json
    assert _post(client, url, patient, json={"reason": "Changed plans"}).status_code == 409
    refunds = _rows(Refund, Refund.booking_id == paid.id)
    assert [(r.line_id, r.amount_minor) for r in refunds] == [(room, 80000)]
    deposit, balance_payment = _payments(paid.id)
    assert _stripe_refunds(gateway, balance_payment) == [80000]
    assert _stripe_refunds(gateway, deposit) == []
    assert _events(paid.id, "line", "cancelled", room) == 1


# --- the member's decline -------------------------------------------------------------------

def test_a_decline_again_with_its_key_is_one_decline(client, make, world, gateway):
    booking = authorised_booking(world, gateway)
    surgery, room = _line(booking, world["surgery"]), _line(booking, world["room"])
    url = f"/api/v1/booking-lines/{surgery}/decline"
    clinic = make.token(world["clinic_staff"])
    body = _twice(client, url, clinic, "decline-0001", {"reason": "Surgeon on leave"})
    assert body["status"] == "declined" and body["decline_reason"] == "Surgeon on leave"
    assert _events(booking.id, "line", "declined", surgery) == 1
    other = _post(client, url, clinic, key="decline-0001", json={"reason": "Fully booked"})
    assert other.status_code == 422, other.json
    line = _rows(BookingLine, BookingLine.id == surgery)[0]
    assert line.decline_reason == "Surgeon on leave"
    # Without a key: the hotel's decline runs once, a repeat is a second answer.
    hotel = make.token(world["hotel_staff"])
    room_url = f"/api/v1/booking-lines/{room}/decline"
    first = _post(client, room_url, hotel, json={"reason": "Closed for works"})
    assert first.status_code == 200, first.json
    assert _post(client, room_url, hotel, json={"reason": "Closed for works"}).status_code \
        == 409
    assert _events(booking.id, "line", "declined") == 2
    assert _events(booking.id, "booking", "action_required") == 1
    assert _count(Escalation, Escalation.kind == EscalationKind.LINE_DECLINED) == 1
    assert _rows(Payment, Payment.booking_id == booking.id)[0].status \
        == PaymentStatus.AUTHORISED  # nothing captured, nothing released yet


# --- going on after a decline ----------------------------------------------------------------

def _after_a_decline(world, gateway, patient=None):
    booking = authorised_booking(world, gateway, patient=patient)
    confirmation.accept_line(world["hotel_staff"], _line(booking, world["room"]),
                             gateway=gateway)
    confirmation.decline_line(world["clinic_staff"], _line(booking, world["surgery"]),
                              "Surgeon on leave", gateway=gateway)
    db.session.commit()
    assert booking.status.value == "action_required"
    return booking


def _captured_once(gateway, booking_id, amount):
    (payment,) = _payments(booking_id)
    assert payment.status == PaymentStatus.CAPTURED and payment.captured_minor == amount
    assert _stripe_captured(gateway, payment.intent_id) == amount
    assert _events(booking_id, "payment", "captured", payment.id) == 1
    assert _events(booking_id, "booking", "confirmed") == 1


def test_going_on_after_a_decline_again_with_its_key_captures_once(client, make, world,
                                                                   gateway):
    booking = _after_a_decline(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/proceed"
    patient = make.token(world["patient"])
    body = _twice(client, url, patient, "proceed-0001")
    assert body["status"] == "confirmed"
    assert body["total"]["amount_minor"] == 80000
    assert body["payment"]["captured"]["amount_minor"] == ROOM_DEPOSIT
    _captured_once(gateway, booking.id, ROOM_DEPOSIT)
    # The path is part of the request: the same key for another booking is a 422.
    other = _post(client, f"/api/v1/bookings/{booking.id + 1000}/proceed", patient,
                  key="proceed-0001")
    assert other.status_code == 422, other.json
    _captured_once(gateway, booking.id, ROOM_DEPOSIT)


def test_going_on_after_a_decline_without_a_key_runs_once_then_conflicts(client, make,
                                                                        world, gateway):
    booking = _after_a_decline(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/proceed"
    patient = make.token(world["patient"])
    first = _post(client, url, patient)
    assert first.status_code == 200, first.json
    assert _post(client, url, patient).status_code == 409
    _captured_once(gateway, booking.id, ROOM_DEPOSIT)


# --- paying the balance ------------------------------------------------------------------------

def _balance_paid_once(gateway, booking_id):
    payments = _payments(booking_id)
    balances = [p for p in payments if p.kind == PaymentKind.BALANCE]
    assert [(p.status, p.captured_minor) for p in balances] == [
        (PaymentStatus.CAPTURED, BALANCE)]
    assert _events(booking_id, "payment", "created", balances[0].id) == 1
    assert _events(booking_id, "payment", "captured", balances[0].id) == 1
    intents = _stripe_intents(gateway, booking_id)
    assert sorted(_stripe_captured(gateway, pi.id) for pi in intents) == [DEPOSIT, BALANCE]


def test_paying_the_balance_again_with_its_key_charges_once(client, make, world, gateway):
    booking = confirmed_booking(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/balance"
    patient = make.token(world["patient"])
    body = _twice(client, url, patient, "balance-0001", {"payment_method": "pm_card_visa"},
                  status=201)
    assert body["kind"] == "balance" and body["status"] == "captured"
    assert body["captured"]["amount_minor"] == BALANCE
    _balance_paid_once(gateway, booking.id)
    other = _post(client, url, patient, key="balance-0001",
                  json={"payment_method": "pm_card_mastercard"})
    assert other.status_code == 422, other.json
    _balance_paid_once(gateway, booking.id)


def test_paying_the_balance_without_a_key_runs_once_then_conflicts(client, make, world,
                                                                  gateway):
    booking = confirmed_booking(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/balance"
    patient = make.token(world["patient"])
    first = _post(client, url, patient, json={"payment_method": "pm_card_visa"})
    assert first.status_code == 201, first.json
    again = _post(client, url, patient, json={"payment_method": "pm_card_visa"})
    assert again.status_code == 409  # nothing is owed any more
    _balance_paid_once(gateway, booking.id)


# --- paying a booking waiting for its card (a coordinator's payment link) ------------------

def _payment_link(world):
    booking = journey_checkout.checkout_quote(world["coordinator"], accepted_quote(world).id)
    db.session.commit()
    assert booking.status.value == "pending_payment"
    return booking


def _authorised_once(gateway, booking_id):
    (payment,) = _payments(booking_id)
    assert payment.status == PaymentStatus.AUTHORISED and payment.intent_id
    assert [pi.id for pi in _stripe_intents(gateway, booking_id)] == [payment.intent_id]
    assert _events(booking_id, "payment", "authorised", payment.id) == 1
    assert _events(booking_id, "booking", "authorised") == 1


def test_paying_a_payment_link_again_with_its_key_authorises_once(client, make, world,
                                                                  gateway):
    booking = _payment_link(world)
    url = f"/api/v1/bookings/{booking.id}/pay"
    patient = make.token(world["patient"])
    body = _twice(client, url, patient, "pay-link-0001", {"payment_method": "pm_card_visa"},
                  status=201)
    assert body["status"] == "authorised"
    _authorised_once(gateway, booking.id)
    other = _post(client, url, patient, key="pay-link-0001",
                  json={"payment_method": "pm_card_mastercard"})
    assert other.status_code == 422, other.json
    _authorised_once(gateway, booking.id)


def test_paying_a_payment_link_without_a_key_runs_once_then_conflicts(client, make, world,
                                                                     gateway):
    booking = _payment_link(world)
    url = f"/api/v1/bookings/{booking.id}/pay"
    patient = make.token(world["patient"])
    first = _post(client, url, patient, json={"payment_method": "pm_card_visa"})
    assert first.status_code == 201, first.json
    again = _post(client, url, patient, json={"payment_method": "pm_card_visa"})
    assert again.status_code == 409  # not waiting for a payment any more
    _authorised_once(gateway, booking.id)


# --- the last member's accept (the capture) ---------------------------------------------------

def test_the_last_accept_again_with_its_key_captures_once(client, make, world, gateway):
    booking = authorised_booking(world, gateway)
    confirmation.accept_line(world["hotel_staff"], _line(booking, world["room"]),
                             gateway=gateway)
    db.session.commit()
    surgery = _line(booking, world["surgery"])
    url = f"/api/v1/booking-lines/{surgery}/accept"
    clinic = make.token(world["clinic_staff"])
    body = _twice(client, url, clinic, "accept-last-1")
    assert body["status"] == "confirmed"
    _captured_once(gateway, booking.id, DEPOSIT)
    room = _line(booking, world["room"])
    other = _post(client, f"/api/v1/booking-lines/{room}/accept", clinic,
                  key="accept-last-1")
    assert other.status_code == 422, other.json


# --- payouts ---------------------------------------------------------------------------------

@pytest.fixture
def connect_app(stripe_app, monkeypatch):
    # The trip counts as over (its money may go out); the deposit is what came in.
    monkeypatch.setattr(settlement, "_delay_source", [lambda: -60])
    with connect_stub(stripe_app):
        yield stripe_app


def _payable(world, gateway):
    booking = confirmed_booking(world, gateway)
    settlement.set_payout_account(world["admin"], world["clinic"].id, "acct_clinic01")
    settlement.set_payout_account(world["admin"], world["hotel"].id, "acct_hotel001")
    db.session.commit()
    return booking


def _paid_out_once(booking_id):
    payouts = _rows(Payout, Payout.booking_id == booking_id)
    # no commission set; 30 % of each line: the deposit is what was received
    assert sorted(p.amount_minor for p in payouts) == [24000, 195000]
    assert {p.status for p in payouts} == {PayoutStatus.PAID}
    transfers = [r for r in ConnectStub.requests if r[0] == "/v1/transfers"]
    assert sorted(r[2] for r in transfers) == sorted(f"payout-{p.id}" for p in payouts)
    assert _events(booking_id, "payout", "created") == 2
    assert _events(booking_id, "payout", "paid") == 2


def test_paying_out_again_with_its_key_transfers_once(client, make, world, gateway,
                                                      connect_app):
    booking = _payable(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/payouts"
    admin = make.token(world["admin"])
    body = _twice(client, url, admin, "payout-0001")
    assert sorted((p["status"], p["amount"]["amount_minor"]) for p in body) == [
        ("paid", 24000), ("paid", 195000)]
    _paid_out_once(booking.id)
    other = _post(client, f"/api/v1/bookings/{booking.id + 1000}/payouts", admin,
                  key="payout-0001")
    assert other.status_code == 422, other.json
    _paid_out_once(booking.id)


def test_paying_out_without_a_key_runs_again_but_transfers_once(client, make, world,
                                                                gateway, connect_app):
    booking = _payable(world, gateway)
    url = f"/api/v1/bookings/{booking.id}/payouts"
    admin = make.token(world["admin"])
    first = _post(client, url, admin)
    assert first.status_code == 200, first.json
    again = _post(client, url, admin)  # every payout is paid: nothing to transfer
    assert again.status_code == 200 and again.json == first.json
    _paid_out_once(booking.id)


# --- resolving an escalation -------------------------------------------------------------------

def test_resolving_an_escalation_again_with_its_key_keeps_the_first_note(client, make,
                                                                        world, gateway):
    booking = authorised_booking(world, gateway)
    for offer in (world["room"], world["surgery"]):
        escalate(booking, EscalationKind.MEMBER_DEADLINE,
                 line=db.session.get(BookingLine, _line(booking, offer)), now=utcnow())
    db.session.commit()
    first_id, second_id = [e.id for e in _rows(Escalation)]
    coordinator = make.token(world["coordinator"])
    url = f"/api/v1/escalations/{first_id}/resolve"
    body = _twice(client, url, coordinator, "resolve-0001", {"note": "Called the clinic"})
    assert body["note"] == "Called the clinic" and body["resolved_at"]
    other = _post(client, url, coordinator, key="resolve-0001", json={"note": "Other"})
    assert other.status_code == 422, other.json
    (first,) = _rows(Escalation, Escalation.id == first_id)
    assert first.note == "Called the clinic"
    assert first.resolved_at.isoformat() == body["resolved_at"]
    # Without a key: it runs once; a repeat finds it resolved.
    second_url = f"/api/v1/escalations/{second_id}/resolve"
    assert _post(client, second_url, coordinator, json={"note": "Done"}).status_code == 200
    assert _post(client, second_url, coordinator, json={"note": "Again"}).status_code == 409
    (second,) = _rows(Escalation, Escalation.id == second_id)
    assert second.note == "Done"
    assert _count(Booking) == 1
