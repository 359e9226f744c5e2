"""The treating members' review of the case before payment.

An offer that ``requires_review`` makes its member review the patient's case: the quote
can be accepted, but checkout waits (:func:`review_refusal`) until that member has
approved the case *for the lines as they stand* (a change of the member's lines after
the approval asks it again). The patient sends the case; the member approves (with
notes), asks for more (what is missing; the patient is told) or declines with a reason.
A review left past its deadline (the member's ``review_days``) goes to a coordinator.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey import notices
from journey.builder.models import Journey, JourneyItem
from journey.builder.services.journeys import amend_own_lines
from journey.builder.services.quotes import price_journey
from journey.case.models import (
    REVIEW_STATUS_TITLES,
    REVIEW_TRANSITIONS,
    AccessAction,
    CaseReview,
    ReviewStatus,
)
from journey.case.services.access import (
    CaseAccess,
    CaseRole,
    case_access,
    log_access,
    treating_offers,
)
from journey.case.services.requirements import missing_items
from journey.core.errors import Conflict, Forbidden, InvalidInput
from journey.core.extensions import db
from journey.core.persistence import flush_or_conflict
from journey.core.types import utcnow
from providers.models import Offer

MAX_MISSING = 20


class ReviewPending(Conflict):
    """Checkout of a package whose treating member has not approved the case."""

    code = "review_pending"
    default_message = _l("The clinic has not approved the patient's case yet.")


class IllegalReviewMove(Conflict):
    code = "illegal_transition"


def move_review(review: CaseReview, to: ReviewStatus) -> None:
    """The one way a review changes state, checked against its transition table."""
    to = ReviewStatus(to)
    if to == review.status:
        return
    if to not in REVIEW_TRANSITIONS[review.status]:
        raise IllegalReviewMove(_l("A review cannot go from %(old)s to %(new)s.",
                                   old=REVIEW_STATUS_TITLES[review.status],
                                   new=REVIEW_STATUS_TITLES[to]))
    review.status = to


def _lines_of(journey_id: int, provider_id: int) -> list[list]:
    """What a member approves: its lines on the journey (offer, start, days, quantity)."""
    rows = db.session.execute(
        select(JourneyItem.offer_id, JourneyItem.start_on, JourneyItem.days,
               JourneyItem.quantity).join(Offer, Offer.id == JourneyItem.offer_id)
        .where(JourneyItem.journey_id == journey_id, Offer.provider_id == provider_id)
        .order_by(JourneyItem.offer_id, JourneyItem.start_on)).all()
    return [[o, s.isoformat() if s else None, d, q] for o, s, d, q in rows]


def reviewers(journey_id: int) -> list[int]:
    """The members whose offers on the journey require a review."""
    return sorted({o.provider_id for o in treating_offers(journey_id) if o.requires_review})


def sync_reviews(journey: Journey) -> list[CaseReview]:
    """One review per reviewing member on the journey: made when a member's offer that
    requires review joins the package, withdrawn when it leaves, and asked again when
    its lines change after an approval."""
    wanted = set(reviewers(journey.id))
    reviews = {r.provider_id: r for r in db.session.scalars(
        select(CaseReview).where(CaseReview.journey_id == journey.id))}
    for provider_id in wanted - set(reviews):
        review = CaseReview(journey_id=journey.id, provider_id=provider_id,
                            status=ReviewStatus.OPEN)
        db.session.add(review)
        reviews[provider_id] = review
    for provider_id, review in reviews.items():
        if provider_id not in wanted and review.status != ReviewStatus.WITHDRAWN:
            move_review(review, ReviewStatus.WITHDRAWN)
        elif provider_id in wanted and review.status == ReviewStatus.WITHDRAWN:
            move_review(review, ReviewStatus.OPEN)
        elif (review.status == ReviewStatus.APPROVED
              and review.approved_lines != _lines_of(journey.id, provider_id)):
            move_review(review, ReviewStatus.WAITING)
            review.submitted_at = utcnow()
            review.respond_by = review.submitted_at + timedelta(days=review.provider.review_days)
    flush_or_conflict()
    return sorted((r for r in reviews.values() if r.status != ReviewStatus.WITHDRAWN),
                  key=lambda r: r.provider_id)


def review_refusal(journey: Journey) -> ReviewPending | None:
    """Why checkout must wait: a reviewing member that has not approved the case for
    the lines as they stand."""
    pending = []
    for review in sync_reviews(journey):
        if review.status != ReviewStatus.APPROVED:
            pending.append(review.provider.name)
    if not pending:
        return None
    return ReviewPending(_l("Waiting for the review of the patient's case by: %(members)s. "
                            "Checkout opens once they have approved it.",
                            members=", ".join(pending)))


def submit_case(actor, journey_id: int, *, now: datetime | None = None,
                reason: str | None = None) -> list[CaseReview]:
    """Send the case to the reviewing members (the patient, or a coordinator for them):
    every review being prepared or asked for more waits for its member, who is told."""
    access = case_access(actor, journey_id, reason=reason)
    if access.role == CaseRole.TREATING:
        raise Forbidden(_l("The patient or a coordinator sends the case."))
    now = now or utcnow()
    reviews = sync_reviews(access.journey)
    to_send = [r for r in reviews if r.status in (ReviewStatus.OPEN,
                                                 ReviewStatus.MORE_REQUESTED)]
    if not to_send:
        raise Conflict(_l("No review is waiting for the case to be sent."))
    gaps = missing_items(access, [r.provider_id for r in to_send])
    if gaps:
        raise InvalidInput(_l("Some required answers or documents are missing."),
                           fields={"case": gaps})
    for review in to_send:
        move_review(review, ReviewStatus.WAITING)
        review.submitted_at = now
        review.respond_by = now + timedelta(days=review.provider.review_days)
        review.escalated_at = None
        _notify(f"provider:{review.provider_id}", "case_submitted",
                f"{review.id}:{now.isoformat()}", access.journey, review)
    log_access(access, AccessAction.CHANGE, "case:submitted", now=now)
    db.session.flush()
    return reviews


def decide(actor, journey_id: int, *, decision: ReviewStatus, notes: str = "",
           missing: list[str] | None = None, amendments: list[dict] | None = None,
           now: datetime | None = None) -> CaseReview:
    """The treating member's answer to the case it reviews: approve (with notes to the
    patient, and optionally an amended plan of its own lines, which prices a new quote
    version for the patient to accept), ask for more (a list of what is missing) or
    decline (notes say why; the patient is offered alternatives)."""
    access = case_access(actor, journey_id)
    if access.role != CaseRole.TREATING:
        raise Forbidden(_l("Only the treating member decides on its review."))
    decision = ReviewStatus(decision)
    if decision not in (ReviewStatus.APPROVED, ReviewStatus.MORE_REQUESTED,
                        ReviewStatus.DECLINED):
        raise InvalidInput(fields={"decision": [_l("Approve, ask for more or decline.")]})
    missing = [m.strip() for m in (missing or []) if m and m.strip()]
    notes = (notes or "").strip()
    if decision == ReviewStatus.MORE_REQUESTED and not missing:
        raise InvalidInput(fields={"missing": [_l("Say what is missing.")]})
    if len(missing) > MAX_MISSING or any(len(m) > 300 for m in missing):
        raise InvalidInput(fields={"missing": [_l("At most 20 items of 300 characters.")]})
    if decision == ReviewStatus.DECLINED and not notes:
        raise InvalidInput(fields={"notes": [_l("Say why the case is declined.")]})
    if amendments and decision != ReviewStatus.APPROVED:
        raise InvalidInput(fields={"amendments": [_l("A plan is amended with an approval.")]})
    review = db.session.scalar(select(CaseReview).where(
        CaseReview.journey_id == journey_id, CaseReview.provider_id == access.provider_id)
        .with_for_update())
    if review is None or review.status == ReviewStatus.WITHDRAWN:
        raise Conflict(_l("None of your offers on this journey asks for a review."))
    if review.status not in (ReviewStatus.WAITING, ReviewStatus.MORE_REQUESTED):
        raise Conflict(_l("The case is not waiting for your review."))
    now = now or utcnow()
    if amendments:
        amend_own_lines(actor, access.journey, amendments)
        price_journey(access.journey, actor, now=now)
    move_review(review, decision)
    review.notes, review.missing = notes, missing
    review.decided_at, review.decided_by_id = now, actor.id
    review.approved_lines = (_lines_of(journey_id, access.provider_id)
                             if decision == ReviewStatus.APPROVED else None)
    _notify(f"user:{access.journey.patient_id}", f"case_{decision.value}",
            f"{review.id}:{now.isoformat()}", access.journey, review)
    log_access(access, AccessAction.CHANGE, f"review:{review.id}", now=now)
    db.session.flush()
    return review


def waiting_reviews(*, now: datetime | None = None) -> list[CaseReview]:
    """Cases waiting for a member's review, oldest deadline first (the board's list)."""
    return list(db.session.scalars(select(CaseReview).where(
        CaseReview.status == ReviewStatus.WAITING).order_by(CaseReview.respond_by,
                                                             CaseReview.id)))


def escalate_overdue(*, now: datetime | None = None) -> int:
    """Mark the reviews past their deadline for the coordinators (once each); a job."""
    now = now or utcnow()
    overdue = db.session.scalars(select(CaseReview).where(
        CaseReview.status == ReviewStatus.WAITING, CaseReview.respond_by < now,
        CaseReview.escalated_at.is_(None))).all()
    for review in overdue:
        review.escalated_at = now
        _notify("coordinators", "review_overdue", str(review.id), review.journey, review)
    db.session.flush()
    return len(overdue)


def _notify(recipient: str, kind: str, fact: str, journey: Journey,
            review: CaseReview) -> None:
    notices.queue(f"{kind}:{fact}", recipient, kind,
                  payload={"journey_id": journey.id, "review_id": review.id})


def reviews_for(access: CaseAccess) -> list[CaseReview]:
    reviews = sync_reviews(access.journey)
    if access.role == CaseRole.TREATING:
        return [r for r in reviews if r.provider_id == access.provider_id]
    return reviews



def reviews_of_member(actor, provider_id: int) -> list[CaseReview]:
    """The cases a member has to review (the portal's "cases to review"): waiting for its
    answer, nearest deadline first, then those it asked more of, which wait for the
    patient. Its own staff, or the cluster; anyone else is refused."""
    if actor is None or not (actor.role.is_cluster or (
            actor.role.is_member and actor.provider_id == provider_id)):
        raise Forbidden(_l("You may change only your own member's data."))
    rows = db.session.scalars(select(CaseReview).where(
        CaseReview.provider_id == provider_id,
        CaseReview.status.in_((ReviewStatus.WAITING, ReviewStatus.MORE_REQUESTED)))
        .order_by(CaseReview.respond_by, CaseReview.id))
    return sorted(rows, key=lambda r: r.status != ReviewStatus.WAITING)
