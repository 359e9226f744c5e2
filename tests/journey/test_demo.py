"""The demo cluster: complete, multilingual, loginable and idempotent.

Self-contained on purpose: its own app on its own SQLite file, seeded once for the
module, so it neither needs nor disturbs the shared ``app`` fixture.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from journey.app import create_app
from journey.builder.models import (
    Journey,
    JourneyStatus,
    PackageTemplate,
    Quote,
    QuoteLine,
    QuoteLineKind,
    TemplateLink,
    TemplateStatus,
    TemplateText,
)
from journey.builder.services import journeys, quotes
from journey.builder.services.composition import journey_violations, plan_journey
from journey.core.accounts.models import Role, User
from journey.core.accounts.services import authenticate, get_user_by_email
from journey.core.extensions import db
from journey.core.types import today_in
from journey.demo import (
    COORDINATOR,
    DEMO_JOURNEY,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    _open_ranges,
    _season_ranges,
    demo_arrival,
    demo_offer_id,
    find_demo_journey,
    find_template,
    manager_email,
    seed_demo,
    template_name,
)
from journey.demo_data import REVIEWING_PATIENTS, TEMPLATES
from providers.models import (
    CapacityDay,
    CapacityUnit,
    ChainLink,
    ConfirmationMode,
    DurationUnit,
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
TEMPLATE_NAMES = [template_name(spec) for spec in TEMPLATES]


def _counts() -> dict[str, int]:
    return {
        "members": db.session.scalar(select(func.count(Provider.id))),
        "offers": db.session.scalar(select(func.count(Offer.id))),
        "texts": db.session.scalar(select(func.count(OfferText.id))),
        "users": db.session.scalar(select(func.count(User.id))),
        "rates": db.session.scalar(select(func.count(ExchangeRate.id))),
        "price rules": db.session.scalar(select(func.count(PriceRule.id))),
        "capacity days": db.session.scalar(select(func.count()).select_from(CapacityDay)),
        "templates": db.session.scalar(select(func.count(PackageTemplate.id))),
        "template links": db.session.scalar(select(func.count(TemplateLink.id))),
        "journeys": db.session.scalar(select(func.count(Journey.id))),
        "quotes": db.session.scalar(select(func.count(Quote.id))),
        "quote lines": db.session.scalar(select(func.count(QuoteLine.id))),
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
        f"{len(DEMO_LOGINS)} accounts, {len(TEMPLATES)} package templates, "
        "one patient journey, no completed journeys (created now: ")
    # seeded without a payment gateway: the reviewed journeys wait, and it says so
    assert demo_ctx.config["DEMO_SUMMARY"].splitlines()[1].startswith(
        "completed journeys and reviews skipped: no payment gateway was given.")


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
    today = today_in()
    rows = dict(db.session.execute(
        select(CapacityDay.offer_id, func.count()).where(CapacityDay.day >= today)
        .group_by(CapacityDay.offer_id)).all())
    offer_ids = db.session.scalars(select(Offer.id)).all()
    assert set(rows) == set(offer_ids)
    assert max(rows.values()) == 365


def _starts(offer: Offer, open_days: set[date]) -> list[date]:
    """The days on which the offer's whole duration is open."""
    length = max(1, offer.duration_value)
    return [day for day in sorted(open_days)
            if all(day + timedelta(days=i) in open_days for i in range(1, length))]


def test_every_offer_can_be_booked_for_its_whole_duration(demo_ctx):
    # A booking occupies every day of its duration: a five-night ward stay needs a
    # calendar open on all five days, so surgery slots end up starting early in the week.
    open_days: dict[int, set[date]] = defaultdict(set)
    for offer_id, day in db.session.execute(
            select(CapacityDay.offer_id, CapacityDay.day).where(CapacityDay.capacity > 0)):
        open_days[offer_id].add(day)
    for offer in db.session.scalars(select(Offer)):
        starts = _starts(offer, open_days[offer.id])
        assert starts, offer.texts[0].title
        if offer.capacity_unit == CapacityUnit.SURGERY_SLOT:
            assert {day.weekday() for day in starts} <= {0, 1, 2, 3, 4}, offer.id


def _offer(slug: str, title: str) -> Offer:
    return db.session.get(Offer, demo_offer_id(slug, title))


def test_medical_offers_carry_the_rules_of_the_chain(demo_ctx):
    knee = _offer("neris-orthopaedic-hospital", "Total knee replacement (knee arthroplasty)")
    assert (knee.requires_consultation, knee.recovery_days, knee.fit_to_fly_days) == (True, 7, 10)
    cataract = _offer("akiplotis-eye-clinic", "Cataract surgery with a premium lens (one eye)")
    assert (cataract.recovery_days, cataract.fit_to_fly_days) == (2, 1)
    implant = _offer("baltadante-dental-studio", "Dental implant with zirconia crown")
    assert (implant.recovery_days, implant.fit_to_fly_days) == (2, 1)
    rehab = _offer("whispering-pines-sanatorium",
                   "Rehabilitation after joint replacement, 14 nights")
    assert rehab.min_days_after_treatment == 3
    check_up = _offer("vilnia-heart-clinic", "Cardiac check-up in one morning")
    assert (check_up.requires_consultation, check_up.recovery_days,
            check_up.fit_to_fly_days, check_up.min_days_after_treatment) == (False, 0, 0, 0)
    offers = db.session.scalars(select(Offer)).all()
    surgeries = [o for o in offers if o.capacity_unit == CapacityUnit.SURGERY_SLOT]
    assert all(o.chain_link == ChainLink.TREATMENT and o.requires_consultation
               for o in surgeries)
    assert all(o.min_days_after_treatment >= 1 for o in offers
               if o.chain_link == ChainLink.REHABILITATION)
    assert not any(o.recovery_days or o.fit_to_fly_days or o.requires_consultation
                   for o in offers if o.chain_link != ChainLink.TREATMENT)


def test_every_demo_login_authenticates(demo_ctx):
    assert len({login["email"] for login in DEMO_LOGINS}) == len(DEMO_LOGINS)
    roles = [login["role"] for login in DEMO_LOGINS]
    assert roles.count(Role.ADMIN) == 1
    assert roles.count(Role.COORDINATOR) == 1
    assert roles.count(Role.PATIENT) == 2 + len(REVIEWING_PATIENTS)  # who travelled before
    assert roles.count(Role.MEMBER_MANAGER) == db.session.scalar(select(func.count(Provider.id)))
    for login in DEMO_LOGINS:
        user = authenticate(login["email"], DEMO_PASSWORD)
        assert user.role == login["role"]
        if login["member"] is not None:
            assert db.session.get(Provider, user.provider_id).name == login["member"]
    norwegian = authenticate("patient@onewindow.demo", DEMO_PASSWORD)
    assert (norwegian.locale, norwegian.currency) == ("nb", "NOK")
    assert {patient["locale"] for patient in REVIEWING_PATIENTS} >= {"nb", "en", "de", "lt",
                                                                      "ar"}


def test_rates_are_dated_today(demo_ctx):
    rates = {r.quote: r for r in db.session.scalars(select(ExchangeRate))}
    assert {"USD", "GBP", "NOK", "SEK", "PLN", "UAH", "JPY", "AED"} <= set(rates)
    assert all(r.base == "EUR" and r.effective_on == today_in() for r in rates.values())


def test_package_templates_are_published_in_four_languages(demo_ctx):
    names = db.session.scalars(select(TemplateText.name).where(TemplateText.language == "en"))
    assert sorted(names) == sorted(TEMPLATE_NAMES)
    assert len(TEMPLATES) >= 4
    for name in TEMPLATE_NAMES:
        template = find_template(name)
        assert template.status == TemplateStatus.PUBLISHED
        texts = {t.language: t for t in template.texts}
        assert set(texts) == LANGUAGES, name
        assert all(t.name.strip() and len(t.description) > 200 for t in texts.values()), name
        assert len({t.name for t in texts.values()}) == 4, name  # translated, not copied
        assert template.links[0].chain_link == ChainLink.TRANSFER
        assert template.links[0].day_offset == 0
    templates = [find_template(name) for name in TEMPLATE_NAMES]
    assert any(t.provider is None for t in templates)  # the cluster curates too
    # A discount or a borne line is funded by the member whose package it is.
    assert all(t.provider is not None for t in templates
               if t.discount_percent or any(link.borne_by_provider_id for link in t.links))
    assert all(link.borne_by_provider_id in (None, t.provider_id)
               for t in templates for link in t.links)
    knee = find_template(DEMO_JOURNEY["template"])
    assert {link.chain_link for link in knee.links} >= {
        ChainLink.TRANSFER, ChainLink.ACCOMMODATION, ChainLink.CONSULTATION,
        ChainLink.TREATMENT, ChainLink.REHABILITATION, ChainLink.LEISURE}
    borne = [link for link in knee.links if link.borne_by_provider_id is not None]
    assert len(borne) == 1
    assert borne[0].default_offer.provider.slug == "whispering-pines-sanatorium"
    assert db.session.get(Provider, borne[0].borne_by_provider_id).slug == \
        "neris-orthopaedic-hospital"


def _nights_covered_once(journey: Journey) -> bool:
    nights = [item.start_on + timedelta(days=n) for item in journey.items
              if item.offer.duration_unit == DurationUnit.NIGHTS for n in range(item.days)]
    trip = [journey.arrival_on + timedelta(days=n)
            for n in range((journey.departure_on - journey.arrival_on).days)]
    return sorted(nights) == trip


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_plans_and_quotes_from_any_arrival_day(demo_ctx, name):
    patient = get_user_by_email("patient.de@onewindow.demo")
    template = find_template(name)
    first = today_in() + timedelta(days=30)
    for arrival in (first + timedelta(days=n) for n in range(7)):  # every weekday
        journey = journeys.open_journey(patient, arrival_on=arrival, language="de")
        journeys.apply_template(patient, journey.id, template.id)
        applied = [v.code for v in journey_violations(journey) if v.blocking]
        assert set(applied) <= {"unavailable"}, (arrival, applied)  # only a weekday off
        journey, reasons = plan_journey(patient, journey.id)
        assert reasons == [], (arrival, [str(r.message) for r in reasons])
        assert journey.arrival_on == arrival
        assert [v.code for v in journey_violations(journey) if v.blocking] == [], arrival
        assert _nights_covered_once(journey), arrival
        quote = quotes.create_quote(patient, journey.id)
        assert quote.total_minor == sum(line.total_minor for line in quote.lines) > 0
        assert quote.total_minor == quote.subtotal_minor - quote.discount_minor
        assert journey.status == JourneyStatus.QUOTED


def test_a_template_applied_on_its_arrival_day_needs_no_planning(demo_ctx):
    patient = get_user_by_email("patient.de@onewindow.demo")
    arrival = demo_arrival(today_in())  # a Sunday: consultation Monday, surgery Tuesday
    journey = journeys.open_journey(patient, arrival_on=arrival)
    journeys.apply_template(patient, journey.id, find_template(DEMO_JOURNEY["template"]).id)
    assert [v.code for v in journey_violations(journey) if v.blocking] == []
    assert (journey.departure_on - arrival).days == 23
    assert _nights_covered_once(journey)


def test_the_demo_journey_was_opened_at_a_members_window_and_quoted(demo_ctx):
    journey = find_demo_journey()
    assert journey.patient.email == DEMO_JOURNEY["patient"]
    assert journey.opened_by.email == manager_email(DEMO_JOURNEY["opened_by"])
    assert journey.entry_provider.slug == DEMO_JOURNEY["opened_by"]
    assert journey.coordinator.email == COORDINATOR["email"]
    assert journey.status == JourneyStatus.QUOTED
    assert journey.arrival_on == demo_arrival(today_in())
    assert journey.currency == "NOK"
    assert [v for v in journey_violations(journey) if v.blocking] == []
    assert journey_violations(journey) == []  # a Norwegian needs no visa: not even a hint
    assert _nights_covered_once(journey)
    providers = {item.offer.provider_id for item in journey.items}
    assert len(providers) >= 5  # one window, the whole chain
    (quote,) = journey.quotes
    assert quote.currency == "NOK"
    assert quote.total_minor == sum(line.total_minor for line in quote.lines) > 0
    kinds = [line.kind for line in quote.lines]
    assert kinds.count(QuoteLineKind.BORNE) == 1 and kinds[-1] == QuoteLineKind.DISCOUNT
    assert all(line.rate > 1 for line in quote.lines if line.kind == QuoteLineKind.ITEM)
    patient = authenticate(DEMO_JOURNEY["patient"], DEMO_PASSWORD)
    assert journeys.get_journey(patient, journey.id) is journey


def test_seeding_again_creates_nothing(demo_ctx):
    before = _counts()
    summary = seed_demo()
    db.session.commit()
    assert _counts() == before
    assert summary.splitlines()[0].endswith("(created now: nothing)")
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


def test_the_cluster_earns_a_commission_on_every_link_it_sells(demo_ctx):
    from bookings.services.settlement import commission_rates

    rates = commission_rates()
    assert rates["treatment"] > 0 and rates["accommodation"] > 0 and rates["transfer"] > 0
    assert all(0 <= rate < 30 for rate in rates.values())
