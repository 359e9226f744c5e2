"""The members' kept ratings (:class:`~journey.reviews.models.MemberRating`): the
count and the overall sum of each member's published reviews, set again by
:func:`recount` in the transaction that writes, edits, hides or shows one of them
(:mod:`journey.reviews.services.reviews`, :mod:`~journey.reviews.services.moderation`).
:func:`rating_differences` and :func:`rebuild_ratings` (``flask ratings check|rebuild``)
compare them with the reviews and repair them; the test suite checks after every test
that they agree. :mod:`journey.reviews.services.ratings` reads them."""

from __future__ import annotations

from sqlalchemy import func, select

from journey.core.extensions import db
from journey.core.persistence import insert_on_conflict
from journey.reviews.models import MemberRating, Review, ReviewState


def recount(provider_id: int) -> None:
    """Set the member's kept rating from its published reviews, after a review of it was
    written, edited, hidden or shown (flushed first). Its row is locked before the
    reviews are counted: a review another transaction changed meanwhile is counted by
    whichever of the two takes the lock second, once the first has committed (each
    statement reads what is committed when it starts), so none is lost."""
    db.session.flush()
    table = MemberRating.__table__
    lock = insert_on_conflict(table).values(provider_id=provider_id, review_count=0,
                                            rating_total=0)
    db.session.execute(lock.on_conflict_do_update(  # writes what is there: takes the lock
        index_elements=[table.c.provider_id], set_={"review_count": table.c.review_count}))
    published = (Review.provider_id == provider_id, Review.state == ReviewState.PUBLISHED)
    db.session.execute(table.update().where(table.c.provider_id == provider_id).values(
        review_count=select(func.count(Review.id)).where(*published).scalar_subquery(),
        rating_total=select(func.coalesce(func.sum(Review.overall), 0))
        .where(*published).scalar_subquery()))


def _differences_query():
    published = (select(Review.provider_id.label("provider_id"),
                        func.count(Review.id).label("review_count"),
                        func.sum(Review.overall).label("rating_total"))
                 .where(Review.state == ReviewState.PUBLISHED)
                 .group_by(Review.provider_id).subquery())
    kept = MemberRating.__table__
    provider_id = func.coalesce(kept.c.provider_id, published.c.provider_id)
    stored = (func.coalesce(kept.c.review_count, 0), func.coalesce(kept.c.rating_total, 0))
    actual = (func.coalesce(published.c.review_count, 0),
              func.coalesce(published.c.rating_total, 0))
    return (select(provider_id, *stored, *actual)
            .select_from(kept.join(published, kept.c.provider_id == published.c.provider_id,
                                   full=True))
            .where((stored[0] != actual[0]) | (stored[1] != actual[1])))


def rating_differences() -> list[tuple[int, int, int, int, int]]:
    """``(member, kept count, kept total, published count, published total)`` of every
    member whose kept rating differs from its published reviews (empty when all agree):
    one query."""
    return sorted(tuple(int(value) for value in row)
                  for row in db.session.execute(_differences_query()))


def rebuild_ratings() -> int:
    """:func:`recount` every member whose kept rating differs; returns how many."""
    members = [row[0] for row in rating_differences()]
    for provider_id in members:
        recount(provider_id)
    return len(members)
