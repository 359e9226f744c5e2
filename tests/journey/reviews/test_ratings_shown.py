"""Reviews where patients choose: the catalogue's "best rated" sort and the rating step
of its relevance order (one SQL statement), the rating and count on the catalogue, offer
and member pages, the member's published reviews with their language, chain link,
signature and answer, hidden reviews counting nowhere, and no query per result."""

from __future__ import annotations

import re

import pytest

from journey.core.extensions import db
from journey.reviews.models import HideReason
from journey.reviews.services import moderation, ratings, reviews
from providers.services import search
from providers.services.search import SearchQuery, search_offers
from tests.journey.pages.portal_fixtures import queries_of
from tests.journey.reviews.reviews_world import GOOD, completed_world


@pytest.fixture
def w(world, gateway, make):
    return completed_world(world, gateway, make)


@pytest.fixture
def one_review_ranks(monkeypatch):
    """Rank a member from its first published review (one completed journey is enough
    to test the order; the threshold itself has its own test)."""
    monkeypatch.setattr(search, "RANKED_FROM_REVIEWS", 1)


def _review(w, provider, **data):
    review = reviews.submit_review(w["patient"], w["journey"].id, w[provider].id,
                                   {**GOOD, **data})
    db.session.commit()
    return review


def _order(w, sort="relevance", **kw) -> list[str]:
    names = {w[key].id: key for key in ("room", "room2", "surgery", "rehab", "dental")}
    result = search_offers(SearchQuery(language="en", currency="EUR", sort=sort, **kw))
    return [names[hit.offer.id] for hit in result.hits if hit.offer.id in names]


def test_relevance_without_reviews_is_link_then_price(w):
    assert _order(w) == ["dental", "surgery", "rehab", "room", "room2"]


def test_relevance_puts_a_rated_clinic_above_an_unrated_one_of_the_same_link(
        w, one_review_ranks):
    _review(w, "clinic", overall=2)  # even a modest rating: rated before unrated
    assert _order(w) == ["surgery", "dental", "rehab", "room", "room2"]


def test_the_link_of_the_chain_still_comes_before_the_rating(w, one_review_ranks):
    _review(w, "hotel", overall=5, ratings={})
    # the well rated hotel stays below the unrated treatments and rehabilitation
    assert _order(w) == ["dental", "surgery", "rehab", "room", "room2"]


def test_fewer_reviews_than_the_threshold_do_not_rank(w):
    assert search.RANKED_FROM_REVIEWS == 3
    _review(w, "clinic", overall=5)
    assert _order(w) == ["dental", "surgery", "rehab", "room", "room2"]
    assert _order(w, sort="rating") == ["dental", "surgery", "rehab", "room", "room2"]
    # ...but the rating is shown all the same
    hit = search_offers(SearchQuery(language="en", currency="EUR", text="knee replacement"))
    assert (hit.hits[0].rating.count, hit.hits[0].rating.average) == (1, 5.0)


def test_best_rated_first_then_as_relevance(w, one_review_ranks):
    _review(w, "clinic", overall=3)
    _review(w, "hotel", overall=5, ratings={})
    assert _order(w, sort="rating") == ["room", "surgery", "dental", "rehab", "room2"]
    result = search_offers(SearchQuery(language="en", currency="EUR", sort="rating"))
    shown = {hit.offer.id: (hit.rating.count, hit.rating.average) for hit in result.hits}
    assert shown[w["room"].id] == (1, 5.0) and shown[w["surgery"].id] == (1, 3.0)
    assert shown[w["dental"].id] == (0, None)


def test_the_api_sorts_by_rating(client, w, one_review_ranks):
    _review(w, "hotel", overall=4, ratings={})
    response = client.get("/api/v1/offers?sort=rating")
    assert response.status_code == 200, response.json
    assert response.json["items"][0]["offer"]["id"] == w["room"].id
    assert client.get("/api/v1/offers?sort=stars").status_code == 422


def test_hidden_reviews_count_nowhere(client, w, one_review_ranks):
    review = _review(w, "clinic", overall=5)
    assert _order(w)[0] == "surgery"
    moderation.hide_review(w["coordinator"], review.id, HideReason.INSULT)
    db.session.commit()
    assert _order(w) == ["dental", "surgery", "rehab", "room", "room2"]
    assert ratings.provider_ratings([w["clinic"].id]) == {}
    page = client.get(f"/catalogue/members/{w['clinic'].id}").get_data(as_text=True)
    assert "No reviews yet." in page and "Excellent care." not in page
    assert "out of 5" not in client.get("/catalogue?q=knee").get_data(as_text=True)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_pages_show_rating_count_and_the_reviews(client, w):
    review = _review(w, "clinic", overall=4, text="Kjempegod behandling.", language="nb",
                     anonymous=True)
    reviews.reply(w["clinic_manager"], review.id, "Thank you for your trust.", "en")
    db.session.commit()
    clinic = w["clinic"].id

    catalogue = client.get("/catalogue?q=knee+replacement").get_data(as_text=True)
    assert "4.0 out of 5, 1 review" in _text(catalogue)
    assert f'href="/catalogue/members/{clinic}#reviews"' in catalogue
    assert "never depends on commissions, fees or anything else a member pays" in catalogue

    offer = client.get(f"/catalogue/offers/{w['surgery'].id}").get_data(as_text=True)
    assert "4.0 out of 5, 1 review" in _text(offer)
    room = client.get(f"/catalogue/offers/{w['room'].id}").get_data(as_text=True)
    assert "No reviews of this member yet." in room

    member = client.get(f"/catalogue/members/{clinic}").get_data(as_text=True)
    text = _text(member)
    assert "4.0 out of 5, 1 review" in text
    assert 'id="reviews"' in member
    # written in Norwegian, marked so; the chain link; signed as the public reads it
    assert re.search(r'<div class="review-text" lang="nb" dir="auto">\s*Kjempegod', member)
    assert "Treatment" in text and "Ingrid" not in text and "A patient from" in text
    # the member's answer under it
    assert member.index("Kjempegod") < member.index("Thank you for your trust.")
    assert "Answer from Neris Clinic" in text


def test_the_stars_say_it_in_words(client, w):
    _review(w, "clinic", overall=5)
    page = client.get(f"/catalogue/members/{w['clinic'].id}").get_data(as_text=True)
    stars = re.search(r'<span class="stars"[^>]*>', page).group(0)
    assert 'aria-hidden="true"' in stars  # decoration: the text beside it says it


def test_two_reviews_in_plural(client, w, gateway, make):
    _review(w, "clinic", overall=5)
    second = completed_world(w, gateway, make)  # the same patient, a second journey
    reviews.submit_review(second["patient"], second["journey"].id, w["clinic"].id,
                          {**GOOD, "overall": 4})
    db.session.commit()
    page = client.get(f"/catalogue/offers/{w['surgery'].id}").get_data(as_text=True)
    assert "4.5 out of 5, 2 reviews" in _text(page)


def test_the_catalogue_runs_no_query_per_result(app, client, w, make):
    _review(w, "clinic", overall=5)
    _review(w, "hotel", overall=4, ratings={})
    before = queries_of(app, client, "/catalogue")
    for n in range(4):  # more results, from more members, some of them rated
        make.offer(w["clinic"], chain_link="consultation", capacity_unit="consultation_slot",
                   capacity=5, days=30, texts={"en": {"title": f"Consultation {n}"}})
        make.offer(make.member(name=f"Clinic {n}", kind="clinic", city="Kaunas"),
                   chain_link="treatment", texts={"en": {"title": f"Treatment {n}"}})
    assert queries_of(app, client, "/catalogue") == before
    assert queries_of(app, client, "/catalogue?sort=rating") == before


def test_the_member_page_runs_no_query_per_review(app, client, w, gateway, make):
    _review(w, "clinic", overall=5)
    url = f"/catalogue/members/{w['clinic'].id}"
    before = queries_of(app, client, url)
    second = completed_world(w, gateway, make)
    review = reviews.submit_review(second["patient"], second["journey"].id, w["clinic"].id,
                                   {**GOOD})
    reviews.reply(w["clinic_manager"], review.id, "Thanks!", "en")
    db.session.commit()
    assert queries_of(app, client, url) == before
