"""Marshmallow schemas of the aftercare API."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, validate

from journey.aftercare.models import (
    FOLLOW_UP_STATE_TITLES,
    STEP_KIND_TITLES,
    FollowUpState,
    StepKind,
)
from journey.aftercare.services.answers import MAX_TEXT
from journey.aftercare.services.schedules import MAX_STEPS, step_label
from journey.core.api import Flag
from journey.core.types import MAX_ID
from journey.core.validation import T, length


class StepSchema(Schema):
    kind = fields.Enum(StepKind, by_value=True, required=True, metadata={
        "description": "`before_departure`: `offset` hours before the departure leg (the "
                       "day after the treatment without one); `after_treatment`: `offset` "
                       "days after the treatment's last day."})
    kind_title = fields.Function(lambda s: str(STEP_KIND_TITLES[s.kind]), dump_only=True)
    offset = fields.Integer(required=True, strict=True, validate=validate.Range(
        1, 730, error=T("Must be between {min} and {max}.")), metadata={
        "description": "1-72 hours before the departure, or 1-730 days after."})
    photo = Flag(load_default=False, metadata={
        "description": "Whether the patient is asked for a photo."})
    label = fields.Function(lambda s: step_label(s.kind, s.offset), dump_only=True)


class ScheduleSchema(Schema):
    offer_id = fields.Integer()
    default = fields.Boolean(metadata={
        "description": "The default schedule (the offer has none of its own)."})
    steps = fields.List(fields.Nested(StepSchema))


class ScheduleInSchema(Schema):
    steps = fields.List(fields.Nested(StepSchema), required=True,
                        validate=length(0, MAX_STEPS), metadata={
                            "description": "The checks, at most 10; an empty list: no "
                                           "follow-ups for this offer."})


class FollowUpSchema(Schema):
    """A follow-up, with the patient's answers once given."""

    id = fields.Integer()
    journey_id = fields.Integer()
    booking_line_id = fields.Integer()
    offer_id = fields.Integer()
    provider_id = fields.Integer()
    step_kind = fields.Enum(StepKind, by_value=True)
    offset = fields.Integer()
    label = fields.Function(lambda f: step_label(f.step_kind, f.offset))
    photo_asked = fields.Boolean(attribute="photo")
    due_at = fields.DateTime()
    timezone = fields.String()
    local_time = fields.Function(lambda f: f.due_at.astimezone(ZoneInfo(f.timezone))
                                 .isoformat())
    state = fields.Enum(FollowUpState, by_value=True)
    state_title = fields.Function(lambda f: str(FOLLOW_UP_STATE_TITLES[f.state]))
    task_id = fields.Integer(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    wellbeing = fields.Integer(allow_none=True, metadata={
        "description": "1 very unwell, 2 unwell, 3 so-so, 4 well, 5 very well."})
    pain = fields.Integer(allow_none=True, metadata={"description": "0 (none) to 10."})
    complications = fields.Boolean(allow_none=True)
    complications_text = fields.String()
    photo_document_id = fields.Integer(allow_none=True, metadata={
        "description": "The photo, a document of the case (download it there; logged)."})
    answered_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class AnswerInSchema(Schema):
    wellbeing = fields.Integer(required=True, strict=True, validate=validate.Range(
        1, 5, error=T("Must be between {min} and {max}.")), metadata={
        "description": "How are you: 1 very unwell, 2 unwell, 3 so-so, 4 well, 5 very "
                       "well."})
    pain = fields.Integer(required=True, strict=True, validate=validate.Range(
        0, 10, error=T("Must be between {min} and {max}.")), metadata={
        "description": "0 (no pain) to 10 (the worst)."})
    complications = Flag(required=True)
    complications_text = fields.String(load_default="", validate=length(0, MAX_TEXT),
                                       metadata={"description": "What happened (needed "
                                                 "when `complications` is true)."})
    photo_document_id = fields.Integer(load_default=None, allow_none=True,
                                       validate=validate.Range(1, MAX_ID), metadata={
        "description": "A photo the patient uploaded to the case (`POST /journeys/{id}/case/"
                       "documents`, kind `photo`); needed when the step asks for one."})


class FollowUpReasonArgs(Schema):
    reason = fields.String(load_default=None, validate=length(0, 500), metadata={
        "description": "Why a coordinator who does not coordinate this journey reads its "
                       "follow-ups (at least 10 characters); logged and flagged."})
