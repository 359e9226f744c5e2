"""The reviews' figures for the catalogue, as kept per member in :class:`MemberRating`
(the published count and the sum of the overall ratings; written by
:mod:`journey.reviews.services.counts`) and read by everything that shows or ranks a
rating: the ratings of many members (or offers, through their member) in one query, the
"best rated" order, the ratings table the catalogue search joins (``create_app``
registers :func:`rating_table` with
:func:`providers.services.search.register_rating_source`), and a member's reviews as
its catalogue page shows them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Float, Subquery, cast, func, select
from sqlalchemy.orm import selectinload

from journey.core.extensions import db
from journey.core.persistence import page_of
from journey.reviews.models import MemberRating, Review
from journey.reviews.services.reading import ReviewView, published_query, view_of
from providers.models import Offer, Provider


@dataclass(frozen=True)
class RatingSummary:
    count: int
    total: int  # the sum of the overall ratings

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 1) if self.count else None


EMPTY = RatingSummary(0, 0)


def _kept(query):
    return {key: RatingSummary(int(count), int(total))
            for key, count, total in db.session.execute(query)}


def provider_ratings(provider_ids) -> dict[int, RatingSummary]:
    """The published reviews' count and overall average of each member, in one query
    (members without a review are absent: use :data:`EMPTY`)."""
    ids = list({int(i) for i in provider_ids})
    if not ids:
        return {}
    return _kept(select(MemberRating.provider_id, MemberRating.review_count,
                        MemberRating.rating_total)
                 .where(MemberRating.provider_id.in_(ids), MemberRating.review_count > 0))


def offer_ratings(offer_ids) -> dict[int, RatingSummary]:
    """:func:`provider_ratings` per offer (an offer is rated through its member), in one
    query."""
    ids = list({int(i) for i in offer_ids})
    if not ids:
        return {}
    return _kept(select(Offer.id, MemberRating.review_count, MemberRating.rating_total)
                 .join(MemberRating, MemberRating.provider_id == Offer.provider_id)
                 .where(Offer.id.in_(ids), MemberRating.review_count > 0))


def rating_order(descending: bool = True):
    """An ORDER BY expression for "best rated" on a query that selects members
    (``Provider``): the published average, members without reviews last."""
    average = (select(cast(MemberRating.rating_total, Float)
                      / func.nullif(MemberRating.review_count, 0))
               .where(MemberRating.provider_id == Provider.id)
               .correlate(Provider).scalar_subquery())
    return (average.desc() if descending else average.asc()).nulls_last()


def rating_table() -> Subquery:
    """The published reviews per member, as the catalogue search joins them (one row per
    reviewed member: ``provider_id``, ``review_count``, ``rating_total``; the kept
    figures, one primary-key row per member). Hidden reviews do not count."""
    return (select(MemberRating.provider_id.label("provider_id"),
                   MemberRating.review_count.label("review_count"),
                   MemberRating.rating_total.label("rating_total"))
            .where(MemberRating.review_count > 0)
            .subquery("member_rating"))


def public_reviews(provider_id: int, *, page: int = 1,
                   per_page: int = 10) -> tuple[list[ReviewView], int]:
    """A member's published reviews as the public reads them on the member's catalogue
    page (whoever looks: signed as :func:`~journey.reviews.services.reading.public_signature`
    says), the latest first, with the member's answers. Two queries and the count,
    however many reviews the page shows (their authors are loaded together)."""
    query = published_query(provider_id).options(selectinload(Review.author))
    rows, total = page_of(query, page=page, per_page=per_page)
    return [view_of(None, review) for review in rows], total
