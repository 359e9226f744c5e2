"""The cluster's moderation of reviews, against its published rules (``/reviews/rules``).

A coordinator or an admin hides a review for one of the fixed reasons
(:class:`~journey.reviews.models.HideReason`: personal data, insult or hate, off-topic or
advertising, not about this member's service, another breach explained in a note), or
shows it again. A low rating or a negative text is not among them: nothing here hides a
review without a reason code. Moderation never edits: these functions take no text
and change only the review's ``state`` and ``hidden_*`` columns. The author sees the
reason. Every action writes one :class:`~journey.reviews.models.ReviewModeration` row.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from journey.core.accounts.permissions import require_authenticated, require_cluster
from journey.core.errors import Conflict, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.persistence import page_of
from journey.core.types import utcnow
from journey.core.validation import at_most
from journey.reviews.models import (
    MAX_NOTE,
    HideReason,
    ModerationAction,
    Review,
    ReviewModeration,
    ReviewState,
)
from journey.reviews.services.counts import recount
from journey.reviews.services.reading import ReviewView, view_of
from journey.reviews.services.reviews import NO_REVIEW

NOT_A_RULE = _l("Choose the rule the review breaks.")


class AlreadyHidden(Conflict):
    code = "already_hidden"
    default_message = _l("The review is already hidden.")


class NotHidden(Conflict):
    code = "not_hidden"
    default_message = _l("The review is not hidden.")


def _review(review_id: int) -> Review:
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound(NO_REVIEW)
    return review


def _note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(fields={"note": [at_most(MAX_NOTE)]})
    return note


def _log(review: Review, action: ModerationAction, actor, reason: HideReason | None,
         note: str, now: datetime) -> None:
    db.session.add(ReviewModeration(review_id=review.id, action=action, reason=reason,
                                    note=note, actor_id=actor.id, at=now))


def _move(review: Review, to: ReviewState, refusal: type[Conflict], **values) -> None:
    """Hide (``to`` HIDDEN) or show the review by one conditional UPDATE whose row count
    is checked: of two coordinators doing it at the same moment, the second is refused
    (``refusal``) instead of doing it again, with a second entry in the log and its
    reason written over the first's."""
    hiding = to == ReviewState.HIDDEN
    db.session.flush()
    written = db.session.execute(
        update(Review).where(Review.id == review.id,
                             Review.state != ReviewState.HIDDEN if hiding
                             else Review.state == ReviewState.HIDDEN)
        .values(state=to, **values).execution_options(synchronize_session=False)).rowcount
    if not written:
        raise refusal()
    db.session.refresh(review)


def hide_review(actor, review_id: int, reason, note: str | None = "", *,
                now: datetime | None = None) -> Review:
    """Hide a review for ``reason`` (a :class:`HideReason`; ``other`` needs a note); the
    author sees the reason and the note. The text stays as written."""
    actor = require_cluster(actor)
    try:
        reason = HideReason(reason)
    except ValueError:
        raise InvalidInput(fields={"reason": [NOT_A_RULE]}) from None
    note = _note(note)
    if reason == HideReason.OTHER and not note:
        raise InvalidInput(fields={"note": [_l("Explain which rule the review breaks.")]})
    review = _review(review_id)
    now = now or utcnow()
    _move(review, ReviewState.HIDDEN, AlreadyHidden, hidden_reason=reason, hidden_note=note,
          hidden_at=now)
    _log(review, ModerationAction.HIDE, actor, reason, note, now)
    recount(review.provider_id)  # flushes
    return review


def unhide_review(actor, review_id: int, note: str | None = "", *,
                  now: datetime | None = None) -> Review:
    """Show a hidden review again (the hiding stays in the log)."""
    actor = require_cluster(actor)
    note = _note(note)
    review = _review(review_id)
    now = now or utcnow()
    _move(review, ReviewState.PUBLISHED, NotHidden, hidden_reason=None, hidden_note="",
          hidden_at=None)
    _log(review, ModerationAction.UNHIDE, actor, None, note, now)
    recount(review.provider_id)  # flushes
    return review


def moderation_queue(actor, *, state: ReviewState | None = None, page: int = 1,
                     per_page: int = 20) -> tuple[list[ReviewView], int]:
    """Every review for the cluster, the latest first (``state``: only those)."""
    actor = require_cluster(actor)
    query = select(Review).order_by(Review.created_at.desc(), Review.id.desc())
    if state is not None:
        query = query.where(Review.state == ReviewState(state))
    rows, total = page_of(query, page=page, per_page=per_page)
    return [view_of(actor, review) for review in rows], total


def moderation_log(actor, review_id: int) -> list[ReviewModeration]:
    """The review's moderation actions, oldest first: for the cluster and the author."""
    actor = require_authenticated(actor)
    review = _review(review_id)
    if not (actor.role.is_cluster or review.author_id == actor.id):
        raise NotFound(NO_REVIEW)
    return list(db.session.scalars(select(ReviewModeration)
                                   .where(ReviewModeration.review_id == review.id)
                                   .order_by(ReviewModeration.id)))
