"""The e-mail that tells each other party of a thread that a message waits for them.

One notification per message and recipient (key ``message:<message id>:<recipient>``):
the patient (``user:<id>``), the journey's coordinator (``user:<id>``) or, while it has
none, every coordinator (``coordinators``), and each member party (``provider:<id>``).
The writer is not told of their own message, nor the cluster when a coordinator wrote
on a journey nobody coordinates yet.

The e-mail carries who wrote, the thread's subject and the link to the thread, never
the message itself nor its attachments: health data does not travel by e-mail; it is
read behind the login, where the access rules and the log apply.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from bookings.models import Notification
from journey import notices
from journey.builder.models import Journey
from journey.core.extensions import db
from journey.messages.models import Message, MessageThread
from journey.messages.services.labels import author_label

KIND = "message_posted"


def recipients_of(thread: MessageThread, journey: Journey, author) -> list[str]:
    """Who is told of ``author``'s new message in ``thread``."""
    found = []
    patient = journey.patient
    if author.id != journey.patient_id and patient is not None and patient.erased_at is None:
        found.append(f"user:{journey.patient_id}")
    if journey.coordinator_id is not None:
        if journey.coordinator_id != author.id:
            found.append(f"user:{journey.coordinator_id}")
    elif not author.role.is_cluster:
        found.append("coordinators")
    own = author.provider_id if author.role.is_member else None
    found += [f"provider:{p}" for p in thread.provider_ids if p != own]
    return found


def notify_parties(thread: MessageThread, message: Message, author, *,
                   now: datetime | None = None) -> list[str]:
    """Queue the e-mail for every other party, once each; returns the recipients."""
    recipients = recipients_of(thread, thread.journey, author)
    for recipient in recipients:
        notices.queue(f"message:{message.id}:{recipient}", recipient, KIND,
                      payload={"message_id": message.id, "thread_id": thread.id,
                               "journey_id": thread.journey_id}, now=now)
    return recipients


def _params(notification: Notification) -> dict:
    """The writer, the subject, the journey and the link, in the reader's language."""
    payload = notification.payload or {}
    message = db.session.get(Message, payload.get("message_id") or 0)
    thread = db.session.get(MessageThread, payload.get("thread_id") or 0)
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        link = url_for("messages_pages.thread_page", thread_id=payload.get("thread_id", 0),
                       _external=True)
    author = author_label(message) if message is not None else gettext("Someone")
    return {"author": author, "subject": thread.subject if thread is not None else "",
            "journey": payload.get("journey_id", ""), "link": link}


notices.register(
    KIND,
    _l("New message: %(subject)s"),
    _l("%(author)s has written in the conversation \u201c%(subject)s\u201d about journey "
       "%(journey)s. Read it and answer here:\n%(link)s\n\nFor your privacy, messages are "
       "not sent by e-mail: they are read after logging in."),
    _params)
