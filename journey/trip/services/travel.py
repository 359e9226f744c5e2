"""How the travellers arrive and leave: the flight or train, the place and the local
time; changing them moves the tasks that depend on them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey.builder.services.journeys import trip_days
from journey.core.errors import Conflict, InvalidInput
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.core.validation import latest_date
from journey.trip.models import LegDirection, TravelLeg, TravelMode
from journey.trip.services.tasks import sync_tasks
from journey.trip.services.travellers import composed_journey
from providers.services.common import check_timezone


def legs_of(journey_id: int) -> dict[LegDirection, TravelLeg]:
    return {leg.direction: leg for leg in db.session.scalars(
        select(TravelLeg).where(TravelLeg.journey_id == journey_id))}


#: How far before the trip's first day, or after its last, a flight or train may be.
LEG_SLACK = timedelta(days=7)


def trip_window(journey) -> tuple[date, date] | None:
    """The trip's first and last day (:func:`~journey.builder.services.journeys.trip_days`;
    None when it has neither)."""
    first, last = trip_days(journey)
    if first is None or last is None:
        return None
    return first, max(first, last)


def set_leg(actor, journey_id: int, direction: LegDirection, *, mode: TravelMode,
            place: str, local_time: datetime, timezone: str, number: str = "",
            carrier: str = "") -> TravelLeg:
    """Enter or change how the travellers arrive or leave. ``local_time`` is the time on
    the clock of ``place`` (naive), stored in UTC; the tasks that depend on it move."""
    journey = composed_journey(actor, journey_id, lock=True)
    direction, mode = LegDirection(direction), TravelMode(mode)
    zone = ZoneInfo(check_timezone(timezone))
    at = local_time.replace(tzinfo=zone) if local_time.tzinfo is None else local_time
    day = at.astimezone(zone).date()
    if not (date(2000, 1, 1) <= day <= latest_date()):
        raise InvalidInput(fields={"local_time": [_l("Not a date that can be planned.")]})
    window = trip_window(journey)
    if window is not None and not window[0] - LEG_SLACK <= day <= window[1] + LEG_SLACK:
        # a conflict with the trip as it stands (its dates may move), not bad input
        raise Conflict(_l("Travel within a week of the trip (%(first)s to %(last)s).",
                          first=window[0].isoformat(), last=window[1].isoformat()),
                       fields={"local_time": [_l("Not near the trip's days.")]})
    if not (place or "").strip():
        raise InvalidInput(fields={"place": [_l("The airport or station.")]})
    leg = legs_of(journey.id).get(direction)
    if leg is None:
        leg = TravelLeg(journey_id=journey.id, direction=direction)
        db.session.add(leg)
    leg.mode, leg.place, leg.timezone = mode, place.strip()[:200], zone.key
    leg.at = at.astimezone(ZoneInfo("UTC"))
    leg.number, leg.carrier = (number or "").strip()[:20], (carrier or "").strip()[:100]
    legs = legs_of(journey.id)
    arrival, departure = legs.get(LegDirection.ARRIVAL), legs.get(LegDirection.DEPARTURE)
    if arrival is not None and departure is not None and departure.at <= arrival.at:
        raise InvalidInput(fields={"local_time": [_l("The departure comes after the arrival.")]})
    db.session.flush()
    sync_tasks(journey, now=utcnow())
    return leg
