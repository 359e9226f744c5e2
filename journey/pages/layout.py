"""What every page's template may use, whichever blueprint renders it: money in the
reader's locale, the titles of states and kinds (journey.pages.titles), the language
switcher's choices, percentages, moments in a named time zone and the pager's
addresses. A blueprint without views: it only carries these to the application."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import (
    format_date,
    format_interval,
    format_skeleton,
    format_time,
    get_timezone_location,
)
from babel.lists import format_list
from babel.numbers import format_percent
from flask import Blueprint
from flask_babel import gettext
from markupsafe import Markup, escape

from journey.core.i18n import text_direction
from journey.core.types import CLUSTER_TIMEZONE
from journey.pages.common import page_locale, page_url, show_minor, show_money
from journey.pages.forms import language_choices
from journey.pages.titles import TEMPLATE_TITLES

bp = Blueprint("layout", __name__)


@bp.app_context_processor
def page_helpers() -> dict:
    return {"money": show_money, "money_minor": show_minor,
            "language_choices": language_choices, **TEMPLATE_TITLES}


bp.add_app_template_global(page_url)  # for the pager macro (_pager.html)


@bp.app_template_global()
def served(language: str | None) -> Markup:
    """The attributes that mark member content with the language it was served in (the
    fallback chain may give another than the page's) and let the browser find its
    direction: `` lang="lt" dir="auto"``."""
    if not language:
        return Markup(' dir="auto"')
    return Markup(' lang="{}" dir="auto"').format(escape(language.replace("_", "-")))


@bp.app_template_filter("content")
def content_filter(value) -> Markup:
    """Member content as an isolated run with the language it was served in when the
    value knows it (journey.pages.rows.Served), else with only its direction left to
    the browser: ``<bdi lang="en" dir="auto">Knee replacement</bdi>``."""
    if value is None or value == "":
        return Markup("")
    return Markup("<bdi{}>{}</bdi>").format(served(getattr(value, "language", None)), value)


@bp.app_template_filter("text_dir")
def text_dir_filter(value) -> str:
    """The direction of a value, for ``dir="{{ value|text_dir }}"`` where a printed
    document (WeasyPrint, which knows no ``dir="auto"``) shows it
    (journey.core.i18n.text_direction)."""
    return text_direction(value)


@bp.app_template_filter("isolated")
def isolated_filter(value) -> Markup:
    """A text set into a sentence of the page's language as an isolated run with its
    own direction, found here rather than by the browser (``dir="auto"``) so that a
    printed document keeps it too: "Check-out: <bdi dir="ltr">Spa week (7 nights)</bdi>"
    (without it, an Arabic line read "Spa week (7 :تسجيل المغادرة nights)")."""
    return Markup('<bdi dir="{}">{}</bdi>').format(text_direction(value), value)


@bp.app_template_filter("listing")
def listing_filter(values, titles=None) -> str:
    """Several things as one list in the reader's language ("A, B og C", "A وB وC"), each
    through ``titles`` when given (a mapping of codes to their titles)."""
    names = [str(titles[value] if titles is not None else value) for value in values]
    return format_list(names, style="standard", locale=page_locale()) if names else ""


@bp.app_template_filter("percent")
def percent_filter(value) -> str:
    """A percentage (``30``, a VAT rate of ``5.5``) as the locale writes it (``30 %``,
    ``30%``, ``5,5 %``), its decimals kept. The sign is written as the locale places it,
    joined to the number: "0 %" with a plain space, as a template wrote it, came apart
    in a right-to-left line ("% 0")."""
    return format_percent(Decimal(str(value)) / 100, locale=page_locale(),
                          decimal_quantization=False)


@bp.app_template_global()
def local_time(value: datetime | None, zone: str | None = None, style: str = "medium") -> Markup:
    """A moment as the reader's locale writes it, in ``zone`` (where it happens; the
    cluster's zone by default), with the zone named: "5 Mar 2026, 14:30:00 (Lithuania
    Time)". Isolated (``<bdi>``) so that a date in one script keeps its order inside a
    sentence in another (an Arabic page, an untranslated text). Empty for None."""
    if value is None:
        return Markup("")
    try:
        tzinfo = ZoneInfo(zone or CLUSTER_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        tzinfo = ZoneInfo(CLUSTER_TIMEZONE)
    locale = page_locale()
    # The date and time never break inside (a deadline in a narrow cell read "7 декабря"
    # on one line and "2026 г., 14:00" on the next); the line may break before the zone.
    when = Markup('<span class="nowrap">{}</span>').format(date_and_time(value, tzinfo,
                                                                          locale))
    pattern = escape(gettext("%(time)s (%(zone)s)", time="%(time)s", zone="%(zone)s"))
    text = pattern % {"time": when, "zone": get_timezone_location(tzinfo, locale=locale)}
    return Markup("<bdi>{}</bdi>").format(text)


@bp.app_template_global()
def day(value: date | None, style: str = "medium") -> str:
    """A date as the reader's locale writes it, one format per locale on every page
    ("20 Jan 2027", "20. jan. 2027", "20 يناير 2027"): the same skeleton as the ranges
    of :func:`day_range` and the dates of :func:`local_time`, so a page never mixes
    "05.12.2026" with "20. jan. 2027". ``style="full"`` adds the weekday (a calendar's
    spoken label). Empty for None."""
    if value is None:
        return ""
    if style == "full":
        return format_date(value, "full", locale=page_locale())
    return format_skeleton(DAY_SKELETON, value, locale=page_locale())


#: The one way a day is written: day, abbreviated month, year, in the locale's order.
DAY_SKELETON = "yMMMd"


def date_and_time(value: datetime, tzinfo, locale: str) -> str:
    """The day (:data:`DAY_SKELETON`) and the time (hours and minutes), joined as the
    locale joins them ("20 Jan 2027, 14:30", "20. jan. 2027, 14:30")."""
    local = value.astimezone(tzinfo) if value.tzinfo else value.replace(tzinfo=tzinfo)
    parsed = Locale.parse(locale)
    joined = str(parsed.datetime_formats.get("medium", "{1}, {0}"))
    return joined.replace("{1}", format_skeleton(DAY_SKELETON, local, locale=parsed)) \
        .replace("{0}", format_time(local, "short", locale=parsed))


@bp.app_template_global()
def day_range(first: date | None, last: date | None) -> str:
    """From ``first`` to ``last`` as the locale writes a range ("20–27 Jan 2027"); one
    date when they are the same day. For a stay, ``last`` is the departure day."""
    if first is None:
        return ""
    if last is None or last == first:
        return day(first)
    return format_interval(first, last, DAY_SKELETON, locale=page_locale())
