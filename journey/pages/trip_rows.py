"""What the trip's pages show besides the forms: the choices in the reader's language
(nationalities, languages, time zones; the people a task may go to), the agenda's
window, the rows of tasks with their journeys, patients and assignees read at once, and
the patient's part of the journey page (travellers, arrival and departure, what
happens when).

Every read goes through the trip services, which decide who sees what; this module
only arranges what they answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import get_timezone_location
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from journey.builder.models import Journey
from journey.core.accounts import services as accounts
from journey.core.accounts.models import User
from journey.core.api import countries
from journey.core.errors import Forbidden
from journey.core.extensions import db
from journey.core.types import CLUSTER_TIMEZONE, today_in
from journey.pages.common import language_name, page_locale
from journey.pages.forms import as_choices, country_choices
from journey.pages.trip_forms import LegForm, TravellerForm
from journey.trip.models import LegDirection, Task, TaskKind, TaskStatus
from journey.trip.services import letters, travel, travellers
from journey.trip.services import tasks as trip_tasks
from providers.models import Provider

#: Codes CLDR names that are no country a passport is issued by: pseudo-locales
#: (``XA``, ``XB``), the unknown region, unions and the outlying regions.
NOT_COUNTRIES = frozenset({"XA", "XB", "ZZ", "EU", "EZ", "UN", "QO"})
#: The tasks the patient meets in person, shown on the patient's journey page.
PATIENT_KINDS = (TaskKind.AIRPORT_PICKUP, TaskKind.AIRPORT_DROPOFF,
                 TaskKind.SANATORIUM_HANDOVER, TaskKind.MEET_AND_GREET,
                 TaskKind.TRANSFER_BETWEEN_STAYS, TaskKind.INTERPRETER,
                 TaskKind.VISA_APPOINTMENT)
OPEN = (TaskStatus.OPEN, TaskStatus.ASSIGNED)


# --- choices in the reader's language -----------------------------------------------------

def nationality_choices(empty) -> list:
    """Countries (journey.core.api's :func:`countries`, without the pseudo-locales and
    regions: journey.pages.forms's :func:`country_choices`) named in the reader's
    language, in the order of their names."""
    codes = set(countries().values()) - NOT_COUNTRIES
    return [choice for choice in country_choices(page_locale(), empty=empty)
            if not choice.value or choice.value in codes]


@lru_cache(maxsize=32)
def _languages(locale: str) -> tuple:
    names = Locale.parse(locale).languages
    return tuple(sorted(((code, name) for code, name in names.items()
                         if len(code) == 2 and code.isalpha()), key=lambda pair: pair[1]))


def language_choices(empty) -> list:
    """Languages (ISO 639-1) named in the reader's language, by name."""
    return as_choices([("", empty), *_languages(page_locale())])


@lru_cache(maxsize=32)
def _zones(locale: str) -> tuple:
    names = sorted(zone for zone in available_timezones()
                   if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))
    labelled = [(zone, get_timezone_location(zone, locale=locale)) for zone in names]
    seen: dict[str, int] = {}
    for _zone, label in labelled:
        seen[label] = seen.get(label, 0) + 1
    # Two zones of one name (an alias, a country's two zones): the zone's id says which.
    return tuple(sorted(((zone, f"{label} · {zone}" if seen[label] > 1 else label)
                         for zone, label in labelled), key=lambda pair: pair[1]))


def zone_choices() -> list:
    """IANA time zones, named as the pages name them (``local_time``) in the reader's
    language: "Lithuania Time"."""
    return as_choices(_zones(page_locale()))


def need_texts(needs: list[str]) -> list[str]:
    """A traveller's needs as the reader's language says them."""
    texts = []
    for need in needs:
        name, _sep, value = need.partition(":")
        if name == "wheelchair":
            texts.append(_("Wheelchair"))
        elif name == "reduced_mobility":
            texts.append(_("Reduced mobility"))
        elif name == "diet":
            texts.append(_("Diet: %(diet)s", diet=value))
        elif name == "language":
            texts.append(_("Interpreter: %(language)s", language=language_name(value)))
        else:
            texts.append(need)
    return texts


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return Locale.parse(page_locale()).territories.get(code, code)


# --- the agenda's window ------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """The days an agenda shows, in the cluster's zone: one day or the week (Monday
    first) of ``day``."""

    day: date
    view: str

    @property
    def first(self) -> date:
        return self.day if self.view == "day" else self.day - timedelta(days=self.day.weekday())

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(1 if self.view == "day" else 7)]

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=ZoneInfo(CLUSTER_TIMEZONE))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.days[-1] + timedelta(days=1), time(0),
                                tzinfo=ZoneInfo(CLUSTER_TIMEZONE))

    @property
    def previous(self) -> date:
        return self.first - timedelta(days=1 if self.view == "day" else 7)

    @property
    def next(self) -> date:
        return self.first + timedelta(days=1 if self.view == "day" else 7)


def window_of(form) -> Window:
    """The window an :class:`~journey.pages.trip_forms.AgendaForm` asks for (today's
    day when it names none)."""
    return Window(form.day.data or today_in(), "week" if form.view.data == "week" else "day")


# --- rows of tasks ---------------------------------------------------------------------------

@dataclass
class TaskRows:
    """Tasks as an agenda shows them: the overdue ones first, then the others by day of
    the window (in the cluster's zone); their journeys (with the patients) and
    assignees read at once."""

    overdue: list[Task]
    by_day: list[tuple[date, list[Task]]]
    journeys: dict[int, Journey] = field(default_factory=dict)
    assignees: dict[int, User] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.overdue) + sum(len(rows) for _day, rows in self.by_day)


def is_overdue(task: Task, now: datetime) -> bool:
    return task.status in OPEN and task.due_at < now


def people_of(tasks: list[Task]) -> tuple[dict[int, Journey], dict[int, User]]:
    """The tasks' journeys with their patients, and their assignees, in two queries."""
    journey_ids = {task.journey_id for task in tasks}
    journeys = {journey.id: journey for journey in db.session.scalars(
        select(Journey).where(Journey.id.in_(journey_ids))
        .options(joinedload(Journey.patient)))} if journey_ids else {}
    people = {task.assignee_id for task in tasks if task.assignee_id is not None}
    assignees = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_(people)))} if people else {}
    return journeys, assignees


def member_names(tasks: list[Task]) -> dict[int, str]:
    """The names of the members the tasks serve, in one query."""
    ids = {task.provider_id for task in tasks if task.provider_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Provider.id, Provider.name)
                                   .where(Provider.id.in_(ids))).all())


def finished_message(status: str) -> str:
    """What a page says once a task is finished, by its new state."""
    if status == TaskStatus.DONE:
        return _("The task is done.")
    if status == TaskStatus.NO_SHOW:
        return _("The task is marked as a no-show.")
    return _("The task is cancelled.")


def task_rows(tasks: list[Task], window: Window, now: datetime) -> TaskRows:
    """:class:`TaskRows` of what the agenda service answered (overdue first)."""
    zone = ZoneInfo(CLUSTER_TIMEZONE)
    overdue = [task for task in tasks if is_overdue(task, now)]
    days: dict[date, list[Task]] = {day: [] for day in window.days}
    for task in tasks:
        if task in overdue:
            continue
        days.setdefault(task.due_at.astimezone(zone).date(), []).append(task)
    journeys, assignees = people_of(tasks)
    return TaskRows(overdue, sorted(days.items(), key=lambda pair: pair[0]),
                    journeys, assignees, member_names(tasks))


def assignee_choices(actor, tasks: list[Task], *, empty) -> dict[int, list]:
    """For each task, whom a coordinator may give it to: the cluster's coordinators and
    the active staff of the member whose line it serves (the services' lists)."""
    coordinators = [(str(user.id), user.full_name) for user in accounts.list_coordinators(actor)]
    staff: dict[int, list] = {}
    for provider_id in {task.provider_id for task in tasks if task.provider_id is not None}:
        staff[provider_id] = [(str(user.id), user.full_name)
                              for user in accounts.list_staff(actor, provider_id)
                              if user.active]
    return {task.id: as_choices([("", empty), *coordinators,
                                 *staff.get(task.provider_id, [])]) for task in tasks}


# --- the patient's part of the journey page --------------------------------------------------

@dataclass
class TripPart:
    """What the patient's journey page shows of the trip: the travellers (each with its
    form), the arrival and departure forms and the tasks the patient meets."""

    travellers: list
    traveller_forms: dict
    new_traveller: TravellerForm
    legs: dict
    leg_forms: dict
    tasks: list[Task]
    assignees: dict[int, User]
    letters: list  # journey.trip.services.letters.LetterSlot, one per traveller


def traveller_choices(form: TravellerForm, empty_country, empty_language) -> TravellerForm:
    form.nationality.choices = nationality_choices(empty_country)
    form.language.choices = language_choices(empty_language)
    return form


def leg_choices(form: LegForm) -> LegForm:
    form.timezone.choices = zone_choices()
    return form


def trip_part(actor, journey_id: int, forms: dict, *, empty_country,
              empty_language) -> TripPart | None:
    """The trip's part of the journey page, for those who compose the journey (None for
    anyone else: the services say who). ``forms``: the submitted forms to show again
    with their errors, ``("traveller", id or None)`` and ``("leg", direction)``."""
    try:
        travellers.composed_journey(actor, journey_id)
    except Forbidden:
        return None
    people = travellers.list_travellers(actor, journey_id)
    edit_forms = {}
    for person in people:
        form = forms.get(("traveller", person.id))
        if form is None:
            form = TravellerForm(formdata=None, obj=person, prefix=f"traveller{person.id}")
            form.show_needs(person.needs)
        edit_forms[person.id] = traveller_choices(form, empty_country, empty_language)
    new = forms.get(("traveller", None)) or TravellerForm(formdata=None, prefix="traveller")
    legs = travel.legs_of(journey_id)
    leg_forms = {}
    for direction in LegDirection:
        form = forms.get(("leg", direction))
        leg = legs.get(direction)
        if form is None and leg is not None:
            form = LegForm(formdata=None, prefix=direction.value, mode=leg.mode.value,
                           number=leg.number, carrier=leg.carrier, place=leg.place,
                           timezone=leg.timezone, local_time=leg.at.astimezone(
                               ZoneInfo(leg.timezone)).replace(tzinfo=None))
        leg_forms[direction] = leg_choices(form or LegForm(formdata=None,
                                                           prefix=direction.value))
    shown = [task for task in trip_tasks.journey_tasks(actor, journey_id)
             if task.kind in PATIENT_KINDS and task.status != TaskStatus.CANCELLED]
    _journeys, assignees = people_of(shown)
    return TripPart(people, edit_forms, traveller_choices(new, empty_country, empty_language),
                    legs, leg_forms, shown, assignees, letters.letter_slots(actor, journey_id))
