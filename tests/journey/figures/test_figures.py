"""The cluster's figures agree with the bookings and the settlement ledger they count,
on a small cluster built through the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bookings.models import Booking, BookingStatus, LedgerEntry
from bookings.services import settlement
from journey.builder.services import journeys
from journey.core.errors import Forbidden
from journey.core.extensions import db
from journey.core.money import convert_minor
from journey.core.types import utcnow
from journey.figures import charts
from journey.figures import services as figures
from providers.services.rates import get_rate
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon


def _period() -> figures.Period:
    return figures.Period.last_days(30, today=utcnow().date())


def _ledger_sums() -> tuple[int, int]:
    """What the ledger holds: sales (gross, discounts, fees) and the cluster's share."""
    rows = db.session.scalars(select(LedgerEntry)).all()
    sales = sum(r.amount_minor for r in rows if r.kind in ("gross", "discount", "fee"))
    commission = -sum(r.amount_minor for r in rows if r.kind == "commission")
    return sales, commission


def test_a_period_and_the_one_before():
    period = figures.Period.last_days(30, today=soon(0))
    assert (period.days, period.end, period.start) == (30, soon(0), soon(-29))
    before = period.before()
    assert (before.days, before.end, before.start) == (30, soon(-30), soon(-59))
    assert len(period.each_day()) == 30


def test_the_figures_agree_with_the_bookings_and_the_ledger(world, gateway):
    settlement.set_commission_rate(world["admin"], "treatment", Decimal("10"))
    settlement.set_commission_rate(world["admin"], "accommodation", Decimal("5"))
    db.session.commit()
    booking = confirmed_booking(world, gateway)
    journeys.open_journey(world["patient2"], arrival_on=soon(20), departure_on=soon(22),
                          currency="EUR", nationality="NO")  # opened, never booked
    db.session.commit()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    sales, commission = _ledger_sums()
    assert sales > 0 and commission > 0

    found = figures.figures(world["admin"], _period(), currency="EUR")
    assert (found.journeys_opened, found.bookings_confirmed) == (2, 1)
    assert (found.sales_minor, found.commission_minor) == (sales, commission)
    assert found.unconverted == ()

    earlier = figures.figures(world["admin"], _period().before(), currency="EUR")
    assert (earlier.journeys_opened, earlier.bookings_confirmed, earlier.sales_minor) == (0, 0, 0)

    days = figures.per_day(world["admin"], _period(), currency="EUR")
    assert len(days) == 30 and days[-1].day == utcnow().date()
    assert sum(d.bookings_confirmed for d in days) == 1
    assert sum(d.sales_minor for d in days) == sales


def test_revenue_in_the_clusters_currency_at_the_stored_rate(world, gateway):
    confirmed_booking(world, gateway)
    sales, _commission = _ledger_sums()
    rate = get_rate("EUR", "NOK", on=utcnow().date())
    found = figures.figures(world["coordinator"], _period(), currency="NOK")
    assert found.sales_minor == convert_minor(sales, "EUR", "NOK", rate.rate)
    assert found.currency == "NOK" and found.unconverted == ()
    unknown = figures.figures(world["admin"], _period(), currency="SEK")
    assert unknown.unconverted == ("EUR",) and unknown.sales_minor == 0


def test_what_happened_before_the_period_is_not_counted(world, gateway):
    confirmed_booking(world, gateway)
    later = figures.Period.last_days(30, today=utcnow().date() + timedelta(days=40))
    found = figures.figures(world["admin"], later, currency="EUR")
    assert (found.journeys_opened, found.bookings_confirmed, found.sales_minor) == (0, 0, 0)
    assert figures.figures(world["admin"], later.before(),
                           currency="EUR").bookings_confirmed == 1


def test_who_waits_for_an_admin(world, make):
    make.member(name="Amber Clinic", verified=False)
    make.member(name="Riga Scan", verified=False)
    db.session.commit()
    waiting = figures.waiting(world["admin"])
    assert (waiting.members, waiting.total) == (2, 2 + waiting.accreditations)


@pytest.mark.parametrize("who", ["patient", "clinic_staff"])
def test_only_the_cluster_reads_its_figures(world, who):
    with pytest.raises(Forbidden):
        figures.overview(world[who], _period(), currency="EUR")


def test_the_chart_is_an_accessible_left_to_right_svg():
    bars = [charts.Bar(v, label=str(i) if i % 7 == 0 else "", title=f"day {i}: {v}")
            for i, v in enumerate([0, 3, 7, 2])]
    svg = str(charts.bar_chart(bars, label="Sales <per day>", top_label="€10"))
    assert svg.startswith('<svg class="chart" dir="ltr" role="img"')
    assert 'aria-label="Sales &lt;per day&gt;"' in svg
    assert svg.count("<rect") == 4 and "€10" in svg and "<title>day 2: 7</title>" in svg
    assert [charts.axis_top(v) for v in (0, 3, 7, 11, 999)] == [1, 5, 10, 20, 1000]


def test_bar_names_and_values_stay_inside_the_chart_at_the_phone_font():
    """At the largest font the page gives the ticks (a phone), a long member name and a
    long amount still fit in the drawing: names cut before the axis, values before the
    right edge (estimated at charts.TICK_CHAR_WIDTH units a character)."""
    import re

    rows = [charts.Row(1878150, "Neris Orthopaedic Hospital and Rehabilitation",
                       "18,781,500.00 €"), charts.Row(15800, "Neringos Keliai Tours",
                                                      "158.00 €")]
    svg = str(charts.hbar_chart(rows, label="Sales"))
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    axis = float(re.search(r'<line class="axis" x1="([\d.]+)"', svg).group(1))
    texts = re.findall(r'<text class="tick[^"]*" x="([\d.]+)" y="[\d.]+" '
                       r'text-anchor="(\w+)">([^<]*)</text>', svg)
    assert len(texts) == 4
    for x, anchor, text in texts:
        span = len(text) * charts.TICK_CHAR_WIDTH
        if anchor == "end":  # a name, right-aligned against the axis
            assert float(x) - span >= 0 and float(x) <= axis, text
        else:  # a value after its bar
            assert float(x) + span <= width, text
