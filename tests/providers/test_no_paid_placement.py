"""No paid placement: the order of the catalogue's results never depends on anything a
member pays. The search statement reads none of the booking engine's tables (where
commissions, fees, payments and payouts live), and changing the commission of a link of
the chain changes no order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event

import bookings.models
from bookings.services import settlement
from journey.core.extensions import db
from providers.models import ChainLink
from providers.services.search import SORTS, SearchQuery, search_offers

PAID = ("commission", "payment", "payout", "fee", "ledger", "settlement", "paid")


@pytest.fixture
def offers(make):
    made = []
    for n, (link, price) in enumerate([("treatment", 90000), ("treatment", 650000),
                                       ("accommodation", 8000), ("accommodation", 9000),
                                       ("rehabilitation", 12000)]):
        member = make.member(name=f"Member {n}", kind="clinic", city="Vilnius")
        made.append(make.offer(member, chain_link=link, base_price_minor=price,
                               texts={"en": {"title": f"Offer {n}"}}).id)
    return made


def _statements(query: SearchQuery) -> tuple[list[int], list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = search_offers(query)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return [hit.offer.id for hit in result.hits], seen


@pytest.mark.parametrize("sort", SORTS)
def test_the_search_reads_nothing_a_member_pays(app, offers, sort):
    ids, statements = _statements(SearchQuery(language="en", currency="EUR", sort=sort))
    assert set(offers) <= set(ids)
    page = next(s for s in statements if "OVER" in s)  # the page: ids, prices, the total
    order_by = page.lower().rsplit("order by", 1)[1]
    assert not [word for word in PAID if word in order_by]
    booking_tables = {table.name for table in db.metadata.sorted_tables
                      if table.name in {m.__tablename__ for m in _booking_models()}}
    assert booking_tables  # the check below checks something
    assert not [name for name in booking_tables
                if f" {name} " in f" {page} " or f"{name}." in page]


def _booking_models():
    return [obj for obj in vars(bookings.models).values()
            if isinstance(obj, type) and issubclass(obj, db.Model) and obj is not db.Model
            and obj.__module__ == bookings.models.__name__]


def test_changing_commissions_changes_no_order(make, offers):
    admin = make.admin()
    before = {sort: _statements(SearchQuery(language="en", currency="EUR", sort=sort))[0]
              for sort in SORTS}
    for link, percent in ((ChainLink.TREATMENT, "0"), (ChainLink.ACCOMMODATION, "35"),
                          (ChainLink.REHABILITATION, "12.5")):
        settlement.set_commission_rate(admin, link.value, Decimal(percent))
    db.session.commit()
    after = {sort: _statements(SearchQuery(language="en", currency="EUR", sort=sort))[0]
             for sort in SORTS}
    assert after == before
