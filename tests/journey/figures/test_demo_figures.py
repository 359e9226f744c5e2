"""The dashboard on the demo cluster agrees with the ledger and the journeys it counts.

Its own app on its own SQLite file, seeded once for the module (as tests/journey/
test_demo.py does)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bookings.models import LedgerEntry
from journey.app import create_app
from journey.builder.models import Journey
from journey.core.accounts.services import get_user_by_email
from journey.core.extensions import db
from journey.core.types import utcnow
from journey.demo import ADMIN, COORDINATOR, seed_demo
from journey.figures import dashboard as board
from journey.figures.services import SALES_KINDS, Period

pytestmark = pytest.mark.slow  # the demo cluster: a year of calendars, ~30 logins


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path_factory.mktemp("demo") / "d.db"),
        "TESTING": True, "ARGON2_PROFILE": "CHEAPEST",
    })
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_demo_figures_agree_with_its_ledger_and_journeys(demo):
    period = Period.last_days(365, today=utcnow().date())
    first, after = period.bounds()
    for email in (ADMIN["email"], COORDINATOR["email"]):
        found = board.dashboard(get_user_by_email(email), board.Filters(period),
                                currency="EUR", now=utcnow(), response_hours=48)
        sales = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))
                                  .where(LedgerEntry.kind.in_(SALES_KINDS),
                                         LedgerEntry.at >= first, LedgerEntry.at < after))
        assert found.money.sales_minor == sales and found.unconverted == ()
        journeys = db.session.scalar(select(func.count(Journey.id)).where(
            Journey.created_at >= first, Journey.created_at < after))
        assert journeys > 0
        assert sum(row.journeys for row in found.countries) == journeys
        assert found.funnel.steps[0].journeys == journeys
        steps = [step.journeys for step in found.funnel.steps]
        assert steps == sorted(steps, reverse=True)  # nobody skips a step
