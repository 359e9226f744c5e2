"""Money is conserved, whatever happens to a booking (property-based, with hypothesis):
for random packages (nights, a line borne by another member or not), deposit only or
paid in full, cancellations of a line or of everything under random terms, and payout
runs before and after them, every minor unit the patient paid is accounted for:

- no member is ever paid out more than its lines earned, and the cluster never pays
  out more than it has received;
- once everything owed is in (paid in full, or cancelled and refunded), every line
  over and the payouts run, what the patient paid (captures less refunds) plus what
  members owe as bearers equals what members were paid plus the cluster's
  commission, to the minor unit.

Every step goes through the services, against localstripe and the Connect stub."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bookings.models import Booking, LedgerEntry
from bookings.payments import ConnectGateway
from bookings.services import balance, cancellation, confirmation, settlement
from journey.builder.services import checkout, journeys, payers, quotes
from journey.core.accounts.models import Role
from journey.core.extensions import db
from providers.services import offers
from tests.booking_fixtures import clinic_manager
from tests.connect_stub import running_connect_stub
from tests.journey.builder_world import soon

TIERS = st.sampled_from([
    [{"days_before": 0, "refund_percent": 100}],
    [{"days_before": 0, "refund_percent": 50}],
    [{"days_before": 0, "refund_percent": 0}],
    [{"days_before": 400, "refund_percent": 100}, {"days_before": 0, "refund_percent": 30}],
])
SCENARIO = st.fixed_dictionaries({
    "nights": st.integers(1, 9),
    "borne": st.booleans(),
    "balance": st.booleans(),
    "early_payout": st.booleans(),
    "cancel": st.sampled_from(["none", "room", "surgery", "all"]),
    "room_tiers": TIERS,
    "surgery_tiers": TIERS,
})
AFTER_EVERYTHING = datetime.combine(soon(300), time(12), tzinfo=UTC)
#: Each example books on its own days (the surgery has two slots a day).
DAYS = itertools.count(10, 3)


@pytest.fixture
def connect(world):
    with running_connect_stub() as url:
        for name, account in (("clinic", "acct_clinic01"), ("hotel", "acct_hotel001")):
            settlement.set_payout_account(world["admin"], world[name].id, account)
        for link, percent in (("treatment", "12.5"), ("accommodation", "10")):
            settlement.set_commission_rate(world["admin"], link, Decimal(percent))
        db.session.commit()
        yield ConnectGateway("sk_test_connect", url)


def _book(world, make, gateway, scenario) -> Booking:
    day = next(DAYS)
    offers.set_cancellation_tiers(world["admin"], world["room"].id, scenario["room_tiers"])
    offers.set_cancellation_tiers(world["admin"], world["surgery"].id,
                                  scenario["surgery_tiers"])
    patient = make.user(Role.PATIENT)
    journey = journeys.open_journey(patient, arrival_on=soon(day),
                                    departure_on=soon(day + scenario["nights"]),
                                    currency="EUR")
    room = journeys.add_item(patient, journey.id, offer_id=world["room"].id,
                             start_on=soon(day), days=scenario["nights"])
    journeys.add_item(patient, journey.id, offer_id=world["surgery"].id, start_on=soon(day))
    if scenario["borne"]:
        asked = payers.request_bearing(world["coordinator"], journey.id, room.id,
                                       world["clinic"].id)
        payers.decide_bearing(clinic_manager(world), asked.id, accept=True)
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    booking = checkout.checkout_quote(patient, quote.id, gateway=gateway,
                                      payment_method="pm_card_visa")
    db.session.commit()
    staff = {world["hotel"].id: world["hotel_staff"], world["clinic"].id: world["clinic_staff"]}
    for line in booking.lines:
        confirmation.accept_line(staff[line.provider_id], line.id, gateway=gateway)
    db.session.commit()
    if scenario["balance"]:
        balance.pay_balance(patient, booking.id, payment_method="pm_card_visa",
                            gateway=gateway)
        db.session.commit()
    booking.patient = patient
    return booking


def _cancel(booking, world, gateway, what: str) -> None:
    if what == "all":
        cancellation.cancel_booking(booking.patient, booking.id, gateway=gateway)
    elif what != "none":
        offer = world["room"] if what == "room" else world["surgery"]
        line = next(line for line in booking.lines if line.offer_id == offer.id)
        cancellation.cancel_line(booking.patient, line.id, gateway=gateway)
    db.session.commit()


def _received(booking) -> int:
    db.session.refresh(booking)
    return sum(p.captured_minor - p.refunded_minor for p in booking.payments)


def _commission(booking) -> int:
    return -int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
                                  .where(LedgerEntry.booking_id == booking.id,
                                         LedgerEntry.kind == "commission")))


def _check_never_more_than_received(booking) -> None:
    paid = settlement.paid_out_by_member(booking.id)
    assert all(amount >= 0 for amount in paid.values()), paid
    assert sum(paid.values()) <= _received(booking), (paid, _received(booking))
    everything = settlement.due_by_member(booking, today=AFTER_EVERYTHING.date(),
                                          delay_days=0)
    for member, amount in paid.items():  # never more than its lines earned
        assert amount <= max(everything.get(member, 0), 0), (member, amount, everything)


@pytest.mark.commits
@settings(max_examples=14, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(scenario=SCENARIO)
def test_every_minor_unit_is_accounted_for(world, make, gateway, connect, scenario):
    booking = _book(world, make, gateway, scenario)
    if scenario["early_payout"]:  # the trip counts as over before the cancellation
        settlement.run_payouts(connect, delay_days=0, now=AFTER_EVERYTHING)
        _check_never_more_than_received(booking)
    _cancel(booking, world, gateway, scenario["cancel"])
    settlement.run_payouts(connect, delay_days=0, now=AFTER_EVERYTHING)
    _check_never_more_than_received(booking)

    db.session.refresh(booking)
    if settlement.paid_fraction(booking) < 1:
        return  # money is still to come (the balance): only the bounds above hold
    due = settlement.due_by_member(booking, today=AFTER_EVERYTHING.date(), delay_days=0)
    paid = settlement.paid_out_by_member(booking.id)
    owed_by_members = sum(-amount for amount in due.values() if amount < 0)
    assert _received(booking) + owed_by_members == sum(paid.values()) + _commission(booking)
