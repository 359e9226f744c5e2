"""The insurer's share of a booking as a receivable (:class:`bookings.models.
InsurerReceivable`), from confirmation to its payment.

- **Confirmed**: the booking's confirmation writes the receivable (the covered shares
  of its confirmed lines, due :data:`PAYMENT_DAYS` days later) and issues the invoice
  to the insurer, in its default language (:func:`on_booking_confirmed`, connected to
  the booking engine's signal by :mod:`journey.insurance.follow`).
- **Paid**: the insurer pays by bank transfer; a coordinator or admin records it
  (amount, day, reference): a receipt to the insurer; paid in full, the receivable is
  paid and the members' payouts count the insurer's money
  (:func:`bookings.services.settlement.paid_fraction`).
- **Overdue**: past its due day and not paid in full, the coordinators get one
  escalation (:func:`escalate_overdue`, a job), kind ``balance_unpaid`` keyed
  ``insurer_overdue:receivable:<id>``.
- **Cancelled lines** reduce what the insurer owes (its part of the fee stays): a
  credit note to the insurer for the difference; paid already, it is owed back.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bookings.models import (
    Booking,
    EscalationKind,
    InsurerReceivable,
    LineStatus,
    ReceivableStatus,
)
from bookings.services.escalations import escalate
from bookings.services.settlement import insurer_owed
from journey.core.accounts.models import Role
from journey.core.accounts.permissions import require_cluster
from journey.core.errors import Conflict, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.reasons import register_reasons, why
from journey.core.types import today_in, utcnow
from journey.invoicing import services as invoicing
from providers.models import Provider

PAYMENT_DAYS = 30
UNPAID = (ReceivableStatus.OPEN, ReceivableStatus.INVOICED, ReceivableStatus.OVERDUE)

register_reasons({"insurer_overdue": _l("The insurer has not paid its share in time")})


def on_booking_confirmed(booking: Booking, *, now: datetime) -> InsurerReceivable | None:
    insurer_id = next((line.covered_by_provider_id for line in booking.lines
                       if line.covered_minor and line.status == LineStatus.CONFIRMED), None)
    if insurer_id is None:
        return None
    existing = db.session.scalar(select(InsurerReceivable).where(
        InsurerReceivable.booking_id == booking.id))
    if existing is not None:
        return existing
    receivable = InsurerReceivable(
        booking_id=booking.id, provider_id=insurer_id, amount_minor=insurer_owed(booking),
        currency=booking.currency, status=ReceivableStatus.OPEN, created_at=now,
        due_on=today_in(None, now) + timedelta(days=PAYMENT_DAYS))
    db.session.add(receivable)
    db.session.flush()
    invoicing.issue_insurer_invoice(booking, db.session.get(Provider, insurer_id), now=now)
    receivable.status = ReceivableStatus.INVOICED
    return receivable


def on_line_cancelled(booking: Booking, line, *, now: datetime) -> None:
    """A covered line cancelled after confirmation: a credit note to the insurer for
    what it no longer owes for the line."""
    if not line.covered_minor or line.covered_by_provider_id is None:
        return
    if db.session.scalar(select(InsurerReceivable.id).where(
            InsurerReceivable.booking_id == booking.id)) is None:
        return
    reduction = line.covered_minor - line.covered_kept_minor
    if reduction > 0:
        invoicing.issue_insurer_credit_note(
            booking, db.session.get(Provider, line.covered_by_provider_id),
            fact=f"line:{line.id}", amount_minor=reduction, now=now)


def list_receivables(actor, provider_id: int | None = None) -> list[InsurerReceivable]:
    """An insurer's receivables (its staff), or every one (the cluster)."""
    if actor is None:
        raise NotFound(_l("No such insurer."))
    query = select(InsurerReceivable).order_by(InsurerReceivable.id.desc())
    if actor.role.is_cluster:
        if provider_id is not None:
            query = query.where(InsurerReceivable.provider_id == provider_id)
    elif actor.role in (Role.MEMBER_STAFF, Role.MEMBER_MANAGER) and \
            provider_id == actor.provider_id:
        query = query.where(InsurerReceivable.provider_id == provider_id)
    else:
        raise NotFound(_l("No such insurer."))
    return list(db.session.scalars(query))


def record_payment(actor, receivable_id: int, *, amount_minor: int, paid_on: date,
                   reference: str, now: datetime | None = None) -> InsurerReceivable:
    """The cluster records the insurer's bank transfer (see the module)."""
    now = now or utcnow()
    require_cluster(actor)
    receivable = db.session.get(InsurerReceivable, receivable_id, with_for_update=True)
    if receivable is None:
        raise NotFound(_l("No such receivable."))
    reference = (reference or "").strip()
    errors = {}
    if not isinstance(amount_minor, int) or not 1 <= amount_minor <= \
            receivable.outstanding_minor:
        errors["amount_minor"] = [_l("Give an amount from 0.01 up to what is still owed.")]
    if not 1 <= len(reference) <= 100:
        errors["reference"] = [_l("Give the transfer's reference (1 to 100 characters).")]
    if not isinstance(paid_on, date) or paid_on > today_in(None, now):
        errors["paid_on"] = [_l("Give the day the transfer arrived (not in the future).")]
    if receivable.status == ReceivableStatus.CANCELLED or receivable.outstanding_minor == 0:
        raise Conflict(_l("Nothing is owed on this receivable."))
    if errors:
        raise InvalidInput(fields=errors)
    transfers = len([r for r in (receivable.reference or "").split(";") if r]) + 1
    receivable.paid_minor += amount_minor
    receivable.reference = ";".join(filter(None, [receivable.reference, reference]))[:100]
    if receivable.paid_minor >= receivable.amount_minor:
        receivable.status = ReceivableStatus.PAID
        receivable.paid_at = now
    db.session.flush()
    invoicing.issue_insurer_receipt(receivable.booking, db.session.get(
        Provider, receivable.provider_id), transfer=transfers, amount_minor=amount_minor,
        reference=reference, now=now)
    return receivable


def escalate_overdue(_gateway=None, *, now: datetime | None = None) -> int:
    """The job: receivables past their due day, unpaid, escalate once each."""
    now = now or utcnow()
    today = today_in(None, now)
    opened = 0
    for receivable in db.session.scalars(select(InsurerReceivable).where(
            InsurerReceivable.status.in_(UNPAID), InsurerReceivable.due_on < today)).all():
        if receivable.outstanding_minor == 0:
            continue
        receivable.status = ReceivableStatus.OVERDUE
        opened += escalate(receivable.booking, EscalationKind.INSURER_UNPAID, now=now,
                           key=f"insurer_overdue:receivable:{receivable.id}",
                           detail=why("insurer_overdue"))
    commit_unit()
    return opened
