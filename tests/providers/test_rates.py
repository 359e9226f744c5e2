from datetime import date, timedelta
from decimal import Decimal

import pytest

from journey.core.errors import Conflict, Forbidden, InvalidInput
from journey.core.money import Money
from providers.services import rates

TODAY = date(2026, 11, 20)


@pytest.fixture
def admin(make):
    return make.admin()


def test_latest_rate_on_or_before_the_date(admin):
    rates.add_rate(admin, base="EUR", quote="USD", rate=Decimal("1.05"),
                   effective_on=TODAY - timedelta(days=7))
    rates.add_rate(admin, base="EUR", quote="USD", rate=Decimal("1.08"), effective_on=TODAY)
    assert rates.get_rate("EUR", "USD", on=TODAY).rate == Decimal("1.08")
    old = rates.get_rate("EUR", "USD", on=TODAY - timedelta(days=1))
    assert old.rate == Decimal("1.05")
    assert old.effective_on == TODAY - timedelta(days=7)
    with pytest.raises(InvalidInput):
        rates.get_rate("EUR", "USD", on=TODAY - timedelta(days=30))


def test_inverse_and_cross_rates(admin):
    rates.add_rate(admin, base="EUR", quote="NOK", rate=Decimal("11.70"), effective_on=TODAY)
    rates.add_rate(admin, base="EUR", quote="SEK", rate=Decimal("11.50"), effective_on=TODAY)
    inverse = rates.get_rate("NOK", "EUR", on=TODAY)
    assert inverse.rate == Decimal("0.0854700855")
    assert inverse.convert(Money(117000, "NOK")) == Money(10000, "EUR")
    cross = rates.get_rate("NOK", "SEK", on=TODAY)
    assert cross.convert(Money(117000, "NOK")) == Money(115000, "SEK")


def test_rates_are_kept_not_overwritten(admin):
    rates.add_rate(admin, base="EUR", quote="USD", rate=Decimal("1.08"), effective_on=TODAY)
    with pytest.raises(Conflict):
        rates.add_rate(admin, base="EUR", quote="USD", rate=Decimal("1.09"), effective_on=TODAY)


@pytest.mark.parametrize("base, quote, rate", [
    ("EUR", "EUR", Decimal("1")), ("EUR", "USD", Decimal("0")), ("EUR", "USD", Decimal("-1")),
    ("EUR", "ZZZ", Decimal("1")),
])
def test_bad_rates(admin, base, quote, rate):
    with pytest.raises(InvalidInput):
        rates.add_rate(admin, base=base, quote=quote, rate=rate, effective_on=TODAY)


def test_only_admins_record_rates(make):
    from journey.core.accounts.models import Role

    with pytest.raises(Forbidden):
        rates.add_rate(make.user(Role.COORDINATOR), base="EUR", quote="USD",
                       rate=Decimal("1.1"), effective_on=TODAY)


def test_rate_api_keeps_every_digit(client, make):
    headers = make.token(make.admin())
    response = client.post("/api/v1/exchange-rates", json={
        "base": "EUR", "quote": "JPY", "rate": "162.3456789012", "effective_on": "2026-11-20"},
        headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["rate"] == "162.3456789012"
    assert client.get("/api/v1/exchange-rates?base=EUR").json[0]["rate"] == "162.3456789012"


def test_two_databases_in_one_process_never_share_their_rates(tmp_path):
    """The process keeps the rate table per version *and* database: two databases whose
    tables read the same version (the same newest id and insertion time) each get
    their own rates."""
    from datetime import UTC, datetime

    from journey.app import create_app
    from journey.core.extensions import db
    from providers.models import ExchangeRate

    day = date(2026, 11, 2)
    found = []
    for name, rate in (("one", "1.05"), ("two", "1.10")):
        other = create_app({"TESTING": True, "SECRET_KEY": "test",
                            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}.db"})
        with other.app_context():
            db.create_all()
            db.session.add(ExchangeRate(id=1, base="EUR", quote="USD", rate=Decimal(rate),
                                        effective_on=day,
                                        created_at=datetime(2026, 11, 2, 9, tzinfo=UTC)))
            db.session.commit()
            version = rates.rates_version()
            assert rates.last_rates_version() == version
            found.append((version, rates.rates_of_version(day, version)[("EUR", "USD")].rate))
            db.session.remove()
            db.engine.dispose()
    (version_one, rate_one), (version_two, rate_two) = found
    assert version_one == version_two  # the case: the same version in both databases
    assert (rate_one, rate_two) == (Decimal("1.05"), Decimal("1.10"))


def test_the_version_changes_with_each_rate_added(admin):
    """The version is the newest rate's id and time: a new rate changes it, reading
    does not, and an empty table has one too."""
    empty = rates.rates_version()
    first = rates.add_rate(admin, base="EUR", quote="USD", rate=Decimal("1.05"),
                           effective_on=TODAY)
    after_first = rates.rates_version()
    assert after_first != empty and after_first.startswith(f"{first.id}/")
    assert rates.rates_version() == after_first
    # an older date, added later, is still a new version
    rates.add_rate(admin, base="EUR", quote="NOK", rate=Decimal("11.7"),
                   effective_on=TODAY - timedelta(days=300))
    assert rates.rates_version() not in (empty, after_first)
    newest = max(row.id for row in rates.list_rates())
    assert rates.rates_version().startswith(f"{newest}/")


@pytest.mark.commits  # two transactions at once, each with its own connection
def test_rate_writers_take_turns_so_the_version_sees_every_rate(app, make):
    """On PostgreSQL a second writer of rates waits for the first to commit: otherwise
    a rate with a smaller id committed after a larger one would leave the version (the
    newest row) unchanged, and a process would keep the table without it."""
    import threading

    from journey.core.accounts.models import User
    from journey.core.extensions import db

    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one transaction write at a time: nothing to race")
    admin_id = make.admin().id
    first_added, second_done, errors = threading.Event(), threading.Event(), []

    def second() -> None:
        try:
            with app.app_context():
                first_added.wait(timeout=30)
                rates.add_rate(db.session.get(User, admin_id), base="EUR", quote="NOK",
                               rate=Decimal("11.7"), effective_on=TODAY)
                db.session.commit()
                second_done.set()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with app.app_context():
            first = rates.add_rate(db.session.get(User, admin_id), base="EUR", quote="SEK",
                                   rate=Decimal("11.2"), effective_on=TODAY)
            first_added.set()
            # the second waits on the first writer's lock (well within the tests'
            # lock timeout of 1 s, after which it would give up)
            assert not second_done.wait(timeout=0.3)
            db.session.commit()
            first_id = first.id
    finally:
        first_added.set()
        thread.join(timeout=30)
    assert errors == [] and second_done.is_set()
    with app.app_context():
        newest = max(row.id for row in rates.list_rates())
        assert newest > first_id
        assert rates.rates_version().startswith(f"{newest}/")
