"""What a coordinator must look at (escalations) and what people are told
(notifications, an outbox). Each names its fact in a unique key, so a job that runs
twice, or a webhook delivered twice, opens one escalation and sends one message."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import Booking, BookingLine, Escalation, EscalationKind, Notification, Payment
from bookings.services.access import actor_ref
from journey.core.accounts.permissions import require_cluster
from journey.core.errors import Conflict, NotFound
from journey.core.extensions import db
from journey.core.persistence import insert_once
from journey.core.reasons import Why
from journey.core.types import utcnow


def _add_once(row) -> bool:
    """Write ``row`` (an escalation or a notification) unless its fact's key is there."""
    return insert_once(row, unique="key") is not None


def escalate(booking: Booking, kind: EscalationKind, *, line: BookingLine | None = None,
             payment: Payment | None = None, now: datetime, detail: Why | str = "",
             key: str | None = None) -> bool:
    """Open an escalation for a coordinator, once per fact."""
    subject = f"line:{line.id}" if line is not None else \
        f"payment:{payment.id}" if payment is not None else f"booking:{booking.id}"
    escalation = Escalation(
        key=key or f"{kind.value}:{subject}", kind=kind, booking_id=booking.id,
        line_id=line.id if line is not None else None,
        payment_id=payment.id if payment is not None else None, opened_at=now)
    escalation.set_reason(detail)
    if not _add_once(escalation):
        return False
    # The coordinators hear of it by e-mail (journey/mail.py says it in their language).
    _add_once(Notification(
        key=f"escalation:{escalation.key}"[:120], recipient="coordinators",
        kind="escalation_opened", booking_id=booking.id,
        payload={"escalation_kind": kind.value}, created_at=now))
    return True


def notify(booking: Booking, recipient: str, kind: str, fact: str, *, now: datetime,
           payload: dict | None = None) -> bool:
    """Queue a message to ``recipient`` (``user:7``, ``provider:3``), once per fact."""
    return _add_once(Notification(
        key=f"{kind}:{fact}", recipient=recipient, kind=kind, booking_id=booking.id,
        payload=payload or {}, created_at=now))


def list_escalations(actor, *, open_only: bool = True, kind: EscalationKind | None = None
                     ) -> list[Escalation]:
    require_cluster(actor)
    query = select(Escalation).order_by(Escalation.opened_at, Escalation.id)
    if open_only:
        query = query.where(Escalation.resolved_at.is_(None))
    if kind is not None:
        query = query.where(Escalation.kind == EscalationKind(kind))
    return list(db.session.scalars(query))


def resolve_escalation(actor, escalation_id: int, *, note: str = "",
                       now: datetime | None = None) -> Escalation:
    require_cluster(actor)
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(_l("No such escalation."))
    if escalation.resolved_at is not None:
        raise Conflict(_l("This escalation is already resolved."))
    escalation.resolved_at = now or utcnow()
    escalation.resolved_by = actor_ref(actor)
    escalation.note = note
    db.session.flush()
    return escalation
