"""Insurers as payers, end to end through the services against localstripe: a policy
on a journey, the covered share on the quote, the guarantee the insurer's staff answer,
checkout of the patient's share only, the receivable with its invoice, the insurer's
transfer, the payouts it funds, the overdue escalation and a cancellation split
between the payers."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from bookings.models import (
    Booking,
    Escalation,
    InsurerReceivable,
    Payment,
    ReceivableStatus,
)
from bookings.payments import ConnectGateway
from bookings.services import balance, cancellation, settlement
from journey.builder.models import JourneyStatus
from journey.builder.services import checkout, quotes
from journey.core.errors import Conflict, Forbidden, NotFound
from journey.core.extensions import db
from journey.core.types import today_in
from journey.insurance.models import GuaranteeStatus
from journey.insurance.services import guarantees, policies, receivables
from journey.insurance.services.coverage import guarantee_of
from journey.invoicing.models import Document, DocumentKind
from tests.connect_stub import running_connect_stub
from tests.journey.builder_world import soon
from tests.journey.insurance.insurer_world import add_insurer, approve, confirm, quoted

LATER = datetime.combine(soon(300), time(12), tzinfo=UTC)


@pytest.fixture
def insured(world, make):
    return add_insurer(world, make)


def test_the_quote_shows_the_covered_share_and_what_the_patient_pays(insured):
    quote = quoted(insured)
    room, surgery = quote.lines
    assert (room.covered_minor, surgery.covered_minor) == (0, 500000)
    assert quote.covered_minor == 500000
    assert quote.total_minor == 80000 + 650000 - 500000
    assert quote.deposit_minor == 69000  # 30 % of the patient's share only
    guarantee = guarantee_of(quote.id)
    assert (guarantee.status, guarantee.requested_minor, guarantee.line_positions) == \
        (GuaranteeStatus.PENDING, 500000, [2])
    assert guarantee.respond_by <= quote.expires_at


def test_without_a_policy_nothing_is_covered_and_no_guarantee_is_asked(insured):
    quote = quoted(insured, policy=False)
    assert quote.covered_minor == 0 and quote.total_minor == 730000
    assert guarantee_of(quote.id) is None


def test_a_guarantee_is_valid_to_the_end_of_the_clusters_day(insured):
    """At 22:30 UTC it is already tomorrow in the cluster (Vilnius): a validity "until
    today, UTC" is yesterday there and is refused; one until the cluster's today holds
    to 23:59:59 in the cluster."""
    from zoneinfo import ZoneInfo

    from journey.core.errors import InvalidInput
    from journey.core.types import CLUSTER_TIMEZONE

    guarantee = guarantee_of(quoted(insured).id)
    # the last 22:30 UTC before the insurer must answer (it has 48 hours)
    now = datetime.combine(guarantee.respond_by.date(), time(22, 30), tzinfo=UTC)
    if now >= guarantee.respond_by:
        now -= timedelta(days=1)
    cluster_today = today_in(now=now)
    assert cluster_today == now.date() + timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        guarantees.decide_guarantee(insured["insurer_staff"], guarantee.id, approve=True,
                                    amount_minor=1, valid_until=now.date(), now=now)
    assert "valid_until" in refused.value.fields
    decided = guarantees.decide_guarantee(insured["insurer_staff"], guarantee.id,
                                          approve=True, amount_minor=1,
                                          valid_until=cluster_today, now=now)
    assert decided.valid_until == datetime.combine(
        cluster_today, time(23, 59, 59), tzinfo=ZoneInfo(CLUSTER_TIMEZONE))


def test_only_the_insurers_staff_answer_and_others_do_not_see_it(insured):
    quote = quoted(insured)
    guarantee = guarantee_of(quote.id)
    with pytest.raises(Forbidden):
        guarantees.decide_guarantee(insured["patient"], guarantee.id, approve=True,
                                    amount_minor=1, valid_until=soon(30))
    for outsider in (insured["rival_staff"], insured["hotel_staff"], insured["patient2"]):
        with pytest.raises(NotFound):
            guarantees.get_guarantee(outsider, guarantee.id)
        with pytest.raises(NotFound):
            guarantees.decide_guarantee(outsider, guarantee.id, approve=False)
    with pytest.raises(NotFound):
        guarantees.list_guarantees(insured["rival_staff"], insured["insurer"].id)
    db.session.rollback()
    assert db.session.get(type(guarantee), guarantee.id).status == GuaranteeStatus.PENDING


def test_a_late_answer_is_refused_and_the_request_lapses(insured):
    quote = quoted(insured)
    guarantee = guarantee_of(quote.id)
    with pytest.raises(Conflict):
        guarantees.decide_guarantee(insured["insurer_staff"], guarantee.id, approve=False,
                                    now=guarantee.respond_by + timedelta(seconds=1))
    assert guarantee.status == GuaranteeStatus.LAPSED


def test_checkout_needs_an_approved_guarantee_and_writes_nothing_without(insured, gateway):
    quote = quoted(insured)
    bookings_before = db.session.scalar(select(func.count(Booking.id)))
    with pytest.raises(Conflict):
        checkout.checkout_quote(insured["patient"], quote.id, gateway=gateway,
                                payment_method="pm_card_visa")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Booking.id))) == bookings_before
    guarantee = guarantee_of(quote.id)
    guarantees.decide_guarantee(insured["insurer_staff"], guarantee.id, approve=False)
    db.session.commit()
    with pytest.raises(Conflict):
        checkout.checkout_quote(insured["patient"], quote.id, gateway=gateway,
                                payment_method="pm_card_visa")
    db.session.rollback()
    # Declined: the patient removes the policy and, quoted again, pays everything.
    journey_id = quote.journey_id
    policies.remove_policy(insured["patient"], journey_id)
    again = quotes.create_quote(insured["patient"], journey_id)
    quotes.accept_quote(insured["patient"], again.id)
    db.session.commit()
    assert again.covered_minor == 0 and again.total_minor == 730000
    booking = checkout.checkout_quote(insured["patient"], again.id, gateway=gateway,
                                      payment_method="pm_card_visa")
    assert booking.total_minor == 730000


def test_a_guarantee_for_less_than_the_covered_share_is_not_enough(insured, gateway):
    quote = quoted(insured)
    guarantees.decide_guarantee(insured["insurer_staff"], guarantee_of(quote.id).id,
                                approve=True, amount_minor=400000, valid_until=soon(30))
    db.session.commit()
    with pytest.raises(Conflict):
        checkout.checkout_quote(insured["patient"], quote.id, gateway=gateway,
                                payment_method="pm_card_visa")


def test_the_card_pays_only_the_patients_share_and_the_insurer_gets_a_receivable(
        insured, gateway):
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    assert booking.total_minor == 230000
    surgery = next(line for line in booking.lines if line.covered_minor)
    assert (surgery.amount_minor, surgery.covered_minor, surgery.value_minor) == \
        (150000, 500000, 650000)
    assert settlement.discount_funded(surgery) == 0
    payment = booking.payments[0]
    intent = gateway.client.v1.payment_intents.retrieve(payment.intent_id)
    assert intent.amount == 69000  # the deposit of the patient's share
    receivable = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    assert (receivable.provider_id, receivable.amount_minor, receivable.status) == \
        (insured["insurer"].id, 500000, ReceivableStatus.INVOICED)
    invoice = db.session.scalar(select(Document).where(
        Document.fact == f"invoice:insurer:booking:{booking.id}"))
    assert (invoice.kind, invoice.payer_provider_id, invoice.payer_user_id,
            invoice.total_minor, invoice.language) == (
        DocumentKind.INVOICE, insured["insurer"].id, None, 500000, "en")
    patient_invoice = db.session.scalar(select(Document).where(
        Document.fact == f"invoice:booking:{booking.id}"))
    assert patient_invoice.total_minor == 230000


@pytest.mark.commits
def test_members_are_paid_the_insurers_share_once_it_has_paid(insured, gateway):
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    balance.pay_balance(insured["patient"], booking.id, payment_method="pm_card_visa",
                        gateway=gateway)
    db.session.commit()
    with running_connect_stub() as url:
        for name, account in (("clinic", "acct_clinic01"), ("hotel", "acct_hotel001")):
            settlement.set_payout_account(insured["admin"], insured[name].id, account)
        db.session.commit()
        connect = ConnectGateway("sk_test_connect", url)
        settlement.run_payouts(connect, delay_days=0, now=LATER)
        db.session.commit()
        paid = settlement.paid_out_by_member(booking.id)
        # 230000 of 730000 is in: the members get that share of what they earned.
        assert 230000 - 2 <= sum(paid.values()) <= 230000  # rounded down per member
        receivable = db.session.scalar(select(InsurerReceivable).where(
            InsurerReceivable.booking_id == booking.id))
        receivables.record_payment(insured["coordinator"], receivable.id,
                                   amount_minor=500000, paid_on=today_in(),
                                   reference="BH-TRANSFER-1")
        db.session.commit()
        assert receivable.status == ReceivableStatus.PAID
        receipt = db.session.scalar(select(Document).where(
            Document.fact == f"receipt:insurer:booking:{booking.id}:1"))
        assert receipt.payer_provider_id == insured["insurer"].id
        settlement.run_payouts(connect, delay_days=0, now=LATER)
        db.session.commit()
        paid = settlement.paid_out_by_member(booking.id)
        assert paid == {insured["hotel"].id: 80000, insured["clinic"].id: 650000}


def test_recording_a_transfer_is_for_the_cluster_and_checks_its_input(insured, gateway):
    from journey.core.errors import InvalidInput

    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    receivable = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    with pytest.raises(Forbidden):
        receivables.record_payment(insured["insurer_manager"], receivable.id,
                                   amount_minor=1, paid_on=today_in(), reference="x")
    for bad in ({"amount_minor": 500001}, {"amount_minor": 0}, {"reference": ""},
                {"paid_on": today_in() + timedelta(days=2)}):
        data = {"amount_minor": 100, "paid_on": today_in(), "reference": "T-1", **bad}
        with pytest.raises(InvalidInput):
            receivables.record_payment(insured["coordinator"], receivable.id, **data)
    assert (receivable.paid_minor, receivable.status) == (0, ReceivableStatus.INVOICED)


def test_an_overdue_receivable_escalates_once(insured, gateway):
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    receivable = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    on_time = datetime.combine(receivable.due_on, time(12), tzinfo=UTC)
    assert receivables.escalate_overdue(now=on_time) == 0
    late = on_time + timedelta(days=1)
    assert receivables.escalate_overdue(now=late) == 1
    assert receivables.escalate_overdue(now=late + timedelta(days=1)) == 0
    assert receivable.status == ReceivableStatus.OVERDUE
    found = db.session.scalars(select(Escalation).where(
        Escalation.key == f"insurer_overdue:receivable:{receivable.id}")).all()
    assert len(found) == 1 and found[0].booking_id == booking.id


def test_a_cancellation_splits_the_fee_and_the_refund_between_the_payers(insured, gateway,
                                                                         make):
    from providers.services import offers

    offers.set_cancellation_tiers(insured["admin"], insured["surgery"].id,
                                  [{"days_before": 0, "refund_percent": 50}])
    db.session.commit()
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    surgery = next(line for line in booking.lines if line.covered_minor)
    plan = cancellation.preview_cancellation(insured["patient"], booking.id, surgery.id)
    # The fee is half of the full 6,500.00, split 150000 : 500000 between the payers.
    assert plan.fees[surgery.id] + plan.insurer_fees[surgery.id] == 325000
    assert plan.insurer_fees[surgery.id] == 250000
    assert plan.insurer_reduction_minor == 250000 and plan.insurer_credit_minor == 0
    cancellation.cancel_line(insured["patient"], surgery.id, gateway=gateway,
                             expect_refund_minor=plan.refund_minor)
    db.session.commit()
    assert (surgery.kept_minor, surgery.covered_kept_minor) == (
        plan.kept[surgery.id], plan.insurer_fees[surgery.id])
    refunded = sum(p.refunded_minor for p in db.session.scalars(select(Payment).where(
        Payment.booking_id == booking.id)))
    assert refunded == plan.refund_minor
    receivable = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    assert receivable.amount_minor == 250000
    credit = db.session.scalar(select(Document).where(
        Document.fact == f"credit_note:insurer:line:{surgery.id}"))
    assert (credit.total_minor, credit.payer_provider_id) == (250000, insured["insurer"].id)


def test_the_insurer_credit_is_owed_back_when_it_had_paid(insured, gateway):
    quote = quoted(insured)
    approve(insured, quote)
    booking = confirm(insured, gateway, quote)
    receivable = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    receivables.record_payment(insured["coordinator"], receivable.id, amount_minor=500000,
                               paid_on=today_in(), reference="T-1")
    db.session.commit()
    plan = cancellation.preview_cancellation(insured["patient"], booking.id)
    cancellation.cancel_booking(insured["patient"], booking.id, gateway=gateway,
                                expect_refund_minor=plan.refund_minor)
    db.session.commit()
    assert receivable.amount_minor == 500000 - plan.insurer_reduction_minor
    assert receivable.credit_minor == plan.insurer_credit_minor == \
        plan.insurer_reduction_minor


def test_adding_or_removing_a_policy_makes_the_journey_a_draft_again(insured):
    quote = quoted(insured, policy=False)
    journey = quote.journey
    assert journey.status == JourneyStatus.ACCEPTED
    policies.add_policy(insured["patient"], journey.id, product_id=insured["product"].id,
                        policy_number="BH-1", holder_name="Ingrid")
    assert journey.status == JourneyStatus.DRAFT
    with pytest.raises(Conflict):
        policies.add_policy(insured["patient"], journey.id,
                            product_id=insured["product"].id, policy_number="BH-2",
                            holder_name="Ingrid")
    with pytest.raises(NotFound):  # not theirs to see
        policies.add_policy(insured["patient2"], journey.id,
                            product_id=insured["product"].id, policy_number="BH-2",
                            holder_name="Heike")


class ListTransport:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


def test_the_insurer_is_told_of_a_request_and_the_patient_of_the_answer(insured):
    from journey import mail

    quote = quoted(insured)
    db.session.commit()
    transport = ListTransport()
    mail.send_outbox(transport=transport)
    to_insurer = [m for m in transport.sent if "BH-1234" in m["Subject"]]
    assert len(to_insurer) == 1
    assert f"/insurer/{insured['insurer'].id}" in to_insurer[0].get_content()
    # The deadline on the insurer's own clock (Vilnius), the zone named; not UTC.
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime
    respond_by = guarantee_of(quote.id).respond_by
    local = format_datetime(respond_by, "medium", tzinfo=ZoneInfo("Europe/Vilnius"),
                            locale="en")
    assert f"{local} (Lithuania Time)" in to_insurer[0].get_content()
    assert "UTC" not in to_insurer[0].get_content()
    approve(insured, quote)
    transport = ListTransport()
    mail.send_outbox(transport=transport)
    (answer,) = [m for m in transport.sent if m["To"] == insured["patient"].email]
    assert "Approved" in answer["Subject"]
