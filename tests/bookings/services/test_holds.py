"""Holds: all-or-nothing, counted only while live, never beyond capacity."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bookings.models import Hold
from bookings.services.availability import Line, free_units, line_available
from bookings.services.holds import MAX_RENEWALS, place_holds, release_holds, renew_holds
from journey.core.errors import Busy, Conflict
from journey.core.extensions import db
from journey.core.types import today_in, utcnow

START = today_in() + timedelta(days=5)
TTL = timedelta(minutes=30)


@pytest.fixture
def offer(make):
    return make.offer(capacity=3, days=20, chain_link="accommodation", price_unit="night",
                      capacity_unit="room", duration_unit="nights")


def test_a_hold_uses_capacity_until_it_expires_or_is_released(app, client, offer):
    line = Line(offer.id, START, 3, 2)
    now = utcnow()
    place_holds([line], group_key="a", ttl=TTL, now=now)
    db.session.commit()
    assert free_units(line, now=now) == 1
    # The catalogue sees it too: the calendar and the search.
    day = client.get(f"/api/v1/offers/{offer.id}/calendar?start={START}&end={START}").json[0]
    assert (day["capacity"], day["used"], day["available"]) == (3, 2, 1)
    search = client.get(f"/api/v1/offers?start={START}&end={START + timedelta(days=2)}"
                        f"&quantity=2").json
    assert search["total"] == 0
    # Expired: counts no more, at once, with no job having run.
    assert free_units(line, now=now + TTL + timedelta(seconds=1)) == 3
    release_holds("a", now=now)
    db.session.commit()
    assert free_units(line, now=now) == 3


def test_all_or_nothing(offer, make):
    other = make.offer(capacity=1, days=20)
    place_holds([Line(other.id, START, 1, 1)], group_key="first", ttl=TTL)
    db.session.commit()
    with pytest.raises(Conflict):
        place_holds([Line(offer.id, START, 2, 1), Line(other.id, START, 1, 1)],
                    group_key="second", ttl=TTL)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Hold.id))
                             .where(Hold.group_key == "second")) == 0


def test_lines_of_one_checkout_add_up(offer):
    with pytest.raises(Conflict):
        place_holds([Line(offer.id, START, 1, 2), Line(offer.id, START, 1, 2)],
                    group_key="x", ttl=TTL)


def test_days_without_a_calendar_have_no_capacity(offer):
    beyond = START + timedelta(days=40)
    assert not line_available(Line(offer.id, beyond, 1, 1))
    with pytest.raises(Conflict):
        place_holds([Line(offer.id, beyond, 1, 1)], group_key="x", ttl=TTL)


def test_renewal_checks_again_and_is_limited(offer):
    now = utcnow()
    place_holds([Line(offer.id, START, 1, 3)], group_key="mine", ttl=TTL, now=now)
    db.session.commit()
    later = now + TTL + timedelta(minutes=1)  # expired: someone else takes the rooms
    place_holds([Line(offer.id, START, 1, 2)], group_key="theirs", ttl=TTL, now=later)
    db.session.commit()
    with pytest.raises(Conflict):
        renew_holds("mine", ttl=TTL, now=later)
    db.session.rollback()
    release_holds("theirs", now=later)
    for i in range(MAX_RENEWALS):
        renew_holds("mine", ttl=TTL, now=later + timedelta(minutes=i))
    with pytest.raises(Conflict):
        renew_holds("mine", ttl=TTL, now=later + timedelta(minutes=10))


@pytest.mark.commits  # threads at once, each with its own connection
def test_no_oversell_under_concurrency(app, make):
    """Twelve racers with their own connections for five rooms: five win, the rest are
    told "sold out" (409) or "busy" (503), and the rooms are never oversold."""
    offer = make.offer(capacity=5, days=10)
    offer_id = offer.id
    results, barrier = [], threading.Barrier(12)

    def racer(n):
        with app.app_context():
            barrier.wait()
            try:
                place_holds([Line(offer_id, START, 2, 1)], group_key=f"racer-{n}", ttl=TTL)
                db.session.commit()
                results.append("won")
            except Conflict:
                db.session.rollback()
                results.append("sold out")
            except OperationalError:  # the request edge answers 503 busy for these
                db.session.rollback()
                results.append("busy")
            except Busy:
                results.append("busy")

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 12
    assert 1 <= results.count("won") <= 5  # someone wins, nobody oversells
    assert results.count("won") + results.count("sold out") + results.count("busy") == 12
    if db.engine.dialect.name == "postgresql":
        assert results.count("won") == 5  # the row locks queue the racers
    with app.app_context():
        held = db.session.scalar(db.select(db.func.sum(Hold.quantity)))
        assert held == results.count("won") <= 5
        assert free_units(Line(offer_id, START, 2, 1)) == 5 - held


def test_released_holds_stay_out_of_the_index_by_offer(offer):
    """ix_hold_offer_live holds the unreleased holds only (every query of holds by offer
    asks for those), so released ones, kept for the record, do not slow the lookup of
    expired unreleased holds; and that lookup still finds what it must."""
    from sqlalchemy import text

    from providers.services.availability import used_units

    if db.engine.dialect.name == "postgresql":
        definition = db.session.scalar(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_hold_offer_live'"))
    else:
        definition = db.session.scalar(text(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_hold_offer_live'"))
    assert "released_at IS NULL" in definition, definition
    now = utcnow()
    place_holds([Line(offer.id, START, 2, 1)], group_key="gone", ttl=TTL, now=now - 2 * TTL)
    release_holds("gone", now=now - TTL)
    place_holds([Line(offer.id, START, 2, 2)], group_key="lapsed", ttl=TTL, now=now - 2 * TTL)
    db.session.commit()
    # the lapsed hold is still in `used`, and counted as stale: free again
    assert free_units(Line(offer.id, START, 2, 3), now=now) == 3
    assert used_units(offer.id, START, START + timedelta(days=1), now) == {}
