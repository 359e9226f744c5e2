"""The members' kept ratings (member_rating): equal to the published reviews after every
write, edit, hiding and showing; compared and repaired by ``flask ratings
check|rebuild``; two reviews of one member written at once are both counted; and the
catalogue search reads them, never the reviews themselves."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, event, select, update

from journey.builder.services import journeys
from journey.core.extensions import db
from journey.reviews.models import HideReason, MemberRating, Review, ReviewState
from journey.reviews.services import moderation, ratings, reviews
from journey.reviews.services.counts import rating_differences, rebuild_ratings, recount
from providers.services.search import SearchQuery, search_offers
from tests.journey.builder_world import build_world, soon
from tests.journey.reviews.reviews_world import GOOD, completed_world


@pytest.fixture
def w(world, gateway, make):
    return completed_world(world, gateway, make)


def _kept(provider_id: int) -> tuple[int, int] | None:
    row = db.session.execute(select(MemberRating.review_count, MemberRating.rating_total)
                             .where(MemberRating.provider_id == provider_id)).first()
    return tuple(row) if row is not None else None


def test_the_kept_rating_follows_every_change_of_a_review(w):
    clinic, hotel = w["clinic"].id, w["hotel"].id
    assert _kept(clinic) is None and ratings.provider_ratings([clinic]) == {}
    review = reviews.submit_review(w["patient"], w["journey"].id, clinic,
                                   {**GOOD, "overall": 5})
    assert _kept(clinic) == (1, 5)
    reviews.submit_review(w["patient"], w["journey"].id, hotel,
                          {**GOOD, "overall": 2, "ratings": {}})
    assert _kept(hotel) == (1, 2) and _kept(clinic) == (1, 5)

    reviews.edit_review(w["patient"], review.id, {"overall": 3})
    assert _kept(clinic) == (1, 3)
    reviews.edit_review(w["patient"], review.id, {"text": "Still good."})
    assert _kept(clinic) == (1, 3)

    moderation.hide_review(w["coordinator"], review.id, HideReason.INSULT)
    assert _kept(clinic) == (0, 0)
    assert ratings.provider_ratings([clinic, hotel]) == {hotel: ratings.RatingSummary(1, 2)}
    moderation.unhide_review(w["coordinator"], review.id, "Checked again")
    assert _kept(clinic) == (1, 3)
    assert ratings.offer_ratings([w["surgery"].id]) == {
        w["surgery"].id: ratings.RatingSummary(1, 3)}
    assert rating_differences() == []


def test_check_and_rebuild_repair_the_kept_ratings(app, w):
    clinic, hotel = w["clinic"].id, w["hotel"].id
    reviews.submit_review(w["patient"], w["journey"].id, clinic, {**GOOD, "overall": 4})
    reviews.submit_review(w["patient"], w["journey"].id, hotel,
                          {**GOOD, "overall": 5, "ratings": {}})
    db.session.commit()
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["ratings", "check"])
    assert checked.exit_code == 0 and "agree" in checked.output

    # a count gone wrong, a member's row lost, a member kept without reviews
    db.session.execute(update(MemberRating).where(MemberRating.provider_id == clinic)
                       .values(review_count=7, rating_total=30))
    db.session.execute(delete(MemberRating).where(MemberRating.provider_id == hotel))
    db.session.add(MemberRating(provider_id=w["other"].id, review_count=2, rating_total=9))
    db.session.commit()
    assert rating_differences() == sorted([(clinic, 7, 30, 1, 4), (hotel, 0, 0, 1, 5),
                                           (w["other"].id, 2, 9, 0, 0)])
    checked = runner.invoke(args=["ratings", "check"])
    assert checked.exit_code == 1 and "3 members disagree" in checked.output
    assert f"member {clinic}: kept 7 reviews totalling 30, published 1 totalling 4" \
        in checked.output

    rebuilt = runner.invoke(args=["ratings", "rebuild"])
    assert rebuilt.exit_code == 0 and "3 members corrected" in rebuilt.output
    db.session.expire_all()
    assert rating_differences() == []
    assert (_kept(clinic), _kept(hotel), _kept(w["other"].id)) == ((1, 4), (1, 5), (0, 0))
    assert rebuild_ratings() == 0


@pytest.mark.commits  # two transactions at once, each with its own connection
def test_two_reviews_of_one_member_written_at_once_are_both_counted(app, make):
    """Each transaction writes its review, then both count the member's reviews at the
    same moment: the second to take the member's row counts both (without the lock,
    each would count only its own and one review would be lost)."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one transaction write at a time: nothing to race")
    world = build_world(make)
    patient, hotel = world["patient"], world["hotel"].id
    journey_ids = [journeys.open_journey(patient, arrival_on=soon(10), departure_on=soon(12),
                                         currency="EUR").id for _ in range(2)]
    recount(hotel)  # the member's row is there already (a first review would wait on its insert)
    db.session.commit()
    patient_id = patient.id
    written, errors = threading.Barrier(2), []

    def review(journey_id: int, overall: int) -> None:
        try:
            with app.app_context():
                db.session.add(Review(journey_id=journey_id, provider_id=hotel,
                                      author_id=patient_id, overall=overall, language="en",
                                      chain_link="accommodation", state=ReviewState.PUBLISHED))
                db.session.flush()
                written.wait(timeout=30)  # both reviews written, neither committed
                recount(hotel)
                db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
            written.abort()

    threads = [threading.Thread(target=review, args=(journey_id, overall))
               for journey_id, overall in zip(journey_ids, (4, 2), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        assert _kept(hotel) == (2, 6)
        assert rating_differences() == []


def test_the_search_reads_the_kept_ratings_not_the_reviews(w):
    """A search's one statement joins member_rating (a row per member) and never counts
    reviews: its work does not grow with the reviews of the members it matches."""
    reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id,
                          {**GOOD, "overall": 4})
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = search_offers(SearchQuery(language="en", currency="EUR", city="Vilnius"),
                              orm_offers=False)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    surgery = next(hit for hit in found.hits if hit.offer.id == w["surgery"].id)
    assert (surgery.rating.count, surgery.rating.total) == (1, 4)
    assert statements and any("member_rating" in statement for statement in statements)
    assert not any("FROM review" in statement for statement in statements)


def test_the_migration_fills_the_kept_ratings_from_the_published_reviews(w):
    """The backfill of revision c2a1e0000015 (its own SQL, run here on this database):
    a published review counts, a hidden one does not."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import text

    reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id,
                          {**GOOD, "overall": 4})
    hidden = reviews.submit_review(w["patient"], w["journey"].id, w["hotel"].id,
                                   {**GOOD, "overall": 1, "ratings": {}})
    moderation.hide_review(w["coordinator"], hidden.id, HideReason.INSULT)
    db.session.execute(delete(MemberRating))
    assert rating_differences() == [(w["clinic"].id, 0, 0, 1, 4)]
    path = next((Path(__file__).resolve().parents[3] / "migrations" / "versions")
                .glob("c2a1e0000015_*.py"))
    spec = importlib.util.spec_from_file_location("ratings_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(text(migration.BACKFILL))
    assert rating_differences() == []
    assert _kept(w["clinic"].id) == (1, 4) and _kept(w["hotel"].id) is None
