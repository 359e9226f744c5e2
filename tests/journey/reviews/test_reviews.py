"""Verified reviews through the services: who may review whom (the patient of a
completed journey, a member that delivered a line, once), changing within 30 days, the
member's one answer, anonymity towards the member and the public, the cluster's
moderation (hides with a reason, never changes a text, logged), the ratings for the
catalogue in one query, and the invitation (one e-mail per journey)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from journey import mail
from journey.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from journey.core.extensions import db
from journey.reviews import jobs
from journey.reviews.models import (
    HideReason,
    ModerationAction,
    Review,
    ReviewModeration,
    ReviewState,
)
from journey.reviews.services import invitations, moderation, ratings, reading, reviews
from journey.reviews.services.reviews import (
    AlreadyReplied,
    AlreadyReviewed,
    EditWindowClosed,
    NotCompleted,
    NotServed,
)
from tests.journey.reviews.reviews_world import GOOD, completed_world, count, mails, reviews_of
from tests.journey.trip_clock import over


@pytest.fixture
def w(world, gateway, make):
    return completed_world(world, gateway, make)


def _review(w, provider="clinic", who="patient", **data):
    review = reviews.submit_review(w[who], w["journey"].id, w[provider].id, {**GOOD, **data})
    db.session.commit()
    return review


# --- who may review whom --------------------------------------------------------------------

def test_the_patient_reviews_each_member_that_served_them_once(w):
    journey, rows = reviews.reviewables(w["patient"], w["journey"].id)
    assert {row.provider.id for row in rows} == {w["clinic"].id, w["hotel"].id}
    clinic = next(row for row in rows if row.provider.id == w["clinic"].id)
    hotel = next(row for row in rows if row.provider.id == w["hotel"].id)
    assert [d.value for d in clinic.dimensions] == ["care", "communication", "cleanliness",
                                                    "value"]
    assert [d.value for d in hotel.dimensions] == ["cleanliness", "comfort", "value"]
    review = _review(w)
    assert (review.overall, review.ratings, review.language) == (5, GOOD["ratings"], "en")
    assert review.chain_link.value == "treatment" and review.country == "DE"
    with pytest.raises(AlreadyReviewed):
        reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id, GOOD)
    with pytest.raises(NotServed):  # a member with nothing on this journey
        reviews.submit_review(w["patient"], w["journey"].id, w["other"].id, GOOD)
    assert len(reviews_of(w["journey"].id)) == 1


def test_nobody_but_the_journeys_patient_reviews(w):
    with pytest.raises(NotFound):  # another patient does not even see the journey
        reviews.submit_review(w["patient2"], w["journey"].id, w["clinic"].id, GOOD)
    for who in ("clinic_staff", "clinic_manager"):  # a member cannot review itself
        with pytest.raises(Forbidden):
            reviews.submit_review(w[who], w["journey"].id, w["clinic"].id, GOOD)
    with pytest.raises(Forbidden):  # a member on the journey cannot review another
        reviews.submit_review(w["hotel_staff"], w["journey"].id, w["clinic"].id, GOOD)
    with pytest.raises(Forbidden):
        reviews.submit_review(w["coordinator"], w["journey"].id, w["clinic"].id, GOOD)
    with pytest.raises((Forbidden, NotFound)):
        reviews.submit_review(w["other_staff"], w["journey"].id, w["clinic"].id, GOOD)
    assert reviews_of(w["journey"].id) == []


def test_a_journey_not_completed_cannot_be_reviewed(world, gateway, make):
    w = completed_world(world, gateway, make, complete=False)
    assert reviews.reviewables(w["patient"], w["journey"].id)[1] == []
    with pytest.raises(NotCompleted):
        reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id, GOOD)


def test_a_cancelled_line_was_not_delivered(world, gateway, make):
    w = completed_world(world, gateway, make, cancel_room="coordinator")
    served = reviews.served_members(w["journey"])
    assert set(served) == {w["clinic"].id}
    with pytest.raises(NotServed):
        reviews.submit_review(w["patient"], w["journey"].id, w["hotel"].id, GOOD)


def test_two_submits_at_the_same_moment_write_one_review(w, monkeypatch):
    """The second of two concurrent submits passed the "not reviewed yet" check before
    the first was written: the database's unique key refuses it (409), nothing else."""
    stale = reviews.reviewable(w["patient"], w["journey"].id, w["clinic"].id)
    _review(w)
    monkeypatch.setattr(reviews, "reviewable", lambda *_args: stale)
    with pytest.raises(AlreadyReviewed):
        reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id, GOOD)
    db.session.commit()  # the session is still usable: the savepoint alone rolled back
    assert len(reviews_of(w["journey"].id)) == 1


def test_what_a_review_holds_is_checked(w):
    for data, name in (({"overall": 0}, "overall"), ({"overall": 6}, "overall"),
                       ({"overall": None}, "overall"), ({"overall": True}, "overall"),
                       ({"ratings": {"punctuality": 4}}, "ratings"),
                       ({"ratings": {"care": 9}}, "ratings"),
                       ({"text": "x" * 4001}, "text"), ({"language": "xx-nope"}, "language")):
        with pytest.raises(InvalidInput) as refused:
            reviews.submit_review(w["patient"], w["journey"].id, w["clinic"].id,
                                  {**GOOD, **data})
        assert name in refused.value.fields, data
    assert reviews_of(w["journey"].id) == []
    minimal = reviews.submit_review(w["patient"], w["journey"].id, w["hotel"].id,
                                    {"overall": 2})
    assert (minimal.text, minimal.ratings, minimal.anonymous) == ("", {}, False)
    assert minimal.language == (w["patient"].locale or "en")


# --- changing -----------------------------------------------------------------------------

def test_the_author_changes_the_review_within_30_days_only(w):
    review = _review(w)
    changed = reviews.edit_review(w["patient"], review.id, {"overall": 3, "text": "Better."},
                                  now=review.created_at + timedelta(days=29))
    assert (changed.overall, changed.text, changed.ratings) == (3, "Better.", GOOD["ratings"])
    assert changed.edited_at is not None
    with pytest.raises(EditWindowClosed):
        reviews.edit_review(w["patient"], review.id, {"overall": 1},
                            now=review.created_at + timedelta(days=30, seconds=1))
    with pytest.raises(NotFound):
        reviews.edit_review(w["patient2"], 10**6, {"overall": 1})
    for who in ("coordinator", "clinic_staff", "patient2"):
        with pytest.raises(Forbidden):
            reviews.edit_review(w[who], review.id, {"text": "Rewritten"})
    db.session.expire_all()
    assert db.session.get(Review, review.id).text == "Better."


# --- the member's answer ------------------------------------------------------------------

def test_the_member_answers_once(w):
    review = _review(w, overall=1, text="Too long a wait.")
    for who in ("hotel_staff", "coordinator", "patient"):
        with pytest.raises(Forbidden):
            reviews.reply(w[who], review.id, "Sorry")
    with pytest.raises(InvalidInput):
        reviews.reply(w["clinic_staff"], review.id, "   ")
    answered = reviews.reply(w["clinic_staff"], review.id, "We are sorry; we changed the "
                             "schedule.", "en")
    assert answered.reply_text.startswith("We are sorry") and answered.replied_at
    assert answered.replied_by_id == w["clinic_staff"].id
    with pytest.raises(AlreadyReplied):
        reviews.reply(w["clinic_manager"], review.id, "Again")
    db.session.expire_all()
    assert db.session.get(Review, review.id).reply_text.startswith("We are sorry")


# --- anonymity ----------------------------------------------------------------------------

def test_an_anonymous_author_is_unknown_to_the_member_and_the_public(w, app):
    review = _review(w, anonymous=True)
    with app.test_request_context():
        member = reading.view_of(w["clinic_staff"], review)
        public = reading.view_of(None, review)
        other_patient = reading.view_of(w["patient2"], review)
        for view in (member, public, other_patient):
            assert view.author == "A patient from Germany"
            assert (view.author_id, view.author_name, view.journey_id) == (None, None, None)
        assert reading.view_of(w["coordinator"], review).author_name == "Ingrid Solberg"
        assert reading.view_of(w["patient"], review).author == "You"
        listed, total = reading.member_reviews(w["clinic_staff"], w["clinic"].id)
        assert total == 1 and listed[0].author_name is None and listed[0].journey_id is None
        named = _review(w, provider="hotel", ratings={})
        assert reading.view_of(None, named).author == "Ingrid S., from Germany"
        assert reading.view_of(w["hotel_staff"], named).author_name == "Ingrid Solberg"
    with pytest.raises(Forbidden):  # another member's staff do not list them
        reading.member_reviews(w["hotel_staff"], w["clinic"].id)


# --- moderation ---------------------------------------------------------------------------

def test_moderation_hides_with_a_reason_and_never_changes_the_text(w):
    text = "The surgeon, Dr Jonas P. (+370 600 00000), was rude.\n\u00e9\u0301 \U0001F600 "
    review = _review(w, overall=1, text=text)
    stored = db.session.get(Review, review.id).text
    for reason in (None, "", "negative", "low_rating"):  # a low rating is no reason
        with pytest.raises(InvalidInput) as refused:
            moderation.hide_review(w["coordinator"], review.id, reason)
        assert "reason" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:  # "other" needs a note
        moderation.hide_review(w["coordinator"], review.id, HideReason.OTHER)
    assert "note" in refused.value.fields
    for who in ("patient", "clinic_staff", "clinic_manager"):
        with pytest.raises(Forbidden):
            moderation.hide_review(w[who], review.id, HideReason.INSULT)
    assert count(ReviewModeration) == 0
    hidden = moderation.hide_review(w["coordinator"], review.id, HideReason.PERSONAL_DATA,
                                    "Please leave out the phone number.")
    db.session.commit()
    db.session.expire_all()
    hidden = db.session.get(Review, review.id)
    assert hidden.state == ReviewState.HIDDEN and hidden.text == stored
    assert hidden.text.encode() == stored.encode() and hidden.overall == 1
    with pytest.raises(Conflict):
        moderation.hide_review(w["coordinator"], review.id, HideReason.INSULT)
    with pytest.raises(NotFound):  # gone from the public and the member
        reviews.read_review(None, review.id)
    with pytest.raises(NotFound):
        reviews.read_review(w["clinic_staff"], review.id)
    assert reading.published_reviews(w["clinic"].id)[1] == 0
    mine = reading.view_of(w["patient"], reviews.read_review(w["patient"], review.id))
    assert mine.hidden_reason == "personal_data"
    assert mine.hidden_note == "Please leave out the phone number."
    moderation.unhide_review(w["admin"], review.id, "Checked again")
    db.session.commit()
    log = moderation.moderation_log(w["patient"], review.id)
    assert [(e.action, e.reason, e.actor_id) for e in log] == [
        (ModerationAction.HIDE, HideReason.PERSONAL_DATA, w["coordinator"].id),
        (ModerationAction.UNHIDE, None, w["admin"].id)]
    with pytest.raises(Conflict):
        moderation.unhide_review(w["coordinator"], review.id)
    with pytest.raises(NotFound):
        moderation.moderation_log(w["clinic_staff"], review.id)
    db.session.expire_all()
    assert db.session.get(Review, review.id).text.encode() == stored.encode()
    assert reading.published_reviews(w["clinic"].id)[1] == 1


def test_moderation_functions_take_no_text():
    """By construction: nothing the cluster calls can carry a new text."""
    import inspect

    for function in (moderation.hide_review, moderation.unhide_review):
        assert not {"text", "overall", "ratings", "data"} & set(
            inspect.signature(function).parameters)


# --- figures for the catalogue ------------------------------------------------------------

def test_ratings_of_many_members_and_offers_in_one_query(w, world, gateway, make):
    _review(w, overall=5)
    _review(w, provider="hotel", overall=2, ratings={"comfort": 2})
    hidden = w["hotel"].id
    statements = []

    def count_it(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    ids = [w["clinic"].id, w["hotel"].id, w["other"].id]  # read before counting
    db.session.flush()
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count_it)
    try:
        found = ratings.provider_ratings(ids)
    finally:
        event.remove(engine, "before_cursor_execute", count_it)
    assert len(statements) == 1, statements
    assert found[w["clinic"].id] == ratings.RatingSummary(1, 5)
    assert found[w["hotel"].id].average == 2.0 and w["other"].id not in found
    by_offer = ratings.offer_ratings([w["surgery"].id, w["room"].id, w["dental"].id])
    assert by_offer[w["surgery"].id].count == 1 and w["dental"].id not in by_offer
    review = db.session.scalars(db.select(Review).where(Review.provider_id == hidden)).one()
    moderation.hide_review(w["coordinator"], review.id, HideReason.OFF_TOPIC)
    assert hidden not in ratings.provider_ratings([hidden])
    assert ratings.provider_ratings([]) == {}


# --- the invitation -----------------------------------------------------------------------

def test_one_invitation_per_completed_journey(w, app):
    db.session.commit()
    assert jobs.invite_reviewers() == 1
    assert jobs.invite_reviewers() == 0  # the job run twice
    assert invitations.invite(w["journey"]) is False
    sent = mails(invitations.INVITATION)
    assert len(sent) == 1 and sent[0].recipient == f"user:{w['patient'].id}"
    with app.test_request_context():
        message = mail.compose(sent[0], "ingrid@example.test", "en")
        body = message.get_content()
    assert "Neris Clinic" in body and "Hotel Tilto" in body and "Kaunas" not in body
    assert f"/my/journeys/{w['journey'].id}/reviews" in body and "/reviews/rules" in body
    assert str(w["journey"].id) in message["Subject"]


def test_no_invitation_before_completion_nor_long_after(world, gateway, make):
    w = completed_world(world, gateway, make, complete=False)
    assert jobs.invite_reviewers() == 0
    from journey.trip.services import progress

    ended = over(w["journey"])
    progress.set_progress(w["coordinator"], w["journey"].id, "completed", now=ended)
    db.session.commit()
    assert jobs.invite_reviewers(now=ended + timedelta(days=31)) == 0
    assert jobs.invite_reviewers(now=ended + timedelta(hours=1)) == 1


def test_erasure_leaves_anonymous_ratings_without_text(w, app):
    review = _review(w, text="Ingrid here, room 12.")
    assert reviews.erase_reviews([w["journey"].id]) == 1
    assert reviews.erase_reviews([]) == 0
    db.session.expire_all()
    erased = db.session.get(Review, review.id)
    assert (erased.text, erased.anonymous, erased.country, erased.overall) == ("", True,
                                                                               None, 5)
    with app.test_request_context():
        assert reading.view_of(None, erased).author == "A patient"
