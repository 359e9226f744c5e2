"""Marshmallow schemas of the reviews API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from journey.core.api import Flag, Language
from journey.core.i18n import translated
from journey.core.types import MAX_ID
from journey.core.validation import T, length
from journey.reviews.models import (
    DIMENSION_TITLES,
    HIDE_REASON_TITLES,
    MAX_NOTE,
    MAX_REPLY,
    MAX_TEXT,
    MODERATION_ACTION_TITLES,
    REVIEW_STATE_TITLES,
    HideReason,
    ModerationAction,
    ReviewState,
)
from providers.models import CHAIN_LINK_TITLES, ChainLink
from providers.schemas import Pagination


def _rating(description: str, **kwargs):
    return fields.Integer(strict=True, validate=validate.Range(
        1, 5, error=T("Must be between {min} and {max}.")),
        metadata={"description": description}, **kwargs)


class ReviewRatingsSchema(Schema):
    """Optional ratings per dimension, 1 (poor) to 5 (excellent); only the dimensions
    that fit the member's chain links (see `dimensions` of the journey's reviewable
    members) are taken."""

    care = _rating("Medical or personal care.", allow_none=True)
    communication = _rating("Explanations, answers, language.", allow_none=True)
    cleanliness = _rating("Cleanliness of the premises.", allow_none=True)
    comfort = _rating("Comfort of the room or the vehicle.", allow_none=True)
    punctuality = _rating("On time (transfers, interpreters, tickets).", allow_none=True)
    value = _rating("Value for money.", allow_none=True)


class MemberReviewInSchema(Schema):
    provider_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID),
                                 metadata={"description": "The member reviewed: one that "
                                           "delivered a line of the journey."})
    overall = _rating("The overall rating, 1 (poor) to 5 (excellent).", required=True)
    ratings = fields.Nested(ReviewRatingsSchema, load_default=dict)
    text = fields.String(load_default="", validate=length(0, MAX_TEXT), metadata={
        "description": "What you would tell another patient, in any language."})
    language = Language(load_default=None, allow_none=True, metadata={
        "description": "The language of the text (by default your profile's)."})
    anonymous = Flag(load_default=False, metadata={
        "description": "Hide your name from the public and from the member: the review "
                       "is signed \"a patient from <country>\"."})


class MemberReviewPatchSchema(Schema):
    overall = _rating("The overall rating, 1 (poor) to 5 (excellent).")
    ratings = fields.Nested(ReviewRatingsSchema)
    text = fields.String(validate=length(0, MAX_TEXT))
    language = Language()
    anonymous = Flag()


class ReviewReplyInSchema(Schema):
    text = fields.String(required=True, validate=length(1, MAX_REPLY), metadata={
        "description": "The member's public answer (once)."})
    language = Language(load_default=None, allow_none=True, metadata={
        "description": "The language of the answer (by default your profile's)."})


class ReviewHideInSchema(Schema):
    reason = fields.Enum(HideReason, by_value=True, required=True, metadata={
        "description": "The published rule the review breaks (a low rating or a negative "
                       "text is none): `personal_data`, `insult`, `off_topic`, "
                       "`not_this_member`, `other` (explain in `note`)."})
    note = fields.String(load_default="", validate=length(0, MAX_NOTE), metadata={
        "description": "Shown to the author with the reason; needed with `other`."})


class ReviewUnhideArgs(Schema):
    note = fields.String(load_default="", validate=length(0, MAX_NOTE), metadata={
        "description": "Why the review is shown again (logged)."})


class ReviewQueueArgs(Pagination):
    state = fields.Enum(ReviewState, by_value=True, load_default=None, metadata={
        "description": "Only the published or only the hidden reviews."})


class ReviewReplySchema(Schema):
    text = fields.String(attribute="reply_text")
    language = fields.String(attribute="reply_language")
    replied_at = fields.DateTime()


def _reply(view):
    return ReviewReplySchema().dump(view) if view.replied_at is not None else None


class MemberReviewSchema(Schema):
    """A review as you may see it: what you may not know of the author is null."""

    id = fields.Integer()
    provider_id = fields.Integer()
    provider_name = fields.Function(lambda v: v.provider.name)
    overall = fields.Integer()
    ratings = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "The ratings given per dimension (care, communication, "
                       "cleanliness, comfort, punctuality, value)."})
    dimensions = fields.Function(lambda v: [d.value for d in v.dimensions], metadata={
        "description": "The dimensions that fit the member's chain links."})
    text = fields.String()
    language = fields.String(metadata={"description": "The language it was written in."})
    chain_link = fields.Enum(ChainLink, by_value=True, metadata={
        "description": "The link of the chain the review is mainly about."})
    chain_link_title = fields.Function(lambda v: translated(CHAIN_LINK_TITLES[v.chain_link]))
    chain_links = fields.List(fields.String())
    anonymous = fields.Boolean()
    author = fields.String(metadata={"description": "The signature you see: \"A patient "
                                     "from Norway\" (anonymous), \"Ingrid S., from "
                                     "Norway\", or \"You\"."})
    author_id = fields.Integer(allow_none=True)
    author_name = fields.String(allow_none=True, metadata={
        "description": "The author's full name: for the cluster and the author; for the "
                       "reviewed member unless the review is anonymous."})
    journey_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    edited_at = fields.DateTime(allow_none=True)
    editable_until = fields.DateTime(allow_none=True, metadata={
        "description": "For the author: until when the review can be changed."})
    state = fields.Enum(ReviewState, by_value=True)
    state_title = fields.Function(lambda v: str(REVIEW_STATE_TITLES[v.state]))
    hidden_reason = fields.String(allow_none=True, metadata={
        "description": "Why moderation hid it (for the author and the cluster)."})
    hidden_reason_title = fields.Function(
        lambda v: str(HIDE_REASON_TITLES[HideReason(v.hidden_reason)])
        if v.hidden_reason else None, allow_none=True)
    hidden_note = fields.String(allow_none=True)
    reply = fields.Function(_reply, allow_none=True, metadata={
        "description": "The member's answer: `text`, `language`, `replied_at`."})


class RatingSummarySchema(Schema):
    count = fields.Integer()
    average = fields.Float(allow_none=True, metadata={
        "description": "The published reviews' overall average, one decimal."})


class MemberReviewPageSchema(Schema):
    items = fields.List(fields.Nested(MemberReviewSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    rating = fields.Nested(RatingSummarySchema, allow_none=True)


class ReviewableSchema(Schema):
    provider_id = fields.Function(lambda r: r.provider.id)
    provider_name = fields.Function(lambda r: r.provider.name)
    chain_links = fields.Function(lambda r: [link.value for link in r.links])
    dimensions = fields.Function(lambda r: [d.value for d in r.dimensions])
    dimension_titles = fields.Function(
        lambda r: {d.value: str(DIMENSION_TITLES[d]) for d in r.dimensions})
    review = fields.Function(lambda r: MemberReviewSchema().dump(r.view) if r.view else None,
                             allow_none=True)


class ReviewModerationSchema(Schema):
    id = fields.Integer()
    action = fields.Enum(ModerationAction, by_value=True)
    action_title = fields.Function(lambda m: str(MODERATION_ACTION_TITLES[m.action]))
    reason = fields.Enum(HideReason, by_value=True, allow_none=True)
    reason_title = fields.Function(
        lambda m: str(HIDE_REASON_TITLES[m.reason]) if m.reason else None, allow_none=True)
    note = fields.String()
    actor_id = fields.Integer(allow_none=True)
    at = fields.DateTime()
