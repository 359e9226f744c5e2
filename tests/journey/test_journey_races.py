"""Two people changing one journey at once, each request in its own thread, app context,
session and connection, released together by a barrier: whichever comes second works on
what the first left (or is told clearly to try again), never on what it read before."""

import pytest

from journey.builder.models import (
    Journey,
    JourneyItem,
    JourneyStatus,
    JourneyTransition,
    Quote,
    QuoteLine,
)
from journey.builder.services import journeys, quotes, templates
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.trip.models import Traveller
from tests.http_races import race
from tests.journey.builder_world import build_world, soon

pytestmark = pytest.mark.commits  # threads at once, each with its own connection

ROUNDS = 6


def _post(url, headers, json):
    return lambda client: client.post(url, json=json, headers=headers)


def test_two_coordinators_applying_a_template_at_once_leave_it_once(app, make):
    world = build_world(make)
    template = templates.create_template(
        world["admin"], status="published", texts={"en": {"name": "Knee"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 5},
               {"default_offer_id": world["surgery"].id, "day_offset": 1}])
    second = make.user(Role.COORDINATOR)
    db.session.commit()
    heads = [make.token(world["coordinator"]), make.token(second)]
    template_id = template.id
    for n in range(ROUNDS):
        journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                        departure_on=soon(20), currency="EUR")
        if n % 2:  # applied before: the journey's row has nothing new to write
            journeys.apply_template(world["patient"], journey.id, template_id)
        journeys.add_item(world["patient"], journey.id, offer_id=world["room2"].id,
                          start_on=soon(10), days=3)
        db.session.commit()
        journey_id = journey.id
        url = f"/api/v1/journeys/{journey_id}/apply-template"
        results = race(app, *[_post(url, h, {"template_id": template_id}) for h in heads])
        codes = sorted(code for code, _ in results)
        assert set(codes) <= {200, 503}, results
        assert 200 in codes, results
        db.session.rollback()
        offers = sorted(db.session.scalars(db.select(JourneyItem.offer_id).where(
            JourneyItem.journey_id == journey_id)))
        assert offers == sorted([world["room"].id, world["surgery"].id]), (n, results)


def test_an_item_added_while_the_journey_is_quoted_is_in_the_quote_or_undoes_it(app, make):
    """A journey that says "quoted" has its latest quote priced on all its items: an
    item added at the same moment either waited for the quote (and made the journey a
    draft again) or was there before it was priced."""
    world = build_world(make)
    headers = make.token(world["patient"])
    for n in range(ROUNDS):
        journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                        departure_on=soon(20), currency="EUR")
        journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                          start_on=soon(10), days=10)
        db.session.commit()
        journey_id = journey.id
        base = f"/api/v1/journeys/{journey_id}"
        add = {"offer_id": world["dental"].id, "start_on": soon(12).isoformat()}
        calls = [_post(f"{base}/quotes", headers, None), _post(f"{base}/items", headers, add)]
        results = race(app, *(calls if n % 2 else calls[::-1]))
        assert sorted(code for code, _ in results) == [201, 201], results
        db.session.rollback()
        status = db.session.scalar(db.select(Journey.status).where(Journey.id == journey_id))
        items = set(db.session.scalars(db.select(JourneyItem.id).where(
            JourneyItem.journey_id == journey_id)))
        quoted = set(db.session.scalars(db.select(QuoteLine.journey_item_id).join(Quote).where(
            Quote.journey_id == journey_id, QuoteLine.journey_item_id.is_not(None))))
        assert status == JourneyStatus.DRAFT or quoted == items, (n, status, items, quoted)


def test_two_first_travellers_added_at_once_make_one_patient(app, make):
    world = build_world(make)
    headers = make.token(world["patient"])
    for n in range(ROUNDS):
        journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                        departure_on=soon(20), currency="EUR")
        db.session.commit()
        journey_id = journey.id
        url = f"/api/v1/journeys/{journey_id}/travellers"
        results = race(app, *[_post(url, headers, {"full_name": name})
                              for name in ("Ingrid Solberg", "Ola Solberg")])
        codes = sorted(code for code, _ in results)
        assert set(codes) <= {201, 200, 409, 422, 503}, results
        db.session.rollback()
        rows = db.session.execute(db.select(Traveller.is_patient, Traveller.position).where(
            Traveller.journey_id == journey_id)).all()
        assert [p for p, _ in rows].count(True) == 1, (n, rows, results)
        positions = [pos for _, pos in rows]
        assert len(positions) == len(set(positions)), (n, rows, results)


def _quoted_journey(world):
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), currency="EUR")
    journeys.add_item(world["patient"], journey.id, offer_id=world["room"].id,
                      start_on=soon(10), days=10)
    quote = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    return journey.id, quote.id


def _accepted_moves(journey_id) -> int:
    return db.session.scalar(db.select(db.func.count(JourneyTransition.id)).where(
        JourneyTransition.journey_id == journey_id,
        JourneyTransition.to_status == JourneyStatus.ACCEPTED))


def test_the_same_quote_accepted_twice_at_once_is_accepted_once(app, make):
    world = build_world(make)
    headers = [make.token(world["patient"]), make.token(world["coordinator"])]
    for n in range(ROUNDS):
        journey_id, quote_id = _quoted_journey(world)
        url = f"/api/v1/quotes/{quote_id}/accept"
        results = race(app, *[_post(url, h, None) for h in headers])
        assert sorted(code for code, _ in results) == [200, 200], results
        db.session.rollback()
        assert _accepted_moves(journey_id) == 1, (n, results)


def test_a_quote_accepted_while_an_item_is_added_leaves_no_accepted_journey_without_it(
        app, make):
    """Whichever comes first: the item after the acceptance makes the journey a draft
    again; the acceptance after the item is refused (the journey changed)."""
    world = build_world(make)
    headers = make.token(world["patient"])
    for n in range(ROUNDS):
        journey_id, quote_id = _quoted_journey(world)
        add = {"offer_id": world["dental"].id, "start_on": soon(12).isoformat()}
        calls = [_post(f"/api/v1/quotes/{quote_id}/accept", headers, None),
                 _post(f"/api/v1/journeys/{journey_id}/items", headers, add)]
        results = race(app, *(calls if n % 2 else calls[::-1]))
        codes = sorted(code for code, _ in results)
        assert codes in ([200, 201], [201, 409]), results
        db.session.rollback()
        status = db.session.scalar(db.select(Journey.status).where(Journey.id == journey_id))
        assert status == JourneyStatus.DRAFT, (n, status, results)
