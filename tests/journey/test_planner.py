"""The planner: dates for a whole package from an arrival or a treatment start, around
what is available, or the reasons why there is no plan."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from journey.builder.plan import LinkSpec, PlanContext, PlanItem, day_runs
from journey.builder.planner import plan_dates
from journey.builder.rules import check_plan
from providers.models import ChainLink, DurationUnit

TODAY = date(2031, 1, 1)
ARRIVAL = date(2031, 3, 1)
CTX = PlanContext(today=TODAY, arrival_on=ARRIVAL, departure_on=None, nationality="IN",
                  visa_free=frozenset({"LT"}))
PLACEHOLDER = date(2000, 1, 1)  # the planner chooses every start
NIGHTS = DurationUnit.NIGHTS


def d(month: int, day: int) -> date:
    return date(2031, month, day)


def link(key: str, chain_link: ChainLink, days: int = 1, offset: int | None = None,
         **kw) -> LinkSpec:
    return LinkSpec(key=key, item=PlanItem(key=key, chain_link=chain_link,
                                           start_on=PLACEHOLDER, days=days, **kw),
                    day_offset=offset)


def seven_links(**offsets: int) -> list[LinkSpec]:
    """Knee replacement with sanatorium rehabilitation, for a patient who needs a visa."""
    return [
        link("visa", ChainLink.VISA_SUPPORT, 10, title="Schengen visa letter",
             lead_time_days=5),
        link("transfer", ChainLink.TRANSFER, title="Airport transfer"),
        link("hotel", ChainLink.ACCOMMODATION, 12, title="Hotel Neris", duration_unit=NIGHTS),
        link("consult", ChainLink.CONSULTATION, title="Orthopaedic consultation",
             offset=offsets.get("consult")),
        link("surgery", ChainLink.TREATMENT, 2, title="Knee replacement",
             duration_unit=NIGHTS, requires_consultation=True, recovery_days=5,
             fit_to_fly_days=3, offset=offsets.get("surgery")),
        link("rehab", ChainLink.REHABILITATION, 10, title="Sanatorium rehabilitation",
             min_days_after_treatment=2, offset=offsets.get("rehab")),
        link("excursion", ChainLink.LEISURE, title="Trakai castle excursion",
             offset=offsets.get("excursion")),
    ]


class Calendar:
    """A fake capacity calendar: every item is available except on its closed days."""

    def __init__(self, **closed: set[date] | None):
        self.closed = closed  # key -> closed days; None: never available
        self.asked: list[PlanItem] = []

    def __call__(self, item: PlanItem) -> bool:
        self.asked.append(item)
        key = item.key.partition("#")[0]  # a split stay is still the same offer
        if key not in self.closed:
            return True
        closed = self.closed[key]
        return closed is not None and not any(day in closed for day in item.occupied_days())


def days(first: date, last: date) -> set[date]:
    return {date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)}


def schedule(result) -> list[tuple[str, date, int]]:
    return [(item.key, item.start_on, item.days) for item in result.items]


def starts(result) -> dict[str, date]:
    return {item.key: item.start_on for item in result.items}


def reasons(result) -> list[tuple[str, str | None]]:
    return [(v.code, v.item_key) for v in result.reasons]


def assert_good(ctx: PlanContext, result) -> None:
    assert result.ok, [str(v.message) for v in result.reasons]
    planned = replace(ctx, arrival_on=result.arrival_on, departure_on=result.departure_on)
    assert [v for v in check_plan(planned, result.items) if v.blocking] == []


@pytest.fixture
def render(app):
    def render(message, lang: str = "en") -> str:
        with app.test_request_context(f"/?lang={lang}"):
            return str(message)
    return render


# --- planning from an arrival date ----------------------------------------------------------


def test_seven_links_from_the_arrival_date():
    result = plan_dates(CTX, seven_links(), is_available=Calendar())
    assert_good(CTX, result)
    assert (result.arrival_on, result.departure_on) == (ARRIVAL, d(3, 16))
    assert schedule(result) == [
        ("visa", d(1, 6), 10),  # as soon as its lead time allows
        ("transfer", ARRIVAL, 1),
        ("hotel", ARRIVAL, 2),  # the nights before the inpatient stay ...
        ("hotel#2", d(3, 5), 11),  # ... and after it, up to the departure
        ("consult", d(3, 2), 1),
        ("surgery", d(3, 3), 2),
        ("rehab", d(3, 6), 10),  # two days after the last inpatient day
        ("excursion", d(3, 10), 1),  # after five days of recovery
    ]
    assert check_plan(replace(CTX, departure_on=result.departure_on), result.items) == []


def test_template_offsets_are_tried_first():
    links = seven_links(consult=1, surgery=3, rehab=8, excursion=12)
    result = plan_dates(CTX, links, is_available=Calendar())
    assert_good(CTX, result)
    assert schedule(result)[4:] == [
        ("consult", d(3, 2), 1), ("surgery", d(3, 4), 2), ("rehab", d(3, 9), 10),
        ("excursion", d(3, 13), 1)]
    assert schedule(result)[2:4] == [("hotel", ARRIVAL, 3), ("hotel#2", d(3, 6), 13)]
    assert result.departure_on == d(3, 19)


def test_an_offset_in_the_recovery_time_moves_the_excursion_after_it():
    result = plan_dates(CTX, seven_links(excursion=4), is_available=Calendar())
    assert_good(CTX, result)
    assert ("excursion", d(3, 10), 1) in schedule(result)


def test_a_wished_treatment_start_with_a_fixed_arrival():
    result = plan_dates(CTX, seven_links(), is_available=Calendar(), treatment_start=d(3, 10))
    assert_good(CTX, result)
    planned = starts(result)
    assert (result.arrival_on, planned["consult"], planned["surgery"]) == (
        ARRIVAL, d(3, 2), d(3, 10))
    assert schedule(result)[2:4] == [("hotel", ARRIVAL, 9), ("hotel#2", d(3, 12), 11)]


# --- planning from a treatment start ---------------------------------------------------------


def test_seven_links_from_a_treatment_start():
    ctx = replace(CTX, arrival_on=None)
    result = plan_dates(ctx, seven_links(), is_available=Calendar(), treatment_start=d(3, 10))
    assert_good(ctx, result)
    assert (result.arrival_on, result.departure_on) == (d(3, 8), d(3, 23))
    assert schedule(result) == [
        ("visa", d(1, 6), 10),
        ("transfer", d(3, 8), 1),
        ("hotel", d(3, 8), 2),
        ("hotel#2", d(3, 12), 11),
        ("consult", d(3, 9), 1),  # the day after arrival, the day before surgery
        ("surgery", d(3, 10), 2),
        ("rehab", d(3, 13), 10),
        ("excursion", d(3, 17), 1),
    ]


def test_the_arrival_waits_for_the_visa():
    ctx = replace(CTX, arrival_on=None)
    result = plan_dates(ctx, seven_links(), is_available=Calendar(), treatment_start=d(1, 10))
    assert_good(ctx, result)
    planned = starts(result)
    assert planned["visa"] == d(1, 6)
    assert result.arrival_on == d(1, 16)  # the visa's ten days end on the 15th
    assert (planned["consult"], planned["surgery"]) == (d(1, 17), d(1, 18))


def test_a_full_arrival_day_moves_the_arrival():
    ctx = replace(CTX, arrival_on=None)
    calendar = Calendar(transfer={d(3, 8)})
    result = plan_dates(ctx, seven_links(), is_available=calendar, treatment_start=d(3, 10))
    assert_good(ctx, result)
    planned = starts(result)
    assert result.arrival_on == d(3, 9)
    assert (planned["transfer"], planned["consult"], planned["surgery"]) == (
        d(3, 9), d(3, 10), d(3, 11))


def test_a_later_treatment_day_means_a_later_arrival_not_a_longer_stay():
    ctx = replace(CTX, arrival_on=None)
    calendar = Calendar(surgery=days(d(3, 1), d(3, 13)))
    result = plan_dates(ctx, seven_links(), is_available=calendar, treatment_start=d(3, 10))
    assert_good(ctx, result)
    planned = starts(result)
    assert planned["surgery"] == d(3, 14)
    assert (result.arrival_on, planned["consult"]) == (d(3, 12), d(3, 13))
    assert schedule(result)[2] == ("hotel", d(3, 12), 2)


# --- availability --------------------------------------------------------------------------


def test_unavailability_moves_items_later_and_the_rest_follows():
    calendar = Calendar(consult={d(3, 2)}, surgery=days(d(3, 4), d(3, 6)))
    result = plan_dates(CTX, seven_links(), is_available=calendar)
    assert_good(CTX, result)
    assert (result.arrival_on, result.departure_on) == (ARRIVAL, d(3, 20))
    assert schedule(result) == [
        ("visa", d(1, 6), 10),
        ("transfer", ARRIVAL, 1),
        ("hotel", ARRIVAL, 6),
        ("hotel#2", d(3, 9), 11),
        ("consult", d(3, 3), 1),
        ("surgery", d(3, 7), 2),  # its two nights must both be free
        ("rehab", d(3, 10), 10),
        ("excursion", d(3, 14), 1),
    ]
    assert calendar.asked[0].key == "transfer"  # the arrival day is checked first
    assert all(item.quantity == 1 for item in calendar.asked)


def test_availability_is_asked_once_per_candidate_and_the_plan_is_deterministic():
    calendar = Calendar(surgery=days(d(3, 1), d(3, 20)))
    first = plan_dates(CTX, seven_links(), is_available=calendar)
    again = plan_dates(CTX, seven_links(), is_available=Calendar(
        surgery=days(d(3, 1), d(3, 20))))
    assert first == again
    assert max(Counter(calendar.asked).values()) == 1


def test_the_full_chain_with_departure_transfer_return_flight_insurance_and_aftercare():
    links = seven_links()
    links[1:1] = [link("flight", ChainLink.TRAVEL, title="Flight to Vilnius")]
    links += [
        link("interpreter", ChainLink.TRANSLATION, title="Medical interpreter"),
        link("transfer-out", ChainLink.TRANSFER, title="Airport transfer"),
        link("flight-home", ChainLink.TRAVEL, title="Flight home"),
        link("insurance", ChainLink.INSURANCE, title="Travel medical insurance"),
        link("follow-up", ChainLink.AFTERCARE, title="Video follow-up"),
    ]
    result = plan_dates(CTX, links, is_available=Calendar())
    assert_good(CTX, result)
    assert schedule(result) == [
        ("visa", d(1, 6), 10),
        ("flight", ARRIVAL, 1),
        ("transfer", ARRIVAL, 1),
        ("hotel", ARRIVAL, 2),
        ("hotel#2", d(3, 5), 11),
        ("consult", d(3, 2), 1),
        ("surgery", d(3, 3), 2),
        ("rehab", d(3, 6), 10),
        ("excursion", d(3, 10), 1),
        ("interpreter", d(3, 2), 1),  # with the consultation
        ("transfer-out", d(3, 16), 1),
        ("flight-home", d(3, 16), 1),
        ("insurance", ARRIVAL, 16),  # covers the whole trip
        ("follow-up", d(3, 17), 1),
    ]
    # No departure transfer on the 16th: one more night, and everything after moves.
    late = plan_dates(CTX, links, is_available=Calendar(**{"transfer-out": {d(3, 16)}}))
    assert_good(CTX, late)
    assert late.departure_on == d(3, 17)
    planned = {key: (start, n) for key, start, n in schedule(late)}
    assert planned["hotel#2"] == (d(3, 5), 12)
    assert planned["flight-home"] == planned["transfer-out"] == (d(3, 17), 1)
    assert planned["insurance"] == (ARRIVAL, 17)


def test_a_residential_rehabilitation_needs_no_hotel_around_it():
    links = seven_links()
    links[5] = link("rehab", ChainLink.REHABILITATION, 10, title="Sanatorium stay",
                    duration_unit=NIGHTS, min_days_after_treatment=2)
    result = plan_dates(CTX, links, is_available=Calendar())
    assert_good(CTX, result)
    assert result.departure_on == d(3, 16)
    assert schedule(result)[2:4] == [("hotel", ARRIVAL, 2), ("hotel#2", d(3, 5), 1)]


# --- no plan, and why ----------------------------------------------------------------------


def test_a_treatment_never_available_explains_the_window(render):
    calendar = Calendar(surgery=None)
    result = plan_dates(CTX, seven_links(), is_available=calendar)
    assert not result.ok
    assert (result.items, result.arrival_on, result.departure_on) == ([], None, None)
    assert reasons(result) == [("no_availability", "surgery")]
    message = result.reasons[0].message
    assert render(message) == (
        "Knee replacement is fully booked on every day from Mar 3, 2031 to Jul 1, 2031.")
    assert render(message, "de") == (
        "„Knee replacement“ ist vom 03.03.2031 bis zum 01.07.2031 an jedem Tag ausgebucht.")
    assert sum(item.key == "surgery" for item in calendar.asked) == 121  # bounded


def test_the_horizon_bounds_the_search(render):
    result = plan_dates(CTX, seven_links(), is_available=Calendar(surgery=None),
                        horizon_days=10)
    assert render(result.reasons[0].message) == (
        "Knee replacement is fully booked on every day from Mar 3, 2031 to Mar 13, 2031.")


def test_an_arrival_too_soon_for_the_visa(render):
    result = plan_dates(replace(CTX, arrival_on=d(1, 10)), seven_links(),
                        is_available=Calendar())
    assert reasons(result) == [("visa_too_late", "visa")]
    assert render(result.reasons[0].message) == (
        "Schengen visa letter cannot be ready before Jan 16, 2031, after your arrival on "
        "Jan 10, 2031; please choose a later arrival.")
    assert render(result.reasons[0].message, "de") == (
        "„Schengen visa letter“ kann nicht vor dem 16.01.2031 abgeschlossen sein, also erst "
        "nach Ihrer Ankunft am 10.01.2031; bitte wählen Sie eine spätere Ankunft.")


def test_a_full_arrival_day_is_no_plan_when_the_arrival_is_fixed(render):
    result = plan_dates(CTX, seven_links(), is_available=Calendar(transfer={ARRIVAL}))
    assert reasons(result) == [("no_availability", "transfer")]
    assert render(result.reasons[0].message) == (
        "Airport transfer is not available on Mar 1, 2031.")
    assert render(result.reasons[0].message, "de") == (
        "„Airport transfer“ ist am 01.03.2031 nicht verfügbar.")


def test_a_full_hotel_night_is_no_plan(render):
    result = plan_dates(CTX, seven_links(), is_available=Calendar(hotel={d(3, 9)}))
    assert reasons(result) == [("no_availability", "hotel#2")]
    assert render(result.reasons[0].message) == (
        "Hotel Neris is not available from Mar 5, 2031 to Mar 16, 2031.")
    assert render(result.reasons[0].message, "de") == (
        "„Hotel Neris“ ist vom 05.03.2031 bis zum 16.03.2031 nicht verfügbar.")


def test_no_arrival_and_no_treatment_start(render):
    result = plan_dates(replace(CTX, arrival_on=None), seven_links(), is_available=Calendar())
    assert reasons(result) == [("no_dates", None)]
    assert render(result.reasons[0].message) == (
        "Please choose an arrival date or a wished treatment start.")
    assert render(result.reasons[0].message, "de") == (
        "Bitte wählen Sie ein Ankunftsdatum oder einen gewünschten Behandlungsbeginn.")


def test_a_plan_that_breaks_a_rule_is_no_plan(render):
    without_consult = [spec for spec in seven_links() if spec.key != "consult"]
    result = plan_dates(CTX, without_consult, is_available=Calendar())
    assert reasons(result) == [("consultation_missing", "surgery")]
    nanny = link("nanny", ChainLink.CHILDCARE, title="Babysitting")
    result = plan_dates(CTX, [*seven_links(), nanny], is_available=Calendar())
    assert reasons(result) == [("childcare_without_children", "nanny")]
    assert render(result.reasons[0].message, "de") == (
        "„Babysitting“ ist eine Kinderbetreuung, aber mit Ihnen reisen keine Kinder.")
    family = replace(CTX, children=1)
    with_children = plan_dates(family, [*seven_links(), nanny], is_available=Calendar())
    assert_good(family, with_children)
    assert ("nanny", d(3, 2), 1) in schedule(with_children)


def test_a_second_hotel_with_no_night_left_is_no_plan():
    links = seven_links()
    links[5] = link("rehab", ChainLink.REHABILITATION, 10, duration_unit=NIGHTS,
                    min_days_after_treatment=1)  # the stays now follow each other
    links.insert(3, link("hotel-b", ChainLink.ACCOMMODATION, 3, title="Hotel Vilnia",
                         duration_unit=NIGHTS))
    result = plan_dates(CTX, links, is_available=Calendar())
    assert reasons(result) == [("accommodation_not_needed", "hotel-b")]


def test_days_grouped_into_runs_of_consecutive_days():
    """The rules, the planner and the demo calendar group days with day_runs."""
    d = date(2026, 2, 27)
    days = [date(2026, 3, 2), d, date(2026, 3, 1), date(2026, 2, 28), date(2026, 3, 2),
            date(2026, 3, 5)]
    assert day_runs(days) == [(d, date(2026, 3, 2)), (date(2026, 3, 5), date(2026, 3, 5))]
    assert day_runs([]) == []
