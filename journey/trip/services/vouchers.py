"""Vouchers: one per confirmed booking line, with its own number, for the traveller to
show the member that delivers it. The patient (and those who compose the journey and
the cluster) get every voucher; a member's staff only those of their member's lines."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from bookings.models import BookingLine, LineStatus
from journey.builder.models import Journey
from journey.builder.services.journeys import JourneyAccess, access_of, visible_journey
from journey.core.errors import NotFound
from journey.core.extensions import db
from journey.trip.services.tasks import journey_lines
from journey.trip.services.travellers import TravellerView, list_travellers
from providers.models import Offer, Provider


@dataclass
class Voucher:
    number: str
    line: BookingLine
    offer: Offer
    provider: Provider
    journey: Journey
    travellers: list[TravellerView]


def voucher_number(line: BookingLine) -> str:
    """``OW-<booking>-<line>-<check digit>``: short, unique, and a typo is caught."""
    digits = f"{line.booking_id}{line.id}"
    check = sum((i % 3 + 1) * int(d) for i, d in enumerate(reversed(digits))) % 10
    return f"OW-{line.booking_id}-{line.id}-{check}"


def vouchers(actor, journey_id: int) -> list[Voucher]:
    """The vouchers of the journey's confirmed lines that ``actor`` may hold."""
    journey = visible_journey(actor, journey_id)
    own_only = access_of(actor, journey) in (JourneyAccess.SUPPLIER, JourneyAccess.TREATING)
    travellers = list_travellers(actor, journey.id)
    found = []
    for line in journey_lines(journey):
        if line.status != LineStatus.CONFIRMED:
            continue
        if own_only and line.provider_id != actor.provider_id:
            continue
        found.append(Voucher(voucher_number(line), line, db.session.get(Offer, line.offer_id),
                             db.session.get(Provider, line.provider_id), journey, travellers))
    return found


def voucher(actor, journey_id: int, line_id: int) -> Voucher:
    found = next((v for v in vouchers(actor, journey_id) if v.line.id == line_id), None)
    if found is None:
        raise NotFound(_l("No voucher for this line: it is not confirmed, or not yours."))
    return found
