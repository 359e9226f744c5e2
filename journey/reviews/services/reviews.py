"""Writing, changing, answering and reading reviews, and who may do which.

Who writes: only the patient of a journey, once it is completed, about a member that
delivered at least one of its lines (a confirmed line of a booking that went through,
not cancelled: :func:`served_members`); once per member and journey (the database's
unique key decides between two concurrent submits: the second is a 409). A member's
staff or the cluster never write one, so a member cannot review itself.

Who changes: the author alone, within :data:`~journey.reviews.models.EDIT_DAYS` days of
writing it; nobody else has a way to change a text (moderation hides, never edits).

Who answers: the staff of the reviewed member, once, publicly (a conditional update:
a second or concurrent reply is a 409).

Who reads which review (:func:`read_review`): anyone the published ones; the author
and the cluster the hidden ones too. What each reader sees of it is
:mod:`journey.reviews.services.reading`'s; the figures for the catalogue are
:mod:`journey.reviews.services.ratings`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bookings.models import BookingStatus, LineStatus
from journey.builder.models import Journey, JourneyStatus
from journey.builder.services.journeys import visible_journey
from journey.core.accounts.models import Role
from journey.core.accounts.permissions import require_authenticated
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.core.validation import at_most
from journey.reviews.models import (
    DIMENSIONS,
    EDIT_DAYS,
    LINK_PRIORITY,
    MAX_REPLY,
    MAX_TEXT,
    RATING_RANGE,
    Review,
    ReviewDimension,
    ReviewState,
)
from journey.reviews.services.counts import recount
from journey.trip.services.tasks import journey_lines
from providers.models import ChainLink, Offer, Provider
from providers.services.common import check_language

NO_REVIEW = _l("No such review.")
RATING_ERROR = _l("Choose a rating from 1 to 5.")


class NotCompleted(Conflict):
    code = "journey_not_completed"
    default_message = _l("A journey can be reviewed once it is completed.")


class NotServed(Conflict):
    code = "not_served"
    default_message = _l("This member delivered no service on this journey.")


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    default_message = _l("You have already reviewed this member for this journey; you "
                         "can change your review instead.")


class EditWindowClosed(Conflict):
    code = "edit_window_closed"
    default_message = _l("A review can be changed during %(days)d days after it was "
                         "written; this one can no longer be changed.", days=EDIT_DAYS)


class AlreadyReplied(Conflict):
    code = "already_replied"
    default_message = _l("The member has already answered this review; an answer is "
                         "given once.")


# --- who delivered what ---------------------------------------------------------------------

def served_members(journey: Journey) -> dict[int, list[ChainLink]]:
    """The members that delivered a line of ``journey`` (confirmed, of a booking that
    was not cancelled), each with the chain links of its lines, the main one first."""
    found: dict[int, set[ChainLink]] = {}
    for line in journey_lines(journey):
        if line.status != LineStatus.CONFIRMED or line.booking.status == BookingStatus.CANCELLED:
            continue
        link = _link(line)
        found.setdefault(line.provider_id, set())
        if link is not None:
            found[line.provider_id].add(link)
    return {provider_id: sorted(links, key=LINK_PRIORITY.index)
            for provider_id, links in found.items()}


def _link(line) -> ChainLink | None:
    value = line.chain_link or db.session.scalar(
        select(Offer.chain_link).where(Offer.id == line.offer_id))
    try:
        return ChainLink(value) if value else None
    except ValueError:
        return None


def dimensions_of(links: list[ChainLink] | list[str]) -> list[ReviewDimension]:
    """The dimensions that fit ``links``, in a fixed order, each once."""
    wanted = {dimension for link in links for dimension in DIMENSIONS.get(ChainLink(link), ())}
    return [dimension for dimension in ReviewDimension if dimension in wanted]


# --- the patient: what to review, writing and changing ------------------------------------

@dataclass
class Reviewable:
    """A member the patient may review on a journey, and their review once written."""

    provider: Provider
    links: list[ChainLink]
    dimensions: list[ReviewDimension]
    review: Review | None = None


def _patients_journey(actor, journey_id: int) -> Journey:
    actor = require_authenticated(actor)
    journey = visible_journey(actor, journey_id)
    if actor.role != Role.PATIENT or journey.patient_id != actor.id:
        raise Forbidden(_l("Only the journey's patient reviews the members that served "
                           "them."))
    return journey


def review_refusal(journey: Journey) -> Conflict | None:
    """Why the journey's members cannot be reviewed yet, if so."""
    if journey.status != JourneyStatus.COMPLETED:
        return NotCompleted()
    return None


def reviewables(actor, journey_id: int) -> tuple[Journey, list[Reviewable]]:
    """The members the patient may review on their journey (none before it is
    completed), each with the review already written."""
    journey = _patients_journey(actor, journey_id)
    if review_refusal(journey) is not None:
        return journey, []
    served = served_members(journey)
    providers = {p.id: p for p in db.session.scalars(
        select(Provider).where(Provider.id.in_(served)))}
    written = {r.provider_id: r for r in db.session.scalars(
        select(Review).where(Review.journey_id == journey.id))}
    rows = [Reviewable(providers[pid], links, dimensions_of(links), written.get(pid))
            for pid, links in served.items() if pid in providers]
    rows.sort(key=lambda row: (LINK_PRIORITY.index(row.links[0]) if row.links else 99,
                               row.provider.name))
    return journey, rows


def reviewable(actor, journey_id: int, provider_id: int) -> Reviewable:
    """One member the patient may review on the journey (409 when it delivered nothing
    or the journey is not completed)."""
    journey, rows = reviewables(actor, journey_id)
    refusal = review_refusal(journey)
    if refusal is not None:
        raise refusal
    found = next((row for row in rows if row.provider.id == provider_id), None)
    if found is None:
        raise NotServed()
    return found


def _rating(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (
            RATING_RANGE[0] <= value <= RATING_RANGE[1]):
        raise InvalidInput(fields={name: [RATING_ERROR]})
    return value


def _clean(data: dict, dimensions: list[ReviewDimension], *, partial: bool = False) -> dict:
    """The review's fields as stored, or a 422 naming each wrong one."""
    clean: dict = {}
    errors: dict = {}
    if "overall" in data or not partial:
        try:
            clean["overall"] = _rating(data.get("overall"), "overall")
        except InvalidInput as error:
            errors.update(error.fields)
    if "ratings" in data:
        ratings = {}
        allowed = {d.value for d in dimensions}
        for name, value in (data.get("ratings") or {}).items():
            if value is None:
                continue
            if str(name) not in allowed:
                errors.setdefault("ratings", []).append(
                    _l("%(name)s is not rated for this member.", name=str(name)[:40]))
                continue
            try:
                ratings[str(name)] = _rating(value, "ratings")
            except InvalidInput as error:
                errors.setdefault("ratings", []).extend(error.fields["ratings"])
        clean["ratings"] = ratings
    if "text" in data:
        text = (data.get("text") or "").strip()
        if len(text) > MAX_TEXT:
            errors["text"] = [at_most(MAX_TEXT)]
        clean["text"] = text
    if data.get("language"):
        try:
            clean["language"] = check_language(data["language"])
        except InvalidInput as error:
            errors.update(error.fields)
    if "anonymous" in data:
        clean["anonymous"] = bool(data["anonymous"])
    if errors:
        raise InvalidInput(fields=errors)
    return clean


def submit_review(actor, journey_id: int, provider_id: int, data: dict, *,
                  now: datetime | None = None) -> Review:
    """The patient reviews a member that served them on a completed journey, once."""
    found = reviewable(actor, journey_id, provider_id)
    if found.review is not None:
        raise AlreadyReviewed()
    clean = _clean({"ratings": {}, "text": "", **data}, found.dimensions)
    journey = db.session.get(Journey, journey_id)
    review = Review(journey_id=journey.id, provider_id=provider_id, author_id=actor.id,
                    overall=clean["overall"], ratings=clean["ratings"], text=clean["text"],
                    language=clean.get("language") or actor.locale or journey.language or "en",
                    anonymous=clean.get("anonymous", False),
                    country=journey.residence or journey.nationality,
                    chain_link=found.links[0] if found.links else ChainLink.TREATMENT,
                    chain_links=[link.value for link in found.links],
                    created_at=now or utcnow(), state=ReviewState.PUBLISHED)
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except IntegrityError as exc:  # the same review, submitted at the same moment
        raise AlreadyReviewed() from exc
    recount(provider_id)
    return review


def editable_until(review: Review) -> datetime:
    return review.created_at + timedelta(days=EDIT_DAYS)


def edit_refusal(actor, review: Review, now: datetime | None = None) -> Conflict | None:
    if actor is None or review.author_id != actor.id:
        return None  # not the author: :func:`edit_review` refuses with 403/404
    if (now or utcnow()) > editable_until(review):
        return EditWindowClosed()
    return None


def _own_review(actor, review_id: int) -> Review:
    actor = require_authenticated(actor)
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound(NO_REVIEW)
    if review.author_id != actor.id:
        if actor.role == Role.PATIENT and not review.published:
            raise NotFound(NO_REVIEW)
        raise Forbidden(_l("Only its author can change a review."))
    return review


def edit_review(actor, review_id: int, data: dict, *, now: datetime | None = None) -> Review:
    """The author changes their review within :data:`EDIT_DAYS` days of writing it (the
    one way a review's text, ratings, language or anonymity ever change)."""
    review = _own_review(actor, review_id)
    refusal = edit_refusal(actor, review, now)
    if refusal is not None:
        raise refusal
    clean = _clean(data, dimensions_of(review.chain_links or [review.chain_link]), partial=True)
    for name, value in clean.items():
        setattr(review, name, value)
    review.edited_at = now or utcnow()
    db.session.flush()
    if "overall" in clean:
        recount(review.provider_id)
    return review


def my_reviews(actor) -> list[Review]:
    actor = require_authenticated(actor)
    return list(db.session.scalars(select(Review).where(Review.author_id == actor.id)
                                   .order_by(Review.created_at.desc(), Review.id.desc())))


# --- the member: answering ------------------------------------------------------------------

def reply_refusal(actor, review: Review) -> Forbidden | Conflict | None:
    if actor is None or not actor.role.is_member or actor.provider_id != review.provider_id:
        return Forbidden(_l("Only the reviewed member's staff can answer a review."))
    if review.replied_at is not None:
        return AlreadyReplied()
    return None


def reply(actor, review_id: int, text: str, language: str | None = None, *,
          now: datetime | None = None) -> Review:
    """The reviewed member answers, once and publicly."""
    review = read_review(actor, review_id)
    refusal = reply_refusal(actor, review)
    if refusal is not None:
        raise refusal
    text = (text or "").strip()
    if not text:
        raise InvalidInput(fields={"text": [_l("Write the answer.")]})
    if len(text) > MAX_REPLY:
        raise InvalidInput(fields={"text": [at_most(MAX_REPLY)]})
    language = (check_language(language) if language
                else actor.locale or review.provider.default_language or "en")
    written = db.session.execute(
        update(Review).where(Review.id == review.id, Review.replied_at.is_(None))
        .values(reply_text=text, reply_language=language, replied_at=now or utcnow(),
                replied_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    if not written:
        raise AlreadyReplied()
    db.session.refresh(review)
    return review


# --- reading ---------------------------------------------------------------------------------

def _may_see_hidden(actor, review: Review) -> bool:
    return actor is not None and (actor.role.is_cluster or review.author_id == actor.id)


def read_review(actor, review_id: int) -> Review:
    """A review as ``actor`` may read it (anyone: published ones; the author and the
    cluster: hidden ones too); 404 otherwise."""
    review = db.session.get(Review, review_id)
    if review is None or not (review.published or _may_see_hidden(actor, review)):
        raise NotFound(NO_REVIEW)
    return review


# --- erasure ----------------------------------------------------------------------------------

def erase_reviews(journey_ids) -> int:
    """The patient is erased (:func:`journey.case.services.privacy.erase_patient`): the
    reviews of their journeys lose their text and their signature (anonymous, no
    country); the ratings stay, as anonymous figures. Returns how many were erased."""
    ids = list(journey_ids)
    if not ids:
        return 0
    return db.session.execute(
        update(Review).where(Review.journey_id.in_(ids))
        .values(text="", anonymous=True, country=None)
        .execution_options(synchronize_session=False)).rowcount
