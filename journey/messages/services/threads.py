"""Threads of messages on a journey, and who may read and write them.

Parties. Every thread of a journey has the patient and the cluster (its coordinators
and admins) as parties, plus the members named when it was opened (or brought in by a
coordinator later); a member must be on the journey (it opened it, or one of its offers
is in the package) to take part.

Who reads what (the same for the API and the pages):

- the patient: every thread of their own journeys;
- coordinators and admins: every thread;
- a member's staff: only the threads their member takes part in, on a journey they
  still see; any other thread is a 404, as if it did not exist.

Who opens what: the patient and the cluster may address any member on the journey; a
member's staff open threads with the patient and the cluster only (their own member is
a party; another member is brought in by a coordinator, :func:`add_member`).

Attachments are case documents (their ids): the writer attaches only documents they see
themselves, and a reader opens one only through :func:`journey.case.services.case.open_document`,
so the case's access rules and its access log apply. Attaching shares nothing: a member
that may not see a document is refused when it opens it, and the patient shares it on
the case page if they want to.

A journey stays open to messages whatever its state (a cancelled trip still has
refunds and questions to settle, a completed one its aftercare); once the patient has
been erased, its threads are closed (409) and their text is gone (:func:`erase_messages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from journey.builder.models import Journey, JourneyItem
from journey.builder.services.journeys import visible_condition, visible_journey
from journey.case.models import AccessAction, CaseDocument
from journey.case.services import case as case_service
from journey.case.services.access import case_access, log_access, treating_offers
from journey.core.accounts.models import Role
from journey.core.accounts.permissions import require_authenticated, require_cluster
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.persistence import insert_on_conflict, page_of
from journey.core.types import utcnow
from journey.core.validation import at_most
from journey.messages.models import (
    MAX_BODY,
    MAX_SUBJECT,
    Message,
    MessageThread,
    ThreadMember,
    ThreadRead,
)
from journey.messages.services.notify import notify_parties
from providers.models import Offer

MAX_ATTACHMENTS = 10
NO_THREAD = _l("No such conversation.")


@dataclass
class ThreadRow:
    """A thread in a list, with the reader's unread messages."""

    thread: MessageThread
    unread: int


@dataclass
class ThreadView:
    """A thread as a reader sees it: its messages oldest first, the case documents the
    reader may open (by id) and the ones they may attach."""

    thread: MessageThread
    messages: list[Message]
    readable: dict[int, CaseDocument] = field(default_factory=dict)
    unread: int = 0  # how many were new to the reader before this read

    @property
    def journey(self) -> Journey:
        return self.thread.journey


# --- who takes part ------------------------------------------------------------------------

def members_on(journey: Journey) -> set[int]:
    """The members on ``journey``: the one that opened it and those of its offers."""
    ids = set(db.session.scalars(select(Offer.provider_id).join(
        JourneyItem, JourneyItem.offer_id == Offer.id).where(JourneyItem.journey_id == journey.id)))
    if journey.entry_provider_id is not None:
        ids.add(journey.entry_provider_id)
    return ids


def party_condition(actor):
    """SQL condition on :class:`MessageThread` (joined to its :class:`Journey`): the
    threads ``actor`` takes part in."""
    actor = require_authenticated(actor)
    if actor.role.is_cluster:
        return true()
    if actor.role == Role.PATIENT:
        return Journey.patient_id == actor.id
    return and_(visible_condition(actor), exists().where(
        ThreadMember.thread_id == MessageThread.id,
        ThreadMember.provider_id == actor.provider_id))


def get_thread(actor, thread_id: int) -> MessageThread:
    """A thread ``actor`` takes part in; 404 for anyone else, whatever the id."""
    thread = db.session.scalar(select(MessageThread).join(
        Journey, Journey.id == MessageThread.journey_id).where(
        MessageThread.id == thread_id, party_condition(actor)))
    if thread is None:
        raise NotFound(NO_THREAD)
    return thread


def writing_refusal(journey: Journey) -> Conflict | None:
    """Why nobody may write on ``journey`` any more: its patient has been erased."""
    if journey.patient is not None and journey.patient.erased_at is not None:
        return Conflict(_l("The patient's data has been erased: this conversation is "
                           "closed."))
    return None


def _clean_body(body) -> str:
    text = (body or "").strip() if isinstance(body, str) else ""
    if not text:
        raise InvalidInput(fields={"body": [_l("Write a message.")]})
    if len(text) > MAX_BODY:
        raise InvalidInput(fields={"body": [at_most(MAX_BODY)]})
    if "\x00" in text:
        raise InvalidInput(fields={"body": [_l("Text may not contain NUL characters.")]})
    return text


def _clean_subject(subject) -> str:
    # One line: it goes into e-mail subjects.
    text = " ".join(str(subject or "").replace("\x00", " ").split())
    if not text:
        raise InvalidInput(fields={"subject": [_l("Give the conversation a subject.")]})
    if len(text) > MAX_SUBJECT:
        raise InvalidInput(fields={"subject": [at_most(MAX_SUBJECT)]})
    return text


def _subject_and_body(subject, body) -> tuple[str, str]:
    """Both cleaned, or one refusal that names every wrong field (an empty subject and
    an empty message were refused one after the other, in two rounds)."""
    errors: dict[str, list] = {}
    cleaned = []
    for clean, value in ((_clean_subject, subject), (_clean_body, body)):
        try:
            cleaned.append(clean(value))
        except InvalidInput as refused:
            errors.update(refused.fields)
    if errors:
        raise InvalidInput(fields=errors)
    return cleaned[0], cleaned[1]


def _parties(actor, journey: Journey, provider_ids) -> list[int]:
    wanted = sorted({int(p) for p in provider_ids or []})
    if actor.role.is_member:
        if any(p != actor.provider_id for p in wanted):
            raise InvalidInput(fields={"provider_ids": [_l(
                "A member writes to the patient and the coordinators; a coordinator "
                "brings other members in.")]})
        return [actor.provider_id]
    on_journey = members_on(journey)
    if any(p not in on_journey for p in wanted):
        raise InvalidInput(fields={"provider_ids": [_l(
            "Only the members on this journey take part in its conversations.")]})
    return wanted


# --- the case documents a reader sees ------------------------------------------------------

def reads_case(actor, journey: Journey) -> bool:
    """Whether ``actor`` sees the case's documents without stating a reason: the patient,
    the journey's coordinator, a treating member. (Asked first, so that no refusal is
    logged for those who never see them.)"""
    if actor.role == Role.PATIENT:
        return journey.patient_id == actor.id
    if actor.role == Role.COORDINATOR:
        return journey.coordinator_id == actor.id
    if actor.role.is_member:
        return any(o.provider_id == actor.provider_id for o in treating_offers(journey.id))
    return False


def attachable_documents(actor, journey: Journey) -> list[CaseDocument]:
    """The case documents ``actor`` sees (and may attach); one access-log row when the
    list is not empty (it names medical documents)."""
    if not reads_case(actor, journey):
        return []
    access = case_access(actor, journey.id)
    documents = case_service.visible_documents(access)
    if documents:
        log_access(access, AccessAction.READ, "messages:documents")
    return documents


def _attached(actor, journey: Journey, document_ids) -> list[int]:
    wanted = list(dict.fromkeys(int(d) for d in document_ids or []))
    if not wanted:
        return []
    if len(wanted) > MAX_ATTACHMENTS:
        raise InvalidInput(fields={"document_ids": [at_most(MAX_ATTACHMENTS, "attachments")]})
    seen = {d.id for d in attachable_documents(actor, journey)}
    if any(d not in seen for d in wanted):
        raise InvalidInput(fields={"document_ids": [_l(
            "Attach only documents of this journey's case that you can see.")]})
    return wanted


# --- writing -------------------------------------------------------------------------------

def open_thread(actor, journey_id: int, subject: str, body: str, provider_ids=(),
                document_ids=(), *, now: datetime | None = None) -> MessageThread:
    """Start a conversation on a journey with its first message."""
    actor = require_authenticated(actor)
    journey = visible_journey(actor, journey_id)
    refuse(writing_refusal(journey))
    subject, text = _subject_and_body(subject, body)
    parties = _parties(actor, journey, provider_ids)
    attached = _attached(actor, journey, document_ids)
    now = now or utcnow()
    thread = MessageThread(journey_id=journey.id, subject=subject, opened_by_id=actor.id,
                           created_at=now, last_message_at=now)
    thread.members = [ThreadMember(provider_id=p, added_at=now) for p in parties]
    db.session.add(thread)
    db.session.flush()
    _write(actor, thread, text, attached, now)
    return thread


def post(actor, thread_id: int, body: str, document_ids=(), *,
         now: datetime | None = None) -> Message:
    """A message in a thread ``actor`` takes part in; each other party is told by e-mail."""
    actor = require_authenticated(actor)
    thread = get_thread(actor, thread_id)
    refuse(writing_refusal(thread.journey))
    text = _clean_body(body)
    attached = _attached(actor, thread.journey, document_ids)
    return _write(actor, thread, text, attached, now or utcnow())


def _write(actor, thread: MessageThread, text: str, attached: list[int],
           now: datetime) -> Message:
    message = Message(thread_id=thread.id, author_id=actor.id, author_role=actor.role.value,
                      author_provider_id=actor.provider_id if actor.role.is_member else None,
                      body=text, document_ids=attached, created_at=now)
    db.session.add(message)
    thread.last_message_at = now
    db.session.flush()
    _mark_read(actor, thread, message.id, now)
    notify_parties(thread, message, actor, now=now)
    return message


def add_member(actor, thread_id: int, provider_id: int, *,
               now: datetime | None = None) -> MessageThread:
    """A coordinator brings a member on the journey into a thread (from now on it
    reads the whole thread)."""
    require_cluster(actor)
    thread = get_thread(actor, thread_id)
    refuse(writing_refusal(thread.journey))
    if provider_id not in members_on(thread.journey):
        raise InvalidInput(fields={"provider_id": [_l(
            "Only the members on this journey take part in its conversations.")]})
    if provider_id not in thread.provider_ids:
        # One INSERT ... ON CONFLICT DO NOTHING: two coordinators adding the same member
        # at the same moment both succeed (the second got a bare 409 from the key).
        db.session.execute(insert_on_conflict(ThreadMember.__table__).values(
            thread_id=thread.id, provider_id=provider_id, added_at=now or utcnow())
            .on_conflict_do_nothing(index_elements=["thread_id", "provider_id"]))
        db.session.expire(thread, ["members"])
    return thread


# --- reading -------------------------------------------------------------------------------

def _unread_query(user_id: int):
    """Messages that ``user_id`` has not read (after their mark) and did not write."""
    return (select(Message.thread_id, func.count(Message.id))
            .outerjoin(ThreadRead, and_(ThreadRead.thread_id == Message.thread_id,
                                        ThreadRead.user_id == user_id))
            .where(or_(Message.author_id.is_(None), Message.author_id != user_id),
                   Message.id > func.coalesce(ThreadRead.last_read_message_id, 0))
            .group_by(Message.thread_id))


def _rows(actor, threads: list[MessageThread]) -> list[ThreadRow]:
    if not threads:
        return []
    counts = dict(db.session.execute(_unread_query(actor.id).where(
        Message.thread_id.in_([t.id for t in threads]))).all())
    return [ThreadRow(t, counts.get(t.id, 0)) for t in threads]


def _listed(query):
    return query.options(selectinload(MessageThread.members).joinedload(ThreadMember.provider)
                         ).order_by(MessageThread.last_message_at.desc(),
                                    MessageThread.id.desc())


def threads(actor, journey_id: int) -> list[ThreadRow]:
    """The journey's threads ``actor`` takes part in, the latest first, with unread counts."""
    actor = require_authenticated(actor)
    journey = visible_journey(actor, journey_id)
    found = db.session.scalars(_listed(select(MessageThread).join(
        Journey, Journey.id == MessageThread.journey_id).where(
        MessageThread.journey_id == journey.id, party_condition(actor)))).all()
    return _rows(actor, list(found))


def inbox(actor, *, page: int = 1, per_page: int = 20,
          unread_only: bool = False) -> tuple[list[ThreadRow], int]:
    """Every thread ``actor`` takes part in, across journeys, the latest first: a
    patient's, a member's (for its staff) or all (for the cluster)."""
    actor = require_authenticated(actor)
    query = select(MessageThread).join(Journey, Journey.id == MessageThread.journey_id).where(
        party_condition(actor))
    if unread_only:
        unread = _unread_query(actor.id).subquery()
        query = query.join(unread, unread.c.thread_id == MessageThread.id)
    found, total = page_of(_listed(query), page=page, per_page=per_page)
    return _rows(actor, list(found)), total


def unread_total(actor) -> int:
    """The unread messages for the navigation, in one query: of the patient's journeys,
    of the member's threads; for the cluster, of the journeys the coordinator
    coordinates and of those that nobody coordinates yet (all threads stay readable in
    the inbox)."""
    actor = require_authenticated(actor)
    query = (select(func.count(Message.id))
             .join(MessageThread, MessageThread.id == Message.thread_id)
             .join(Journey, Journey.id == MessageThread.journey_id)
             .outerjoin(ThreadRead, and_(ThreadRead.thread_id == Message.thread_id,
                                         ThreadRead.user_id == actor.id))
             .where(party_condition(actor),
                    or_(Message.author_id.is_(None), Message.author_id != actor.id),
                    Message.id > func.coalesce(ThreadRead.last_read_message_id, 0)))
    if actor.role.is_cluster:
        query = query.where(or_(Journey.coordinator_id == actor.id,
                                Journey.coordinator_id.is_(None)))
    return db.session.scalar(query) or 0


def thread(actor, thread_id: int, *, now: datetime | None = None) -> ThreadView:
    """A thread's messages, oldest first, for a party; marks them read."""
    actor = require_authenticated(actor)
    found = get_thread(actor, thread_id)
    messages = list(db.session.scalars(select(Message).where(Message.thread_id == found.id)
                                       .options(selectinload(Message.author),
                                                selectinload(Message.author_provider))
                                       .order_by(Message.id)))
    unread = dict(db.session.execute(_unread_query(actor.id).where(
        Message.thread_id == found.id)).all()).get(found.id, 0)
    readable = {}
    if any(m.document_ids for m in messages) or reads_case(actor, found.journey):
        readable = {d.id: d for d in attachable_documents(actor, found.journey)}
    if messages:
        _mark_read(actor, found, messages[-1].id, now or utcnow())
    return ThreadView(found, messages, readable, unread)


def _mark_read(actor, thread: MessageThread, message_id: int, now: datetime) -> None:
    """Move the reader's mark forward to ``message_id`` (never back)."""
    row = db.session.scalar(select(ThreadRead).where(ThreadRead.thread_id == thread.id,
                                                     ThreadRead.user_id == actor.id))
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(ThreadRead(thread_id=thread.id, user_id=actor.id,
                                          last_read_message_id=message_id, read_at=now))
            return
        except IntegrityError:  # the same reader, in another tab at the same moment
            row = db.session.scalar(select(ThreadRead).where(
                ThreadRead.thread_id == thread.id, ThreadRead.user_id == actor.id))
    if row.last_read_message_id < message_id:
        row.last_read_message_id, row.read_at = message_id, now
    db.session.flush()


# --- attachments ---------------------------------------------------------------------------

def open_attachment(actor, message_id: int, document_id: int, *,
                    reason: str | None = None) -> tuple[CaseDocument, bytes]:
    """A document attached to a message, opened through the case service (its access
    rules, one access-log row); a party that may not see it is refused, and told why."""
    actor = require_authenticated(actor)
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound(_l("No such message."))
    found = get_thread(actor, message.thread_id)
    if document_id not in (message.document_ids or []):
        raise NotFound(_l("No such attachment."))
    document = db.session.get(CaseDocument, document_id)
    if document is None or document.deleted_at is not None \
            or document.journey_id != found.journey_id:
        raise NotFound(_l("This document has been removed from the case."))
    try:
        return case_service.open_document(actor, found.journey_id, document_id,
                                          reason=reason)
    except NotFound:  # the case hides it from this reader: say so plainly
        raise Forbidden(_l("This document has not been shared with your member: ask the "
                           "patient to share it on the case page.")) from None


# --- the patient's rights ------------------------------------------------------------------

def export_messages(journey_ids: list[int]) -> list[dict]:
    """The threads of ``journey_ids`` with their messages, for the patient's export."""
    found = db.session.scalars(select(MessageThread).where(
        MessageThread.journey_id.in_(journey_ids)).order_by(MessageThread.id)).all()
    return [{"journey_id": t.journey_id, "subject": t.subject,
             "created_at": t.created_at.isoformat(), "members": t.provider_ids,
             "messages": [{"author_role": m.author_role, "author_id": m.author_id,
                           "member_id": m.author_provider_id, "body": m.body,
                           "document_ids": m.document_ids or [],
                           "created_at": m.created_at.isoformat()} for m in t.messages]}
            for t in found]


def erase_messages(journey_ids: list[int]) -> None:
    """Erasure: the threads of ``journey_ids`` lose their subjects, texts and
    attachments (the rows stay, so that the other parties' lists do not change)."""
    if not journey_ids:
        return
    thread_ids = select(MessageThread.id).where(MessageThread.journey_id.in_(journey_ids))
    db.session.execute(Message.__table__.update().where(
        Message.thread_id.in_(thread_ids)).values(body="", document_ids=[]))
    db.session.execute(MessageThread.__table__.update().where(
        MessageThread.journey_id.in_(journey_ids)).values(subject="—"))

