"""Money is conserved, whatever happens to a booking (property-based, with hypothesis):
for random packages (nights, a line borne by another member or not), deposit only or
paid in full, cancellations of a line or of everything under random terms, and payout
runs before and after them, every minor unit the patient paid is accounted for:

- no member is ever paid out more than its lines earned, and the cluster never pays
  out more than it has received;
- once everything owed is in (paid in full, or cancelled and refunded), every line
  over and the payouts run, what the patient paid (captures less refunds) and what
  the insurer paid (less what it is owed back) plus what members owe as bearers
  equals what members were paid plus the cluster's commission, to the minor unit;
- every unit the insurer transferred funds the booking or is owed back to it.

Every step goes through the services, against localstripe and the Connect stub."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bookings.models import Booking, LedgerEntry
from bookings.payments import ConnectGateway
from bookings.services import balance, cancellation, confirmation, settlement
from journey.builder.services import checkout, journeys, payers, quotes
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.insurance.services import guarantees, policies, receivables
from journey.insurance.services.coverage import guarantee_of
from providers.services import offers
from tests.booking_fixtures import clinic_manager
from tests.connect_stub import running_connect_stub
from tests.journey.builder_world import soon
from tests.journey.insurance.insurer_world import add_insurer

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
    # An insurer covering part of the surgery (journey.insurance): none, or it has not
    # paid yet, or it paid its share in full before anything else happened.
    "insurer": st.sampled_from(["none", "unpaid", "paid"]),
})
def _insured(insurer: str, cancel: str, *, balance: bool) -> dict:
    """A scenario with the insurer, always tried (with half refunded on cancelling)."""
    return {"nights": 3, "borne": False, "balance": balance, "early_payout": True,
            "cancel": cancel, "insurer": insurer,
            "room_tiers": [{"days_before": 0, "refund_percent": 50}],
            "surgery_tiers": [{"days_before": 0, "refund_percent": 50}]}


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
    if scenario["insurer"] != "none":
        if "insurer" not in world:
            add_insurer(world, make)
        policies.add_policy(patient, journey.id, product_id=world["product"].id,
                            policy_number="P-1", holder_name="Holder")
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    if quote.covered_minor:
        guarantees.decide_guarantee(world["insurer_staff"], guarantee_of(quote.id).id,
                                    approve=True, amount_minor=quote.covered_minor,
                                    valid_until=soon(60))
        db.session.commit()
    booking = checkout.checkout_quote(patient, quote.id, gateway=gateway,
                                      payment_method="pm_card_visa")
    db.session.commit()
    staff = {world["hotel"].id: world["hotel_staff"], world["clinic"].id: world["clinic_staff"]}
    for line in booking.lines:
        confirmation.accept_line(staff[line.provider_id], line.id, gateway=gateway)
    db.session.commit()
    if scenario["insurer"] == "paid":
        receivable = settlement.receivable_of(booking.id)
        receivables.record_payment(world["coordinator"], receivable.id,
                                   amount_minor=receivable.amount_minor, paid_on=soon(0),
                                   reference="T-1")
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
    """What the payers' money funds: the patient's captures less refunds, and the
    insurer's transfers less what is owed back to it after a cancellation."""
    db.session.refresh(booking)
    return sum(p.captured_minor - p.refunded_minor for p in booking.payments) + \
        settlement.insurer_received(booking)


def _check_insurer_money(booking) -> None:
    """Every unit the insurer transferred funds the booking or is owed back to it."""
    receivable = settlement.receivable_of(booking.id)
    if receivable is None:
        return
    db.session.refresh(receivable)
    assert receivable.amount_minor == settlement.insurer_owed(booking)
    assert receivable.paid_minor == settlement.insurer_received(booking) + \
        receivable.credit_minor + receivable.credited_minor


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
@example(scenario=_insured("paid", "surgery", balance=True))
@example(scenario=_insured("paid", "none", balance=True))
@example(scenario=_insured("paid", "room", balance=True))
@example(scenario=_insured("unpaid", "all", balance=False))
def test_every_minor_unit_is_accounted_for(world, make, gateway, connect, scenario):
    booking = _book(world, make, gateway, scenario)
    if scenario["early_payout"]:  # the trip counts as over before the cancellation
        settlement.run_payouts(connect, delay_days=0, now=AFTER_EVERYTHING)
        _check_never_more_than_received(booking)
    _cancel(booking, world, gateway, scenario["cancel"])
    settlement.run_payouts(connect, delay_days=0, now=AFTER_EVERYTHING)
    _check_never_more_than_received(booking)
    _check_insurer_money(booking)

    db.session.refresh(booking)
    if settlement.paid_fraction(booking) < 1:
        return  # money is still to come (the balance): only the bounds above hold
    due = settlement.due_by_member(booking, today=AFTER_EVERYTHING.date(), delay_days=0)
    paid = settlement.paid_out_by_member(booking.id)
    owed_by_members = sum(-amount for amount in due.values() if amount < 0)
    assert _received(booking) + owed_by_members == sum(paid.values()) + _commission(booking)
