"""Month grids people can scan (the capacity calendar's, the coordinator's arrivals):
weeks as rows starting on the first day of the week where the reader's language is at
home (CLDR), the weekdays' names in that language, today marked; on the capacity
calendar each day classed by how full it is (free, some, full, closed).

The offer's view hands the template the month's days (``offers.get_calendar``'s dicts:
``day``, ``capacity``, ``available``, ``used``); the template calls
:func:`capacity_month` on them (a template function of the portal's pages)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from babel import Locale
from babel.core import get_global
from babel.dates import format_date

from journey.core.types import today_in
from journey.pages.common import page_locale

#: How full a day is, in the order of the legend.
OCCUPANCY = ("free", "some", "full", "closed")


@dataclass(frozen=True)
class DayCell:
    day: date
    capacity: int
    available: int
    used: int
    occupancy: str  # one of OCCUPANCY
    today: bool = False
    past: bool = False


@dataclass(frozen=True)
class MonthGrid:
    weekdays: list[tuple[str, str]]  # (abbreviated, full) names, in the grid's order
    weeks: list[list[DayCell | None]]  # rows of seven; None outside the month


def occupancy(capacity: int, available: int) -> str:
    """``closed`` (no capacity), ``full`` (nothing left), ``some`` (partly taken) or
    ``free``."""
    if capacity <= 0:
        return "closed"
    if available <= 0:
        return "full"
    return "some" if available < capacity else "free"


def first_weekday(locale: str) -> int:
    """The first day of the week (0 = Monday) where ``locale`` is at home: its own
    territory, or the one CLDR finds likeliest for its language (en -> US: Sunday;
    ar -> Egypt: Saturday; lt -> Lithuania: Monday)."""
    parsed = Locale.parse(locale)
    if parsed.territory is None:
        likely = get_global("likely_subtags").get(parsed.language)
        if likely:
            parsed = Locale.parse(likely)
    return parsed.first_week_day


def cells(days: Iterable[dict], *, today: date) -> list[DayCell]:
    return [DayCell(d["day"], d["capacity"], d["available"], d.get("used", 0),
                    occupancy(d["capacity"], d["available"]), d["day"] == today,
                    d["day"] < today)
            for d in days]


def weekday_names(start: int, locale: str) -> list[tuple[str, str]]:
    """The seven weekdays from ``start`` (0 = Monday): (short, full) names. The short
    ones are CLDR's for calendar columns ("Mo", "ma.", "خميس"): the abbreviated ones of
    some languages are the full words (Arabic), too wide for seven columns on a phone."""
    monday = date(2024, 1, 1)  # a Monday
    days = [monday + timedelta(days=(start + n) % 7) for n in range(7)]
    return [(format_date(day, "EEEEEE", locale=locale),
             format_date(day, "EEEE", locale=locale)) for day in days]


def in_weeks(items: list, first: date, start: int) -> list[list]:
    """``items`` (one per day from ``first``) in rows of seven from weekday ``start``,
    with None before the first and after the last."""
    lead = (first.weekday() - start) % 7
    grid = [None] * lead + list(items)
    grid += [None] * (-len(grid) % 7)
    return [grid[i:i + 7] for i in range(0, len(grid), 7)]


def month_grid(found: list[DayCell], *, locale: str) -> MonthGrid:
    """``found`` (a month's days, in order) in rows of seven from the locale's first
    day of the week, with blanks before the first and after the last."""
    if not found:
        return MonthGrid([], [])
    start = first_weekday(locale)
    return MonthGrid(weekday_names(start, locale), in_weeks(found, found[0].day, start))


def month_arg(value: str | None, today: date) -> date:
    """``?month=2026-05`` -> its first day; anything else -> the month of ``today``."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        if 1900 <= year <= 2999:
            return date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


def month_days(first: date) -> list[date]:
    """Every day of the month that starts on ``first``."""
    following = (first + timedelta(days=32)).replace(day=1)
    return [first + timedelta(days=n) for n in range((following - first).days)]


def capacity_month(weeks: list[list[dict | None]], zone: str | None = None) -> MonthGrid:
    """The view's weeks (any start, blanks as None) as the reader's month grid, with
    today in ``zone`` (the member's) marked."""
    days = [day for week in weeks for day in week if day]
    return month_grid(cells(days, today=today_in(zone)), locale=page_locale())
