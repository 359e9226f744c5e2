"""No page runs a query per row: what its rows show (an offer's title and member, a
booking line's dates, the journey and patient behind a request, a package's name) is
loaded by the view up front, so one row more costs no query more."""

from __future__ import annotations

import pytest

from journey.builder.services import journeys, templates
from journey.builder.services.booking_link import journey_of
from journey.core.accounts.models import Role
from journey.core.extensions import db
from tests.journey.pages.portal_fixtures import (
    booked,
    login,
    portal_world,
    queries_of,
    soon,
)


@pytest.fixture
def world(make):
    return portal_world(make)


def _consultation(make, world):
    return make.offer(world["clinic"], chain_link="consultation",
                      capacity_unit="consultation_slot", capacity=5, days=30,
                      texts={"en": {"title": "Knee consultation"}})


def _package(world, *offers):
    found = templates.create_template(
        world["coordinator"], texts={"en": {"name": "Knee week"}}, status="published",
        links=[{"default_offer_id": offer.id, "day_offset": 1, "days": 1, "quantity": 1}
               for offer in offers])
    db.session.commit()
    return found


def test_the_members_requests_and_home(app, client, make, world, stripe_app):
    booked(world)
    login(client, world["clinic_staff"])
    clinic = world["clinic"].id
    before = {url: queries_of(app, client, url)
              for url in (f"/portal/{clinic}/requests", f"/portal/{clinic}")}
    booked(world, patient=make.user(Role.PATIENT, full_name="Heike Vogel"))
    make.offer(world["clinic"], texts={"en": {"title": "Hip replacement"}})
    assert {url: queries_of(app, client, url) for url in before} == before


def test_the_coordinators_journey(app, client, make, world, stripe_app):
    short = booked(world)
    long = booked(world, first_day=[_consultation(make, world)])  # one line more
    login(client, world["coordinator"])
    counts = [queries_of(app, client, f"/coordinator/journeys/{journey_of(booking).id}")
              for booking in (short, long)]
    assert counts[0] == counts[1]


def test_the_patients_journeys_and_their_booking(app, client, make, world, stripe_app):
    patient = world["patient"]
    package = _package(world, world["knee"])

    def from_package():
        journey = journeys.open_journey(patient, arrival_on=soon(20), currency="EUR")
        journeys.apply_template(patient, journey.id, package.id, arrival_on=soon(20))
        db.session.commit()

    short, long = booked(world), booked(world, first_day=[_consultation(make, world)])
    from_package()
    login(client, patient)
    listed = queries_of(app, client, "/my/journeys")
    from_package()
    from_package()
    assert queries_of(app, client, "/my/journeys") == listed
    shown = [queries_of(app, client, f"/my/journeys/{journey_of(booking).id}")
             for booking in (short, long)]
    assert shown[0] == shown[1]


def test_a_package_and_a_members_offers(app, client, make, world):
    short = f"/catalogue/packages/{_package(world, world['knee']).id}"
    long = f"/catalogue/packages/{_package(world, world['knee'], world['room']).id}"
    assert queries_of(app, client, short) == queries_of(app, client, long)
    clinic = f"/catalogue/members/{world['clinic'].id}"
    before = queries_of(app, client, clinic)
    make.offer(world["clinic"], texts={"en": {"title": "Hip replacement"}})
    assert queries_of(app, client, clinic) == before
