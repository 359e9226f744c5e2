"""Messages per journey: threads between the patient, the cluster (its coordinators)
and the members concerned, their messages and each reader's read mark.

The patient and the cluster are parties of every thread of the journey; the members
that take part are listed in :class:`ThreadMember`. A reader's unread messages are those
of a thread after their :class:`ThreadRead` mark that someone else wrote: one indexed
range per thread (``ix_message_thread``), no row per message and reader.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.builder.models import Journey
from journey.core.accounts.models import User
from journey.core.extensions import db
from journey.core.types import UTCDateTime, utcnow
from providers.models import Provider

MAX_SUBJECT = 200
MAX_BODY = 5000


class MessageThread(db.Model):
    """A conversation on a journey, under a subject."""

    __tablename__ = "message_thread"
    __table_args__ = (Index("ix_message_thread_journey", "journey_id", "last_message_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When its last message was written (the inboxes' order).
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    journey: Mapped[Journey] = relationship()
    opened_by: Mapped[User | None] = relationship()
    members: Mapped[list[ThreadMember]] = relationship(
        back_populates="thread", cascade="all, delete-orphan", order_by="ThreadMember.provider_id")
    messages: Mapped[list[Message]] = relationship(
        back_populates="thread", cascade="all, delete-orphan", order_by="Message.id")

    @property
    def provider_ids(self) -> list[int]:
        return [m.provider_id for m in self.members]


class ThreadMember(db.Model):
    """A member (its staff) taking part in a thread."""

    __tablename__ = "message_thread_member"
    __table_args__ = (Index("ix_message_thread_member_provider", "provider_id", "thread_id"),)

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("message_thread.id", ondelete="CASCADE"), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    thread: Mapped[MessageThread] = relationship(back_populates="members")
    provider: Mapped[Provider] = relationship()


class Message(db.Model):
    """One message of a thread: who wrote it (with their role and member when written)
    and the case documents it points to (their ids; opened through the case service)."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_thread", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_thread.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    author_role: Mapped[str] = mapped_column(String(40))
    author_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    document_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    thread: Mapped[MessageThread] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    author_provider: Mapped[Provider | None] = relationship()


class ThreadRead(db.Model):
    """How far a reader has read a thread: the last message id they saw."""

    __tablename__ = "message_thread_read"
    __table_args__ = (UniqueConstraint("user_id", "thread_id",
                                       name="uq_message_thread_read_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_thread.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    last_read_message_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
