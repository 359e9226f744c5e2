"""A checkout that cannot win is turned away before it loads or locks anything: one
read of the quote's lines and the calendar, the same 409 a hold gives; what that read
does not find (someone else's quote, a retry) goes the whole way."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from bookings.models import Booking
from journey.builder.services import checkout
from journey.core.errors import Conflict, DomainError
from journey.core.extensions import db
from providers.services import offers
from tests.booking_fixtures import accepted_quote
from tests.journey.builder_world import soon


@pytest.fixture
def statements():
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def last_room(world):
    """One room left: two patients' accepted quotes want it for the same nights."""
    offers.set_capacity(world["admin"], world["room"].id, start=soon(5), end=soon(30),
                        capacity=1)
    first = accepted_quote(world)
    second = accepted_quote(world, patient=world["patient2"])
    db.session.commit()
    return first, second


def test_the_loser_is_refused_from_one_read_without_a_lock(world, gateway, last_room,
                                                           statements):
    first, second = last_room
    won = checkout.checkout_quote(world["patient"], first.id, gateway=gateway,
                                  payment_method="pm_card_visa")
    db.session.commit()
    assert isinstance(won, Booking)
    patient, quote_id = world["patient2"], second.id
    assert patient.role  # loaded, as the request edge has it
    statements.clear()
    with pytest.raises(Conflict) as refused:
        checkout.checkout_quote(patient, quote_id, gateway=gateway,
                                payment_method="pm_card_visa")
    assert str(refused.value.message).startswith("Sold out")
    assert refused.value.fields["lines"]
    # the quote's lines with the room of each of their days, in one statement
    assert len(statements) == 1, "\n".join(s[:150] for s in statements)
    assert not any("FOR UPDATE" in s.upper() for s in statements)
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                   for s in statements)
    db.session.rollback()
    assert db.session.query(Booking).count() == 1


def test_the_same_answer_as_the_hold_gives(world, gateway, last_room):
    """With the quick read skipped, the locked path refuses with the same message."""
    first, second = last_room
    checkout.checkout_quote(world["patient"], first.id, gateway=gateway,
                            payment_method="pm_card_visa")
    db.session.commit()
    with pytest.raises(Conflict) as quick:
        checkout.checkout_quote(world["patient2"], second.id, gateway=gateway,
                                payment_method="pm_card_visa")
    db.session.rollback()
    skipped = checkout._refuse_sold_out
    checkout._refuse_sold_out = lambda *a, **kw: None
    try:
        with pytest.raises(Conflict) as locked:
            checkout.checkout_quote(world["patient2"], second.id, gateway=gateway,
                                    payment_method="pm_card_visa")
    finally:
        checkout._refuse_sold_out = skipped
    db.session.rollback()
    assert (str(quick.value.message), quick.value.fields) == (
        str(locked.value.message), locked.value.fields)


def test_someone_elses_quote_gets_the_whole_ways_answer(world, gateway, last_room):
    first, second = last_room
    checkout.checkout_quote(world["patient"], first.id, gateway=gateway,
                            payment_method="pm_card_visa")
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        checkout.checkout_quote(world["patient"], second.id, gateway=gateway,
                                payment_method="pm_card_visa")
    assert not str(refused.value.message).startswith("Sold out")
    db.session.rollback()


def test_a_retry_of_the_winner_gets_its_booking_back(world, gateway, last_room):
    first, _second = last_room
    won = checkout.checkout_quote(world["patient"], first.id, gateway=gateway,
                                  payment_method="pm_card_visa")
    db.session.commit()
    again = checkout.checkout_quote(world["patient"], first.id, gateway=gateway,
                                    payment_method="pm_card_visa")
    assert again.id == won.id


def test_a_coordinators_payment_link_is_refused_alike(world, gateway, last_room, statements):
    """The cluster may send the patient a payment link for any journey: its checkout of
    a quote that cannot win gets the same quick refusal, from the same read."""
    first, second = last_room
    checkout.checkout_quote(world["patient"], first.id, gateway=gateway,
                            payment_method="pm_card_visa")
    db.session.commit()
    admin = world["admin"]
    assert admin.role.is_cluster
    statements.clear()
    with pytest.raises(Conflict) as refused:
        checkout.checkout_quote(admin, second.id, gateway=gateway)
    assert str(refused.value.message).startswith("Sold out")
    assert not any("FOR UPDATE" in s.upper() for s in statements)
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                   for s in statements)
    db.session.rollback()
    assert db.session.query(Booking).count() == 1


@pytest.fixture
def pay_once(gateway, monkeypatch):
    """Checkout under a key, paying through the test's gateway."""
    from bookings.payments import StripeGateway

    monkeypatch.setattr(StripeGateway, "from_config", classmethod(lambda cls: gateway))

    def once(actor, quote_id, key):
        return checkout.checkout_once(actor, quote_id, key=key, payment_method="pm_card_visa",
                                      render=lambda booking: {"booking": booking.id})
    return once


def test_under_a_key_the_loser_writes_only_its_stored_answer(world, pay_once, last_room,
                                                             statements):
    """With an Idempotency-Key the quick refusal comes before the key is reserved: the
    409 is stored as the key's answer in one statement (no reservation to roll back),
    and a retry with the key replays it."""
    from bookings.idempotency import Replayed
    from bookings.models import IdempotentRequest

    first, second = last_room
    assert pay_once(world["patient"], first.id, "winner-key-1")[0] == 201
    db.session.commit()
    patient = world["patient2"]
    assert patient.role
    statements.clear()
    with pytest.raises(Conflict) as refused:
        pay_once(patient, second.id, "loser-key-1")
    writes = [s for s in statements
              if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "idempotent_request" in writes[0], writes
    assert not any("FOR UPDATE" in s.upper() for s in statements)
    db.session.rollback()
    stored = db.session.query(IdempotentRequest).filter_by(key="loser-key-1").one()
    assert stored.status_code == 409 and stored.body == refused.value.to_dict()
    with pytest.raises(Replayed) as replayed:
        pay_once(patient, second.id, "loser-key-1")
    assert replayed.value.status == 409 and replayed.value.body == stored.body


def test_under_a_key_the_winners_retry_gets_its_booking_not_the_sold_out(world, pay_once,
                                                                        last_room):
    first, second = last_room
    status, body = pay_once(world["patient"], first.id, "winner-key-2")
    db.session.commit()
    with pytest.raises(Conflict):
        pay_once(world["patient2"], second.id, "loser-key-2")
    db.session.rollback()
    assert pay_once(world["patient"], first.id, "winner-key-2") == (status, body)


def test_a_key_used_for_another_request_is_not_taken_by_the_quick_refusal(world, pay_once,
                                                                         last_room):
    """The loser's key, first used for another quote, is that request's: 422, and the
    first answer is left as it was."""
    from bookings.models import IdempotentRequest
    from journey.core.errors import InvalidInput

    first, second = last_room
    pay_once(world["patient"], first.id, "winner-key-3")
    db.session.commit()
    with pytest.raises(Conflict):
        pay_once(world["patient2"], second.id, "shared-key-3")
    db.session.rollback()
    with pytest.raises(InvalidInput):
        pay_once(world["patient2"], first.id, "shared-key-3")
    db.session.rollback()
    assert db.session.query(IdempotentRequest).filter_by(key="shared-key-3").one() \
        .status_code == 409


def test_units_of_an_expired_hold_not_yet_released_are_not_sold_out(world, last_room):
    """The calendar's ``used`` still counts a hold that expired unreleased; the quick
    read adds its units back on a day short of room, so it does not refuse what the
    whole way (which releases it) would sell."""
    from datetime import timedelta

    from bookings.services.availability import Line
    from bookings.services.holds import place_holds
    from journey.builder.models import QuoteLine
    from journey.core.types import utcnow

    _first, second = last_room
    room_line = db.session.scalars(db.select(QuoteLine).where(
        QuoteLine.quote_id == second.id, QuoteLine.offer_id == world["room"].id)).one()
    now = utcnow()
    place_holds([Line(room_line.offer_id, room_line.start_on, room_line.days, 1)],
                group_key="someone-elses-cart", ttl=timedelta(minutes=15),
                now=now - timedelta(hours=1))
    db.session.flush()
    assert checkout.sold_out_refusal(world["patient2"], second.id, now=now) is None
    refused = checkout.sold_out_refusal(world["patient2"], second.id,
                                        now=now - timedelta(minutes=50))  # still live then
    assert isinstance(refused, Conflict)
    assert str(refused.message).startswith("Sold out")
