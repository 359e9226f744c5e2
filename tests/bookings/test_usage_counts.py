"""``capacity_day.used``: kept with every hold and every booked line in the same
transaction, equal at any moment to what the holds and lines count; availability
reads it (with the expired holds added back) and gives the same answers as summing
the holds and lines did; ``flask usage check|rebuild`` and the migration's backfill.

(Every other test checks the invariant too: see ``_check_usage_counts`` in the root
conftest.)"""

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from bookings.jobs import expire_unpaid
from bookings.models import BookingStatus, Hold, LineStatus, Refund
from bookings.services import cancellation, confirmation
from bookings.services.availability import Line, free_units, line_available, lines_available
from bookings.services.holds import place_holds, refuse_sold_out, release_holds, renew_holds
from bookings.services.usage import rebuild_usage_counts, usage_differences
from journey.builder.services import checkout as journey_checkout
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.types import today_in, utcnow
from providers.models import CapacityDay
from providers.services import offers
from providers.services.availability import used_units
from tests.booking_fixtures import (
    accepted_quote,
    authorised_booking,
    confirmed_booking,
    line_of,
    paid_booking,
    room_declined_surgery_accepted,
)
from tests.journey.builder_world import soon

START = today_in() + timedelta(days=5)
TTL = timedelta(minutes=30)


def stored(offer_id, first, days=1) -> list[int]:
    """``used`` as kept on each of ``days`` days from ``first``."""
    kept = dict(db.session.execute(select(CapacityDay.day, CapacityDay.used).where(
        CapacityDay.offer_id == offer_id,
        CapacityDay.day.between(first, first + timedelta(days=days - 1)))).all())
    return [kept.get(first + timedelta(days=i)) for i in range(days)]


@pytest.fixture
def offer(make):
    return make.offer(capacity=3, days=20, chain_link="accommodation", price_unit="night",
                      capacity_unit="room", duration_unit="nights")


def test_holds_add_their_units_and_a_release_takes_them_back(offer):
    now = utcnow()
    place_holds([Line(offer.id, START, 3, 2)], group_key="a", ttl=TTL, now=now)
    place_holds([Line(offer.id, START + timedelta(days=1), 1, 1)], group_key="b", ttl=TTL,
                now=now)
    db.session.commit()
    assert stored(offer.id, START - timedelta(days=1), 5) == [0, 2, 3, 2, 0]
    renew_holds("b", ttl=TTL, now=now + timedelta(minutes=10))  # changes nothing
    assert stored(offer.id, START, 3) == [2, 3, 2]
    assert release_holds("a", now=now) == 1
    assert release_holds("a", now=now) == 0  # twice: nothing more to give back
    db.session.commit()
    assert stored(offer.id, START, 3) == [0, 1, 0]
    assert usage_differences() == []


def test_an_expired_hold_keeps_its_count_but_not_its_units(offer):
    now = utcnow()
    line = Line(offer.id, START, 2, 2)
    place_holds([line], group_key="a", ttl=TTL, now=now)
    db.session.commit()
    later = now + TTL + timedelta(seconds=1)
    assert stored(offer.id, START, 2) == [2, 2]  # no job has run: still counted...
    # ...but free again at once, in Python and in SQL alike.
    assert free_units(line, now=later) == 3
    assert line_available(Line(offer.id, START, 2, 3), now=later)
    assert lines_available([Line(offer.id, START, 2, 3), Line(offer.id, START, 2, 4)],
                           now=later) == [True, False]
    assert used_units(offer.id, START, START + timedelta(days=1), later) == {}
    # Before it expired (and even before it was placed, as the sums said) it counts.
    for moment in (now - timedelta(hours=1), now, now + TTL - timedelta(seconds=1)):
        assert free_units(line, now=moment) == 1
        assert lines_available([Line(offer.id, START, 2, 1), Line(offer.id, START, 2, 2)],
                               now=moment) == [True, False]
        assert used_units(offer.id, START, START + timedelta(days=1), moment) == {
            START: 2, START + timedelta(days=1): 2}
    # A new hold may take the expired one's units: the count is then above capacity
    # until the old hold is released, and nothing is free.
    place_holds([Line(offer.id, START, 1, 3)], group_key="b", ttl=TTL, now=later)
    db.session.commit()
    assert stored(offer.id, START, 2) == [5, 2]
    assert free_units(Line(offer.id, START, 1, 1), now=later) == 0
    assert not line_available(Line(offer.id, START, 1, 1), now=later)
    with pytest.raises(Conflict):
        place_holds([Line(offer.id, START, 1, 1)], group_key="c", ttl=TTL, now=later)
    db.session.rollback()
    release_holds("a", now=later)
    db.session.commit()
    assert stored(offer.id, START, 2) == [3, 0]
    assert free_units(Line(offer.id, START, 2, 1), now=later) == 0


def test_a_renewal_after_expiry_finds_its_own_units_again(offer):
    now = utcnow()
    place_holds([Line(offer.id, START, 1, 3)], group_key="a", ttl=TTL, now=now)
    later = now + TTL + timedelta(minutes=1)
    renew_holds("a", ttl=TTL, now=later)
    db.session.commit()
    assert stored(offer.id, START) == [3]
    assert free_units(Line(offer.id, START, 1, 1), now=later) == 0


def test_the_calendar_keeps_the_count_when_its_capacity_changes(make, offer, client):
    place_holds([Line(offer.id, START, 2, 2)], group_key="a", ttl=TTL)
    db.session.commit()
    offers.set_capacity(make.admin(), offer.id, start=START, end=START + timedelta(days=3),
                        capacity=7)
    db.session.commit()
    assert stored(offer.id, START, 3) == [2, 2, 0]
    day = client.get(f"/api/v1/offers/{offer.id}/calendar?start={START}&end={START}").json[0]
    assert (day["capacity"], day["used"], day["available"]) == (7, 2, 5)
    # A day that comes back to the calendar comes back with what already uses it.
    db.session.execute(CapacityDay.__table__.delete().where(
        CapacityDay.offer_id == offer.id, CapacityDay.day == START))
    offers.set_capacity(make.admin(), offer.id, start=START - timedelta(days=1), end=START,
                        capacity=4)
    db.session.commit()
    assert stored(offer.id, START - timedelta(days=1), 2) == [0, 2]
    assert usage_differences() == []


def test_checkout_authorisation_confirmation_and_cancellation(world, gateway):
    room, surgery = world["room"], world["surgery"]
    link = journey_checkout.checkout_quote(world["coordinator"],
                                           accepted_quote(world).id)  # holds, no card yet
    db.session.commit()
    assert stored(room.id, soon(10), 10) == [1] * 10 and stored(room.id, soon(20)) == [0]
    assert stored(surgery.id, soon(12)) == [1]
    booking = authorised_booking(world, gateway)  # a second booking: held, then booked
    assert booking.status == BookingStatus.AUTHORISED
    assert {line.status for line in booking.lines} == {LineStatus.REQUESTED}
    assert stored(room.id, soon(10), 10) == [2] * 10
    assert stored(surgery.id, soon(12)) == [2]
    staff = {world["hotel"].id: world["hotel_staff"], world["clinic"].id: world["clinic_staff"]}
    for line in booking.lines:
        confirmation.accept_line(staff[line.provider_id], line.id, gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.CONFIRMED
    assert stored(surgery.id, soon(12)) == [2]
    cancellation.cancel_booking(world["patient"], booking.id, gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.CANCELLED
    assert stored(room.id, soon(10), 10) == [1] * 10  # the link's holds still count
    assert stored(surgery.id, soon(12)) == [1]
    cancellation.cancel_booking(world["coordinator"], link.id, gateway=gateway)
    db.session.commit()
    assert stored(room.id, soon(10), 10) == [0] * 10 and stored(surgery.id, soon(12)) == [0]


def test_the_expiry_job_releases_the_holds_of_an_unpaid_booking(world, gateway):
    link = journey_checkout.checkout_quote(world["coordinator"], accepted_quote(world).id)
    db.session.commit()
    surgery = Line(world["surgery"].id, soon(12), 1, 1)
    assert stored(surgery.offer_id, soon(12)) == [1]
    later = link.expires_at + timedelta(seconds=1)
    assert free_units(surgery, now=later) == 2  # expired: free, still counted
    assert stored(surgery.offer_id, soon(12)) == [1]
    assert expire_unpaid(gateway, now=later) == 1
    assert link.status == BookingStatus.EXPIRED
    assert stored(surgery.offer_id, soon(12)) == [0]
    assert free_units(surgery, now=later) == free_units(surgery) == 2
    assert db.session.scalar(select(Hold.released_at).where(
        Hold.group_key == link.hold_group).limit(1)) is not None


def test_a_decline_frees_the_line_and_the_patients_decision_the_rest(world, gateway):
    booking = authorised_booking(world, gateway)
    room, surgery = line_of(booking, world["room"]), line_of(booking, world["surgery"])
    confirmation.decline_line(world["hotel_staff"], room.id, "Closed for renovation",
                              gateway=gateway)
    confirmation.accept_line(world["clinic_staff"], surgery.id, gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.ACTION_REQUIRED
    assert stored(room.offer_id, soon(10), 10) == [0] * 10
    assert stored(surgery.offer_id, soon(12)) == [1]  # confirmed: kept while deciding
    confirmation.proceed_without_declined(world["patient"], booking.id, gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.CONFIRMED
    assert stored(room.offer_id, soon(10), 10) == [0] * 10
    assert stored(surgery.offer_id, soon(12)) == [1]


def test_cancelling_after_a_decline_gives_back_the_confirmed_lines(world, gateway):
    booking = authorised_booking(world, gateway)
    room_declined_surgery_accepted(world, booking, gateway)
    cancellation.cancel_booking(world["patient"], booking.id, gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.CANCELLED
    assert stored(world["surgery"].id, soon(12)) == [0]
    assert stored(world["room"].id, soon(10), 10) == [0] * 10


def test_lines_cancelled_with_refunds_give_their_units_back(world, gateway):
    tiers = [{"days_before": 0, "refund_percent": 100}]
    booking = paid_booking(world, gateway, {"surgery": tiers, "room": tiers})
    assert stored(world["surgery"].id, soon(12)) == [1]
    cancellation.cancel_line(world["patient"], line_of(booking, world["surgery"]).id,
                             reason="Changed plans", gateway=gateway)
    db.session.commit()
    assert db.session.scalar(select(func.count(Refund.id)).where(
        Refund.booking_id == booking.id)) >= 1
    assert stored(world["surgery"].id, soon(12)) == [0]
    assert stored(world["room"].id, soon(10), 10) == [1] * 10
    cancellation.cancel_booking(world["patient"], booking.id, gateway=gateway)
    db.session.commit()
    assert booking.status == BookingStatus.CANCELLED
    assert stored(world["room"].id, soon(10), 10) == [0] * 10


def test_check_and_rebuild_repair_a_corrupted_count(app, world, gateway):
    booking = confirmed_booking(world, gateway)
    surgery, room = world["surgery"].id, world["room"].id
    runner = app.test_cli_runner()
    assert runner.invoke(args=["usage", "check"]).exit_code == 0
    table = CapacityDay.__table__
    db.session.execute(update(table).where(table.c.offer_id == surgery,
                                           table.c.day == soon(12)).values(used=0))
    db.session.execute(update(table).where(table.c.offer_id == room,
                                           table.c.day == soon(30)).values(used=3))
    db.session.commit()
    assert set(usage_differences()) == {(surgery, soon(12), 0, 1), (room, soon(30), 3, 0)}
    checked = runner.invoke(args=["usage", "check"])
    assert checked.exit_code == 1 and "disagree" in checked.output
    rebuilt = runner.invoke(args=["usage", "rebuild"])
    assert rebuilt.exit_code == 0 and "2 days corrected" in rebuilt.output, rebuilt.output
    db.session.expire_all()
    assert usage_differences() == []
    assert stored(surgery, soon(12)) == [1] and stored(room, soon(30)) == [0]
    assert rebuild_usage_counts() == 0  # nothing left to correct
    assert booking.status == BookingStatus.CONFIRMED


def _migration():
    path = next((Path(__file__).resolve().parents[2] / "migrations" / "versions")
                .glob("c2a1e0000014_*.py"))
    spec = importlib.util.spec_from_file_location("usage_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_the_migration_fills_the_counts_from_the_holds_and_lines(world, gateway):
    """The backfill of revision c2a1e0000014 (its own SQL, run here on this database):
    an unpaid booking's holds, a confirmed booking's lines, a cancelled one's nothing,
    a released hold nothing, an expired unreleased one its units."""
    cancelled = authorised_booking(world, gateway)
    cancellation.cancel_booking(world["patient"], cancelled.id, gateway=gateway)
    journey_checkout.checkout_quote(world["coordinator"], accepted_quote(world).id)
    confirmed_booking(world, gateway)
    now = utcnow()
    place_holds([Line(world["dental"].id, soon(3), 2, 2)], group_key="lapsed",
                ttl=TTL, now=now - timedelta(hours=2))
    place_holds([Line(world["dental"].id, soon(3), 1, 1)], group_key="gone", ttl=TTL)
    release_holds("gone")
    db.session.commit()
    expected = {(world["room"].id, soon(15)): 2, (world["surgery"].id, soon(12)): 2,
                (world["dental"].id, soon(3)): 2, (world["dental"].id, soon(4)): 2}
    for (offer_id, day), units in expected.items():
        assert stored(offer_id, day) == [units]
    db.session.execute(update(CapacityDay.__table__).values(used=0))
    assert usage_differences() != []
    db.session.execute(text(_migration().backfill(db.session.get_bind().dialect.name)))
    assert usage_differences() == []
    for (offer_id, day), units in expected.items():
        assert stored(offer_id, day) == [units]


def test_the_quick_sold_out_refusal_adds_back_expired_holds(offer, make):
    """``refuse_sold_out`` (checkout's read before anything is locked) answers as the
    locked check does: one statement reads each day's room and, on a day short of it,
    the units of holds that expired unreleased."""
    other = make.offer(capacity=1, days=20)
    now = utcnow()
    place_holds([Line(offer.id, START, 2, 2), Line(other.id, START, 1, 1)], group_key="a",
                ttl=TTL, now=now)
    db.session.commit()
    later = now + TTL + timedelta(seconds=1)
    wanted = [Line(offer.id, START, 2, 3), Line(other.id, START, 1, 1)]
    with pytest.raises(Conflict) as refused:
        refuse_sold_out(wanted, now=now)
    assert len(refused.value.fields["lines"]) == 3  # two days of one offer, one of the other
    refuse_sold_out(wanted, now=later)  # the expired hold's units are free again
    refuse_sold_out([Line(offer.id, START, 2, 1)], now=now)  # room enough: no hold read
    with pytest.raises(Conflict):
        refuse_sold_out([Line(offer.id, START, 2, 4)], now=later)  # beyond capacity
