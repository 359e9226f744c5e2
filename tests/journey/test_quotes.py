"""Quotes are promises: stored lines, sums of them, explicit FX, versions, acceptance."""

from datetime import UTC, datetime, time, timedelta

import pytest
from flask_babel import force_locale

from journey.builder.models import Quote
from journey.builder.services import journeys, quotes, settings, templates
from journey.core.accounts.models import Role
from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.types import today_in, utcnow
from providers.services import offers
from tests.booking_fixtures import knee_package
from tests.journey.builder_world import build_world, soon


@pytest.fixture
def world(make):
    return build_world(make)


def _journey(world, *, currency="EUR", language="en", **kw):
    journey = journeys.open_journey(world["patient"], arrival_on=soon(10),
                                    departure_on=soon(20), nationality="DE",
                                    currency=currency, language=language, **kw)
    db.session.commit()
    return journey


def _add(world, journey, offer, start, days=None, **kw):
    item = journeys.add_item(world["patient"], journey.id, offer_id=offer.id, start_on=start,
                             days=days, **kw)
    db.session.commit()
    return item


def test_total_is_the_sum_of_stored_lines(world):
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10, companions=1)
    _add(world, journey, world["surgery"], soon(12))
    quote = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    rooms, surgery = quote.lines
    assert rooms.total_offer_minor == 10 * 8000 + 10 * 2000  # nights + a companion
    assert surgery.total_offer_minor == 650000
    assert quote.subtotal_minor == sum(line.total_minor for line in quote.lines) == 750000
    assert quote.total_minor == 750000
    assert quote.deposit_minor == 225000  # 30 % (cluster setting)
    assert quote.balance_minor == 525000
    assert quote.balance_due_on == max(soon(0), soon(10) - timedelta(days=14))
    assert rooms.inclusions == ["Breakfast"]


def test_balance_due_date_is_counted_on_the_cluster_date_not_utc(world):
    """Between 22:00 and 24:00 UTC the cluster (Vilnius) is already on the next day."""
    journey = journeys.open_journey(world["patient"], arrival_on=soon(2),
                                    departure_on=soon(12), nationality="DE",
                                    currency="EUR", language="en")
    _add(world, journey, world["room"], soon(2), 10)
    cluster_today = soon(0)
    late_utc = datetime.combine(cluster_today, time(23, 30), tzinfo=UTC)
    assert today_in(now=late_utc) == cluster_today + timedelta(days=1)
    quote = quotes.create_quote(world["patient"], journey.id, now=late_utc)
    assert quote.balance_due_on == cluster_today + timedelta(days=1)


def test_seasonal_prices_are_summed_night_by_night(world):
    offers.add_price_rule(world["admin"], world["room"].id, starts_on=soon(15),
                          ends_on=soon(30), price_minor=10000)
    db.session.commit()
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id)
    assert quote.lines[0].total_offer_minor == 5 * 8000 + 5 * 10000


def test_conversion_is_explicit_and_stored(world):
    journey = _journey(world, currency="NOK")
    _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id)
    (line,) = quote.lines
    assert str(line.rate) == "11.7000000000"
    assert line.rate_on == soon(-1)
    assert line.total_minor == 80000 * 117 // 10  # 800.00 EUR = 9,360.00 NOK
    assert quote.currency == "NOK"


def test_a_rate_published_since_the_last_quote_prices_the_next(world):
    """The process keeps the rate table of the version it saw last; each quote reads
    the version in force with its version number, so a new rate counts at once."""
    from decimal import Decimal

    from providers.services import rates

    journey = _journey(world, currency="NOK")
    _add(world, journey, world["room"], soon(10), 10)
    first = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    rates.add_rate(world["admin"], base="EUR", quote="NOK", rate=Decimal("12.00"),
                   effective_on=today_in())
    db.session.commit()
    second = quotes.create_quote(world["patient"], journey.id)
    assert str(first.lines[0].rate) == "11.7000000000"
    assert str(second.lines[0].rate) == "12.0000000000" and second.lines[0].rate_on == soon(0)
    assert second.lines[0].total_minor == 80000 * 12  # 800.00 EUR = 9,600.00 NOK


def test_zero_decimal_currency(world):
    journey = _journey(world, currency="JPY")
    _add(world, journey, world["room"], soon(10), 10)
    _add(world, journey, world["surgery"], soon(12))
    quote = quotes.create_quote(world["patient"], journey.id)
    # 800.00 EUR x 162.35 = 129,880 JPY; 6,500.00 EUR x 162.35 = 1,055,275 JPY
    assert [line.total_minor for line in quote.lines] == [129880, 1055275]
    assert quote.total_minor == 1185155
    assert quote.deposit_minor == 355546  # 30 % = 355,546.5 -> half-even 355,546


def test_a_quote_never_changes_and_new_versions_are_compared(world):
    journey = _journey(world)
    item = _add(world, journey, world["room"], soon(10), 10)
    first = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    first_total = first.total_minor
    # The offer's price changes and the journey changes: the stored quote does not.
    offers.update_offer(world["admin"], world["room"].id, base_price_minor=9999)
    journeys.update_item(world["patient"], journey.id, item.id, quantity=2)
    _add(world, journey, world["surgery"], soon(12))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Quote, first.id).total_minor == first_total
    second = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    assert second.version == 2
    changes = {c.change: c for c in quotes.diff_quotes(world["patient"], second.id, first.id)}
    assert set(changes) == {"changed", "added"}
    assert set(changes["changed"].fields) == {"quantity", "unit_price_minor", "total_minor"}


def test_only_the_newest_unexpired_version_is_accepted(world):
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    old = quotes.create_quote(world["patient"], journey.id)
    new = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    with pytest.raises(Conflict):
        quotes.accept_quote(world["patient"], old.id)
    with pytest.raises(Conflict):
        quotes.accept_quote(world["patient"], new.id, now=utcnow() + timedelta(hours=73))
    accepted = quotes.accept_quote(world["patient"], new.id)
    assert accepted.accepted_at is not None
    assert journey.status.value == "accepted"
    # Accepting again changes nothing.
    assert quotes.accept_quote(world["patient"], new.id).accepted_at == accepted.accepted_at


def test_an_accepted_version_that_a_newer_one_replaced_is_not_accepted_again(world):
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    old = quotes.create_quote(world["patient"], journey.id)
    quotes.accept_quote(world["patient"], old.id)
    newer = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    with pytest.raises(Conflict):
        quotes.accept_quote(world["patient"], old.id)
    assert quotes.accept_quote(world["patient"], newer.id).accepted_at is not None


def test_expired_quote_over_the_api(client, make, world):
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id, now=utcnow() - timedelta(days=4))
    db.session.commit()
    response = client.post(f"/api/v1/quotes/{quote.id}/accept?lang=de",
                           headers=make.token(world["patient"]))
    assert response.status_code == 409
    assert response.json["message"] != "This quote has expired; ask for a new one."


def test_member_staff_cannot_accept_for_the_patient(client, make, world):
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    response = client.post(f"/api/v1/quotes/{quote.id}/accept",
                           headers=make.token(world["hotel_staff"]))
    assert response.status_code == 404  # a member supplying a line never sees the quote


def test_a_broken_rule_blocks_the_quote(world):
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 3)  # nights 13..19 uncovered
    with pytest.raises(Conflict) as error:
        quotes.create_quote(world["patient"], journey.id)
    assert error.value.fields["items"]


def test_template_discount_and_a_borne_link(world):
    """The clinic's own package: it bears the rehabilitation and funds the discount from
    its own lines (10 % of the surgery, not of the hotel's room)."""
    template = knee_package(world)
    journey = _journey(world)
    journeys.apply_template(world["patient"], journey.id, template.id)
    quote = quotes.create_quote(world["patient"], journey.id)
    kinds = [line.kind.value for line in quote.lines]
    assert kinds == ["item", "item", "borne", "discount"]
    borne = quote.lines[2]
    assert borne.total_minor == 0 and borne.total_offer_minor == 3 * 12000
    assert borne.borne_by_provider_id == world["clinic"].id
    assert quote.subtotal_minor == 80000 + 650000
    assert quote.discount_minor == 65000  # of the clinic's surgery only
    assert quote.lines[3].provider_id == world["clinic"].id
    assert quote.total_minor == 665000 == sum(line.total_minor for line in quote.lines)
    assert quote.lines[3].title == "Package discount"


def test_the_discount_line_is_written_in_the_journeys_language(world, app, make):
    hotel_manager = make.user(Role.MEMBER_MANAGER, world["hotel"])
    template = templates.create_template(
        hotel_manager, provider_id=world["hotel"].id, discount_percent=10, status="published",
        texts={"en": {"name": "Knee"}},
        links=[{"default_offer_id": world["room"].id, "day_offset": 0, "days": 10}])
    db.session.commit()
    journey = _journey(world, language="de")
    journeys.apply_template(world["patient"], journey.id, template.id)
    with app.test_request_context("/?lang=lt"), force_locale("lt"):  # a Lithuanian clerk
        quote = quotes.create_quote(world["patient"], journey.id)
    assert quote.lines[-1].title == "Paketrabatt"


def test_deposit_follows_the_cluster_setting(world):
    settings.update_settings(world["admin"], deposit_percent=50, quote_validity_hours=24)
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id)
    assert quote.deposit_minor == quote.total_minor // 2
    assert quote.expires_at - quote.created_at == timedelta(hours=24)


def test_quote_api_in_two_languages(client, make, world):
    journey = _journey(world, currency="NOK")
    _add(world, journey, world["room"], soon(10), 10)
    headers = make.token(world["patient"])
    created = client.post(f"/api/v1/journeys/{journey.id}/quotes?lang=de", headers=headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["total"]["formatted"] == "9.360,00\u00a0NOK"
    assert body["lines"][0]["unit_price"]["formatted"] == "80,00\u00a0€"
    english = client.get(f"/api/v1/quotes/{body['id']}?lang=en", headers=headers).json
    assert english["total"]["formatted"] == "NOK9,360.00"
    assert client.get(f"/api/v1/quotes/{body['id']}",
                      headers=make.token(world["patient2"])).status_code == 404


def _as_dict(row, names) -> dict:
    return {name: getattr(row, name) for name in names}


def test_the_items_a_quote_reads_as_rows_are_the_items_and_offers_as_the_orm_loads_them(world):
    """item_rows (no ORM object, the quote's hot path) gives every column of each item
    and its offer, the member's columns the rules and prices read, and the texts,
    seasonal prices and tiers in the relationships' order: what load_items gives."""
    from sqlalchemy import inspect

    from journey.builder.models import JourneyItem
    from providers.models import CancellationTier, Offer, OfferText, PriceRule
    from providers.services.offers import ROW_MEMBER_COLUMNS

    room = world["room"]
    offers.add_price_rule(world["admin"], room.id, starts_on=soon(40), ends_on=soon(50),
                          price_minor=11000, companion_price_minor=2500)
    offers.add_price_rule(world["admin"], room.id, starts_on=soon(15), ends_on=soon(30),
                          price_minor=10000)
    offers.set_cancellation_tiers(world["admin"], room.id, [
        {"days_before": 7, "refund_percent": 50}, {"days_before": 30, "refund_percent": 100},
        {"days_before": 0, "refund_percent": 0}])
    db.session.commit()
    journey = _journey(world)
    _add(world, journey, world["surgery"], soon(12))
    _add(world, journey, room, soon(10), 10, companions=1)
    _add(world, journey, room, soon(25), 2)  # the same offer twice
    journey_id = journey.id
    db.session.expunge_all()
    journey = db.session.get(journeys.Journey, journey_id)

    rows = journeys.item_rows(journey)
    assert "items" not in inspect(journey).dict  # the journey's own items not loaded
    assert not [o for o in db.session.identity_map.values()
                if isinstance(o, Offer | OfferText | PriceRule | CancellationTier)]

    loaded = journeys.load_items(journey)
    assert [row.id for row in rows] == [item.id for item in loaded]
    assert rows[0].offer is rows[2].offer  # one object per offer (by start: room, surgery, room)
    for row, item in zip(rows, loaded, strict=True):
        assert _as_dict(row, JourneyItem.__table__.c.keys()) == \
            _as_dict(item, JourneyItem.__table__.c.keys())
        assert _as_dict(row.offer, Offer.__table__.c.keys()) == \
            _as_dict(item.offer, Offer.__table__.c.keys())
        assert _as_dict(row.offer.provider, ("id", *ROW_MEMBER_COLUMNS)) == \
            _as_dict(item.offer.provider, ("id", *ROW_MEMBER_COLUMNS))
        for name, model in (("texts", OfferText), ("price_rules", PriceRule),
                            ("cancellation_tiers", CancellationTier)):
            assert [_as_dict(d, model.__table__.c.keys()) for d in getattr(row.offer, name)] \
                == [_as_dict(d, model.__table__.c.keys()) for d in getattr(item.offer, name)]
    assert [t.days_before for t in rows[0].offer.cancellation_tiers] == [30, 7, 0]
    assert [r.price_minor for r in rows[0].offer.price_rules] == [10000, 11000]
    assert [t.language for t in rows[1].offer.texts] == ["de", "en"]
    assert offers.price_for(rows[0].offer, soon(45), companion=True).amount == 2500
    assert offers.offer_text(rows[1].offer, "de")[1].title == "Knieprothese"


def test_a_quote_moves_the_journey_in_its_own_statement(world):
    """The quote, its lines, the journey's new state and the row recording it are one
    statement on PostgreSQL (no flush after it): the journey reads QUOTED, its furthest
    state and ``updated_at`` are the quote's, and its history ends with the move, as
    :func:`journeys.transition` writes it."""
    from sqlalchemy import event, inspect, select

    from journey.builder.models import Journey, JourneyStatus, JourneyTransition

    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    writes = []

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    at = utcnow().replace(microsecond=0)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        quote = quotes.create_quote(world["patient"], journey.id, now=at)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    postgresql = db.engine.dialect.name == "postgresql"
    ours = [w for w in writes if any(name in w for name in (
        "INTO quote", "INTO journey_transition", "UPDATE journey"))]
    # SQLite: the journey's lock (a no-op update), quote, line, move, journey
    assert len(ours) == (1 if postgresql else 5)
    loaded = db.session.get(Journey, journey.id)
    assert not inspect(loaded).modified
    assert (loaded.status, loaded.reached, loaded.updated_at) == (
        JourneyStatus.QUOTED, JourneyStatus.QUOTED, at)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Journey, journey.id)
    assert (stored.status, stored.reached, stored.updated_at) == (
        JourneyStatus.QUOTED, JourneyStatus.QUOTED, at)
    last = db.session.scalars(select(JourneyTransition).where(
        JourneyTransition.journey_id == journey.id).order_by(JourneyTransition.id)).all()[-1]
    assert (last.from_status, last.to_status, last.actor_id, last.at) == (
        JourneyStatus.DRAFT, JourneyStatus.QUOTED, world["patient"].id, at)
    assert last.reason_code == "quoted" and last.reason_params == {"version": quote.version}
    assert [t.to_status for t in stored.transitions][-1] == JourneyStatus.QUOTED


def test_the_items_read_with_their_availability_answer_as_the_availability_check(world):
    """item_rows(available_at=) reads whether each item's units are free in the items'
    own statement: the same answer as the separate check (lines_available), for an item
    that fits, one past the end of the calendar, one above the capacity, and one short
    on a day held by another checkout until that hold expires."""
    from datetime import timedelta

    from bookings.services.availability import Line, lines_available
    from bookings.services.holds import place_holds
    from journey.builder.services.composition import unavailable_items

    journey = _journey(world)
    fits = _add(world, journey, world["room"], soon(10), 10)
    past_calendar = _add(world, journey, world["room"], soon(85), 10)
    too_many = _add(world, journey, world["surgery"], soon(12), quantity=3)
    held = _add(world, journey, world["rehab"], soon(13), 5)
    now = utcnow()
    place_holds([Line(world["rehab"].id, soon(16), 1, 4)], group_key="someone-else",
                ttl=timedelta(minutes=15), now=now)
    db.session.commit()

    def answers(at):
        rows = journeys.item_rows(journey, available_at=at)
        separate = lines_available([Line(r.offer_id, r.start_on, r.days, r.quantity)
                                    for r in rows], now=at)
        return {r.id: r.available for r in rows}, dict(zip([r.id for r in rows], separate,
                                                           strict=True))

    together, separate = answers(now)
    assert together == separate == {fits.id: True, past_calendar.id: False,
                                    too_many.id: False, held.id: False}
    later = now + timedelta(minutes=16)  # the hold has expired, unreleased
    together, separate = answers(later)
    assert together == separate and together[held.id] is True
    rows = journeys.item_rows(journey, available_at=later)
    assert {item.id for item in unavailable_items(journey, now=later, items=rows)} == \
        {past_calendar.id, too_many.id}


def test_a_refused_acceptance_says_what_to_do(world):
    """Changed since and not quoted again: ask for a new quote (it said "accept the
    newest version", which was this one); on a cancelled journey, that it is cancelled
    (it said the journey had changed), for the acceptance and for the checkout."""
    from journey.builder.services import checkout

    journey = _journey(world)
    item = _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    journeys.update_item(world["patient"], journey.id, item.id, quantity=2)
    db.session.commit()
    with force_locale("de"), pytest.raises(Conflict) as changed:
        quotes.accept_quote(world["patient"], quote.id)
    with force_locale("de"):
        assert str(changed.value.message) == str(quotes._l(
            "The journey has changed since this quote; ask for a new quote.")) != \
            "The journey has changed since this quote; ask for a new quote."
    journeys.cancel_journey(world["patient"], journey.id)
    db.session.commit()
    for act in (lambda: quotes.accept_quote(world["patient"], quote.id),
                lambda: checkout.checkout_quote(world["patient"], quote.id)):
        with pytest.raises(Conflict) as cancelled:
            act()
        assert str(cancelled.value.message) == "This journey is cancelled."


def test_a_currency_without_a_rate_is_a_conflict_not_a_field_of_no_body(client, make, world):
    """The quote is asked without a body: a journey in a currency the cluster has no
    rate for is 409, translated (it was 422 on a ``currency`` field nobody sent)."""
    journey = _journey(world, currency="ISK")
    _add(world, journey, world["room"], soon(10), 10)
    response = client.post(f"/api/v1/journeys/{journey.id}/quotes?lang=de",
                           headers=make.token(world["patient"]))
    assert response.status_code == 409, response.json
    assert "errors" not in response.json
    with force_locale("de"):
        assert response.json["message"] == str(quotes._l(
            "No exchange rate from %(source)s to %(target)s.", source="EUR", target="ISK"))
    assert "ISK" in response.json["message"] and "EUR" in response.json["message"]


def test_a_journey_waiting_for_its_payment_is_not_quoted_and_paid_again(stripe_app, client,
                                                                         make, world):
    """A checkout without a card leaves a booking waiting for its payment (its units
    held, payable at /bookings/{id}/pay): the journey is not changed, quoted again or
    cancelled until that booking is paid or cancelled (a new quote, accepted and paid,
    and then the first booking paid too, charged the same trip twice; a journey
    cancelled meanwhile had its booking paid and confirmed)."""
    from bookings.models import Booking, BookingStatus

    headers = make.token(world["patient"])
    journey = _journey(world)
    item = _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id)
    quotes.accept_quote(world["patient"], quote.id)
    db.session.commit()
    waiting = client.post(f"/api/v1/quotes/{quote.id}/checkout", json={},
                          headers={**headers, "Idempotency-Key": "waiting-0001"})
    assert waiting.status_code == 201 and waiting.json["status"] == "pending_payment"
    booking_id = waiting.json["id"]
    url = f"/api/v1/journeys/{journey.id}"
    with force_locale("de"):
        expected = str(quotes._l("Booking %(booking)s of this journey is waiting for its "
                                 "payment: pay it, or cancel it, before changing the "
                                 "journey.", booking=booking_id))
    assert str(booking_id) in expected and expected.startswith("Buchung")
    for answer in (client.post(f"{url}/quotes?lang=de", headers=headers),
                   client.patch(f"{url}/items/{item.id}?lang=de", json={"quantity": 2},
                                headers=headers),
                   client.patch(f"{url}?lang=de", json={"adults": 2}, headers=headers),
                   client.post(f"{url}/cancel?lang=de", json={}, headers=headers)):
        assert (answer.status_code, answer.json["message"]) == (409, expected), answer.json
    assert client.post(f"/api/v1/bookings/{booking_id}/cancel", json={},
                       headers=headers).status_code == 200
    again = client.post(f"{url}/quotes", headers=headers)
    assert again.status_code == 201, again.json
    assert db.session.scalars(db.select(Booking.status)).all() == [BookingStatus.CANCELLED]


def test_someone_elses_quote_is_a_quote_not_found(client, make, world):
    """404 names what the caller asked for, a quote (it said "No such journey.")."""
    journey = _journey(world)
    _add(world, journey, world["room"], soon(10), 10)
    quote = quotes.create_quote(world["patient"], journey.id)
    db.session.commit()
    other = {**make.token(world["patient2"]), "Accept-Language": "de",
             "Idempotency-Key": "others-quote-1"}
    with force_locale("de"):
        expected = str(quotes._l("No such quote."))
    assert expected != "No such quote."
    for answer in (client.get(f"/api/v1/quotes/{quote.id}", headers=other),
                   client.post(f"/api/v1/quotes/{quote.id}/accept", headers=other),
                   client.post(f"/api/v1/quotes/{quote.id}/checkout", json={}, headers=other)):
        assert (answer.status_code, answer.json["message"]) == (404, expected), answer.json
