"""Cancellations and refunds.

A line cancelled by the patient (or a coordinator) after capture keeps the fee its
offer's cancellation terms allow the member; one cancelled by its member, or before
anything was captured, keeps nothing. The booking then owes the remaining lines plus
the fees kept; whatever was paid beyond that goes back through Stripe, from the
newest captured payment first, and never more than a payment captured: each refund
row counts against its payment from the moment it is written, under the booking's
lock, before Stripe is called (its id is the idempotency key).

**Preview and effect from one computation.** :func:`plan_cancellation` works out, for
the lines about to be cancelled, the fee each keeps (its terms, then capped when nothing
is left to deliver, see :func:`_cap_fees`), what the booking then owes and what goes
back. :func:`preview_cancellation` shows it to the patient before they confirm;
:func:`cancel_line` and :func:`cancel_booking` compute the same plan under the booking's
lock and apply its fees, so the refund they make is the one previewed. A caller that
passes ``expect_refund_minor`` (the amount the patient saw) gets a 409 instead of a
different refund when the terms moved on in between (e.g. a tier's day passed).
**Insurers.** A line an insurer covers part of keeps its fee on its full price (the
patient's amount and the insurer's share), split between the payers in proportion to
their shares (:func:`fee_parts`): the patient's refund is computed on their part as
above; the insurer's receivable drops to its part of the fee (``covered_kept_minor``),
and what it paid beyond that is owed back to it (recorded, a bank transfer). The plan
carries both sides.
Per line, the refund is the plan's total spread over the cancelled lines in proportion
to what each gives back (price less fee), and "paid" the payments spread over what each
line owes; for one line cancelled alone the refund is that line's.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

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
    Refund,
    RefundStatus,
)
from bookings.payments import GatewayError, StripeGateway
from bookings.services.access import (
    actor_ref,
    get_visible_booking,
    is_customer,
    lock_booking,
    member_of,
    patients_booking,
)
from bookings.services.amounts import paid_minor, reprice
from bookings.services.audit import end_line, line_cancellation_settled, move, record
from bookings.services.confirmation import cancel_uncaptured
from bookings.services.escalations import escalate, notify
from bookings.services.holds import release_holds
from bookings.services.saga import OPEN_PAYMENT, advance
from bookings.services.settlement import (
    insurer_owed,
    post_cancelled_line,
    receivable_of,
    sync_receivable,
)
from journey.core.accounts.permissions import is_cluster
from journey.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, refuse
from journey.core.extensions import db
from journey.core.money import percent_of, split_minor
from journey.core.persistence import commit_unit
from journey.core.reasons import Why, why
from journey.core.types import today_in, utcnow
from journey.core.validation import at_most
from providers.models import Offer, Provider
from providers.services.offers import refund_percent

UNCAPTURED = (BookingStatus.AUTHORISED, BookingStatus.ACTION_REQUIRED)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise InvalidInput(fields={"reason": [at_most(500)]})
    return reason


def fee_parts(line: BookingLine, *, now: datetime) -> tuple[int, int]:
    """What the member keeps of ``line`` if the patient cancels it ``now``, as
    ``(the patient's part, the insurer's part)``: the part its cancellation terms do
    not refund of what the payers pay for it (the patient's amount and the insurer's
    covered share), counted in days before the start in the member's time zone, split
    between the payers in proportion to their shares."""
    offer = db.session.get(Offer, line.offer_id)
    provider = db.session.get(Provider, line.provider_id)
    today = today_in(provider.timezone, now)
    full = line.amount_minor + line.covered_minor
    fee = full - percent_of(full, refund_percent(offer, (line.start_on - today).days))
    if not line.covered_minor:
        return fee, 0
    patient, insurer = split_minor(fee, [line.amount_minor, line.covered_minor])
    return patient, insurer


def cancellation_fee(line: BookingLine, *, now: datetime) -> int:
    """The patient's part of the fee :func:`fee_parts` computes."""
    return fee_parts(line, now=now)[0]


@dataclass(frozen=True)
class LinePlan:
    """One line in a cancellation plan (minor units of the booking's currency)."""

    line_id: int
    currency: str
    amount_minor: int  # its price
    paid_minor: int  # its share of what was paid
    fee_minor: int  # what its member keeps, after the cap
    refund_minor: int  # its share of the refund


@dataclass(frozen=True)
class CancellationPlan:
    """What cancelling ``lines`` of a booking would do now (see the module)."""

    booking_id: int
    currency: str
    captured: bool  # False: nothing was charged yet, the card's hold is released
    lines: tuple[LinePlan, ...]
    paid_minor: int  # paid for the booking so far
    fee_minor: int  # kept by the members, for these lines
    refund_minor: int  # given back
    owed_after_minor: int  # what the booking owes afterwards
    whole_booking: bool  # nothing is left to deliver afterwards
    #: Fees by line id: under the terms, and after the cap (what the lines keep).
    fees: dict
    kept: dict
    #: The insurer's side (0 without one): its part of the fees by line id, what it
    #: keeps owing for these lines, how much its receivable drops, and of that what is
    #: owed back to it because it paid already (a bank transfer the cluster records).
    insurer_fees: dict = None
    insurer_fee_minor: int = 0
    insurer_reduction_minor: int = 0
    insurer_credit_minor: int = 0

    @property
    def kept_paid_minor(self) -> int:
        """What was paid and is not given back: it stays with the booking and counts
        towards what it owes afterwards."""
        return self.paid_minor - self.refund_minor

    @property
    def still_due_minor(self) -> int:
        """What is left to pay afterwards (the balance still to come)."""
        return max(0, self.owed_after_minor - self.kept_paid_minor) if self.captured else 0


def plan_cancellation(booking: Booking, lines: list[BookingLine], *, by_member: bool,
                      now: datetime) -> CancellationPlan:
    """The fees, the refund and what stays owed if ``lines`` are cancelled ``now``,
    computed without changing anything."""
    ids = [line.id for line in lines]
    captured = booking.status not in (*UNCAPTURED, BookingStatus.PENDING_PAYMENT)
    parts = {line.id: (0, 0) if (by_member or not captured) else fee_parts(line, now=now)
             for line in lines}
    fees = {line_id: part[0] for line_id, part in parts.items()}
    insurer_fees = {line_id: part[1] for line_id, part in parts.items()}
    kept = dict(fees)
    paid = paid_minor(booking)

    def owed() -> int:
        return sum(kept.get(o.id, o.kept_minor if o.status == LineStatus.CANCELLED
                            else o.amount_minor) for o in booking.lines)

    whole = not any(o.active and o.id not in kept for o in booking.lines)
    if captured and whole:  # as _cap_fees: the newest fees shrink to what was paid
        excess = owed() - paid
        for line in reversed(lines):
            take = min(excess, kept[line.id])
            if take <= 0:
                break
            kept[line.id] -= take
            excess -= take
    owed_after = owed() if captured else 0
    refund = max(0, paid - owed_after) if captured else 0
    by_id = {line.id: line for line in lines}
    gives_back = [max(0, by_id[i].amount_minor - kept[i]) for i in ids]
    if sum(gives_back) == 0:
        gives_back = [1] * len(ids)
    refunds = split_minor(refund, gives_back)
    owing = [o for o in booking.lines if o.active or o.status == LineStatus.CANCELLED]
    shares = dict(zip([o.id for o in owing], split_minor(paid, [
        o.kept_minor if o.status == LineStatus.CANCELLED else o.amount_minor
        for o in owing]), strict=True))
    rows = tuple(LinePlan(line_id=i, currency=booking.currency,
                          amount_minor=by_id[i].amount_minor, paid_minor=shares.get(i, 0),
                          fee_minor=kept[i], refund_minor=share)
                 for i, share in zip(ids, refunds, strict=True))
    reduction = sum(line.covered_minor - insurer_fees[line.id] for line in lines) \
        if captured else 0
    receivable = receivable_of(booking.id)
    credit = 0
    if receivable is not None:
        credit = max(0, receivable.paid_minor - (insurer_owed(booking) - reduction)) - \
            max(0, receivable.paid_minor - insurer_owed(booking))
    return CancellationPlan(
        booking_id=booking.id, currency=booking.currency, captured=captured, lines=rows,
        paid_minor=paid, fee_minor=sum(kept.values()), refund_minor=refund,
        owed_after_minor=owed_after, whole_booking=whole, fees=fees, kept=kept,
        insurer_fees=insurer_fees, insurer_fee_minor=sum(insurer_fees.values()),
        insurer_reduction_minor=reduction, insurer_credit_minor=credit)


def preview_cancellation(actor, booking_id: int, line_id: int | None = None, *,
                         now: datetime | None = None) -> CancellationPlan:
    """What cancelling the booking (or its line ``line_id``) would keep and give back,
    per line and in total: the computation :func:`cancel_line` and
    :func:`cancel_booking` apply. Refused as they would refuse."""
    now = now or utcnow()
    if line_id is None:
        booking = patients_booking(actor, booking_id,
                                   _l("The patient cancels (or a coordinator for them)."))
        refuse(booking_cancel_refusal(actor, booking, now=now))
        return plan_cancellation(booking, [line for line in booking.lines if line.active],
                                 by_member=False, now=now)
    line = db.session.get(BookingLine, line_id)
    if line is None or line.booking_id != booking_id:
        raise NotFound(_l("No such booking line."))
    booking = get_visible_booking(actor, booking_id)
    refuse(line_cancel_refusal(actor, booking, line, now=now))
    return plan_cancellation(booking, [line], by_member=_by_member(actor, booking), now=now)


def _check_expected(plan: CancellationPlan, expect_refund_minor: int | None) -> None:
    if expect_refund_minor is not None and expect_refund_minor != plan.refund_minor:
        raise Conflict(_l("The amounts have changed since you looked: please review the "
                          "cancellation again."))


def cancel_line(actor, line_id: int, *, reason: str = "", gateway: StripeGateway | None = None,
                now: datetime | None = None,
                expect_refund_minor: int | None = None) -> BookingLine:
    now = now or utcnow()
    reason = _reason(reason)
    gateway = gateway or StripeGateway.from_config()
    line = db.session.get(BookingLine, line_id)
    if line is None:
        raise NotFound(_l("No such booking line."))
    booking = get_visible_booking(actor, line.booking_id, lock=True)
    line = db.session.get(BookingLine, line_id, populate_existing=True)
    refuse(line_cancel_refusal(actor, booking, line, now=now))
    by_member = _by_member(actor, booking)
    plan = plan_cancellation(booking, [line], by_member=by_member, now=now)
    _check_expected(plan, expect_refund_minor)
    who = actor_ref(actor)
    ended_by = LineEndedBy.MEMBER if by_member else _ended_by(actor)
    cause = why("cancelled_by_member" if by_member else "cancelled", note=reason)
    if booking.status in UNCAPTURED:
        _drop_uncaptured_line(booking, line, gateway, actor=who, now=now, reason=cause,
                              ended_by=ended_by)
        return line
    line.kept_minor = plan.fees[line.id]
    line.covered_kept_minor = plan.insurer_fees[line.id]
    if by_member:  # the patient is offered alternatives for it, like after a decline
        line.decline_reason = reason
    end_line(booking, line, LineStatus.CANCELLED, ended_by=ended_by, actor=who, now=now,
             reason=_fee_kept(booking, line, cause))
    reprice(booking, captured=True)
    _cap_fees(booking, [line], plan)
    _settle_lines(booking, [line], now=now)
    sync_receivable(booking, now=now)
    if by_member:
        notify(booking, booking.customer_ref, "line_cancelled_by_member", f"line:{line.id}",
               now=now, payload={"line_id": line.id, "reason": reason})
        escalate(booking, EscalationKind.LINE_DECLINED, line=line, now=now,
                 detail=cause, key=f"member_cancel:line:{line.id}")
    _settle_after_cancel(booking, gateway, actor=who, now=now, reason=cause, line=line)
    return line


#: The states a booking may be cancelled from (by its patient or the cluster).
CANCELLABLE = (BookingStatus.PENDING_PAYMENT, BookingStatus.AUTHORISED,
               BookingStatus.ACTION_REQUIRED, BookingStatus.CONFIRMED)
#: The states in which no line of a booking may be cancelled on its own.
LINES_FIXED = (BookingStatus.PENDING_PAYMENT, BookingStatus.CANCELLED, BookingStatus.EXPIRED,
               BookingStatus.FAILED)


def _by_member(actor, booking: Booking) -> bool:
    return not (is_cluster(actor) or is_customer(actor, booking))


def line_cancel_refusal(actor, booking: Booking, line: BookingLine, *,
                        now: datetime | None = None) -> DomainError | None:
    """Why ``actor`` may not cancel ``line`` now (None when they may): the patient, the
    cluster, or the line's own member, while the line is active, the booking paid for
    (before that, the whole booking is cancelled instead) and its service has not yet
    taken place (:func:`taken_place`)."""
    if _by_member(actor, booking) and not (member_of(actor, booking)
                                           and actor.provider_id == line.provider_id):
        return Forbidden(_l("Only the patient, a coordinator or the line's member may "
                            "cancel it."))
    if line.status == LineStatus.CANCELLED:
        return Conflict(_l("This line is already cancelled."))
    if line.active and booking.status == BookingStatus.PENDING_PAYMENT:
        return Conflict(_l("This booking is not paid yet, so its lines cannot be cancelled "
                           "one by one: cancel the whole booking instead."))
    if not line.active or booking.status in LINES_FIXED:
        return Conflict(_l("This line cannot be cancelled any more."))
    if taken_place(line, now=now):
        return Conflict(_l("This part of the journey has already taken place: it cannot "
                           "be cancelled."))
    return None


def booking_cancel_refusal(actor, booking: Booking, *,
                           now: datetime | None = None) -> DomainError | None:
    """Why ``actor`` may not cancel ``booking`` now (None when they may). Once a part
    of it has taken place, only the parts still to come are cancelled, one by one:
    cancelling the whole would cancel what was delivered too (and, with nothing left
    to deliver, shrink its fees to what had been paid)."""
    if not (is_customer(actor, booking) or is_cluster(actor)):
        return Forbidden(_l("The patient cancels (or a coordinator for them)."))
    if booking.status not in CANCELLABLE:
        return Conflict(_l("This booking has already ended."))
    past = [taken_place(line, now=now) for line in booking.lines if line.active]
    if past and all(past):
        return Conflict(_l("This booking has already taken place: it cannot be "
                           "cancelled."))
    if any(past):
        return Conflict(_l("Part of this booking has already taken place: cancel the "
                           "parts still to come one by one."))
    return None


def taken_place(line: BookingLine, *, now: datetime | None = None) -> bool:
    """The line's last day is over (its ``end_on``, the day after it, has come) by the
    cluster's calendar: what was delivered is not cancelled afterwards."""
    return line.end_on is not None and line.end_on <= today_in(now=now)


def cancel_booking(actor, booking_id: int, *, reason: str = "",
                   gateway: StripeGateway | None = None, now: datetime | None = None,
                   expect_refund_minor: int | None = None) -> Booking:
    """Cancel every line still active (each under its own terms), or, before anything
    was captured, end the booking and release the card."""
    now = now or utcnow()
    cause = why("cancelled", note=_reason(reason))
    gateway = gateway or StripeGateway.from_config()
    booking = patients_booking(actor, booking_id,
                               _l("The patient cancels (or a coordinator for them)."))
    refuse(booking_cancel_refusal(actor, booking, now=now))
    cancelled = [line for line in booking.lines if line.active]
    plan = plan_cancellation(booking, cancelled, by_member=False, now=now)
    _check_expected(plan, expect_refund_minor)
    who = actor_ref(actor)
    ended_by = _ended_by(actor)
    if booking.status == BookingStatus.PENDING_PAYMENT:
        release_holds(booking.hold_group, now=now)
        cancel_uncaptured(booking, gateway, actor=who, now=now, reason=cause,
                          ended_by=ended_by)
        return booking
    if booking.status in UNCAPTURED:
        cancel_uncaptured(booking, gateway, actor=who, now=now, reason=cause,
                          ended_by=ended_by)
        return booking
    for line in cancelled:
        line.kept_minor = plan.fees[line.id]
        line.covered_kept_minor = plan.insurer_fees[line.id]
        end_line(booking, line, LineStatus.CANCELLED, ended_by=ended_by, actor=who,
                 now=now, reason=_fee_kept(booking, line, cause))
    reprice(booking, captured=True)
    _cap_fees(booking, cancelled, plan)
    _settle_lines(booking, cancelled, now=now)
    sync_receivable(booking, now=now)
    _settle_after_cancel(booking, gateway, actor=who, now=now, reason=cause)
    return booking


def _ended_by(actor) -> LineEndedBy:
    return LineEndedBy.CLUSTER if is_cluster(actor) else LineEndedBy.PATIENT


def _fee_kept(booking: Booking, line: BookingLine, cause: Why) -> Why:
    return why("cancelled_fee_kept", note=cause.note, kept_minor=line.kept_minor,
               currency=booking.currency)


def _cap_fees(booking: Booking, lines: list[BookingLine], plan: CancellationPlan) -> None:
    """When nothing is left to deliver, nothing more will be collected: the fees kept
    shrink (the newest first) to what was paid, so the members are never owed money
    the patient does not pay. The shrunk fees are the plan's (:func:`plan_cancellation`
    computes them)."""
    if any(line.active for line in booking.lines):
        return  # the balance still falls due and collects the fees
    for line in lines:
        line.kept_minor = plan.kept[line.id]
    reprice(booking, captured=True)


def _settle_lines(booking: Booking, lines: list[BookingLine], *, now: datetime) -> None:
    """The cancelled ``lines``' fees are final (:func:`_cap_fees` has run): their ledger
    is reversed less the fees, and whoever follows hears of it (the invoice's credit
    note for what each line no longer costs)."""
    for line in lines:
        post_cancelled_line(booking, line, now=now)
        line_cancellation_settled.send(booking, line=line, now=now)


def _drop_uncaptured_line(booking: Booking, line: BookingLine, gateway: StripeGateway, *,
                          actor: str, now: datetime, reason: Why,
                          ended_by: LineEndedBy) -> None:
    """Before capture nothing is kept: the line leaves, the deposit shrinks in
    proportion, and the booking goes on (it may now be ready to capture)."""
    end_line(booking, line, LineStatus.CANCELLED, ended_by=ended_by, actor=actor, now=now,
             reason=reason)
    if not any(other.active for other in booking.lines):
        cancel_uncaptured(booking, gateway, actor=actor, now=now, reason=reason,
                          ended_by=ended_by)
        return
    reprice(booking, captured=False)
    if booking.status == BookingStatus.ACTION_REQUIRED and not any(
            other.status == LineStatus.DECLINED for other in booking.lines):
        move(booking, booking, BookingStatus.AUTHORISED, actor=actor, now=now,
             reason=why("declined_line_gone"))
    commit_unit()
    advance(booking, gateway, actor=actor, now=now)


def _settle_after_cancel(booking: Booking, gateway: StripeGateway, *, actor: str,
                         now: datetime, reason: Why, line: BookingLine | None = None) -> None:
    """After a cancellation of a captured booking: refund what was paid beyond what
    is now owed, drop an unpaid balance request, end the booking if nothing is left."""
    for payment in booking.payments:  # a balance asked for the old total
        if payment.status in OPEN_PAYMENT:
            if payment.intent_id is not None:  # else the client could still confirm it
                with contextlib.suppress(GatewayError):  # (it lapses at Stripe)
                    gateway.cancel(payment.intent_id)
            move(booking, payment, PaymentStatus.CANCELLED, actor=actor, now=now,
                 reason=why("amount_owed_changed"))
    refunds = _plan_refunds(booking, paid_minor(booking) - booking.total_minor, line=line,
                            reason=reason, now=now)
    if not any(other.active for other in booking.lines):
        move(booking, booking, BookingStatus.CANCELLED, actor=actor, now=now, reason=reason)
    commit_unit()  # the refund rows exist before Stripe is called
    for refund in refunds:
        send_refund(refund, gateway, actor=actor, now=now)
    commit_unit()


def _plan_refunds(booking: Booking, amount: int, *, line: BookingLine | None, reason: Why,
                  now: datetime) -> list[Refund]:
    refunds = []
    for payment in sorted(booking.payments, key=lambda p: p.id, reverse=True):
        if amount <= 0:
            break
        take = min(amount, payment.refundable_minor)
        if take <= 0:
            continue
        payment.refunded_minor += take
        refund = Refund(booking_id=booking.id, payment_id=payment.id,
                        line_id=line.id if line is not None else None, amount_minor=take,
                        currency=booking.currency, status=RefundStatus.CREATED,
                        created_at=now)
        refund.set_reason(reason)
        db.session.add(refund)
        db.session.flush()
        record(booking, "refund", refund.id, None, RefundStatus.CREATED, actor="system",
               now=now, reason=why("refund_planned", amount_minor=take,
                                     currency=booking.currency, payment=payment.id))
        refunds.append(refund)
        amount -= take
    return refunds


def send_refund(refund: Refund, gateway: StripeGateway, *, actor: str,
                now: datetime) -> bool:
    """Ask Stripe for the refund (or find the one a crash left unrecorded)."""
    if refund.status != RefundStatus.CREATED:
        return False
    booking = db.session.get(Booking, refund.booking_id)
    intent_id = refund.payment.intent_id
    try:
        found = gateway.find_refund(refund, intent_id)
        if found is None:
            found, status = gateway.refund(refund, intent_id)
            if status == "failed":
                refund.payment.refunded_minor -= refund.amount_minor
                move(booking, refund, RefundStatus.FAILED, actor=actor, now=now,
                     reason=why("refund_refused"))
                escalate(booking, EscalationKind.PAYMENT_FAILED, payment=refund.payment,
                         now=now, key=f"refund_failed:refund:{refund.id}")
                return True
    except GatewayError as error:
        record(booking, "refund", refund.id, refund.status, refund.status, actor=actor,
               now=now, reason=why("refund_to_retry", note=str(error)))
        return False
    refund.stripe_refund_id = found
    move(booking, refund, RefundStatus.SUCCEEDED, actor=actor, now=now,
         reason=why("refund_done", note=found))
    return True


def retry_refunds(gateway: StripeGateway, *, now: datetime | None = None) -> int:
    """Refunds whose Stripe call failed or was cut off: try again (job)."""
    now = now or utcnow()
    done = 0
    for refund_id in db.session.scalars(select(Refund.id).where(
            Refund.status == RefundStatus.CREATED)).all():
        refund = db.session.get(Refund, refund_id)
        lock_booking(refund.booking_id)
        db.session.refresh(refund)
        done += send_refund(refund, gateway, actor="job:refunds", now=now)
        commit_unit()
    return done
