"""The demo's past: completed journeys paid through localstripe, travelled and reviewed,
enough for the catalogue to rank by rating; skipped with a reason without Stripe;
loaded once.

Self-contained as tests/journey/test_demo.py: its own app on its own SQLite file, seeded
once for the module through ``flask seed-demo``, first with no Stripe answering (the
rest loads), then with the tests' localstripe (the journeys are added), then again
(nothing is added).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from bookings.models import Booking, BookingStatus, LedgerEntry, LineStatus, Notification, Payment
from bookings.services.amounts import balance_minor
from journey.app import create_app
from journey.builder.models import Journey, JourneyStatus, Quote
from journey.core.accounts.models import User
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.core.types import today_in, utcnow
from journey.demo import ADMIN, DEMO_LOGINS, demo_offer_id, find_demo_journey
from journey.demo_data import MEMBERS, REVIEWED_JOURNEYS, TEMPLATES
from journey.demo_reviews import (
    arrival_of,
    demo_gateway,
    find_reviewed_journey,
    reviewed_journeys,
)
from journey.reviews.models import (
    DIMENSIONS,
    HideReason,
    Review,
    ReviewModeration,
    ReviewState,
)
from journey.reviews.services.reviews import served_members
from providers.models import CapacityDay, Offer, Provider
from providers.services.search import RANKED_FROM_REVIEWS, SearchQuery, search_offers
from tests.localstripe import free_port, reset

pytestmark = pytest.mark.slow  # the demo cluster: a year of calendars, ~35 logins

MODELS = (User, Provider, Offer, CapacityDay, Journey, Quote, Booking, Payment,
          LedgerEntry, Notification, Review, ReviewModeration)


def _counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in MODELS}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, localstripe_url):
    reset(localstripe_url)
    dead = f"http://127.0.0.1:{free_port()}"  # nothing answers there
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path_factory.mktemp("rdemo")
                                                       / "demo.db"),
        "TESTING": True, "ARGON2_PROFILE": "CHEAPEST",
        "STRIPE_API_BASE": dead,
    })
    runner = app.test_cli_runner()
    runs = {}
    with app.app_context():
        db.create_all()
        runs["without stripe"] = runner.invoke(args=["seed-demo"])
        runs["counts without stripe"] = _counts()
        app.config["STRIPE_API_BASE"] = localstripe_url
        runs["with stripe"] = runner.invoke(args=["seed-demo", "--if-empty"])
        runs["with stripe, not empty"] = runner.invoke(args=["seed-demo"])
        runs["counts"] = _counts()
        runs["again"] = runner.invoke(args=["seed-demo"])
        app.config["STRIPE_API_BASE"] = dead
        runs["again without stripe"] = runner.invoke(args=["seed-demo"])
        runs["counts again"] = _counts()
        app.config["STRIPE_API_BASE"] = localstripe_url
        db.session.remove()
    app.config["RUNS"] = runs
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def demo_ctx(demo_app):
    with demo_app.app_context():
        yield demo_app
        db.session.rollback()


def _runs(app) -> dict:
    return app.config["RUNS"]


def test_without_stripe_the_rest_loads_and_the_reviews_are_skipped_with_a_reason(demo_app):
    result = _runs(demo_app)["without stripe"]
    assert result.exit_code == 0, result.output
    first, second = result.output.strip().splitlines()
    assert first.startswith(f"demo cluster: {len(MEMBERS)} members, 65 offers, "
                            f"{len(DEMO_LOGINS)} accounts, {len(TEMPLATES)} package "
                            "templates, one patient journey, no completed journeys "
                            "(created now: ")
    assert second.startswith("completed journeys and reviews skipped: no Stripe answers "
                             "at http://127.0.0.1:")
    assert "flask seed-demo" in second
    counts = _runs(demo_app)["counts without stripe"]
    assert counts["Provider"] == len(MEMBERS) and counts["Offer"] == 65
    assert counts["User"] == len(DEMO_LOGINS)
    assert counts["Journey"] == 2  # the quoted one and the insured one
    assert counts["Booking"] == counts["Payment"] == counts["Review"] == 0


def test_with_stripe_the_journeys_are_added_later_and_only_once(demo_app):
    runs = _runs(demo_app)
    skipped = runs["with stripe"]  # --if-empty: the catalogue has members already
    assert skipped.exit_code == 0 and "skipped, the catalogue has members" in skipped.output
    added = runs["with stripe, not empty"]
    assert added.exit_code == 0, added.output
    assert added.output.count("\n") == 1  # one line: nothing skipped
    written = sum(len(spec["reviews"]) for spec in REVIEWED_JOURNEYS)
    assert (f"one patient journey, {len(REVIEWED_JOURNEYS)} completed journeys with "
            f"{written} reviews ({written - 1} published, 4 members ranked)") in added.output
    assert (f"{len(REVIEWED_JOURNEYS)} completed journeys, {written} reviews, "
            "3 member answers, 1 hidden reviews)") in added.output
    again = runs["again"]
    assert again.exit_code == 0, again.output
    assert again.output.strip().endswith("(created now: nothing)")
    # loaded already: nothing is said to be skipped when Stripe is gone again
    assert runs["again without stripe"].output == again.output
    assert runs["counts again"] == runs["counts"]
    assert runs["counts"]["Review"] == written


def test_the_journeys_lie_in_the_past_paid_and_completed(demo_ctx):
    today, now = today_in(), utcnow()
    found = reviewed_journeys()
    assert len(found) == len(REVIEWED_JOURNEYS) >= 6
    assert len({journey.patient_id for journey in found}) >= 6
    assert find_demo_journey().status == JourneyStatus.QUOTED  # Ingrid's knee: still ahead
    for spec in REVIEWED_JOURNEYS:
        journey = find_reviewed_journey(spec)
        assert journey.status == JourneyStatus.COMPLETED
        assert journey.arrival_on == arrival_of(spec, today) < journey.departure_on < today
        assert journey.created_at < journey.transitions[-1].at < now
        assert journey.nationality == spec["profile"]["nationality"]
        (quote,) = journey.quotes
        booking = db.session.scalar(select(Booking).where(
            Booking.reference == f"quote:{quote.id}"))
        assert booking.status == BookingStatus.CONFIRMED and balance_minor(booking) == 0
        assert {line.status for line in booking.lines} == {LineStatus.CONFIRMED}
        assert all(p.intent_id and p.created_at < now for p in booking.payments)
    links = {link for journey in found for links in served_members(journey).values()
             for link in links}
    assert len(links) >= 5  # several links of the chain


def test_reviews_only_for_completed_journeys_and_members_that_delivered(demo_ctx):
    found = db.session.scalars(select(Review)).all()
    assert found
    for review in found:
        journey = review.journey
        assert journey.status == JourneyStatus.COMPLETED
        assert review.author_id == journey.patient_id
        served = served_members(journey)
        assert review.provider_id in served
        assert set(review.ratings) <= {d.value for link in served[review.provider_id]
                                       for d in DIMENSIONS[link]}
        completed = max(t.at for t in journey.transitions
                        if t.to_status == JourneyStatus.COMPLETED)
        assert completed < review.created_at < utcnow()
        if review.replied_at is not None:
            assert review.created_at < review.replied_at < utcnow()
            assert db.session.get(User, review.replied_by_id).provider_id == \
                review.provider_id


def test_the_reviews_are_varied_and_written_in_the_patients_languages(demo_ctx):
    found = db.session.scalars(select(Review)).all()
    assert {"nb", "de", "ar", "en", "lt"} <= {review.language for review in found}
    assert any(review.anonymous for review in found)
    assert any(review.overall <= 2 for review in found if review.published)  # honest
    assert sum(review.replied_at is not None for review in found) >= 2
    (hidden,) = [review for review in found if review.state == ReviewState.HIDDEN]
    assert hidden.hidden_reason == HideReason.PERSONAL_DATA and hidden.hidden_note
    (log,) = db.session.scalars(select(ReviewModeration)).all()
    assert log.review_id == hidden.id and log.actor.email.startswith("coordinator@")
    for review in found:  # every patient writes in their own language
        assert review.language == review.author.locale


def test_at_least_three_members_rank_and_best_rated_sorts_by_them(demo_ctx):
    published = Counter(db.session.scalars(select(Review.provider_id).where(
        Review.state == ReviewState.PUBLISHED)))
    ranked = {pid for pid, n in published.items() if n >= RANKED_FROM_REVIEWS}
    assert len(ranked) >= 3
    result = search_offers(SearchQuery(language="en", currency="EUR", sort="rating"))
    first = [hit.offer.provider_id for hit in result.hits[:len(ranked)]]
    assert set(first) <= ranked
    assert all(hit.rating.count >= RANKED_FROM_REVIEWS for hit in result.hits[:3])


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_ratings_show_on_the_offer_and_member_pages(demo_ctx):
    neris = db.session.scalar(select(Provider).where(
        Provider.slug == "neris-orthopaedic-hospital"))
    overall = [r.overall for r in db.session.scalars(select(Review).where(
        Review.provider_id == neris.id, Review.state == ReviewState.PUBLISHED))]
    client = demo_ctx.test_client()
    knee = demo_offer_id("neris-orthopaedic-hospital",
                         "Total knee replacement (knee arthroplasty)")
    page = _text(client.get(f"/catalogue/offers/{knee}").get_data(as_text=True))
    assert f"{sum(overall) / len(overall):.1f} out of 5, {len(overall)} reviews" in page
    catalogue = _text(client.get("/catalogue?sort=rating").get_data(as_text=True))
    assert f"out of 5, {len(overall)} reviews" in catalogue
    baltadante = db.session.scalar(select(Provider.id).where(
        Provider.slug == "baltadante-dental-studio"))
    member = client.get(f"/catalogue/members/{baltadante}").get_data(as_text=True)
    assert re.search(r'<div class="review-text" lang="ar" dir="auto">', member)
    dukes = db.session.scalar(select(Provider.id).where(
        Provider.slug == "dukes-roads-excursions"))
    hidden = client.get(f"/catalogue/members/{dukes}").get_data(as_text=True)
    assert "No reviews yet." in hidden and "+370 612" not in hidden


def test_the_figures_agree_with_the_journeys_of_the_past(demo_ctx):
    from journey.figures import dashboard as board
    from journey.figures.services import SALES_KINDS, Period

    period = Period.last_days(365, today=utcnow().date())
    first, after = period.bounds()
    found = board.dashboard(get_user_by_email(ADMIN["email"]), board.Filters(period),
                            currency="EUR", now=utcnow(), response_hours=48)
    sales = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
                              .where(LedgerEntry.kind.in_(SALES_KINDS),
                                     LedgerEntry.at >= first, LedgerEntry.at < after))
    assert found.money.sales_minor == sales > 0
    steps = [step.journeys for step in found.funnel.steps]
    assert steps == sorted(steps, reverse=True)


def test_the_demo_pays_only_with_a_test_key(demo_ctx):
    key = demo_ctx.config["STRIPE_API_KEY"]
    demo_ctx.config["STRIPE_API_KEY"] = "sk_live_not_for_the_demo"
    try:
        assert demo_gateway() == (None, "the demo pays only with a Stripe test key "
                                        "(STRIPE_API_KEY=sk_test_...)")
    finally:
        demo_ctx.config["STRIPE_API_KEY"] = key
    gateway, problem = demo_gateway()
    assert gateway is not None and problem is None
