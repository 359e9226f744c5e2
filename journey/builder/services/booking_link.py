"""The journey follows its booking: booked when the card is authorised, confirmed
when every member has confirmed and the deposit is captured, editable again when the
booking ends before that, cancelled when a confirmed booking is cancelled. And a line
a member declined or cancelled comes back with alternatives from the builder."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.util import identity_key

from bookings.models import Booking, BookingLine, BookingStatus
from bookings.services.saga import BEFORE_CAPTURE
from journey.builder.models import Journey, JourneyStatus, Quote
from journey.builder.services.checkout import journey_bookings
from journey.builder.services.composition import suggest_alternatives
from journey.builder.services.journeys import TRANSITIONS, get_journey, transition
from journey.core.errors import NotFound
from journey.core.extensions import db
from journey.core.reasons import why


def journey_of(booking: Booking) -> Journey | None:
    """The journey whose quote ``booking`` books: from the session when its quote is
    there with its journey (:func:`journeys_of`), else read with one statement."""
    quote_id = booking.reference.removeprefix("quote:")
    if not booking.reference.startswith("quote:") or not quote_id.isdigit():
        return None
    quote = db.session.identity_map.get(identity_key(Quote, int(quote_id)))
    if quote is not None:
        journey = inspect(quote).dict.get("journey")  # absent once expired
        if journey is not None and not inspect(journey).expired:
            return journey
    # the quote (loaded again when a commit expired it) with its journey
    quote = db.session.scalar(_quote_with_journey(), {"quote_id": int(quote_id)})
    return quote.journey if quote is not None else None


@cache
def _quote_with_journey():
    return (select(Quote).options(joinedload(Quote.journey))
            .where(Quote.id == bindparam("quote_id")))


def journeys_of(bookings) -> dict[int, Journey | None]:
    """:func:`journey_of` for many bookings: the quotes they name are read in one query
    (with their journeys and patients), then found in the session."""
    bookings = list(bookings)
    quote_ids = {int(number) for booking in bookings
                 if booking.reference.startswith("quote:")
                 and (number := booking.reference.removeprefix("quote:")).isdigit()}
    loaded = db.session.scalars(select(Quote).where(Quote.id.in_(quote_ids)).options(
        joinedload(Quote.journey).joinedload(Journey.patient))).all() if quote_ids else []
    found = {booking.id: journey_of(booking) for booking in bookings}
    del loaded  # held until here: the session keeps no loaded row alive by itself
    return found


def target_status(old: BookingStatus | None, new: BookingStatus) -> JourneyStatus | None:
    if new in (BookingStatus.AUTHORISED, BookingStatus.ACTION_REQUIRED):
        return JourneyStatus.BOOKED
    if new == BookingStatus.CONFIRMED:
        return JourneyStatus.CONFIRMED
    if new == BookingStatus.CANCELLED:
        return JourneyStatus.DRAFT if old in BEFORE_CAPTURE else JourneyStatus.CANCELLED
    return None  # expired or failed: the accepted journey may be paid again


def follow_booking(booking: Booking, *, old, new, actor: str, now) -> None:
    journey = journey_of(booking)
    target = target_status(old, new)
    if journey is None or target is None or journey.status == target:
        return
    if target not in TRANSITIONS[journey.status]:
        return
    transition(journey, target, reason=why("booking_followed", booking=booking.id), now=now)


@dataclass
class JourneyBooking:
    booking: Booking
    alternatives: dict[int, list]  # booking line id -> [(offer, converted price)]


def journey_booking(actor, journey_id: int) -> JourneyBooking:
    """The journey's newest booking, with alternatives for each line its member
    declined or cancelled (offers of the same link, free on those dates); 404 before
    any checkout."""
    journey = get_journey(actor, journey_id)
    found = journey_bookings(actor, journey_id)
    if not found:
        raise NotFound(_l("This journey has not been booked yet."))
    booking = found[0][1]
    alternatives = {}
    for line in booking.lines:
        if line.withdrawn_by_member:
            item = _item_for(journey, line)
            if item is not None:
                alternatives[line.id] = suggest_alternatives(actor, journey.id, item.id)
    return JourneyBooking(booking, alternatives)


def _item_for(journey: Journey, line: BookingLine):
    return next((item for item in journey.items if item.offer_id == line.offer_id
                 and item.start_on == line.start_on), None)
