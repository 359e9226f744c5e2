"""The messages REST API: parse, call a service, serialise. Who reads and writes which
thread is decided in :mod:`journey.messages.services.threads`."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from marshmallow import Schema, fields

from journey.core.accounts.auth import current_actor
from journey.core.api import CLUSTER, MEMBERS, PATIENT, Blueprint, errors, roles
from journey.core.types import ID_CONVERTER
from journey.messages.schemas import (
    AttachmentArgs,
    InboxArgs,
    MemberInSchema,
    MessageInSchema,
    ThreadDetailSchema,
    ThreadInSchema,
    ThreadMessageSchema,
    ThreadPageSchema,
    ThreadRowSchema,
    ThreadSchema,
    message_out,
    row_out,
    thread_out,
)
from journey.messages.services import threads  # (registers the e-mail kind too)

ID = ID_CONVERTER
blp = Blueprint("messages", __name__, description="Messages per journey: threads between "
                "the patient, the coordinators and the members concerned, with unread "
                "counts; attachments are the case's documents, opened under its rules")
EVERYONE = (PATIENT, *MEMBERS, *CLUSTER)


class UnreadSchema(Schema):
    unread = fields.Integer(metadata={"description": "Your unread messages (for the cluster: "
                                      "on the journeys you coordinate and those nobody "
                                      "coordinates yet)."})


@blp.route(f"/journeys/<{ID}:journey_id>/threads")
class JourneyThreads(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, ThreadRowSchema(many=True))
    def get(self, journey_id):
        """The journey's threads you take part in, the latest first, with unread counts
        (a member's staff: only those their member takes part in)."""
        return [row_out(row) for row in threads.threads(current_actor(), journey_id)]

    @roles(*EVERYONE)
    @errors(409)
    @blp.arguments(ThreadInSchema)
    @blp.response(201, ThreadDetailSchema)
    def post(self, data, journey_id):
        """Start a thread with its first message; the other parties are told by e-mail
        (a link, never the message)."""
        actor = current_actor()
        thread = threads.open_thread(actor, journey_id, data["subject"], data["body"],
                                     data["provider_ids"], data["document_ids"])
        return thread_out(threads.thread(actor, thread.id))


@blp.route("/threads")
class Inbox(MethodView):
    @roles(*EVERYONE)
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, ThreadPageSchema)
    def get(self, args):
        """Every thread you take part in, across journeys, the latest first."""
        rows, total = threads.inbox(current_actor(), page=args["page"],
                                    per_page=args["per_page"], unread_only=args["unread"])
        return {"items": [row_out(row) for row in rows], "total": total,
                "page": args["page"], "per_page": args["per_page"]}


@blp.route("/threads/unread")
class Unread(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, UnreadSchema)
    def get(self):
        """How many messages wait for you."""
        return {"unread": threads.unread_total(current_actor())}


@blp.route(f"/threads/<{ID}:thread_id>")
class ThreadItem(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, ThreadDetailSchema)
    def get(self, thread_id):
        """The thread's messages, oldest first; marks them read. Attachments name the
        documents the case shows you."""
        return thread_out(threads.thread(current_actor(), thread_id))


@blp.route(f"/threads/<{ID}:thread_id>/messages")
class ThreadMessages(MethodView):
    @roles(*EVERYONE)
    @errors(409)
    @blp.arguments(MessageInSchema)
    @blp.response(201, ThreadMessageSchema)
    def post(self, data, thread_id):
        """Write in the thread; each other party is told by e-mail (a link only)."""
        actor = current_actor()
        message = threads.post(actor, thread_id, data["body"], data["document_ids"])
        view = threads.thread(actor, thread_id)
        return message_out(message, view.readable)


@blp.route(f"/threads/<{ID}:thread_id>/members")
class ThreadMembers(MethodView):
    @roles(*CLUSTER)
    @errors(409)
    @blp.arguments(MemberInSchema)
    @blp.response(200, ThreadSchema)
    def post(self, data, thread_id):
        """Bring a member on the journey into the thread (coordinators)."""
        thread = threads.add_member(current_actor(), thread_id, data["provider_id"])
        return {"id": thread.id, "journey_id": thread.journey_id, "subject": thread.subject,
                "opened_by_id": thread.opened_by_id, "created_at": thread.created_at,
                "last_message_at": thread.last_message_at,
                "provider_ids": thread.provider_ids}


@blp.route(f"/messages/<{ID}:message_id>/attachments/<{ID}:document_id>")
class Attachment(MethodView):
    @roles(*EVERYONE)
    @blp.arguments(AttachmentArgs, location="query")
    @blp.response(200, {"type": "string", "format": "binary"},
                  content_type="application/octet-stream")
    def get(self, args, message_id, document_id):
        """A document attached to a message, as an attachment; opened through the case
        (its access rules; logged). A party the case does not show it to gets 403."""
        document, content = threads.open_attachment(current_actor(), message_id, document_id,
                                                    reason=args["reason"])
        response = send_file(io.BytesIO(content), mimetype=document.content_type,
                             as_attachment=True, download_name=document.filename, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
