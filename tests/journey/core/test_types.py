"""The column types every model shares: an enum stored as its value."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from journey.core.extensions import db
from journey.core.persistence import driver_read
from providers.models import ChainLink, Offer


@pytest.mark.parametrize("link", list(ChainLink))
def test_an_enum_column_reads_back_the_member_it_stored(ctx, make, link):
    """Every member comes back as itself, loaded by the ORM, by a statement's columns
    and through the driver (the search's way)."""
    offer = make.offer(chain_link=link)
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).chain_link is link
    statement = select(Offer.chain_link, Offer.procedure).where(Offer.id == offer.id)
    assert db.session.execute(statement).one() == (link, None)
    row = driver_read(statement, {})[0]
    assert row.chain_link is link and row.procedure is None


def test_a_stored_value_that_is_no_member_is_refused(ctx, make):
    """A value written behind the application's back is an error when read, not a
    string passed on as if it were a member."""
    offer = make.offer()
    db.session.execute(text("UPDATE offer SET status = 'lost' WHERE id = :id"),
                       {"id": offer.id})
    db.session.expire_all()
    with pytest.raises((ValueError, StatementError), match="lost"):
        db.session.scalar(select(Offer.status).where(Offer.id == offer.id))
    db.session.rollback()
