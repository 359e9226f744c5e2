"""The figures dashboard agrees with the bookings and the settlement ledger, on a small
cluster built through the services; a member's staff see only their own member."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from bookings.models import BookingLine, LedgerEntry
from bookings.services import settlement
from journey.builder.services import journeys
from journey.core.errors import Forbidden
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.figures import dashboard as board
from journey.figures import rollup
from journey.figures import services as figures
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon


def _filters(**kw) -> board.Filters:
    return board.Filters(figures.Period.last_days(30, today=utcnow().date()), **kw)


def _ledger(provider_id=None) -> tuple[int, int]:
    rows = db.session.scalars(select(LedgerEntry)).all()
    rows = [r for r in rows if provider_id is None or r.provider_id == provider_id]
    sales = sum(r.amount_minor for r in rows if r.kind in figures.SALES_KINDS)
    commission = -sum(r.amount_minor for r in rows if r.kind == "commission")
    return sales, commission


@pytest.fixture
def booked(world, gateway):
    settlement.set_commission_rate(world["admin"], "treatment", Decimal("10"))
    settlement.set_commission_rate(world["admin"], "accommodation", Decimal("5"))
    db.session.commit()
    booking = confirmed_booking(world, gateway)
    journeys.open_journey(world["patient2"], arrival_on=soon(20), departure_on=soon(22),
                          currency="EUR", nationality="NO")
    db.session.commit()
    return booking


def test_money_per_member_and_link_agrees_with_the_ledger(world, booked):
    money = board.member_money(world["admin"], _filters(), currency="EUR")
    sales, commission = _ledger()
    assert (money.sales_minor, money.commission_minor) == (sales, commission) and sales > 0
    overall = figures.figures(world["admin"], _filters().period, currency="EUR")
    assert (money.sales_minor, money.commission_minor) == (overall.sales_minor,
                                                           overall.commission_minor)
    for member in (world["hotel"], world["clinic"]):
        mine = [r for r in money.by_member() if r.provider_id == member.id]
        assert len(mine) == 1 and mine[0].lines == 1
        assert (mine[0].sales_minor, mine[0].commission_minor) == _ledger(member.id)
    links = {line.chain_link for line in db.session.scalars(select(BookingLine))}
    assert set(money.by_link()) == links
    treatment = board.member_money(world["admin"], _filters(chain_link="treatment"),
                                   currency="EUR")
    assert {r.chain_link for r in treatment.rows} == {"treatment"}


def test_the_member_filter_is_forced_for_members_staff(world, booked):
    hotel = world["hotel"].id
    own = board.member_money(world["hotel_staff"], _filters(), currency="EUR")
    assert {r.provider_id for r in own.rows} == {hotel}
    asked_other = board.member_money(world["hotel_staff"],
                                     _filters(provider_id=world["clinic"].id), currency="EUR")
    assert {r.provider_id for r in asked_other.rows} == {hotel}
    with pytest.raises(Forbidden):
        board.dashboard(world["hotel_staff"], _filters(), currency="EUR", now=utcnow(),
                        response_hours=48, member_id=world["clinic"].id)
    with pytest.raises(Forbidden):
        board.member_money(world["patient"], _filters(), currency="EUR")


def test_countries_funnel_responses_and_rates(world, booked):
    found = board.dashboard(world["coordinator"], _filters(), currency="EUR", now=utcnow(),
                            response_hours=48)
    assert sum(r.journeys for r in found.countries) == 2
    assert {r.nationality for r in found.countries} == {"DE", "NO"}
    steps = {s.step: s for s in found.funnel.steps}
    assert steps["journeys"].journeys == 2
    assert steps["quoted"].journeys == 1 and steps["quoted"].lost == 1
    assert steps["accepted"].journeys == 1 and steps["paid"].journeys == 1
    assert steps["completed"].journeys == 0
    answered = {r.provider_id: r for r in found.responses}
    assert set(answered) == {world["hotel"].id, world["clinic"].id}
    for row in answered.values():
        assert row.answered == 1 and row.within_deadline == 1
        assert row.median_hours is not None and 0 <= row.median_hours <= 48
    assert sum(r.lines for r in found.cancellations) == 2
    assert sum(r.cancelled for r in found.cancellations) == 0
    assert found.refunds.captured_minor > 0 and found.refunds.refunded_minor == 0
    assert found.ratings == []
    elsewhere = board.dashboard(world["coordinator"], _filters(country="SE"), currency="EUR",
                                now=utcnow(), response_hours=48)
    assert elsewhere.money.rows == [] and elsewhere.countries == []


def test_attribution_counts_what_other_members_sold(world, booked):
    from journey.builder.models import Journey

    journey = db.session.scalars(select(Journey).where(Journey.nationality == "DE")).one()
    journey.entry_provider_id = world["hotel"].id  # the hotel was the patient's window
    db.session.commit()
    rollup.rebuild()  # (a journey's window is set when it is opened, before any posting)
    rows, missing = board.attribution(world["admin"], _filters(), currency="EUR")
    assert missing == ()
    assert [(r.entry_id, r.receiver_id, r.lines) for r in rows] == [
        (world["hotel"].id, world["clinic"].id, 1)]
    assert rows[0].sales_minor == _ledger(world["clinic"].id)[0]
    hotel_view, _ = board.attribution(world["hotel_staff"], _filters(), currency="EUR")
    clinic_view, _ = board.attribution(world["clinic_staff"], _filters(), currency="EUR")
    assert hotel_view == clinic_view == rows
    assert replace(_filters(), provider_id=1).provider_id == 1


def test_percentiles_as_postgresql_computes_them():
    """SQLite's percentiles (from the grouped, ordered durations) interpolate between the
    closest ranks, as PostgreSQL's percentile_cont does."""
    assert board._percentile([], .5) is None
    assert board._percentile([4.0], .9) == 4.0
    assert board._percentile([1.0, 2.0, 3.0, 4.0], .5) == 2.5
    assert board._percentile([0.0, 10.0], .9) == 9.0
