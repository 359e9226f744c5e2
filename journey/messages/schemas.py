"""Marshmallow schemas of the messages API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from journey.core.types import MAX_ID
from journey.core.validation import length
from journey.messages.models import MAX_BODY, MAX_SUBJECT
from journey.messages.services.labels import author_label
from journey.messages.services.threads import MAX_ATTACHMENTS
from providers.schemas import Pagination

IDS = fields.Integer(validate=validate.Range(1, MAX_ID))
BODY = fields.String(required=True, validate=length(1, MAX_BODY), metadata={
    "description": "The message (not sent by e-mail: the other parties get a link)."})
DOCUMENT_IDS = fields.List(IDS, load_default=list, validate=length(0, MAX_ATTACHMENTS),
                           metadata={"description": "Ids of case documents of the journey "
                                     "that you see; readers open them through the case's "
                                     "access rules."})


class ThreadInSchema(Schema):
    subject = fields.String(required=True, validate=length(1, MAX_SUBJECT), metadata={
        "description": "One line; it is the subject of the e-mails, so keep medical "
                       "details in the message."})
    body = BODY
    provider_ids = fields.List(IDS, load_default=list, validate=length(0, 20), metadata={
        "description": "Members on the journey that take part (a member's staff: only "
                       "their own member, which takes part anyway)."})
    document_ids = DOCUMENT_IDS


class MessageInSchema(Schema):
    body = BODY
    document_ids = DOCUMENT_IDS


class MemberInSchema(Schema):
    provider_id = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))


class AttachmentArgs(Schema):
    reason = fields.String(load_default=None, validate=length(0, 500), metadata={
        "description": "Why a coordinator who does not coordinate this journey opens the "
                       "patient's document (at least 10 characters); logged and flagged."})


class InboxArgs(Pagination):
    unread = fields.Boolean(load_default=False, metadata={
        "description": "Only threads with unread messages."})


class ThreadSchema(Schema):
    id = fields.Integer()
    journey_id = fields.Integer()
    subject = fields.String()
    opened_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    last_message_at = fields.DateTime()
    provider_ids = fields.List(fields.Integer(), metadata={
        "description": "The members taking part (the patient and the coordinators always "
                       "do)."})


class ThreadRowSchema(ThreadSchema):
    unread = fields.Integer(metadata={"description": "Messages you have not read yet."})


class ThreadPageSchema(Schema):
    items = fields.List(fields.Nested(ThreadRowSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class MessageAttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String(allow_none=True, metadata={
        "description": "Null when the case does not show you this document."})
    available = fields.Boolean(metadata={"description": "Whether you may open it."})


class ThreadMessageSchema(Schema):
    id = fields.Integer()
    thread_id = fields.Integer()
    author_id = fields.Integer(allow_none=True)
    author_name = fields.String(metadata={"description": "The person, with their member "
                                          "or their role in the cluster."})
    author_role = fields.String()
    author_provider_id = fields.Integer(allow_none=True)
    body = fields.String()
    created_at = fields.DateTime()
    attachments = fields.List(fields.Nested(MessageAttachmentSchema))


class ThreadDetailSchema(ThreadSchema):
    unread = fields.Integer(metadata={"description": "Messages that were new to you before "
                                      "this read (now read)."})
    messages = fields.List(fields.Nested(ThreadMessageSchema))


def _thread(thread) -> dict:
    return {"id": thread.id, "journey_id": thread.journey_id, "subject": thread.subject,
            "opened_by_id": thread.opened_by_id, "created_at": thread.created_at,
            "last_message_at": thread.last_message_at, "provider_ids": thread.provider_ids}


def row_out(row) -> dict:
    """A :class:`~journey.messages.services.threads.ThreadRow` for ThreadRowSchema."""
    return {**_thread(row.thread), "unread": row.unread}


def message_out(message, readable: dict) -> dict:
    """A message for ThreadMessageSchema; ``readable``: the case documents the reader sees."""
    return {"id": message.id, "thread_id": message.thread_id, "author_id": message.author_id,
            "author_name": author_label(message), "author_role": message.author_role,
            "author_provider_id": message.author_provider_id, "body": message.body,
            "created_at": message.created_at,
            "attachments": [{"id": d, "filename": readable[d].filename if d in readable
                             else None, "available": d in readable}
                            for d in message.document_ids or []]}


def thread_out(view) -> dict:
    """A :class:`~journey.messages.services.threads.ThreadView` for ThreadDetailSchema."""
    return {**_thread(view.thread), "unread": view.unread,
            "messages": [message_out(m, view.readable) for m in view.messages]}
