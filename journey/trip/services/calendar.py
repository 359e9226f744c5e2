"""A journey's calendar (RFC 5545), to download or to subscribe to.

- **Items** are all-day events: from the first day to the day after the last one, so a
  stay of nights ends on its check-out day and a day offer after its last day (DTEND is
  exclusive for dates).
- **Tasks and the travel legs** are timed events on the clock of the place where they
  happen (``TZID=Europe/Vilnius``), with their VTIMEZONE in the calendar, so every
  client shows them at the right hour, whatever zone it is in.
- **Who sees what**: the patient and those who compose the journey see all of it; a
  member that supplies or treats a line sees its own lines and its tasks
  (:func:`journey.trip.services.tasks.journey_tasks`).
- **Subscription**: a private address with a random token, stored hashed (as account
  links are); issuing a new one revokes the older ones, and revoking makes the address
  404. The feed is the patient's full view, in the journey's language.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from icalendar import Calendar, Event
from sqlalchemy import select, update

from journey.builder.models import Journey, JourneyItem
from journey.builder.services.journeys import load_items
from journey.core.accounts.tokens import hash_token
from journey.core.errors import NotFound
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.trip.models import (
    TASK_KIND_TITLES,
    TRAVEL_MODE_TITLES,
    CalendarToken,
    LegDirection,
    Task,
    TaskStatus,
    TravelLeg,
)
from journey.trip.services.itinerary import trip_view
from journey.trip.services.tasks import journey_task_rows
from journey.trip.services.travel import legs_of
from journey.trip.services.travellers import composed_journey
from providers.services.offers import offer_text

PRODID = "-//One Window//Journey calendar//EN"
UID_DOMAIN = "onewindow"
#: How long a task is shown in a calendar (a task is due at a moment).
TASK_LENGTH = timedelta(minutes=30)
#: How long an arrival or a departure is shown.
LEG_LENGTH = timedelta(minutes=30)
#: How often a subscribed client should fetch the feed again.
REFRESH = timedelta(hours=6)
#: A subscription token: a visible prefix and 43 characters of base64 (32 random bytes).
TOKEN_PREFIX = "owc_"  # noqa: S105 - a visible prefix, not a secret
TOKEN_LENGTH = len(TOKEN_PREFIX) + 43

NO_SUCH_CALENDAR = _l("No such calendar: the address was revoked or never existed.")


# --- the calendar -----------------------------------------------------------------------------

def _zone(key: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(key or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(at: datetime, zone_key: str | None) -> datetime:
    """``at`` (UTC) on the clock of ``zone_key``, keeping the zone (written as TZID)."""
    return at.astimezone(_zone(zone_key))


def _item_event(journey: Journey, item: JourneyItem, language: str, stamp: datetime) -> Event:
    offer, member = item.offer, item.offer.provider
    _served, text = offer_text(offer, language)
    summary = gettext("%(offer)s — %(member)s", offer=text.title, member=member.name) \
        if text is not None else member.name
    contact = []
    if member.phone:
        contact.append(gettext("Phone: %(phone)s", phone=member.phone))
    if member.email:
        contact.append(gettext("E-mail: %(email)s", email=member.email))
    # Nights end on the check-out day, days after the last one: both start + days.
    return Event.new(
        uid=f"journey-{journey.id}-item-{item.id}@{UID_DOMAIN}", stamp=stamp,
        start=item.start_on, end=item.start_on + timedelta(days=item.days),
        summary=summary, location=", ".join(p for p in (member.name, member.city) if p),
        description="\n".join(contact) or None)


def _task_event(journey: Journey, task: Task, stamp: datetime) -> Event:
    start = _local(task.due_at, task.timezone)
    return Event.new(
        uid=f"journey-{journey.id}-task-{task.id}@{UID_DOMAIN}", stamp=stamp,
        start=start, end=start + TASK_LENGTH,
        summary=task.title or str(TASK_KIND_TITLES[task.kind]),
        location=task.place or None)


def _leg_event(journey: Journey, leg: TravelLeg, stamp: datetime) -> Event:
    start = _local(leg.at, leg.timezone)
    travel = " ".join(p for p in (str(TRAVEL_MODE_TITLES[leg.mode]), leg.number) if p)
    if leg.direction == LegDirection.ARRIVAL:
        summary = gettext("Arrival: %(travel)s", travel=travel)
    else:
        summary = gettext("Departure: %(travel)s", travel=travel)
    return Event.new(
        uid=f"journey-{journey.id}-leg-{leg.direction.value}@{UID_DOMAIN}", stamp=stamp,
        start=start, end=start + LEG_LENGTH, summary=summary, location=leg.place or None,
        description=gettext("Carrier: %(carrier)s", carrier=leg.carrier)
        if leg.carrier else None)


def journey_calendar(journey: Journey, *, language: str,
                     items: list[JourneyItem] | None = None, tasks: list[Task] | None = None,
                     legs: list[TravelLeg] | None = None, now: datetime | None = None) -> bytes:
    """The journey's calendar as ``text/calendar`` bytes, its texts in ``language``: an
    all-day event per item, a timed event per task that is not cancelled and per travel
    leg (in the zone of its place, VTIMEZONE included). ``items``, ``tasks`` and
    ``legs`` narrow it to what a reader may see (None: all of the journey's)."""
    stamp = now or utcnow()
    if items is None:
        items = load_items(journey)
    if tasks is None:
        tasks = journey_task_rows(journey.id)
    if legs is None:
        legs = list(legs_of(journey.id).values())
    with force_locale(language):
        calendar = Calendar.new(
            prodid=PRODID, uid=f"journey-{journey.id}@{UID_DOMAIN}", method="PUBLISH",
            name=gettext("One Window — journey %(number)s", number=journey.id),
            refresh_interval=REFRESH)
        for item in sorted(items, key=lambda i: (i.start_on, i.id)):
            calendar.add_component(_item_event(journey, item, language, stamp))
        for task in tasks:
            if task.status != TaskStatus.CANCELLED:
                calendar.add_component(_task_event(journey, task, stamp))
        for leg in sorted(legs, key=lambda leg: leg.at):
            calendar.add_component(_leg_event(journey, leg, stamp))
    timed = [event.start.date() for event in calendar.events
             if isinstance(event.start, datetime)]
    if timed:
        # Each zone's rules over the journey's span (a year either side), not 1970-2038.
        calendar.add_missing_timezones(first_date=min(timed) - timedelta(days=366),
                                       last_date=max(timed) + timedelta(days=366))
    return calendar.to_ical()


def calendar_for(actor, journey_id: int, *, language: str | None = None,
                 now: datetime | None = None) -> bytes:
    """The journey's calendar as ``actor`` may see it (:func:`itinerary.trip_view`), in
    ``language`` (by default the journey's)."""
    view = trip_view(actor, journey_id)
    return journey_calendar(view.journey, language=language or view.journey.language,
                            items=view.items, tasks=view.tasks, legs=view.legs, now=now)


def calendar_filename(journey_id: int) -> str:
    return f"one-window-journey-{journey_id}.ics"


# --- the subscription --------------------------------------------------------------------------

def _revoke(journey_id: int, now: datetime) -> int:
    revoked = db.session.execute(
        update(CalendarToken).where(CalendarToken.journey_id == journey_id,
                                    CalendarToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, CalendarToken) and loaded.journey_id == journey_id:
            db.session.expire(loaded, ["revoked_at"])
    return revoked


def issue_calendar_token(actor, journey_id: int, *, now: datetime | None = None) -> str:
    """A new private address for the journey's calendar (those who compose the journey;
    a member on it 403, anyone else 404). Returns the raw token, this once; only its
    hash is kept. The journey's older addresses stop working."""
    journey = composed_journey(actor, journey_id, lock=True)
    now = now or utcnow()
    _revoke(journey.id, now)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(CalendarToken(journey_id=journey.id, token_hash=hash_token(raw),
                                 created_at=now))
    db.session.flush()
    return raw


def revoke_calendar_tokens(actor, journey_id: int, *, now: datetime | None = None) -> int:
    """Every private address of the journey's calendar stops working; how many there
    were (0 is no error)."""
    journey = composed_journey(actor, journey_id, lock=True)
    revoked = _revoke(journey.id, now or utcnow())
    db.session.flush()
    return revoked


def _well_formed(raw: str | None) -> bool:
    return bool(raw) and len(raw) == TOKEN_LENGTH and raw.startswith(TOKEN_PREFIX) and all(
        char.isascii() and (char.isalnum() or char in "-_") for char in raw[len(TOKEN_PREFIX):])


def journey_for_token(raw: str | None) -> Journey:
    """The journey whose live calendar address carries ``raw``; 404 otherwise."""
    token = db.session.scalar(select(CalendarToken).where(
        CalendarToken.token_hash == hash_token(raw), CalendarToken.revoked_at.is_(None))) \
        if _well_formed(raw) else None
    journey = db.session.get(Journey, token.journey_id) if token is not None else None
    if journey is None:
        raise NotFound(NO_SUCH_CALENDAR)
    return journey


def calendar_by_token(raw: str | None, *, now: datetime | None = None) -> bytes:
    """The subscribed calendar: the patient's full view, in the journey's language; 404
    for an unknown or revoked address."""
    journey = journey_for_token(raw)
    return journey_calendar(journey, language=journey.language, now=now)

