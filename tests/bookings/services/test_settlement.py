"""The settlement ledger (gross, commission per chain link, borne lines, fees kept),
the member's statement, and payouts as Stripe Connect transfers — against a local
HTTP stub that answers as Stripe documents, since localstripe has no Connect."""

from decimal import Decimal

import pytest

from bookings.models import LedgerEntry, Payout, PayoutStatus
from bookings.payments import ConnectGateway
from bookings.services import cancellation, settlement
from journey.core.errors import Conflict, Forbidden
from journey.core.extensions import db
from tests.booking_fixtures import authorised_booking, confirmed_booking
from tests.connect_stub import ConnectStub, running_connect_stub


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


def test_payouts_transfer_each_members_net_once_per_booking(world, gateway, rates, connect):
    booking = confirmed_booking(world, gateway)
    with pytest.raises(Forbidden):
        settlement.pay_out(world["coordinator"], booking.id, connect)
    settlement.set_payout_account(world["admin"], world["clinic"].id, "acct_clinic01")
    db.session.commit()
    ConnectStub.fail_next = 1
    first = settlement.pay_out(world["admin"], booking.id, connect)
    db.session.commit()
    assert [p.status for p in first] == [PayoutStatus.FAILED]  # the hotel has no account
    assert "not ready" in first[0].error
    settlement.set_payout_account(world["admin"], world["hotel"].id, "acct_hotel001")
    db.session.commit()
    paid = settlement.pay_out(world["admin"], booking.id, connect)
    db.session.commit()
    assert sorted((p.provider_id, p.amount_minor, p.status) for p in paid) == sorted([
        (world["clinic"].id, 568750, PayoutStatus.PAID),
        (world["hotel"].id, 72000, PayoutStatus.PAID)])
    settlement.pay_out(world["admin"], booking.id, connect)  # again: nothing more
    db.session.commit()
    transfers = [r for r in ConnectStub.requests if r[0] == "/v1/transfers"]
    assert len(transfers) == 3  # the failed try, its retry, the hotel's
    assert {r[1]["transfer_group"] for r in transfers} == {f"booking-{booking.id}"}
    assert {r[2] for r in transfers} == {f"payout-{p.id}" for p in paid}
    assert len(ConnectStub.by_key) == 2
    statement = settlement.member_statement(world["clinic_staff"], world["clinic"].id)
    assert statement.totals["EUR"]["paid_out"] == 568750
    assert statement.totals["EUR"]["due"] == 0
    assert db.session.scalar(db.select(db.func.count(Payout.id))) == 2


def test_an_unconfirmed_booking_is_not_paid_out(world, gateway, connect):
    booking = authorised_booking(world, gateway)
    with pytest.raises(Conflict):
        settlement.pay_out(world["admin"], booking.id, connect)
