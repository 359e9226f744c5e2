"""The "may I?" questions the pages ask are the services' own checks: each refusal
function answers exactly when its action would be refused (and the action raises it)."""

from __future__ import annotations

import pytest

from bookings.models import Booking, BookingLine, BookingStatus, LineStatus, Payment
from bookings.services import balance, cancellation, confirmation
from journey.core.accounts.models import Role, User
from journey.core.errors import Conflict, Forbidden
from tests.booking_fixtures import confirmed_booking

PATIENT = User(id=7, role=Role.PATIENT)
OTHER_PATIENT = User(id=8, role=Role.PATIENT)
COORDINATOR = User(id=9, role=Role.COORDINATOR)
STAFF = User(id=10, role=Role.MEMBER_MANAGER, provider_id=3)


def _booking(status, line_status=LineStatus.CONFIRMED):
    booking = Booking(status=status, customer_ref="user:7", total_minor=1000,
                      due_now_minor=300)
    booking.lines = [BookingLine(provider_id=3, status=line_status, amount_minor=1000,
                                 kept_minor=0)]
    booking.payments = [Payment(captured_minor=300, refunded_minor=0, amount_minor=300)]
    return booking


@pytest.mark.parametrize("status", list(BookingStatus))
def test_who_may_cancel_a_booking_and_when(status):
    booking = _booking(status)
    refusal = cancellation.booking_cancel_refusal(PATIENT, booking)
    ended = status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED, BookingStatus.FAILED)
    assert (refusal is None) == (not ended)
    assert isinstance(cancellation.booking_cancel_refusal(OTHER_PATIENT, booking), Forbidden)
    assert isinstance(cancellation.booking_cancel_refusal(STAFF, booking), Forbidden)
    assert (cancellation.booking_cancel_refusal(COORDINATOR, booking) is None) == (not ended)


def test_a_line_is_cancelled_by_the_patient_the_cluster_or_its_own_member():
    booking = _booking(BookingStatus.CONFIRMED)
    line = booking.lines[0]
    for actor in (PATIENT, COORDINATOR, STAFF):
        assert cancellation.line_cancel_refusal(actor, booking, line) is None
    other_staff = User(id=11, role=Role.MEMBER_MANAGER, provider_id=4)
    assert isinstance(cancellation.line_cancel_refusal(other_staff, booking, line), Forbidden)
    booking.status = BookingStatus.PENDING_PAYMENT  # before payment: the whole booking
    assert isinstance(cancellation.line_cancel_refusal(PATIENT, booking, line), Conflict)


@pytest.mark.parametrize(("status", "line_status", "answerable"), [
    (BookingStatus.AUTHORISED, LineStatus.REQUESTED, True),
    (BookingStatus.AUTHORISED, LineStatus.CONFIRMED, False),
    (BookingStatus.CANCELLED, LineStatus.REQUESTED, False),
])
def test_a_member_answers_a_waiting_request_only(status, line_status, answerable):
    line = _booking(status, line_status).lines[0]
    assert (confirmation.answer_refusal(line) is None) is answerable


def test_deciding_after_a_decline():
    assert confirmation.decision_refusal(PATIENT, _booking(BookingStatus.ACTION_REQUIRED)) \
        is None
    assert isinstance(confirmation.decision_refusal(
        PATIENT, _booking(BookingStatus.CONFIRMED)), Conflict)
    assert isinstance(confirmation.decision_refusal(
        STAFF, _booking(BookingStatus.ACTION_REQUIRED)), Forbidden)


def test_the_balance_page_and_the_service_agree(world, gateway, client, make):
    booking = confirmed_booking(world, gateway)
    patient = world["patient"]
    assert balance.balance_refusal(patient, booking) is None
    assert isinstance(balance.balance_refusal(world["hotel_staff"], booking), Forbidden)
    paid = client.post(f"/api/v1/bookings/{booking.id}/balance",
                       json={"payment_method": "pm_card_visa"}, headers=make.token(patient))
    assert paid.status_code == 201
    refusal = balance.balance_refusal(patient, booking)
    assert isinstance(refusal, Conflict)
    again = client.post(f"/api/v1/bookings/{booking.id}/balance",
                        json={"payment_method": "pm_card_visa"}, headers=make.token(patient))
    assert (again.status_code, again.json["message"]) == (409, str(refusal.message))
