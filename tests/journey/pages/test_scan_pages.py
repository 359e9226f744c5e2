"""Portal, coordinator and admin pages people can scan: the capacity calendar coloured
by occupancy with today marked, the coordinator's month of arrivals, the admin's
figures, and the compact members list with the actions on each member's page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from journey.builder.models import JourneyStatus
from journey.builder.services import board, journeys
from journey.core.errors import Forbidden
from journey.core.extensions import db
from journey.core.types import today_in
from journey.pages.member import calendar_cells
from providers.models import MemberStatus, Provider
from providers.services import members, offers
from tests.journey.pages.portal_fixtures import (
    booked,
    fresh,
    login,
    open_journey,
    portal_world,
    queries_of,
    soon,
)


@pytest.fixture
def world(make):
    return portal_world(make)


def book(world, journey):
    """Walk a journey to *booked* through the state machine (as checkout would)."""
    for state in (JourneyStatus.QUOTED, JourneyStatus.ACCEPTED, JourneyStatus.BOOKED):
        journeys.transition(journey, state, actor=world["coordinator"], reason="paid")
    db.session.commit()
    return journey


# --- the capacity calendar's cells -----------------------------------------------------------

@pytest.mark.parametrize(("capacity", "available", "expected"), [
    (0, 0, "closed"), (3, 0, "full"), (3, -1, "full"), (3, 1, "some"), (3, 3, "free")])
def test_occupancy_of_a_day(capacity, available, expected):
    assert calendar_cells.occupancy(capacity, available) == expected


@pytest.mark.parametrize(("locale", "first"), [("lt", 0), ("de", 0), ("en", 6), ("ar", 5),
                                               ("en_GB", 0)])
def test_the_week_starts_where_the_language_is_at_home(locale, first):
    assert calendar_cells.first_weekday(locale) == first


def test_a_month_in_weeks_from_the_locales_first_day():
    days = [{"day": date(2026, 3, 1) + timedelta(days=n), "capacity": 2, "available": 2,
             "used": 0} for n in range(31)]  # 1 March 2026 is a Sunday
    cells = calendar_cells.cells(days, today=date(2026, 3, 4))
    sunday_first = calendar_cells.month_grid(cells, locale="en")
    assert sunday_first.weeks[0][0].day == date(2026, 3, 1)
    assert sunday_first.weekdays[0] == ("Su", "Sunday")
    monday_first = calendar_cells.month_grid(cells, locale="lt")
    assert monday_first.weeks[0][:6] == [None] * 6
    assert monday_first.weeks[0][6].day == date(2026, 3, 1)
    assert all(len(week) == 7 for week in monday_first.weeks)
    assert [c.day for week in monday_first.weeks for c in week if c and c.today] == [
        date(2026, 3, 4)]


def test_the_capacity_calendar_is_coloured_and_marks_today(client, world, stripe_app):
    knee = world["knee"]
    booked(world)  # one of the knee's two slots on day 6
    offers.set_capacity(world["admin"], knee.id, start=soon(7), end=soon(7), capacity=0)
    db.session.commit()
    login(client, world["clinic_staff"])
    month = soon(6).strftime("%Y-%m")
    page = client.get(f"/portal/offers/{knee.id}/calendar?lang=en&month={month}").get_data(
        as_text=True)
    cell = re.compile(r'<td class="occ-(\w+)( today)?( past)?"( aria-current="date")?>\s*'
                      r'<span class="n">(\d+)</span>')
    found = {int(n): (kind, bool(today), bool(current))
             for kind, today, _past, current, n in cell.findall(page)}
    assert found[soon(6).day][0] == "some"
    assert found[soon(7).day][0] == "closed"
    for key in ("Free", "Partly booked", "Full", "Closed", "Today"):
        assert f"</span>{key}</li>" in page  # the legend says it in words
    if today_in().month == soon(6).month:
        assert found[today_in().day][1:] == (True, True)
        assert page.count('aria-current="date"') == 1


# --- the coordinator's month of arrivals -----------------------------------------------------

def test_the_month_of_arrivals_and_departures(client, world):
    month = (today_in() + timedelta(days=40)).replace(day=1)
    inside = book(world, open_journey(world, arrival_on=month + timedelta(days=2),
                                      departure_on=month + timedelta(days=9)))
    leaving = book(world, open_journey(world, arrival_on=month - timedelta(days=3),
                                       departure_on=month + timedelta(days=1)))
    book(world, open_journey(world, arrival_on=month + timedelta(days=40),
                             departure_on=month + timedelta(days=45)))  # the next month
    open_journey(world, arrival_on=month + timedelta(days=3),
                 departure_on=month + timedelta(days=4))  # a draft: not travelling
    found = board.arrivals_in_month(world["coordinator"], month + timedelta(days=11))
    assert [(m.day, m.kind, m.journey.id) for m in found] == [
        (month + timedelta(days=1), "departure", leaving.id),
        (month + timedelta(days=2), "arrival", inside.id),
        (month + timedelta(days=9), "departure", inside.id)]
    with pytest.raises(Forbidden):
        board.arrivals_in_month(world["patient"], month)

    login(client, world["coordinator"])
    page = client.get(f"/coordinator/arrivals?lang=en&month={month:%Y-%m}").get_data(
        as_text=True)
    grid = page[page.index('class="month arrivals-grid"'):page.index("arrivals-list")]
    assert grid.count(f'href="/coordinator/journeys/{inside.id}"') == 2
    assert "Ingrid Solberg" in grid
    assert f'month={(month - timedelta(days=1)):%Y-%m}" rel="prev"' in page
    assert 'rel="next"' in page
    this_month = client.get("/coordinator/arrivals?month=nonsense").get_data(as_text=True)
    assert this_month.count('aria-current="date"') >= 1  # the grid's today (and the list's)
    assert client.get("/coordinator/arrivals?month=2026-13").status_code == 200


def test_the_month_reads_the_same_queries_however_many_travel(app, client, world):
    month = (today_in() + timedelta(days=40)).replace(day=1)
    login(client, world["coordinator"])
    url = f"/coordinator/arrivals?month={month:%Y-%m}"
    book(world, open_journey(world, arrival_on=month + timedelta(days=2),
                             departure_on=month + timedelta(days=5)))
    few = queries_of(app, client, url)
    for n in range(4):
        journey = open_journey(world, arrival_on=None, departure_on=None)
        journeys.add_item(world["coordinator"], journey.id, offer_id=world["room"].id,
                          start_on=today_in() + timedelta(days=3 + n), days=2)
        db.session.commit()
        book(world, open_journey(world, arrival_on=month + timedelta(days=n + 3),
                                 departure_on=month + timedelta(days=n + 8)))
    assert queries_of(app, client, url) == few


def test_only_cluster_staff_see_the_arrivals(client, world):
    login(client, world["clinic_staff"])
    assert client.get("/coordinator/arrivals").status_code == 403


# --- the admin's overview --------------------------------------------------------------------

def test_the_admin_overview_shows_the_figures(client, world, make):
    make.member(name="Amber Clinic", verified=False)
    open_journey(world)
    login(client, world["admin"])
    page = client.get("/admin/?lang=en").get_data(as_text=True)
    assert re.search(r'figure-journeys">.*?figure-value">1<', page, re.S)
    assert re.search(r'figure-bookings">.*?figure-value">0<', page, re.S)
    assert "1 member to admit" in page and "The 30 days before: 0" in page
    assert '<svg class="chart" dir="ltr" role="img" aria-label="Sales per day, in EUR"' in page
    assert "<figure" in page and "<figcaption>" in page
    assert page.count("<rect") == 30
    assert page.count('<th scope="row" class="nowrap">') == 30
    arabic = client.get("/admin/?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in arabic and '<svg class="chart" dir="ltr"' in arabic


# --- members: a compact list, the actions on the member's page ---------------------------

def test_the_members_list_is_compact_and_has_no_actions(client, world, make):
    pending = make.member(name="Amber Clinic", verified=False)
    login(client, world["admin"])
    page = client.get("/admin/members?lang=en").get_data(as_text=True)
    main = page.split("<main", 1)[1].split("</main>")[0]
    assert "<textarea" not in main and "<button" not in main and "<form" not in main
    assert ">Suspend<" not in page and 'value="suspended"' not in page
    assert f'href="/admin/members/{pending.id}"' in page
    assert f'href="/admin/members/{world["clinic"].id}"' in page


def test_the_member_page_has_the_actions(client, world, make):
    pending = make.member(name="Amber Clinic", verified=False)
    login(client, world["admin"])
    page = client.get(f"/admin/members/{pending.id}?lang=en").get_data(as_text=True)
    assert '>Verify</button>' in page
    assert re.search(r'<button type="submit" class="danger" name="m\d+-status" '
                     r'value="suspended" data-confirm="Suspend Amber Clinic\?', page)
    verified = client.get(f"/admin/members/{world['clinic'].id}?lang=en").get_data(
        as_text=True)
    assert ">Verify</button>" not in verified and 'value="suspended"' in verified
    response = client.post(f"/admin/members/{world['clinic'].id}/status", data={
        f"m{world['clinic'].id}-status": "suspended",
        f"m{world['clinic'].id}-reason": "Licence expired"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/members/{world['clinic'].id}")
    assert fresh(Provider, world["clinic"].id).status == MemberStatus.SUSPENDED
    suspended = client.get(f"/admin/members/{world['clinic'].id}?lang=en").get_data(
        as_text=True)
    assert ">Reinstate</button>" in suspended and "Licence expired" in suspended
    assert "Lithuania" in suspended  # the moment of the change names its zone
    assert client.get("/admin/members/999999").status_code == 404


def test_only_an_admin_opens_a_member_page(client, world):
    login(client, world["coordinator"])
    assert client.get(f"/admin/members/{world['clinic'].id}").status_code == 403
    assert members.get_member(world["admin"], world["clinic"].id).id == world["clinic"].id
