"""The figures' monthly sums of the ledger: written with each posting, merged by the
scheduled compaction, rebuilt from the ledger, and read for the whole months of a
period; whichever way, the dashboard's money is the ledger's to the minor unit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bookings.models import LedgerEntry
from bookings.services import cancellation, confirmation, settlement
from journey.builder.models import Journey
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.figures import dashboard as board
from journey.figures import rollup
from journey.figures import services as figures
from journey.figures.models import SalesMonth, WindowMonth
from journey.scheduler import JOBS
from tests.booking_fixtures import authorised_booking, paid_booking

TIERS = [{"days_before": 30, "refund_percent": 100}, {"days_before": 7, "refund_percent": 50}]


def test_a_period_is_read_as_its_whole_months_and_the_days_at_its_ends():
    assert rollup.split(date(2026, 1, 1), date(2026, 12, 31)) == rollup.Split(
        tuple(f"2026-{m:02d}" for m in range(1, 13)), ())
    assert rollup.split(date(2025, 12, 7), date(2026, 12, 6)) == rollup.Split(
        ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07",
         "2026-08", "2026-09", "2026-10", "2026-11"),
        ((date(2025, 12, 7), date(2025, 12, 31)), (date(2026, 12, 1), date(2026, 12, 6))))
    # February of a leap year is whole on its 29th, not its 28th
    assert rollup.split(date(2028, 2, 1), date(2028, 2, 28)).months == ()
    assert rollup.split(date(2028, 2, 1), date(2028, 2, 29)).months == ("2028-02",)
    assert rollup.split(date(2026, 3, 5), date(2026, 3, 9)) == rollup.Split(
        (), ((date(2026, 3, 5), date(2026, 3, 9)),))


def _month_period() -> figures.Period:
    """The whole current month: read from the monthly sums only."""
    today = utcnow().date()
    first = today.replace(day=1)
    return figures.Period(first, rollup._next_month(first) - timedelta(days=1))


def _ledger() -> tuple[int, int]:
    rows = db.session.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount_minor))
                              .group_by(LedgerEntry.kind)).all()
    sales = sum(int(a) for k, a in rows if k in figures.SALES_KINDS)
    return sales, -sum(int(a) for k, a in rows if k == figures.COMMISSION_KIND)


def _money(world, period, **kw):
    money = board.member_money(world["admin"], board.Filters(period, **kw), currency="EUR")
    return money.sales_minor, money.commission_minor, sorted(money.rows, key=str)


@pytest.fixture
def history(world, gateway):
    """A paid booking whose journey the hotel opened (its one window), the surgery
    cancelled late (a fee kept, a reversal posted)."""
    settlement.set_commission_rate(world["admin"], "treatment", Decimal("10"))
    settlement.set_commission_rate(world["admin"], "accommodation", Decimal("5"))
    db.session.commit()
    booking = paid_booking(world, gateway, {"surgery": TIERS})
    surgery = next(line for line in booking.lines if line.offer_id == world["surgery"].id)
    cancellation.cancel_line(world["patient"], surgery.id, reason="Changed", gateway=gateway)
    db.session.commit()
    return booking


def test_every_posting_adds_its_sums_and_compaction_keeps_them(world, history):
    assert rollup.differences() == []
    kinds = set(db.session.scalars(select(SalesMonth.kind)))
    assert {"gross", "commission", "fee"} <= kinds
    unmerged = db.session.scalar(select(func.count()).select_from(SalesMonth))
    assert unmerged == db.session.scalar(select(func.count()).select_from(LedgerEntry))
    removed = rollup.compact()
    db.session.commit()
    assert removed > 0 and rollup.differences() == []
    assert db.session.scalar(select(func.count()).where(SalesMonth.merged.is_(False))) == 0
    assert rollup.compact() == 0  # nothing left to merge


def test_the_whole_months_come_from_the_sums_and_agree_with_the_ledger(world, history):
    today = utcnow().date()
    from_sums = _money(world, _month_period())
    from_ledger = _money(world, figures.Period(today.replace(day=1), today))
    year = _money(world, figures.Period.last_days(400, today=today))
    assert from_sums == from_ledger == year
    assert from_sums[:2] == _ledger() and from_sums[0] > 0
    rollup.compact()
    assert _money(world, _month_period()) == from_sums
    # a member and a chain link filter the sums as they filter the ledger
    for kw in ({"provider_id": world["clinic"].id}, {"chain_link": "accommodation"}):
        assert _money(world, _month_period(), **kw) == _money(
            world, figures.Period(today.replace(day=1), today), **kw)


def test_what_is_posted_after_a_compaction_is_counted_once(world, gateway, history):
    rollup.compact()
    db.session.commit()
    room = next(line for line in history.lines if line.offer_id == world["room"].id)
    cancellation.cancel_line(world["coordinator"], room.id, reason="Moved", gateway=gateway)
    db.session.commit()
    assert rollup.differences() == []
    assert _money(world, _month_period())[:2] == _ledger()
    rollup.compact()
    assert rollup.differences() == [] and _money(world, _month_period())[:2] == _ledger()


def test_one_window_sums_follow_the_member_that_opened_the_journey(world, gateway):
    booking = authorised_booking(world, gateway)
    journey = db.session.scalars(select(Journey)).one()
    journey.entry_provider_id = world["hotel"].id  # the hotel was the patient's window
    db.session.commit()
    staff = {world["hotel"].id: world["hotel_staff"], world["clinic"].id: world["clinic_staff"]}
    for line in booking.lines:
        confirmation.accept_line(staff[line.provider_id], line.id, gateway=gateway)
    db.session.commit()
    assert rollup.differences() == []
    window = db.session.execute(select(WindowMonth.entry_provider_id,
                                       WindowMonth.provider_id)).all()
    assert set(window) == {(world["hotel"].id, world["clinic"].id)}  # not the hotel itself
    today = utcnow().date()
    from_sums, _ = board.attribution(world["admin"], board.Filters(_month_period()),
                                     currency="EUR")
    from_ledger, _ = board.attribution(
        world["admin"], board.Filters(figures.Period(today.replace(day=1), today)),
        currency="EUR")
    assert from_sums == from_ledger and [(a.entry_id, a.receiver_id, a.lines)
                                         for a in from_sums] == [
        (world["hotel"].id, world["clinic"].id, 1)]


def test_rebuild_and_check_repair_the_sums(app, world, history):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["figures", "check"]).exit_code == 0
    row = db.session.scalars(select(SalesMonth).where(SalesMonth.kind == "gross")).first()
    row.amount_minor += 1
    db.session.commit()
    assert rollup.differences() != []
    checked = runner.invoke(args=["figures", "check"])
    assert checked.exit_code == 1 and "disagree" in checked.output
    rebuilt = runner.invoke(args=["figures", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    db.session.expire_all()
    assert rollup.differences() == []
    assert db.session.scalar(select(func.count()).where(SalesMonth.merged.is_(False))) == 0


def test_the_scheduler_compacts_the_sums():
    function, interval = JOBS["compact_figures"]
    assert interval <= 3600 and callable(function)


def test_the_migration_fills_the_sums_from_the_ledger_already_posted(world, history):
    """The backfill of revision c2a1e0000012 (its own SQL, run here on this database)."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import delete, text

    path = next((Path(__file__).resolve().parents[3] / "migrations" / "versions")
                .glob("c2a1e0000012_*.py"))
    spec = importlib.util.spec_from_file_location("rollup_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    db.session.execute(delete(SalesMonth))
    db.session.execute(delete(WindowMonth))
    assert rollup.differences() != []
    for statement in migration.backfill(db.session.get_bind().dialect.name):
        db.session.execute(text(statement))
    assert rollup.differences() == []


def test_a_partial_month_may_be_its_sums_less_the_days_outside():
    # the last 30 days: both months from their sums, less the days before the period
    # and the days still to come
    assert rollup.split(date(2026, 11, 7), date(2026, 12, 6), today=date(2026, 12, 6)) == \
        rollup.Split(("2026-11", "2026-12"), (),
                     ((date(2026, 11, 1), date(2026, 11, 6)),
                      (date(2026, 12, 7), date(2026, 12, 31))))
    # a period that ends today and covers more of last month than it leaves out
    assert rollup.split(date(2026, 11, 20), date(2026, 12, 6), today=date(2026, 12, 6)) == \
        rollup.Split(("2026-12",), ((date(2026, 11, 20), date(2026, 11, 30)),),
                     ((date(2026, 12, 7), date(2026, 12, 31)),))
    # ... and a month of which the period leaves out fewer past days than it covers
    assert rollup.split(date(2026, 10, 3), date(2026, 11, 30), today=date(2026, 12, 6)) == \
        rollup.Split(("2026-10", "2026-11"), (), ((date(2026, 10, 1), date(2026, 10, 2)),))
    # without today, partial months are read from the ledger
    assert rollup.split(date(2026, 10, 3), date(2026, 11, 30)).outside == ()


def test_the_days_outside_are_taken_away_to_the_minor_unit(world, history, monkeypatch):
    """Every posting is today's: a period of this month without today, read as the
    month's sums less today, has nothing in it, for every member and pair."""
    today = utcnow().date()
    month = _month_period()
    period = (figures.Period(today + timedelta(days=1), month.end) if today.day == 1
              else figures.Period(month.start, today - timedelta(days=1)))
    this_month = rollup.Split((f"{today.year:04d}-{today.month:02d}",), (), ((today, today),))
    monkeypatch.setattr(board, "split", lambda start, end, today=None: this_month)
    money = board.member_money(world["admin"], board.Filters(period), currency="EUR")
    assert (money.sales_minor, money.commission_minor, money.rows) == (0, 0, [])
    pairs, _ = board.attribution(world["admin"], board.Filters(period), currency="EUR")
    assert pairs == []
    monkeypatch.undo()
    assert board.member_money(world["admin"], board.Filters(_month_period()),
                              currency="EUR").sales_minor == _ledger()[0]


def test_a_posting_counts_in_its_month_in_utc(world, history):
    """Posted at 00:30 on 1 December in Vilnius: still November in UTC, as the
    ledger's own monthly SQL counts it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    at = datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("Europe/Vilnius"))
    entry = LedgerEntry(posting="test:utc", booking_id=history.id, provider_id=world["hotel"].id,
                        kind="fee", amount_minor=100, currency="EUR", at=at)
    rollup.record_posting(history, entry=entry, line=None)
    db.session.flush()
    added = db.session.scalars(select(SalesMonth).where(SalesMonth.merged.is_(False),
                                                        SalesMonth.amount_minor == 100,
                                                        SalesMonth.kind == "fee")).all()
    assert [row.month for row in added] == ["2026-11"]
    db.session.rollback()
