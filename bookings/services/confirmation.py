"""The members' side of a booking: their inbox of requests with deadlines, accept or
decline, and the patient's decision after a decline (go on without the declined
lines, capturing only the confirmed part, or cancel)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import (
    Booking,
    BookingLine,
    BookingStatus,
    EscalationKind,
    LineEndedBy,
    LineStatus,
    PaymentStatus,
)
from bookings.payments import GatewayError, StripeGateway
from bookings.services.access import (
    actor_ref,
    is_customer,
    lock_booking,
    patients_booking,
)
from bookings.services.amounts import reprice
from bookings.services.audit import end_line, move
from bookings.services.escalations import escalate, notify
from bookings.services.saga import advance, deposit_payment
from journey.core.accounts.permissions import is_cluster, require_member_access
from journey.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.reasons import Why, why
from journey.core.types import utcnow


def member_inbox(actor, provider_id: int, *, include_decided: bool = False,
                 limit: int = 200) -> list[BookingLine]:
    """The member's requests waiting for an answer, nearest deadline first (then, when
    asked, the ones it answered, newest first)."""
    require_member_access(actor, provider_id)
    waiting = list(db.session.scalars(
        select(BookingLine).join(Booking)
        .where(BookingLine.provider_id == provider_id,
               BookingLine.status == LineStatus.REQUESTED,
               Booking.status == BookingStatus.AUTHORISED)
        .order_by(BookingLine.respond_by, BookingLine.id).limit(limit)))
    if not include_decided:
        return waiting
    decided = db.session.scalars(
        select(BookingLine).where(BookingLine.provider_id == provider_id,
                                  BookingLine.decided_at.is_not(None),
                                  BookingLine.instant.is_(False))
        .order_by(BookingLine.decided_at.desc()).limit(limit))
    return waiting + list(decided)


def answer_refusal(line: BookingLine) -> DomainError | None:
    """Why the member's answer to ``line`` would be refused now (None: it is waiting
    for one). Who may answer is checked by :func:`require_member_access`."""
    if line.status != LineStatus.REQUESTED or line.booking.status != BookingStatus.AUTHORISED:
        return Conflict(_l("This request has already been answered or withdrawn."))
    return None


def _line_for_answer(actor, line_id: int) -> tuple[Booking, BookingLine]:
    line = db.session.get(BookingLine, line_id)
    if line is None:
        raise NotFound(_l("No such booking line."))
    require_member_access(actor, line.provider_id)
    booking = lock_booking(line.booking_id)
    line = db.session.get(BookingLine, line_id, populate_existing=True)
    refuse(answer_refusal(line))
    return booking, line


def accept_line(actor, line_id: int, *, gateway: StripeGateway | None = None,
                now: datetime | None = None) -> BookingLine:
    """The member confirms the line; when it was the last one, the deposit is captured
    and the booking is confirmed."""
    now = now or utcnow()
    booking, line = _line_for_answer(actor, line_id)
    line.decided_at = now
    move(booking, line, LineStatus.CONFIRMED, actor=actor_ref(actor), now=now,
         reason=why("member_accepted"))
    commit_unit()  # the answer stands, whatever happens to the capture
    advance(booking, gateway or StripeGateway.from_config(), actor=actor_ref(actor),
            now=now)
    return line


def decline_line(actor, line_id: int, reason: str, *, gateway: StripeGateway | None = None,
                 now: datetime | None = None) -> BookingLine:
    """The member cannot deliver: the units free up and the patient is asked to choose
    an alternative or to go on without this line."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 500:
        raise InvalidInput(fields={"reason": [
            _l("Tell the patient why, in 3 to 500 characters.")]})
    booking, line = _line_for_answer(actor, line_id)
    line.decided_at = now
    line.decline_reason = reason
    end_line(booking, line, LineStatus.DECLINED, ended_by=LineEndedBy.MEMBER,
             actor=actor_ref(actor), now=now, reason=why("member_declined", note=reason))
    commit_unit()
    advance(booking, gateway or StripeGateway.from_config(), actor=actor_ref(actor),
            now=now)
    return line


def decision_refusal(actor, booking: Booking) -> DomainError | None:
    """Why ``actor`` may not go on without the declined lines of ``booking`` now (None
    when they may): the patient or the cluster decides, after a decline."""
    if not (is_customer(actor, booking) or is_cluster(actor)):
        return Forbidden(_l("The patient decides (or a coordinator for them)."))
    if booking.status != BookingStatus.ACTION_REQUIRED:
        return Conflict(_l("There is nothing to decide on this booking."))
    return None


def _decider(actor, booking_id: int) -> Booking:
    return patients_booking(actor, booking_id,
                            _l("The patient decides (or a coordinator for them)."))


def proceed_without_declined(actor, booking_id: int, *, gateway: StripeGateway | None = None,
                             now: datetime | None = None) -> Booking:
    """Go on with the confirmed lines only: the declined ones leave the booking, the
    deposit shrinks in proportion and only that part is captured; Stripe releases the
    rest of the authorisation."""
    now = now or utcnow()
    gateway = gateway or StripeGateway.from_config()
    booking = _decider(actor, booking_id)
    refuse(decision_refusal(actor, booking))
    who = actor_ref(actor)
    kept = [line for line in booking.lines if line.status == LineStatus.CONFIRMED]
    for line in booking.lines:
        if line.status == LineStatus.DECLINED:
            end_line(booking, line, LineStatus.CANCELLED, ended_by=LineEndedBy.MEMBER,
                     actor=who, now=now, reason=why("declined_line_dropped"))
    if not kept:
        cancel_uncaptured(booking, gateway, actor=who, now=now,
                           reason=why("all_declined"), ended_by=LineEndedBy.MEMBER)
        return booking
    reprice(booking, captured=False)  # the deposit shrinks in proportion
    move(booking, booking, BookingStatus.AUTHORISED, actor=who, now=now,
         reason=why("patient_went_on"))
    commit_unit()
    advance(booking, gateway, actor=who, now=now)
    return booking


def cancel_uncaptured(booking: Booking, gateway: StripeGateway, *, actor: str,
                       now: datetime, reason: Why, ended_by: LineEndedBy) -> None:
    """End a booking nothing was captured for: release the authorisation and lines."""
    for line in booking.lines:
        if line.active:
            end_line(booking, line, LineStatus.CANCELLED, ended_by=ended_by, actor=actor,
                     now=now, reason=reason)
    payment = deposit_payment(booking)
    move(booking, booking, BookingStatus.CANCELLED, actor=actor, now=now, reason=reason)
    commit_unit()
    if payment is not None and payment.intent_id and payment.status in (
            PaymentStatus.AUTHORISED, PaymentStatus.REQUIRES_PAYMENT_METHOD,
            PaymentStatus.REQUIRES_ACTION):
        try:
            gateway.cancel(payment.intent_id)
        except GatewayError:  # the reconcile job releases it later
            return
        move(booking, payment, PaymentStatus.CANCELLED, actor=actor, now=now,
             reason=why("authorisation_released"))
        commit_unit()


def chase_deadlines(*, now: datetime | None = None) -> int:
    """Requests past their deadline go to a coordinator (once each); a member with a
    request still open is reminded once, when less than half its time is left.
    Returns how many escalations were opened."""
    now = now or utcnow()
    remind_within = timedelta(hours=current_app.config["MEMBER_RESPONSE_HOURS"]) / 2
    opened = 0
    lines = db.session.scalars(select(BookingLine).join(Booking).where(
        BookingLine.status == LineStatus.REQUESTED,
        Booking.status == BookingStatus.AUTHORISED,
        BookingLine.respond_by.is_not(None))).all()
    for line in lines:
        if line.respond_by <= now:
            opened += escalate(line.booking, EscalationKind.MEMBER_DEADLINE, line=line,
                               now=now, detail=why("no_answer", deadline_at=line.respond_by))
        elif line.respond_by - now <= remind_within:
            notify(line.booking, f"provider:{line.provider_id}", "request_reminder",
                   f"line:{line.id}", now=now, payload={"line_id": line.id})
    commit_unit()
    return opened
