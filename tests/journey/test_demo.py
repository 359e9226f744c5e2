"""The demo cluster: complete, multilingual, loginable and idempotent.

Self-contained on purpose: its own app on its own SQLite file, seeded once for the
module, so it neither needs nor disturbs the shared ``app`` fixture.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from journey.accounts.models import Role, User
from journey.accounts.services import authenticate
from journey.app import create_app
from journey.demo import DEMO_LOGINS, DEMO_PASSWORD, _open_ranges, _season_ranges, seed_demo
from journey.extensions import db
from providers.models import (
    CapacityDay,
    CapacityUnit,
    ChainLink,
    ConfirmationMode,
    ExchangeRate,
    MemberKind,
    MemberStatus,
    Offer,
    OfferStatus,
    OfferText,
    PriceRule,
    Provider,
)

pytestmark = pytest.mark.slow  # a year of calendars and ~30 password hashes

LANGUAGES = {"en", "lt", "ru", "de"}


def _counts() -> dict[str, int]:
    return {
        "members": db.session.scalar(select(func.count(Provider.id))),
        "offers": db.session.scalar(select(func.count(Offer.id))),
        "texts": db.session.scalar(select(func.count(OfferText.id))),
        "users": db.session.scalar(select(func.count(User.id))),
        "rates": db.session.scalar(select(func.count(ExchangeRate.id))),
        "price rules": db.session.scalar(select(func.count(PriceRule.id))),
        "capacity days": db.session.scalar(select(func.count()).select_from(CapacityDay)),
    }


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path_factory.mktemp("demo") / "demo.db"),
        "TESTING": True,
    })
    with app.app_context():
        db.create_all()
        app.config["DEMO_SUMMARY"] = seed_demo()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def demo_ctx(demo_app):
    with demo_app.app_context():
        yield demo_app
        db.session.rollback()


def test_summary_names_what_was_loaded(demo_ctx):
    counts = _counts()
    assert demo_ctx.config["DEMO_SUMMARY"].startswith(
        f"demo cluster: {counts['members']} members, {counts['offers']} offers, "
        f"{len(DEMO_LOGINS)} accounts")


def test_members_cover_every_kind_in_lithuania_and_beyond(demo_ctx):
    members = db.session.scalars(select(Provider)).all()
    assert len(members) >= 20
    assert {m.kind for m in members} == set(MemberKind)
    lithuanian_cities = {m.city for m in members if m.country == "LT"}
    assert {"Vilnius", "Kaunas", "Klaipėda", "Druskininkai", "Palanga",
            "Birštonas"} <= lithuanian_cities
    assert sum(m.country == "LT" for m in members) >= 20
    pending = [m for m in members if m.status == MemberStatus.PENDING]
    assert 1 <= len(pending) <= 2
    assert all(m.texts and {t.language for t in m.texts} >= LANGUAGES for m in members)


def test_offers_cover_every_link_in_four_languages(demo_ctx):
    offers = db.session.scalars(select(Offer)).all()
    assert len(offers) >= 60
    assert {o.chain_link for o in offers} == set(ChainLink)
    verified = [o for o in offers if o.provider.status == MemberStatus.VERIFIED]
    assert {o.chain_link for o in verified} == set(ChainLink)  # the public chain is whole
    for offer in offers:
        texts = {t.language: t for t in offer.texts}
        assert set(texts) >= LANGUAGES, offer.id
        assert all(t.title.strip() and t.description.strip() for t in texts.values()), offer.id
        assert offer.status == OfferStatus.PUBLISHED
        assert offer.currency == "EUR"
        assert offer.base_price_minor > 0
    modes = {o.confirmation_mode for o in offers}
    assert modes == {ConfirmationMode.INSTANT, ConfirmationMode.APPROVAL}
    assert any(o.price_rules for o in offers)


def test_every_offer_has_a_year_of_capacity(demo_ctx):
    today = date.today()
    rows = dict(db.session.execute(
        select(CapacityDay.offer_id, func.count()).where(CapacityDay.day >= today)
        .group_by(CapacityDay.offer_id)).all())
    offer_ids = db.session.scalars(select(Offer.id)).all()
    assert set(rows) == set(offer_ids)
    assert max(rows.values()) == 365
    surgery_days = db.session.scalars(
        select(CapacityDay.day).join(Offer, Offer.id == CapacityDay.offer_id)
        .where(Offer.capacity_unit == CapacityUnit.SURGERY_SLOT)).all()
    assert all(day.weekday() < 5 for day in surgery_days)


def test_every_demo_login_authenticates(demo_ctx):
    assert len({login["email"] for login in DEMO_LOGINS}) == len(DEMO_LOGINS)
    roles = [login["role"] for login in DEMO_LOGINS]
    assert roles.count(Role.ADMIN) == 1
    assert roles.count(Role.COORDINATOR) == 1
    assert roles.count(Role.PATIENT) == 2
    assert roles.count(Role.MEMBER_MANAGER) == db.session.scalar(select(func.count(Provider.id)))
    for login in DEMO_LOGINS:
        user = authenticate(login["email"], DEMO_PASSWORD)
        assert user.role == login["role"]
        if login["member"] is not None:
            assert db.session.get(Provider, user.provider_id).name == login["member"]
    norwegian = authenticate("patient@onewindow.demo", DEMO_PASSWORD)
    assert (norwegian.locale, norwegian.currency) == ("nb", "NOK")


def test_rates_are_dated_today(demo_ctx):
    rates = {r.quote: r for r in db.session.scalars(select(ExchangeRate))}
    assert {"USD", "GBP", "NOK", "SEK", "PLN", "UAH", "JPY", "AED"} <= set(rates)
    assert all(r.base == "EUR" and r.effective_on == date.today() for r in rates.values())


def test_seeding_again_creates_nothing(demo_ctx):
    before = _counts()
    summary = seed_demo()
    db.session.commit()
    assert _counts() == before
    assert summary.endswith("(created now: nothing)")
    assert seed_demo(only_if_empty=True).startswith("demo cluster: skipped")
    assert _counts() == before


def test_flask_seed_demo_command(demo_app):
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo cluster:" in result.output
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output


def test_seasons_and_open_months_follow_the_calendar():
    today = date(2025, 3, 10)
    assert list(_season_ranges((12, 22), (1, 3), today)) == [
        (date(2025, 12, 22), date(2026, 1, 3))]
    assert list(_season_ranges((11, 1), (2, 28), date(2025, 1, 15))) == [
        (date(2024, 11, 1), date(2025, 2, 28)), (date(2025, 11, 1), date(2026, 2, 28))]
    assert _open_ranges(today, [5, 6, 7, 8, 9]) == [(date(2025, 5, 1), date(2025, 9, 30))]
    assert _open_ranges(today, None) == [(today, date(2026, 3, 9))]
