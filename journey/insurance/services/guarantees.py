"""Guarantees of payment: the insurer's staff approve (an amount, a validity) or
decline the request of a quote, before its ``respond_by``.

**Who.** The staff and manager of the insurer the request is addressed to decide; the
cluster and the journey's patient see it (the patient may not decide: 403); anyone
else, another insurer's staff included, gets 404.

**Deadline.** A request not answered by its ``respond_by`` lapses (the job
:func:`lapse_overdue`, and a late answer is refused with 409 and lapses it): the
patient may then remove the policy and pay everything, or have the journey quoted
again (a new request). Checkout needs an approved guarantee of at least the quote's
covered share, still valid then
(:func:`journey.builder.services.checkout.guarantee_refusal`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey.builder.models import Journey, Quote
from journey.builder.services.journeys import visible_journey
from journey.core.accounts.models import Role
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.persistence import commit_unit
from journey.core.types import CLUSTER_TIMEZONE, utcnow
from journey.core.validation import at_most
from journey.insurance import mail
from journey.insurance.models import Guarantee, GuaranteeStatus

#: The longest validity an insurer may give a guarantee.
LONGEST_VALIDITY = timedelta(days=366)


def _insurer_staff(actor, provider_id: int) -> bool:
    return actor is not None and actor.role in (Role.MEMBER_STAFF, Role.MEMBER_MANAGER) \
        and actor.provider_id == provider_id


def list_guarantees(actor, provider_id: int, *, status: GuaranteeStatus | None = None
                    ) -> list[Guarantee]:
    """The insurer's requests, the newest first (its staff and the cluster)."""
    if not (_insurer_staff(actor, provider_id) or (actor is not None
                                                    and actor.role.is_cluster)):
        raise NotFound(_l("No such insurer."))
    query = select(Guarantee).where(Guarantee.provider_id == provider_id)
    if status is not None:
        query = query.where(Guarantee.status == GuaranteeStatus(status))
    return list(db.session.scalars(query.order_by(Guarantee.id.desc())))


def get_guarantee(actor, guarantee_id: int) -> Guarantee:
    guarantee = db.session.get(Guarantee, guarantee_id)
    if guarantee is None or actor is None:
        raise NotFound(_l("No such guarantee request."))
    if _insurer_staff(actor, guarantee.provider_id) or actor.role.is_cluster:
        return guarantee
    if actor.role == Role.PATIENT:
        visible_journey(actor, guarantee.policy.journey_id)  # 404 unless it is theirs
        return guarantee
    raise NotFound(_l("No such guarantee request."))


def quote_guarantee(quote: Quote) -> Guarantee | None:
    return db.session.scalar(select(Guarantee).where(Guarantee.quote_id == quote.id))


def decide_guarantee(actor, guarantee_id: int, *, approve: bool,
                     amount_minor: int | None = None,
                     valid_until: datetime | date | None = None,
                     note: str = "", now: datetime | None = None) -> Guarantee:
    now = now or utcnow()
    guarantee = get_guarantee(actor, guarantee_id)
    if not _insurer_staff(actor, guarantee.provider_id):
        raise Forbidden(_l("Only the insurer's staff may answer a guarantee request."))
    note = (note or "").strip()
    if isinstance(valid_until, date) and not isinstance(valid_until, datetime):
        # to the end of that day in the cluster, whose date is "today" (today_in)
        valid_until = datetime.combine(valid_until, time(23, 59, 59),
                                       tzinfo=ZoneInfo(CLUSTER_TIMEZONE)).astimezone(UTC)
    errors = {}
    if len(note) > 500:
        errors["note"] = [at_most(500)]
    if approve:
        if amount_minor is None or not 1 <= amount_minor <= guarantee.requested_minor:
            errors["amount_minor"] = [_l("Give an amount from 0.01 up to the amount asked.")]
        if valid_until is None or not now < valid_until <= now + LONGEST_VALIDITY:
            errors["valid_until"] = [_l("Give a validity in the future, within a year.")]
    if errors:
        raise InvalidInput(fields=errors)
    if guarantee.status == GuaranteeStatus.PENDING and guarantee.respond_by <= now:
        guarantee.status = GuaranteeStatus.LAPSED
        commit_unit()
    if guarantee.status != GuaranteeStatus.PENDING:
        raise Conflict(_l("This request has been answered already or has lapsed."))
    guarantee.status = GuaranteeStatus.APPROVED if approve else GuaranteeStatus.DECLINED
    guarantee.approved_minor = amount_minor if approve else None
    guarantee.valid_until = valid_until if approve else None
    guarantee.note = note
    guarantee.decided_by_id = actor.id
    guarantee.decided_at = now
    db.session.flush()
    mail.queue_answered(guarantee, _patient_of(guarantee), now=now)
    return guarantee


def _patient_of(guarantee: Guarantee) -> int:
    return db.session.get(Journey, guarantee.policy.journey_id).patient_id


def lapse_overdue(*, now: datetime | None = None) -> int:
    """The job: requests past their deadline lapse."""
    now = now or utcnow()
    overdue = db.session.scalars(select(Guarantee).where(
        Guarantee.status == GuaranteeStatus.PENDING, Guarantee.respond_by <= now)).all()
    for guarantee in overdue:
        guarantee.status = GuaranteeStatus.LAPSED
    commit_unit()
    return len(overdue)
