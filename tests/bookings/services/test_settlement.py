"""The settlement ledger (gross, commission per chain link, borne lines, fees kept),
the member's statement, and payouts as Stripe Connect transfers — against a local
HTTP stub that answers as Stripe documents, since localstripe has no Connect."""

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from bookings.models import LedgerEntry, Payout, PayoutKind, PayoutStatus
from bookings.payments import ConnectGateway
from bookings.services import balance, cancellation, settlement
from journey.core.errors import Conflict, Forbidden
from journey.core.extensions import db
from tests.booking_fixtures import authorised_booking, confirmed_booking, paid_booking
from tests.connect_stub import ConnectStub, running_connect_stub
from tests.journey.builder_world import soon


@pytest.fixture
def connect():
    with running_connect_stub() as url:
        yield ConnectGateway("sk_test_connect", url)


@pytest.fixture
def rates(world):
    settlement.set_commission_rate(world["admin"], "treatment", Decimal("12.5"))
    settlement.set_commission_rate(world["admin"], "accommodation", Decimal("10"))
    db.session.commit()


def test_only_an_admin_sets_commission_rates_and_they_are_checked(world, client, make):
    with pytest.raises(Forbidden):
        settlement.set_commission_rate(world["coordinator"], "treatment", Decimal("5"))
    headers = make.token(world["admin"])
    bad = client.put("/api/v1/commission-rates/treatment", json={"percent": "100.5"},
                     headers={**headers, "Accept-Language": "lt"})
    assert bad.status_code == 422 and "percent" in bad.json["errors"]["json"]
    assert client.put("/api/v1/commission-rates/nonsense", json={"percent": "5"},
                      headers=headers).status_code == 404
    ok = client.put("/api/v1/commission-rates/treatment", json={"percent": "12.50"},
                    headers=headers)
    assert ok.status_code == 200 and ok.json["percent"] == "12.50"
    rates = client.get("/api/v1/commission-rates").json["rates"]
    assert rates["treatment"] == "12.50" and rates["leisure"] == "0"


def test_confirmation_posts_gross_and_commission_per_member(world, gateway, rates):
    booking = authorised_booking(world, gateway)
    assert db.session.scalar(db.select(db.func.count(LedgerEntry.id))) == 0  # not yet
    booking = confirmed_booking(world, gateway, patient=world["patient2"])
    net = settlement.booking_net_by_member(booking.id)
    assert net[world["clinic"].id] == 650000 - 81250  # 12.5 %
    assert net[world["hotel"].id] == 80000 - 8000  # 10 %
    statement = settlement.member_statement(world["clinic_staff"], world["clinic"].id)
    assert [row.by_kind for row in statement.rows] == [{"gross": 650000, "commission": -81250}]
    assert statement.totals["EUR"]["due"] == 568750
    with pytest.raises(Forbidden):
        settlement.member_statement(world["clinic_staff"], world["hotel"].id)
    settlement.post_confirmed_lines(booking, now=booking.created_at)  # posting twice
    assert settlement.booking_net_by_member(booking.id) == net


def test_a_borne_line_is_owed_by_its_bearer(world, gateway, rates):
    booking = confirmed_booking(world, gateway, borne_room=True)
    room = next(line for line in booking.lines if line.offer_id == world["room"].id)
    assert room.amount_minor == 0 and room.value_minor == 80000  # free to the patient
    assert booking.total_minor == 650000
    net = settlement.booking_net_by_member(booking.id)
    assert net[world["hotel"].id] == 72000  # paid for the room, less commission
    assert net[world["clinic"].id] == 650000 - 81250 - 80000  # the clinic bears it


def test_a_cancellation_reverses_the_postings_and_keeps_the_fee(world, gateway, rates):
    from providers.services import offers
    offers.set_cancellation_tiers(world["admin"], world["surgery"].id,
                                  [{"days_before": 7, "refund_percent": 50}])
    booking = confirmed_booking(world, gateway)
    surgery = next(line for line in booking.lines if line.offer_id == world["surgery"].id)
    cancellation.cancel_line(world["patient"], surgery.id, gateway=gateway)
    db.session.commit()
    net = settlement.booking_net_by_member(booking.id)
    assert net[world["clinic"].id] == 325000 - 40625  # the fee kept, less its commission
    kinds = db.session.scalars(db.select(LedgerEntry.posting).where(
        LedgerEntry.line_id == surgery.id).order_by(LedgerEntry.id)).all()
    assert kinds == [f"line:{surgery.id}:{k}" for k in (
        "gross", "commission", "gross:reversal", "commission:reversal", "fee",
        "fee:commission")]


def _accounts(world):
    settlement.set_payout_account(world["admin"], world["clinic"].id, "acct_clinic01")
    settlement.set_payout_account(world["admin"], world["hotel"].id, "acct_hotel001")
    db.session.commit()


def _at(day: int) -> datetime:
    return datetime.combine(soon(day), time(12), tzinfo=UTC)


def _transfers():
    return [r for r in ConnectStub.requests if r[0] == "/v1/transfers"]


def test_nothing_is_paid_out_before_the_service(world, gateway, rates, connect):
    booking = confirmed_booking(world, gateway)
    _accounts(world)
    with pytest.raises(Forbidden):
        settlement.pay_out(world["coordinator"], booking.id, connect)
    assert settlement.pay_out(world["admin"], booking.id, connect) == []  # none made
    assert settlement.run_payouts(connect, now=_at(15)) == 0  # the room ends on day 20
    assert _transfers() == []


def test_a_member_is_paid_its_share_of_the_money_in_after_its_line(world, gateway, rates,
                                                                     connect):
    """Deposit only (30 %) when the surgery is over: the clinic gets 30 % of its net,
    the hotel nothing yet (its room runs to day 20, plus the delay); once the balance
    is in and the stay over, the rest; never twice."""
    booking = confirmed_booking(world, gateway)
    _accounts(world)
    ConnectStub.fail_next = 1
    first = settlement.settle_booking(booking.id, connect, actor="test", delay_days=7,
                                      now=_at(20))
    db.session.commit()
    assert [(p.provider_id, p.status) for p in first] == [
        (world["clinic"].id, PayoutStatus.FAILED)]
    assert "not ready" in first[0].error
    retried = settlement.run_payouts(connect, delay_days=7, now=_at(20))
    assert retried == 1
    clinic_net = 650000 - 81250  # 12.5 % commission
    assert settlement.paid_out_by_member(booking.id) == {
        world["clinic"].id: clinic_net * 3 // 10}
    balance.pay_balance(world["patient"], booking.id, payment_method="pm_card_visa",
                        gateway=gateway)
    db.session.commit()
    assert settlement.run_payouts(connect, delay_days=7, now=_at(28)) == 2
    assert settlement.run_payouts(connect, delay_days=7, now=_at(40)) == 0  # nothing more
    assert settlement.paid_out_by_member(booking.id) == {
        world["clinic"].id: clinic_net, world["hotel"].id: 72000}
    made = [t for t in ConnectStub.by_key.values() if t["object"] == "transfer"]
    assert sum(t["amount"] for t in made) == clinic_net + 72000  # each transfer once
    assert {r[1]["transfer_group"] for r in _transfers()} == {f"booking-{booking.id}"}
    statement = settlement.member_statement(world["clinic_staff"], world["clinic"].id)
    assert statement.totals["EUR"]["paid_out"] == clinic_net
    assert statement.totals["EUR"]["due"] == 0


def test_a_refund_after_the_payout_is_taken_back(world, gateway, rates, connect):
    """Paid in full and paid out; then the booking is cancelled under 50 % terms: each
    member keeps its fee (less commission) and the rest comes back by a reversal of its
    transfer."""
    tiers = [{"days_before": 0, "refund_percent": 50}]
    booking = paid_booking(world, gateway, {"room": tiers, "surgery": tiers})
    _accounts(world)
    settlement.run_payouts(connect, delay_days=0, now=_at(30))
    paid = settlement.paid_out_by_member(booking.id)
    assert paid == {world["clinic"].id: 568750, world["hotel"].id: 72000}
    cancellation.cancel_booking(world["patient"], booking.id, reason="", gateway=gateway)
    db.session.commit()
    assert settlement.run_payouts(connect, delay_days=0, now=_at(31)) == 2
    reversals = db.session.scalars(db.select(Payout).where(
        Payout.kind == PayoutKind.REVERSAL)).all()
    assert sorted(p.amount_minor for p in reversals) == sorted([568750 - 284375,
                                                                72000 - 36000])
    assert all(p.status == PayoutStatus.PAID and p.reverses_id for p in reversals)
    assert [r[0] for r in ConnectStub.requests if r[0].endswith("/reversals")] == \
        [f"/v1/transfers/{db.session.get(Payout, p.reverses_id).transfer_id}/reversals"
         for p in sorted(reversals, key=lambda p: p.id)]
    assert settlement.paid_out_by_member(booking.id) == {
        world["clinic"].id: 284375, world["hotel"].id: 36000}


def test_an_unconfirmed_booking_is_not_paid_out(world, gateway, connect):
    booking = authorised_booking(world, gateway)
    with pytest.raises(Conflict):
        settlement.pay_out(world["admin"], booking.id, connect)


def test_the_admin_sets_the_payout_delay(world, gateway, rates, connect):
    """The delay is the cluster's setting: at 30 days, a stay over for 10 days is not
    paid yet; at 5, it is."""
    from journey.builder.services import settings

    booking = confirmed_booking(world, gateway)
    _accounts(world)
    balance.pay_balance(world["patient"], booking.id, payment_method="pm_card_visa",
                        gateway=gateway)
    settings.update_settings(world["admin"], payout_delay_days=30)
    db.session.commit()
    assert settlement.payout_delay_days() == 30
    assert settlement.run_payouts(connect, now=_at(30)) == 0  # the room ended on day 20
    settings.update_settings(world["admin"], payout_delay_days=5)
    db.session.commit()
    assert settlement.run_payouts(connect, now=_at(30)) == 2


def test_the_statement_speaks_the_members_own_currency(world, gateway, rates):
    """A member in Norway reads its EUR bookings in NOK too, at today's rate (11.70)."""
    world["clinic"].currency = "NOK"
    db.session.commit()
    confirmed_booking(world, gateway)
    statement = settlement.member_statement(world["clinic_staff"], world["clinic"].id)
    assert statement.currency == "NOK" and list(statement.totals) == ["EUR"]
    assert statement.in_own_currency["net"] == 568750 * 117 // 10  # 5,687.50 EUR in NOK
    assert statement.in_own_currency["due"] == statement.in_own_currency["net"]


def test_a_statement_whose_end_is_before_its_start_is_refused(world, client, make):
    """As the calendar and the search refuse it (422, on ``end``, in the reader's
    language); it answered 200 with an empty statement, as if nothing had been earned."""
    from flask_babel import force_locale

    url = (f"/api/v1/members/{world['clinic'].id}/statement"
           f"?start={soon(10)}&end={soon(5)}&lang=lt")
    refused = client.get(url, headers=make.token(world["clinic_staff"]))
    assert refused.status_code == 422, refused.json
    with force_locale("lt"):
        expected = str(settlement._l("Must not be before the start."))
    assert refused.json["errors"]["query"]["end"] == [expected] != [
        "Must not be before the start."]
    same_day = client.get(url.replace(f"end={soon(5)}", f"end={soon(10)}"),
                          headers=make.token(world["clinic_staff"]))
    assert same_day.status_code == 200, same_day.json
