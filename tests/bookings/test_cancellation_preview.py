"""The cancellation preview is the cancellation's own computation: the fee kept and the
refund previewed, per line and in total, are what the cancellation then keeps and
refunds, under several tiers of terms; a changed amount is refused, nothing written."""

import pytest

from bookings.models import Refund
from bookings.services import cancellation
from journey.core.errors import Conflict
from journey.core.extensions import db
from tests.booking_fixtures import confirmed_booking, paid_booking

TIERS = {
    "full": [{"days_before": 0, "refund_percent": 100}],
    "half": [{"days_before": 0, "refund_percent": 50}],
    "none": [],
    "steps": [{"days_before": 30, "refund_percent": 100}, {"days_before": 5,
                                                           "refund_percent": 40}],
}


def _refunds(booking, line_id=None):
    query = db.select(Refund).where(Refund.booking_id == booking.id)
    if line_id is not None:
        query = query.where(Refund.line_id == line_id)
    return list(db.session.scalars(query))


@pytest.mark.parametrize("room, surgery", [("full", "full"), ("half", "none"),
                                           ("none", "half"), ("steps", "full")])
@pytest.mark.parametrize("paid", [False, True])
def test_preview_equals_effect_for_a_line(world, gateway, room, surgery, paid):
    tiers = {"room": TIERS[room], "surgery": TIERS[surgery]}
    booking = paid_booking(world, gateway, tiers) if paid else _confirmed(world, gateway,
                                                                          tiers)
    line = next(item for item in booking.lines if item.offer_id == world["surgery"].id)
    plan = cancellation.preview_cancellation(world["patient"], booking.id, line.id)
    [row] = plan.lines
    cancellation.cancel_line(world["patient"], line.id, gateway=gateway,
                             expect_refund_minor=plan.refund_minor)
    db.session.commit()
    assert line.kept_minor == row.fee_minor
    assert sum(r.amount_minor for r in _refunds(booking, line.id)) == row.refund_minor \
        == plan.refund_minor
    assert booking.total_minor == plan.owed_after_minor


@pytest.mark.parametrize("room, surgery", [("full", "full"), ("half", "none"),
                                           ("none", "half")])
@pytest.mark.parametrize("paid", [False, True])
def test_preview_equals_effect_for_the_booking(world, gateway, room, surgery, paid):
    tiers = {"room": TIERS[room], "surgery": TIERS[surgery]}
    booking = paid_booking(world, gateway, tiers) if paid else _confirmed(world, gateway,
                                                                          tiers)
    plan = cancellation.preview_cancellation(world["patient"], booking.id)
    assert sum(row.refund_minor for row in plan.lines) == plan.refund_minor
    cancellation.cancel_booking(world["patient"], booking.id, gateway=gateway,
                                expect_refund_minor=plan.refund_minor)
    db.session.commit()
    for row in plan.lines:
        line = next(item for item in booking.lines if item.id == row.line_id)
        assert line.kept_minor == row.fee_minor
    assert sum(r.amount_minor for r in _refunds(booking)) == plan.refund_minor
    assert plan.fee_minor == sum(line.kept_minor for line in booking.lines)


def test_a_changed_refund_is_refused_and_nothing_written(world, gateway):
    booking = _confirmed(world, gateway, {"room": TIERS["full"], "surgery": TIERS["full"]})
    plan = cancellation.preview_cancellation(world["patient"], booking.id)
    with pytest.raises(Conflict):
        cancellation.cancel_booking(world["patient"], booking.id, gateway=gateway,
                                    expect_refund_minor=plan.refund_minor + 1)
    db.session.rollback()
    assert all(line.active for line in booking.lines)
    assert _refunds(booking) == []


def test_the_preview_is_refused_as_the_cancellation_is(world, gateway, make):
    booking = _confirmed(world, gateway, {"room": TIERS["full"], "surgery": TIERS["full"]})
    from journey.core.errors import NotFound
    with pytest.raises(NotFound):
        cancellation.preview_cancellation(make.user(), booking.id)
    with pytest.raises(NotFound):
        cancellation.preview_cancellation(world["patient"], booking.id, 10**6)


def _confirmed(world, gateway, tiers):
    from providers.services import offers
    for name, offer_tiers in tiers.items():
        offers.set_cancellation_tiers(world["admin"], world[name].id, offer_tiers)
    return confirmed_booking(world, gateway)
