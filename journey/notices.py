"""E-mail kinds that a part of the journey layer brings along, and the one way to queue
a notification once per fact.

A module registers each kind it sends with :func:`register` (subject, body, a function
that gives the body's parameters for a notification, and optionally its attachments);
:func:`journey.mail.compose` looks the kind up here and calls them in the reader's
locale, so formatting inside ``params`` follows the reader's language. :func:`queue`
writes the :class:`bookings.models.Notification` row in the caller's transaction, once
per ``key``: a job run twice, or two requests at the same moment, queue one message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookings.models import Notification
from journey.core.extensions import db
from journey.core.types import utcnow

#: (bytes, maintype, subtype, filename)
Attachment = tuple[bytes, str, str, str]


@dataclass(frozen=True)
class MailKind:
    subject: object  # a lazy string with %(name)s parameters
    body: object
    params: Callable[[Notification], dict]
    attachments: Callable[[Notification, str], list[Attachment]] | None = None


KINDS: dict[str, MailKind] = {}


def register(kind: str, subject, body, params: Callable[[Notification], dict],
             attachments: Callable[[Notification, str], list[Attachment]] | None = None
             ) -> None:
    KINDS[kind] = MailKind(subject, body, params, attachments)


def queue(key: str, recipient: str, kind: str, *, payload: dict | None = None,
          booking_id: int | None = None, now: datetime | None = None) -> bool:
    """Queue ``kind`` for ``recipient`` (``user:7``, ``provider:3``, ``coordinators``)
    once per ``key``; False when it was queued before."""
    key = key[:120]
    if db.session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(Notification(key=key, recipient=recipient, kind=kind,
                                        booking_id=booking_id, payload=payload or {},
                                        created_at=now or utcnow()))
    except IntegrityError:  # the same fact, queued at the same moment elsewhere
        return False
    return True


def zoned(moment: datetime, zone: str) -> str:
    """``moment`` on the clock of ``zone``, the zone named, in the current locale (the
    reader's, under :func:`journey.mail.compose`): "14 Jan 2027, 21:34:00 (Lithuania
    Time)"."""
    locale = str(get_locale() or "en")
    tzinfo = ZoneInfo(zone)
    return _("%(time)s (%(zone)s)",
             time=format_datetime(moment, "medium", tzinfo=tzinfo, locale=locale),
             zone=get_timezone_location(tzinfo, locale=locale))
