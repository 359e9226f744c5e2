"""Flask-WTF forms of the trip's pages: a traveller and their needs, the arrival or the
departure, and the logistics tasks (assign, done / no-show / cancel, one by hand, the
agenda's window).

The forms check what a browser may send wrongly (a date that is no date, a choice not
offered, a text too long to store); the rules of the trip (a possible date of birth, a
departure after the arrival, who may take a task) are the services', whose messages
:func:`journey.pages.common.submit` puts beside these fields. The choices that depend on
the reader (countries, languages and zones in their language; the people a task may go
to) are filled in by :mod:`journey.pages.trip_rows`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from journey.core.types import CLUSTER_TIMEZONE
from journey.pages.forms import InDateWindow, PageForm, QueryForm, as_choices
from journey.pages.titles import TASK_KIND_TITLES, TRAVEL_MODE_TITLES
from journey.trip.models import TaskKind, TaskStatus, TravelMode

#: A text a person types (a name, a place): its direction is the text's own.
AUTO = {"dir": "auto"}
#: What a traveller may need, as stored (``diet:<text>``, ``language:<code>``).
WHEELCHAIR, REDUCED_MOBILITY, DIET, LANGUAGE = ("wheelchair", "reduced_mobility", "diet",
                                               "language")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def _passport_number(value):
    """As printed in the passport, spaces dropped and in capitals."""
    return "".join(value.split()).upper() if isinstance(value, str) else value


class TravellerForm(PageForm):
    """A traveller as in the passport, and what the members should prepare."""

    full_name = StringField(_l("Name as in the passport"), filters=[_stripped],
                            render_kw=AUTO, validators=[
                                DataRequired(), Length(max=200)])
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    nationality = SelectField(_l("Nationality"), choices=[], default="")
    # Its rule (4 to 20 letters and digits) is the service's, checked with the dates'
    # so that a wrong number and a wrong date are named together, not in two rounds.
    passport_number = StringField(_l("Passport number"), filters=[_passport_number],
                                  render_kw=AUTO, validators=[Optional()])
    passport_expires_on = DateField(_l("Passport valid until"), validators=[Optional()])
    relationship_to_patient = StringField(
        _l("Relationship to the patient"), filters=[_stripped], render_kw=AUTO,
        validators=[Length(max=40)])
    wheelchair = BooleanField(_l("Uses a wheelchair"))
    reduced_mobility = BooleanField(_l("Walks with difficulty (reduced mobility)"))
    diet = StringField(_l("Diet"), filters=[_stripped], render_kw=AUTO,
                       validators=[Length(max=60)])
    language = SelectField(_l("Needs an interpreter into"), choices=[], default="")

    def needs(self, kept: list[str] = ()) -> list[str]:
        """The needs as stored: the boxes ticked, the diet and the language; and those
        in ``kept`` that this form does not show (entered through the API)."""
        shown = {WHEELCHAIR, REDUCED_MOBILITY, DIET, LANGUAGE}
        needs = [need for need in kept if need.partition(":")[0] not in shown]
        if self.wheelchair.data:
            needs.append(WHEELCHAIR)
        if self.reduced_mobility.data:
            needs.append(REDUCED_MOBILITY)
        if self.diet.data:
            needs.append(f"{DIET}:{self.diet.data}")
        if self.language.data:
            needs.append(f"{LANGUAGE}:{self.language.data}")
        return needs

    def show_needs(self, needs: list[str]) -> None:
        """Tick and fill the needs' fields from the stored ``needs``."""
        for need in needs:
            name, _sep, value = need.partition(":")
            if name in (WHEELCHAIR, REDUCED_MOBILITY):
                self[name].data = True
            elif name in (DIET, LANGUAGE):
                self[name].data = value

    def fields(self) -> dict:
        """What :func:`journey.trip.services.travellers.save_traveller` takes, but the
        needs."""
        return {"full_name": self.full_name.data, "birth_date": self.birth_date.data,
                "nationality": self.nationality.data or None,
                "passport_number": self.passport_number.data or None,
                "passport_expires_on": self.passport_expires_on.data,
                "relationship_to_patient": self.relationship_to_patient.data or ""}


class LegForm(PageForm):
    """How the travellers arrive or leave: the time on the clock of the place."""

    mode = SelectField(_l("By"), choices=as_choices(
        (mode.value, title) for mode, title in TRAVEL_MODE_TITLES.items()),
        default=TravelMode.FLIGHT.value)
    number = StringField(_l("Flight or train number"), filters=[_stripped], render_kw=AUTO,
                         validators=[Length(max=20)])
    carrier = StringField(_l("Airline or carrier"), filters=[_stripped], render_kw=AUTO,
                          validators=[Length(max=100)])
    place = StringField(_l("Airport or station"), filters=[_stripped], render_kw=AUTO, validators=[
        DataRequired(), Length(max=200)])
    local_time = DateTimeLocalField(_l("Local date and time"), format=DATETIME_FORMATS,
                                    validators=[InputRequired()])
    timezone = SelectField(_l("Time zone of the place"), choices=[],
                           default=CLUSTER_TIMEZONE)


class TaskAssignForm(PageForm):
    """Who does a task: a coordinator, or the staff of the member it serves."""

    assignee_id = SelectField(_l("Assigned to"), choices=[], coerce=str)


#: The buttons of a task's row, by the state they give it.
FINISHING = (TaskStatus.DONE, TaskStatus.NO_SHOW, TaskStatus.CANCELLED)


class TaskStatusForm(PageForm):
    """Done, no-show (buttons named ``status``) or cancelled (its box ticked first)."""

    status = StringField(validators=[DataRequired()])
    confirm = BooleanField(_l("Yes, cancel this task."))
    note = StringField(_l("Note (optional)"), filters=[_stripped], render_kw=AUTO,
                       validators=[Length(max=1000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.status.data not in {status.value for status in FINISHING}:
            self.form_errors.append(str(_l("Done, no-show or cancelled.")))
            return False
        if ok and self.status.data == TaskStatus.CANCELLED and not self.confirm.data:
            self.confirm.errors = [*self.confirm.errors,
                                   str(_l("Tick the box to confirm the cancellation."))]
            return False
        return ok


class AddTaskForm(PageForm):
    """A task by hand (a coordinator): what, when on the clock of which place, where."""

    kind = SelectField(_l("What"), choices=as_choices(
        (kind.value, title) for kind, title in TASK_KIND_TITLES.items()),
        default=TaskKind.OTHER.value)
    title = StringField(_l("Title"), filters=[_stripped], render_kw=AUTO,
                        validators=[Length(max=200)])
    local_time = DateTimeLocalField(_l("Local date and time"), format=DATETIME_FORMATS,
                                    validators=[InputRequired()])
    timezone = SelectField(_l("Time zone of the place"), choices=[],
                           default=CLUSTER_TIMEZONE)
    place = StringField(_l("Place"), filters=[_stripped], render_kw=AUTO,
                        validators=[Length(max=200)])
    note = TextAreaField(_l("Note"), filters=[_stripped], render_kw=AUTO,
                         validators=[Length(max=1000)])


class AgendaForm(QueryForm):
    """The agenda's window and filters, from the query string."""

    day = DateField(_l("Day"), validators=[Optional(), InDateWindow()])
    view = SelectField(_l("View"), choices=as_choices([("day", _l("Day")),
                                                        ("week", _l("Week"))]),
                       default="day", validators=[Optional()])
    mine = BooleanField(_l("Mine"))
    unassigned = BooleanField(_l("Nobody's yet"))
