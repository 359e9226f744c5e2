"""A journey with a confirmed knee surgery (Neris Clinic, day 12, one day) and a room,
travelling (in progress), with the flight home on day 20 at 11:00 in Vilnius, built
through the services. Helpers for the aftercare tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import func, select

from bookings.models import Notification
from journey.aftercare.models import FollowUp
from journey.builder.models import JourneyStatus
from journey.builder.services import journeys
from journey.case.models import ConsentScope
from journey.case.services import consent
from journey.core.accounts.models import Role
from journey.core.extensions import db
from journey.trip.models import LegDirection, Task, TaskKind
from journey.trip.services import progress, travel
from tests.booking_fixtures import confirmed_booking
from tests.journey.builder_world import soon
from tests.journey.trip_clock import begun

VILNIUS = ZoneInfo("Europe/Vilnius")


def aftercare_world(world, gateway, make, *, departure: bool = True, consented: bool = True):
    booking = confirmed_booking(world, gateway)
    journey = journeys.list_journeys(world["patient"])[0][0]
    journeys.assign_coordinator(world["coordinator"], journey.id, world["coordinator"].id)
    if departure:
        travel.set_leg(world["patient"], journey.id, LegDirection.DEPARTURE, mode="flight",
                       place="Vilnius Airport (VNO)", number="LH 887",
                       local_time=datetime.combine(soon(20), time(11, 0)),
                       timezone="Europe/Vilnius")
    progress.set_progress(world["coordinator"], journey.id, JourneyStatus.IN_PROGRESS,
                          now=begun(journey))
    if consented:
        consent.give_consent(world["patient"], journey.id, [ConsentScope.HEALTH_DATA])
    db.session.commit()
    world["booking"], world["journey"] = booking, journey
    world["surgery_line"] = next(line for line in booking.lines
                                 if line.offer_id == world["surgery"].id)
    world["clinic_manager"] = make.user(Role.MEMBER_MANAGER, world["clinic"])
    return world


def local(day: int, hour: int = 10, minute: int = 0, zone=VILNIUS) -> datetime:
    """Day ``day`` from today at ``hour`` on the clock of ``zone``, in UTC."""
    return datetime.combine(soon(day), time(hour, minute), tzinfo=zone).astimezone(UTC)


def followups(journey_id: int) -> list[FollowUp]:
    db.session.expire_all()
    return list(db.session.scalars(select(FollowUp).where(FollowUp.journey_id == journey_id)
                                   .order_by(FollowUp.due_at)))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def followup_tasks(journey_id: int) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.journey_id == journey_id,
                                                      Task.kind == TaskKind.FOLLOW_UP)))


def mails(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)
                                   .order_by(Notification.id)))


def jpeg(text: str = "wound") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG", comment=text.encode())
    return buffer.getvalue()


FINE = {"wellbeing": 4, "pain": 2, "complications": False, "complications_text": ""}
BAD = {"wellbeing": 4, "pain": 8, "complications": False, "complications_text": ""}
