"""The patient's path (journey.builder.services.progress): the step each journey state
shows, and a package start whose dates are planned so that every default line has room
(the demo's knee package: a five-night surgery on a Monday-to-Saturday calendar)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from bookings.models import BookingStatus
from journey.builder.models import JourneyStatus
from journey.builder.services import composition, journeys, progress, templates
from journey.builder.services.progress import Step
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.core.types import today_in
from providers.services import offers


def _states(status, *, items=1, booking=None, has_problems=False):
    journey = SimpleNamespace(status=status, items=[object()] * items)
    found = progress.journey_steps(journey, booking=booking, has_problems=has_problems)
    current = [state.step for state in found if state.current]
    done = [state.step for state in found if state.done]
    return current, done


@pytest.mark.parametrize(("status", "items", "booking", "problems", "current", "done"), [
    (JourneyStatus.DRAFT, 0, None, False, Step.BUILD, []),
    (JourneyStatus.DRAFT, 3, None, True, Step.DATES, [Step.BUILD]),
    (JourneyStatus.DRAFT, 3, None, False, Step.QUOTE, [Step.BUILD, Step.DATES]),
    (JourneyStatus.QUOTED, 3, None, False, Step.QUOTE, [Step.BUILD, Step.DATES]),
    (JourneyStatus.ACCEPTED, 3, None, False, Step.PAY,
     [Step.BUILD, Step.DATES, Step.QUOTE]),
    (JourneyStatus.ACCEPTED, 3, BookingStatus.PENDING_PAYMENT, False, Step.PAY,
     [Step.BUILD, Step.DATES, Step.QUOTE]),
    (JourneyStatus.BOOKED, 3, BookingStatus.AUTHORISED, False, Step.CONFIRMED,
     [Step.BUILD, Step.DATES, Step.QUOTE, Step.PAY]),
    (JourneyStatus.CONFIRMED, 3, BookingStatus.CONFIRMED, False, Step.CONFIRMED, list(Step)),
    (JourneyStatus.COMPLETED, 3, None, False, Step.CONFIRMED, list(Step)),
])
def test_one_step_is_current_and_the_ones_before_are_done(status, items, booking, problems,
                                                          current, done):
    booked = SimpleNamespace(status=booking) if booking else None
    assert _states(status, items=items, booking=booked, has_problems=problems) == (
        [current], done)


def test_the_last_step_does_not_say_confirmed_while_the_members_confirm():
    def last_title(status):
        journey = SimpleNamespace(status=status, items=[object()])
        return str(progress.journey_steps(journey)[-1].title)
    assert last_title(JourneyStatus.BOOKED) == "Being confirmed"
    assert last_title(JourneyStatus.CONFIRMED) == "Confirmed"


def test_a_cancelled_journey_shows_no_path():
    assert progress.journey_steps(SimpleNamespace(status=JourneyStatus.CANCELLED,
                                                  items=[])) == []


def test_the_five_steps_in_order_with_titles():
    journey = SimpleNamespace(status=JourneyStatus.DRAFT, items=[])
    steps = progress.journey_steps(journey)
    assert [state.step.value for state in steps] == ["build", "dates", "quote", "pay",
                                                     "confirmed"]
    assert all(str(state.title) for state in steps)


# --- a package start with dates that work ------------------------------------------------

MON_SAT = [0, 1, 2, 3, 4, 5]
MON_FRI = [0, 1, 2, 3, 4]


def _next(weekday: int, after: int = 30):
    day = today_in() + timedelta(days=after)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


@pytest.fixture
def knee(make):
    """The demo's knee package in small: the arrival transfer, two hotel nights, the
    surgeon's consultation the day after arrival (Monday to Friday) and a five-night
    surgery the day after that (Monday to Saturday: a stay over a Sunday has no room)."""
    clinic = make.member(name="Neris Orthopaedic", kind="hospital", city="Vilnius")
    hotel = make.member(name="Tilto Namai", kind="hotel", city="Vilnius")
    transfers = make.member(name="Ratai", kind="transfer_operator", city="Vilnius")
    start = today_in()
    transfer = make.offer(transfers, chain_link="transfer", price_unit="person",
                          capacity_unit="seat", duration_unit="days", base_price_minor=3500,
                          capacity=8, days=120, texts={"en": {"title": "Airport transfer"}})
    room = make.offer(hotel, chain_link="accommodation", price_unit="night",
                      capacity_unit="room", duration_unit="nights", duration_value=2,
                      base_price_minor=4500, capacity=5, days=120,
                      texts={"en": {"title": "Double room"}})
    consultation = make.offer(clinic, chain_link="consultation", price_unit="session",
                              capacity_unit="consultation_slot", duration_unit="sessions",
                              base_price_minor=9000, texts={"en": {"title": "Surgeon"}})
    surgery = make.offer(clinic, chain_link="treatment", price_unit="stay",
                         capacity_unit="surgery_slot", duration_unit="nights",
                         duration_value=5, base_price_minor=650000,
                         texts={"en": {"title": "Total knee replacement"}})
    admin = make.admin()
    offers.set_capacity(admin, consultation.id, start=start, end=start + timedelta(days=120),
                        capacity=3, weekdays=MON_FRI)
    offers.set_capacity(admin, surgery.id, start=start, end=start + timedelta(days=120),
                        capacity=3, weekdays=MON_SAT)
    coordinator = make.user(Role.COORDINATOR)
    template = templates.create_template(
        coordinator, status="published", texts={"en": {"name": "New knee in Vilnius"}},
        links=[{"default_offer_id": transfer.id, "day_offset": 0},
               {"default_offer_id": room.id, "day_offset": 0, "days": 2},
               {"default_offer_id": consultation.id, "day_offset": 1},
               {"default_offer_id": surgery.id, "day_offset": 2}])
    db.session.commit()
    return SimpleNamespace(template=template, transfer=transfer, surgery=surgery,
                           patient=make.user(Role.PATIENT), admin=admin)


def _journey(knee, arrival):
    return journeys.open_journey(knee.patient, arrival_on=arrival, currency="EUR",
                                 nationality="NO")


def test_the_package_as_applied_leaves_the_surgery_without_room(knee):
    """What the patient met before: a Wednesday arrival puts the five surgery nights
    over a Sunday."""
    arrival = _next(2)  # a Wednesday
    journey = _journey(knee, arrival)
    journeys.apply_template(knee.patient, journey.id, knee.template.id, arrival_on=arrival)
    codes = [v.code for v in composition.journey_violations(journey) if v.blocking]
    assert "unavailable" in codes


def test_a_package_start_plans_dates_on_which_every_line_has_room(knee):
    arrival = _next(2)
    journey = _journey(knee, arrival)
    started = progress.start_from_package(knee.patient, journey.id, knee.template.id,
                                          arrival_on=arrival)
    assert started.planned and not started.moved
    assert [v for v in composition.journey_violations(journey) if v.blocking] == []
    surgery = next(item for item in journey.items if item.offer_id == knee.surgery.id)
    assert surgery.start_on.weekday() == 0  # Monday to Friday nights, no Sunday
    steps = progress.journey_steps(journey, has_problems=False)
    assert [s.step for s in steps if s.current] == [Step.QUOTE]


def test_the_arrival_moves_forward_when_the_wished_day_has_no_room(knee):
    arrival = _next(0)  # a Monday: no transfer that day
    offers.set_capacity(knee.admin, knee.transfer.id, start=arrival, end=arrival, capacity=0)
    db.session.commit()
    journey = _journey(knee, arrival)
    started = progress.start_from_package(knee.patient, journey.id, knee.template.id,
                                          arrival_on=arrival)
    assert started.moved and started.arrival_on > arrival
    assert journey.arrival_on == started.arrival_on
    assert [v for v in composition.journey_violations(journey) if v.blocking] == []


def test_no_arrival_within_the_search_leaves_the_package_on_the_wish(knee):
    arrival = _next(0)
    offers.set_capacity(knee.admin, knee.transfer.id, start=arrival,
                        end=arrival + timedelta(days=3), capacity=0)
    db.session.commit()
    journey = _journey(knee, arrival)
    started = progress.start_from_package(knee.patient, journey.id, knee.template.id,
                                          arrival_on=arrival, search_days=2)
    assert not started.planned and started.reasons
    assert journey.arrival_on == arrival and len(journey.items) == 4
