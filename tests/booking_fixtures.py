"""Fixtures of the booking engine, a pytest plugin of the root conftest: localstripe on
a free loopback port (the real ``stripe`` client talks to it), and bookings brought to
a given step through the services."""


import hashlib
import hmac
import json
import time

import pytest

from bookings.models import Booking
from bookings.payments import StripeGateway
from bookings.services import balance, confirmation
from journey.builder.services import checkout, journeys, payers, quotes
from journey.core.extensions import db
from providers.services import offers
from tests.journey.builder_world import build_world, soon
from tests.localstripe import reset, running_localstripe

SECRET = "whsec_test_secret"


def signed(payload, secret: str = SECRET, *, raw: bytes | None = None) -> tuple[bytes, dict]:
    """A webhook body (``payload`` as JSON, or ``raw`` bytes) and the headers Stripe
    would send with it, signed with ``secret``."""
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                         hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={timestamp},v1={signature}",
                  "Content-Type": "application/json"}


@pytest.fixture(scope="session")
def localstripe_url():
    with running_localstripe() as url:
        yield url


@pytest.fixture
def stripe_app(app, localstripe_url):
    reset(localstripe_url)
    saved = {k: app.config[k] for k in ("STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET")}
    app.config.update(STRIPE_API_BASE=localstripe_url, STRIPE_WEBHOOK_SECRET=SECRET)
    yield app
    app.config.update(saved)


@pytest.fixture
def gateway(stripe_app):
    return StripeGateway.from_config()


@pytest.fixture
def world(stripe_app, make):
    return build_world(make)


def clinic_manager(world):
    """The clinic's manager (made once per world): the one who decides what it pays."""
    if "clinic_manager" not in world:
        from journey.core.accounts.models import Role
        from journey.core.accounts.services import create_user

        world["clinic_manager"] = create_user(
            world["admin"], email="manager@clinic.test", password="a-long-enough-password",
            full_name="Clinic Manager", role=Role.MEMBER_MANAGER,
            provider_id=world["clinic"].id)
    return world["clinic_manager"]


def knee_package(world, surgery=None):
    """The clinic's published package: the room for 10 nights from day 0, the surgery
    (``surgery``, else the world's) on day 2 and 3 days of rehabilitation from day 5
    that the clinic bears; 10 % off, funded from its own lines."""
    from journey.builder.services import templates

    template = templates.create_template(
        clinic_manager(world), provider_id=world["clinic"].id, discount_percent=10,
        status="published", texts={"en": {"name": "Knee replacement with rehabilitation"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 10},
               {"default_offer_id": (surgery or world["surgery"]).id, "day_offset": 2},
               {"default_offer_id": world["rehab"].id, "day_offset": 5, "days": 3,
                "borne_by_provider_id": world["clinic"].id}])
    db.session.commit()
    return template


def accepted_quote(world, *, patient=None, borne_room=False, room_days=10, template=None):
    """A patient's accepted quote: a room for ``room_days`` nights from day 10 and a
    surgery on day 12 (both members confirm on request); or ``template`` applied."""
    patient = patient or world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(10),
                                    departure_on=soon(10 + room_days), currency="EUR",
                                    nationality="DE")
    if template is not None:
        journeys.apply_template(patient, journey.id, template.id)
    else:
        room = journeys.add_item(patient, journey.id, offer_id=world["room"].id,
                                 start_on=soon(10), days=room_days)
        if borne_room:  # the clinic pays for the room: asked, and its manager agrees
            asked = payers.request_bearing(world["coordinator"], journey.id, room.id,
                                           world["clinic"].id)
            payers.decide_bearing(clinic_manager(world), asked.id, accept=True)
        journeys.add_item(patient, journey.id, offer_id=world["surgery"].id,
                          start_on=soon(12))
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    return quote


def authorised_booking(world, gateway, **kw) -> Booking:
    """A booking whose deposit is authorised; its lines wait for the members."""
    quote = accepted_quote(world, **kw)
    booking = checkout.checkout_quote(kw.get("patient") or world["patient"], quote.id,
                                      gateway=gateway, payment_method="pm_card_visa")
    db.session.commit()
    return booking


def confirmed_booking(world, gateway, **kw) -> Booking:
    """Every member accepted: the deposit is captured and the booking confirmed."""
    booking = authorised_booking(world, gateway, **kw)
    staff = {world["hotel"].id: world["hotel_staff"], world["clinic"].id: world["clinic_staff"]}
    for line in booking.lines:
        confirmation.accept_line(staff[line.provider_id], line.id, gateway=gateway)
    db.session.commit()
    return booking


def paid_booking(world, gateway, tiers: dict) -> Booking:
    """A confirmed booking, deposit and balance paid (730000 in two captures), under
    the cancellation ``tiers`` given per offer key of ``world``."""
    for name, offer_tiers in tiers.items():
        offers.set_cancellation_tiers(world["admin"], world[name].id, offer_tiers)
    booking = confirmed_booking(world, gateway)
    balance.pay_balance(world["patient"], booking.id, payment_method="pm_card_visa",
                        gateway=gateway)
    db.session.commit()
    return booking


def line_of(booking: Booking, offer):
    """The booking's line of ``offer``."""
    return next(line for line in booking.lines if line.offer_id == offer.id)


def room_declined_surgery_accepted(world, booking: Booking, gateway) -> None:
    """The hotel declines the room ("Closed for renovation") and the clinic accepts the
    surgery: the booking waits for the patient to decide."""
    confirmation.decline_line(world["hotel_staff"], line_of(booking, world["room"]).id,
                              "Closed for renovation", gateway=gateway)
    confirmation.accept_line(world["clinic_staff"], line_of(booking, world["surgery"]).id,
                             gateway=gateway)
