"""Reviews as each reader sees them (one rule for the API and the pages):

- the public (anyone, signed in or not) reads published reviews; an anonymous one is
  signed "a patient from <country>", a named one with the first name and an initial;
- the reviewed member's staff read the same, and a named review's full name and
  journey; never who wrote an anonymous one (no name, no journey, no account);
- the author reads their own, hidden ones too, with the moderation's reason;
- coordinators and admins read everything (they moderate).

And the lists: a member's published reviews page by page with the answers (the public,
:func:`published_reviews`; its staff, :func:`member_reviews`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from journey.core.accounts.permissions import require_member_access
from journey.core.errors import NotFound
from journey.core.extensions import db
from journey.core.persistence import page_of
from journey.reviews.models import Review, ReviewDimension, ReviewState
from journey.reviews.services.reviews import (
    dimensions_of,
    edit_refusal,
    editable_until,
    reply_refusal,
)
from providers.models import Provider


def country_name(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return Locale.parse(str(get_locale() or "en")).territories.get(code, code)
    except (ValueError, UnknownLocaleError):
        return code


def public_signature(review: Review) -> str:
    """How the public sees the author: "A patient from Norway" when anonymous, else
    the first name and an initial."""
    if not review.anonymous:
        parts = (review.author.full_name or "").split()
        if parts:
            name = parts[0] + (f" {parts[-1][0]}." if len(parts) > 1 else "")
            country = country_name(review.country)
            if country:
                return _("%(name)s, from %(country)s", name=name, country=country)
            return name
    country = country_name(review.country)
    if country:
        return _("A patient from %(country)s", country=country)
    return _("A patient")


class Audience:
    PUBLIC, MEMBER, AUTHOR, CLUSTER = "public", "member", "author", "cluster"


def audience_of(actor, review: Review) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Audience.PUBLIC
    if actor.role.is_cluster:
        return Audience.CLUSTER
    if review.author_id == actor.id:
        return Audience.AUTHOR
    if actor.role.is_member and actor.provider_id == review.provider_id:
        return Audience.MEMBER
    return Audience.PUBLIC


@dataclass
class ReviewView:
    """A review as one reader may see it: what that reader may not know is None."""

    review: Review
    audience: str
    author: str  # the signature the reader sees
    author_id: int | None = None
    author_name: str | None = None
    journey_id: int | None = None
    hidden_reason: str | None = None
    hidden_note: str | None = None
    editable_until: datetime | None = None
    may_edit: bool = False
    may_reply: bool = False
    dimensions: list[ReviewDimension] = field(default_factory=list)

    def __getattr__(self, name):
        return getattr(self.review, name)


def view_of(actor, review: Review, *, now: datetime | None = None) -> ReviewView:
    """What ``actor`` sees of ``review`` (see the module's rules)."""
    audience = audience_of(actor, review)
    view = ReviewView(review, audience, public_signature(review),
                      dimensions=dimensions_of(review.chain_links or [review.chain_link]))
    if audience == Audience.CLUSTER:
        view.author_id, view.author_name = review.author_id, review.author.full_name
        view.journey_id = review.journey_id
    elif audience == Audience.AUTHOR:
        view.author = _("You")
        view.author_id, view.author_name = review.author_id, review.author.full_name
        view.journey_id = review.journey_id
        view.editable_until = editable_until(review)
        view.may_edit = edit_refusal(actor, review, now) is None
    elif audience == Audience.MEMBER and not review.anonymous:
        view.author_name = review.author.full_name
        view.journey_id = review.journey_id
    if audience in (Audience.CLUSTER, Audience.AUTHOR) and review.hidden_reason:
        view.hidden_reason = review.hidden_reason.value
        view.hidden_note = review.hidden_note
    view.may_reply = actor is not None and reply_refusal(actor, review) is None
    return view


def published_query(provider_id: int):
    return (select(Review).where(Review.provider_id == provider_id,
                                 Review.state == ReviewState.PUBLISHED)
            .order_by(Review.created_at.desc(), Review.id.desc()))


def published_reviews(provider_id: int, *, actor=None, page: int = 1,
                      per_page: int = 20) -> tuple[list[ReviewView], int]:
    """A member's published reviews, the latest first, with the member's answers, as
    ``actor`` (None: the public) sees them."""
    if db.session.get(Provider, provider_id) is None:
        raise NotFound(_l("No such member."))
    rows, total = page_of(published_query(provider_id), page=page, per_page=per_page)
    return [view_of(actor, review) for review in rows], total


def member_reviews(actor, provider_id: int, *, page: int = 1, per_page: int = 20,
                   unanswered: bool = False) -> tuple[list[ReviewView], int]:
    """The member's published reviews for its staff (or the cluster), with the reply
    form where they may answer; ``unanswered``: only those without an answer."""
    require_member_access(actor, provider_id)
    query = published_query(provider_id)
    if unanswered:
        query = query.where(Review.replied_at.is_(None))
    rows, total = page_of(query, page=page, per_page=per_page)
    return [view_of(actor, review) for review in rows], total
