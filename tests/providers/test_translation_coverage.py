"""Which of a member's offers lack a translation (providers.services.translations): the
member's own offers only, a state per language, the counts per language, in a fixed
number of statements."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from journey.core.accounts.models import Role
from journey.core.errors import Forbidden, NotFound
from journey.core.extensions import db
from providers.services.translations import TextState, translation_table

LANGUAGES = ["en", "lt", "de", "ar"]


@pytest.fixture
def world(make):
    clinic = make.member(name="Neris Clinic")
    other = make.member(name="Hotel Tilto")
    knee = make.offer(clinic, texts={
        "en": {"title": "Knee replacement", "description": "Surgery."},
        "lt": {"title": "Kelio endoprotezavimas", "description": ""},
        "ru": {"title": "Эндопротезирование", "description": "Операция."}})
    scan = make.offer(clinic, texts={"lt": {"title": "MRT", "description": "Tyrimas."}})
    room = make.offer(other, texts={"en": {"title": "Double room", "description": "A room."}})
    return {"clinic": clinic, "other": other, "knee": knee, "scan": scan, "room": room,
            "staff": make.user(Role.MEMBER_STAFF, clinic),
            "other_staff": make.user(Role.MEMBER_STAFF, other),
            "coordinator": make.user(Role.COORDINATOR), "patient": make.user()}


def test_a_state_per_offer_and_language_and_counts_per_language(world):
    table = translation_table(world["staff"], world["clinic"].id, LANGUAGES,
                              reader_language="en")
    rows = {row.offer.id: row for row in table.rows}
    assert set(rows) == {world["knee"].id, world["scan"].id}
    knee, scan = rows[world["knee"].id], rows[world["scan"].id]
    assert knee.states == {"en": TextState.COMPLETE, "lt": TextState.NO_DESCRIPTION,
                           "de": TextState.MISSING, "ar": TextState.MISSING}
    assert knee.lacking == ["lt", "de", "ar"]
    assert (knee.title, knee.title_language) == ("Knee replacement", "en")
    assert scan.states["lt"] == TextState.COMPLETE and scan.states["en"] == TextState.MISSING
    assert (scan.title, scan.title_language) == ("MRT", "lt")  # the member's default
    assert table.lacking == {"en": 1, "lt": 1, "de": 2, "ar": 2}
    assert not table.complete


def test_another_members_offers_are_not_in_the_table(world):
    table = translation_table(world["other_staff"], world["other"].id, LANGUAGES)
    assert [row.offer.id for row in table.rows] == [world["room"].id]
    assert table.lacking == {"en": 0, "lt": 1, "de": 1, "ar": 1}


@pytest.mark.parametrize("who, error", [("other_staff", Forbidden), ("patient", Forbidden)])
def test_only_the_members_staff_and_the_cluster_read_it(world, who, error):
    with pytest.raises((error, NotFound)):
        translation_table(world[who], world["clinic"].id, LANGUAGES)
    assert translation_table(world["coordinator"], world["clinic"].id, LANGUAGES).rows


def statements(call) -> tuple[int, object]:
    db.session.expire_all()
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen), result


def test_as_many_statements_whatever_the_number_of_offers(world, make):
    def read():
        return translation_table(world["staff"], world["clinic"].id, LANGUAGES,
                                 reader_language="de")

    few, table = statements(read)
    assert len(table.rows) == 2
    for n in range(6):
        make.offer(world["clinic"], texts={"en": {"title": f"Extra {n}"}})
    many, table = statements(read)
    assert len(table.rows) == 8
    assert many == few
