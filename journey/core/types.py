"""Column types and the clock shared by every package (no domain code here)."""

from __future__ import annotations

import enum
import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator

#: Primary keys are 32-bit integers on PostgreSQL: a larger id in a URL or a filter is
#: refused at the edge instead of reaching the database.
MAX_ID = 2**31 - 1
#: The URL converter for an id path parameter.
ID_CONVERTER = f"int(min=1, max={MAX_ID})"


#: Where "today" is counted when no member's own zone applies: the cluster's home zone.
CLUSTER_TIMEZONE = os.environ.get("CLUSTER_TIMEZONE", "Europe/Vilnius")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in(zone: str | None = None, now: datetime | None = None) -> date:
    """The calendar date at ``now`` (default: this instant) in ``zone``.

    Without a zone it is the cluster's date. Every "today" in the project comes from
    here, so a quote, a cancellation tier and a page agree on the day even in the hours
    when the cluster's date and UTC's differ.
    """
    return (now or utcnow()).astimezone(ZoneInfo(zone or CLUSTER_TIMEZONE)).date()


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored in UTC, returned aware on every database.

    SQLite keeps no offset, so values are normalised to UTC on the way in and marked
    UTC on the way out. A naive datetime is refused: every time here has a zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; use an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator):
    """A Python ``enum.StrEnum`` stored as its value in a VARCHAR (portable, readable)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum], length: int = 32):
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value)

    def result_processor(self, dialect, coltype):
        """:meth:`process_result_value` as one function that finds the member by its
        value in a dict (the enum's own call takes twenty times as long, and a search
        page converts some 150 values); a value that is no member's is refused by the
        enum's call, as before."""
        inner = self.impl_instance.result_processor(dialect, coltype)
        enum_class = self.enum_class
        member_of = {member.value: member for member in enum_class}.get

        def process(value):
            if inner is not None:
                value = inner(value)
            if value is None:
                return None
            member = member_of(value)
            return member if member is not None else enum_class(value)
        return process
