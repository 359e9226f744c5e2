"""A small cluster for the portal, board and admin page tests, and a cookie login."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event, func, select

from bookings.models import Booking, BookingLine
from bookings.payments import StripeGateway
from journey.builder.models import Journey
from journey.builder.services import checkout, journeys, quotes
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.core.types import today_in
from providers.models import Offer


def login(client, user) -> None:
    """Log ``user`` in as the login page would (a Flask-Login session cookie)."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def soon(days: int) -> date:
    return today_in() + timedelta(days=days)


def portal_world(make) -> dict:
    clinic = make.member(name="Neris Clinic", kind="clinic", languages=["lt", "en", "de"])
    hotel = make.member(name="Hotel Tilto", kind="hotel")
    knee = make.offer(clinic, chain_link="treatment", base_price_minor=650000, capacity=2,
                      days=30, texts={"en": {"title": "Knee replacement"},
                                      "de": {"title": "Knieprothese"}})
    room = make.offer(hotel, chain_link="accommodation", price_unit="night",
                      capacity_unit="room", duration_unit="nights", base_price_minor=8000,
                      capacity=5, days=30, texts={"en": {"title": "Double room"}})
    return {
        "admin": make.admin(), "clinic": clinic, "hotel": hotel, "knee": knee, "room": room,
        "clinic_staff": make.user(Role.MEMBER_STAFF, clinic, full_name="Rasa Staff"),
        "clinic_manager": make.user(Role.MEMBER_MANAGER, clinic, full_name="Tomas Manager"),
        "hotel_staff": make.user(Role.MEMBER_STAFF, hotel, full_name="Hotel Staff"),
        "coordinator": make.user(Role.COORDINATOR, full_name="Cora Coordinator"),
        "patient": make.user(Role.PATIENT, full_name="Ingrid Solberg"),
    }


def count(model) -> int:
    """How many rows ``model`` has now (after requests in other sessions)."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def fresh(model, ident):
    """Re-read a row as the database has it now (after requests in other sessions)."""
    db.session.expire_all()
    return db.session.get(model, ident)


def offer_row(offer_id: int) -> Offer:
    return fresh(Offer, offer_id)


def journey_row(journey_id: int) -> Journey:
    return fresh(Journey, journey_id)


def open_journey(world, *, by="coordinator", **data) -> Journey:
    if "patient_id" not in data:  # (a member's staff name the patient by the address)
        data.setdefault("patient_email", world["patient"].email)
    journey = journeys.open_journey(world[by], **data)
    db.session.commit()
    return journey


# --- bookings: a booking whose lines wait for the members ---------------------------------

def booked(world, *, patient=None, with_room=True, first_day=()) -> Booking:
    """The patient's journey (the knee, and a room unless told otherwise, and the
    offers ``first_day`` on the day of arrival) quoted, accepted and paid by card: its
    lines wait for the members' answers."""
    patient = patient or world["patient"]
    journey = journeys.open_journey(patient, arrival_on=soon(5), departure_on=soon(9),
                                    currency="EUR", nationality="DE")
    journeys.add_item(patient, journey.id, offer_id=world["knee"].id, start_on=soon(6))
    if with_room:
        journeys.add_item(patient, journey.id, offer_id=world["room"].id, start_on=soon(5),
                          days=4)
    for offer in first_day:
        journeys.add_item(patient, journey.id, offer_id=offer.id, start_on=soon(5))
    quote = quotes.create_quote(patient, journey.id)
    quotes.accept_quote(patient, quote.id)
    db.session.commit()
    booking = checkout.checkout_quote(patient, quote.id, gateway=StripeGateway.from_config(),
                                      payment_method="pm_card_visa")
    db.session.commit()
    return booking


def line_of(booking: Booking, offer) -> BookingLine:
    return next(line for line in booking.lines if line.offer_id == offer.id)


# --- what a page reads -----------------------------------------------------------------------

def queries_of(app, client, url: str) -> int:
    """How many SQL statements one GET of ``url`` runs (after a first GET has warmed
    what is read once per process)."""
    assert client.get(url).status_code == 200
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


# --- bad input: never a 500 ------------------------------------------------------------------

GARBAGE = ["", " ", "\x00", "a\x00b", "9" * 40, "NaN", "-Infinity", "-1", "1e999",
           "9999-12-31", "0001-01-01", "2026-02-30", "ä😀\u202e", "<script>", "x" * 5000]


def field_names(form_class, prefix: str = "") -> list[str]:
    """The names a form's fields post under (with their prefix)."""
    form = form_class(formdata=None, meta={"csrf": False}, prefix=prefix)
    return [field.name for field in form]


def hammer(client, url: str, names: list[str]) -> list[tuple[str, int]]:
    """POST every garbage value into every field (and into all at once); return what
    answered with a server error."""
    broken = []
    for value in GARBAGE:
        for data in [dict.fromkeys(names, value),
                     *({name: value} for name in names)]:
            status = client.post(url, data=data).status_code
            if status >= 500:
                broken.append((f"{data!r}"[:120], status))
    return broken
