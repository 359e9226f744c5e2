"""What the rows of a page show, loaded by the view before the template runs: a query
for all the rows at once, never one per row from inside the template.

The loaders below read what a service would read row by row (an offer with its member
and texts, a booking's journey, a package's texts) in one statement, so that the
services' own functions, called afterwards, find everything in the session. The session
holds its rows weakly: a loader keeps what it read referenced until those functions
have run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bookings.models import Booking, BookingLine
from journey.builder.models import Journey, PackageTemplate
from journey.builder.services import templates
from journey.builder.services.booking_link import journeys_of
from journey.core.accounts.auth import current_actor
from journey.core.errors import NotFound
from journey.core.extensions import db
from journey.core.i18n import content_language
from journey.pages.common import page_locale
from journey.pages.portal import stay
from providers.models import DurationUnit, Offer
from providers.services.offers import offer_text


def offers_by_id(ids: Iterable[int], *, with_prices: bool = False) -> dict[int, Offer]:
    """The offers ``ids`` with their members and their texts, in one query (and their
    seasonal prices in a second ``with_prices``). Offers already in the session get
    them too. A booked line's offer is no secret to whoever sees the line: its title
    was in the quote, even if the offer has left the catalogue since."""
    wanted = set(ids)
    if not wanted:
        return {}
    options = [joinedload(Offer.provider), joinedload(Offer.texts)]
    if with_prices:
        options.append(selectinload(Offer.price_rules))
    found = db.session.scalars(select(Offer).where(Offer.id.in_(wanted)).options(*options))
    return {offer.id: offer for offer in found.unique()}


class Served(str):
    """Member content together with the language it was served in (the fallback chain
    may have picked another than the page's), for the ``content`` filter to mark it."""

    language: str | None

    def __new__(cls, text: str, language: str | None):
        served = super().__new__(cls, text)
        served.language = language
        return served


def offer_title(offer: Offer) -> Served:
    """The offer's title in the reader's language (or the nearest one it has)."""
    language, text = offer_text(offer, content_language())
    return Served(text.title, language) if text else Served(f"#{offer.id}", None)


def journeys_by_booking(bookings: Iterable[Booking]) -> dict[int, Journey | None]:
    """The journey each booking books, read in one query
    (:func:`journey.builder.services.booking_link.journeys_of`)."""
    return journeys_of(bookings)


@dataclass(frozen=True)
class LineRow:
    """A booking line as a row: the offer's title, the member and the dates, and (when
    asked for) the journey it belongs to."""

    line: BookingLine
    title: Served
    member: str
    dates: str
    journey: Journey | None = None


def line_rows(lines: Iterable[BookingLine], *, with_journeys: bool = False) -> list[LineRow]:
    """Rows of booking lines: their offers in one query; with ``with_journeys`` their
    bookings in one more and the journeys (with the patients) in a third."""
    lines = list(lines)
    offers = offers_by_id(line.offer_id for line in lines)
    journeys: dict[int, Journey | None] = {}
    if with_journeys:
        booking_ids = {line.booking_id for line in lines}
        bookings = {booking.id: booking for booking in db.session.scalars(
            select(Booking).where(Booking.id.in_(booking_ids)))} if booking_ids else {}
        for line in lines:  # each line holds its booking (the template reads its currency)
            set_committed_value(line, "booking", bookings[line.booking_id])
        journeys = journeys_by_booking(bookings.values())
    rows = []
    for line in lines:
        offer = offers[line.offer_id]
        nightly = offer.duration_unit == DurationUnit.NIGHTS
        rows.append(LineRow(line, offer_title(offer), offer.provider.name,
                            stay(line.start_on, line.end_on, nightly),
                            journeys.get(line.booking_id)))
    return rows


def journey_title(journey: Journey) -> str:
    """"Journey 12: <the package's name>" when it started from a package the reader may
    see, else "Journey 12"."""
    if journey.template_id is not None:
        try:
            found = templates.get_template(current_actor(), journey.template_id)
        except NotFound:
            found = None
        if found is not None:
            _language, text = templates.template_text(found, page_locale())
            if text is not None:
                return _("Journey %(id)s: %(name)s", id=journey.id, name=text.name)
    return _("Journey %(id)s", id=journey.id)


def journey_titles(journeys: Iterable[Journey]) -> dict[int, str]:
    """:func:`journey_title` of each journey, their packages and texts read in one
    query."""
    journeys = list(journeys)
    template_ids = {journey.template_id for journey in journeys
                    if journey.template_id is not None}
    packages = db.session.scalars(select(PackageTemplate).where(
        PackageTemplate.id.in_(template_ids)).options(
        joinedload(PackageTemplate.texts), joinedload(PackageTemplate.provider))).unique().all() \
        if template_ids else []
    titles = {journey.id: journey_title(journey) for journey in journeys}
    del packages  # held until here: the session keeps no loaded row alive by itself
    return titles
