"""Marshmallow schemas of the trip API."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, validate

from journey.builder.models import JourneyStatus
from journey.core.api import Country, QueryFlag, TimeZone, date_pattern
from journey.core.types import MAX_ID
from journey.core.validation import (
    EARLIEST_DATE,
    BirthDay,
    DateWindow,
    Day,
    T,
    latest_date,
    length,
)
from journey.trip.models import (
    TASK_KIND_TITLES,
    TASK_STATUS_TITLES,
    TRAVEL_MODE_TITLES,
    LegDirection,
    TaskKind,
    TaskStatus,
    TravelMode,
)
from journey.trip.services.letters import grouped as grouped_code
from journey.trip.services.letters import status_of as letter_status


class LocalDateTime(fields.NaiveDateTime):
    """A time on the clock of a place, without an offset (``2027-03-14T14:30``): its day
    within the window of dates that can be written, documented as a pattern."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        DateWindow()(moment.date())
        return moment

    @property
    def openapi_schema(self) -> dict:
        day = date_pattern(EARLIEST_DATE, latest_date())[1:-1]
        return {"type": "string", "example": "2027-03-14T14:30:00",
                "pattern": f"^{day}T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?$",
                "description": "On the clock of the place (no offset)."}


NEED = validate.Regexp(r"^[a-z_]{2,30}(:[^\x00]{1,60})?$", error=T("Invalid value."))


class TravellerSchema(Schema):
    id = fields.Integer(dump_only=True)
    is_patient = fields.Boolean(load_default=None, allow_none=True)
    full_name = fields.String(required=True, validate=length(1, 200),
                              metadata={"description": "As in the passport."})
    relationship_to_patient = fields.String(load_default="", validate=length(0, 40))
    needs = fields.List(fields.String(validate=NEED), load_default=list,
                        validate=length(0, 20), metadata={
                            "description": "What the members prepare: `wheelchair`, "
                                           "`diet:halal`, `language:ar`..."})
    birth_date = BirthDay(load_default=None, allow_none=True)
    nationality = Country(load_default=None, allow_none=True)
    passport_number = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Regexp(r"^[A-Z0-9<]{4,20}$", error=T(
                                        "4 to 20 letters and digits, as printed in the "
                                        "passport.")))
    passport_expires_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Seen only by the patient, those who compose the journey and the "
                       "members whose line needs it (visa, hotel, treatment)."})


class LegSchema(Schema):
    direction = fields.Enum(LegDirection, by_value=True, dump_only=True)
    mode = fields.Enum(TravelMode, by_value=True, required=True)
    mode_title = fields.Function(lambda leg: str(TRAVEL_MODE_TITLES[leg["mode"]]),
                                 dump_only=True)
    number = fields.String(load_default="", validate=length(0, 20))
    carrier = fields.String(load_default="", validate=length(0, 100))
    place = fields.String(required=True, validate=length(1, 200))
    local_time = LocalDateTime(required=True)
    timezone = TimeZone(required=True)
    at = fields.DateTime(dump_only=True)


class TaskSchema(Schema):
    id = fields.Integer()
    journey_id = fields.Integer()
    kind = fields.Enum(TaskKind, by_value=True)
    kind_title = fields.Function(lambda t: str(TASK_KIND_TITLES[t.kind]))
    title = fields.String()
    due_at = fields.DateTime()
    timezone = fields.String()
    local_time = fields.Function(lambda t: t.due_at.astimezone(ZoneInfo(t.timezone))
                                 .isoformat())
    place = fields.String()
    note = fields.String()
    provider_id = fields.Integer(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    status = fields.Enum(TaskStatus, by_value=True)
    status_title = fields.Function(lambda t: str(TASK_STATUS_TITLES[t.status]))
    generated = fields.Function(lambda t: t.source is not None)


class TaskInSchema(Schema):
    kind = fields.Enum(TaskKind, by_value=True, required=True)
    title = fields.String(load_default="", validate=length(0, 200))
    local_time = LocalDateTime(required=True)
    timezone = TimeZone(required=True)
    place = fields.String(load_default="", validate=length(0, 200))
    note = fields.String(load_default="", validate=length(0, 1000))


class AssignSchema(Schema):
    assignee_id = fields.Integer(required=True, allow_none=True,
                                 validate=validate.Range(1, MAX_ID))


class TaskStatusInSchema(Schema):
    status = fields.Enum(TaskStatus, by_value=True, required=True, metadata={
        "description": "`done`, `no_show` or `cancelled`."})
    note = fields.String(load_default="", validate=length(0, 1000))


class AgendaArgs(Schema):
    first_day = Day(required=True, data_key="from", metadata={
        "description": "The first day, on the cluster's calendar."})
    days = fields.Integer(load_default=7, validate=validate.Range(1, 62))
    mine = QueryFlag(load_default=False)
    unassigned = QueryFlag(load_default=False)


class ProgressInSchema(Schema):
    status = fields.Enum(JourneyStatus, by_value=True, required=True, metadata={
        "description": "`in_progress` or `completed`."})


class LetterSchema(Schema):
    """A visa invitation letter: its number, code and status (the PDF is at ``pdf``)."""

    id = fields.Integer()
    journey_id = fields.Integer()
    traveller_id = fields.Integer(allow_none=True)
    provider_id = fields.Integer()
    number = fields.String()
    code = fields.Function(lambda letter: grouped_code(letter.code))
    status = fields.Function(lambda letter: letter_status(letter).value)
    issued_at = fields.DateTime()
    pdf = fields.Function(lambda letter: f"/journeys/{letter.journey_id}/letters/"
                          f"{letter.id}.pdf")
    verify = fields.Function(lambda letter: f"/verify/{grouped_code(letter.code)}")


class LetterSlotSchema(Schema):
    """A traveller and their valid letter, or why none can be issued yet."""

    traveller_id = fields.Function(lambda slot: slot.traveller.id)
    full_name = fields.Function(lambda slot: slot.traveller.full_name)
    letter = fields.Function(lambda slot: LetterSchema().dump(slot.letter)
                             if slot.letter is not None else None)
    not_yet = fields.Function(lambda slot: str(slot.refusal.message)
                              if slot.refusal is not None else None)
