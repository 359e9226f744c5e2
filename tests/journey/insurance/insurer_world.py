"""An insurer in the builder world: Baltic Health, its manager and staff, and a
published product (80 % of treatment and consultation, deductible 200.00 EUR, cap
5,000.00 EUR), built through the services."""

from datetime import timedelta

from bookings.services import confirmation
from journey.builder.services import checkout, journeys, quotes
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.core.types import today_in
from journey.insurance.services import guarantees, policies, products
from journey.insurance.services.coverage import guarantee_of
from tests.booking_fixtures import accepted_quote  # noqa: F401  (re-exported)
from tests.journey.builder_world import soon


def add_insurer(world, make, **product):
    insurer = make.member(name="Baltic Health", kind="insurer", city="Vilnius",
                          default_language="en")
    manager = make.user(Role.MEMBER_MANAGER, insurer)
    staff = make.user(Role.MEMBER_STAFF, insurer)
    rival = make.member(name="Other Insurance", kind="insurer", city="Riga")
    rival_staff = make.user(Role.MEMBER_STAFF, rival)
    data = {"name": "Treatment abroad", "chain_links": ["treatment", "consultation"],
            "share_percent": 80, "deductible_minor": 20000, "cap_minor": 500000,
            "currency": "EUR", "valid_from": today_in() - timedelta(days=1),
            "valid_until": today_in() + timedelta(days=365), "status": "published"}
    data.update(product)
    made = products.create_product(manager, insurer.id, **data)
    db.session.commit()
    world.update(insurer=insurer, insurer_manager=manager, insurer_staff=staff,
                 rival=rival, rival_staff=rival_staff, product=made)
    return world


def quoted(world, *, policy=True, accept=True):
    """A room for 10 nights (800.00) and a knee replacement (6,500.00), with the policy:
    the insurer covers (6500 - 200) x 80 % = 5040, capped at 5000.00."""
    patient = world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(20),
                                    currency="EUR", nationality="DE")
    journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(10),
                      days=10)
    journeys.add_item(patient, journey.id, offer_id=world["surgery"].id, start_on=soon(12))
    if policy:
        policies.add_policy(patient, journey.id, product_id=world["product"].id,
                            policy_number="BH-1234", holder_name="Ingrid Solberg")
    quote = quotes.create_quote(patient, journey.id)
    if accept:
        quotes.accept_quote(patient, quote.id)
    db.session.commit()
    return quote


def approve(world, quote):
    guarantee = guarantee_of(quote.id)
    guarantees.decide_guarantee(world["insurer_staff"], guarantee.id, approve=True,
                                amount_minor=quote.covered_minor,
                                valid_until=today_in() + timedelta(days=30))
    db.session.commit()
    return guarantee


def confirm(world, gateway, quote):
    booking = checkout.checkout_quote(world["patient"], quote.id, gateway=gateway,
                                      payment_method="pm_card_visa")
    db.session.commit()
    staff = {world["hotel"].id: world["hotel_staff"], world["clinic"].id: world["clinic_staff"]}
    for line in booking.lines:
        confirmation.accept_line(staff[line.provider_id], line.id, gateway=gateway)
    db.session.commit()
    return booking
