"""The session helpers every service shares: one page of a query with its total, and a
flush whose refused row is a 409."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from journey.core.errors import Conflict
from journey.core.extensions import db
from journey.core.persistence import flush_or_conflict, insert_new, insert_once, page_of
from providers.models import ExchangeRate

DAY = date(2026, 11, 20)


def _rate(quote: str, rate: str = "1.1") -> ExchangeRate:
    return ExchangeRate(base="EUR", quote=quote, rate=Decimal(rate), effective_on=DAY)


def test_a_row_the_database_refuses_is_a_conflict(ctx):
    db.session.add(_rate("USD"))
    flush_or_conflict()
    db.session.add(_rate("USD", "1.2"))  # the same pair and day: a unique key
    with pytest.raises(Conflict) as refused:
        flush_or_conflict("Taken.", fields={"quote": ["Taken here."]})
    assert refused.value.status == 409
    assert str(refused.value.message) == "Taken."
    assert refused.value.fields == {"quote": ["Taken here."]}


def test_without_a_message_the_conflict_says_the_default(ctx):
    db.session.add_all([_rate("SEK"), _rate("SEK")])
    with pytest.raises(Conflict) as refused:
        flush_or_conflict()
    assert refused.value.message == Conflict.default_message


def test_a_fact_is_inserted_once_with_its_defaults(ctx):
    """insert_once: the new row's id (set on the object too), then None for the same
    key; the columns left unset get their defaults, as a flush would give them."""
    from bookings.models import Notification

    first = Notification(key="confirmed:booking:1", recipient="user:1", kind="confirmed",
                         created_at=datetime(2026, 11, 20, tzinfo=UTC))
    new_id = insert_once(first, unique="key")
    assert new_id is not None and first.id == new_id
    again = Notification(key="confirmed:booking:1", recipient="user:2", kind="confirmed")
    assert insert_once(again, unique="key") is None and again.id is None
    stored = db.session.execute(select(Notification.recipient, Notification.attempts,
                                       Notification.last_error, Notification.payload)
                                .where(Notification.key == "confirmed:booking:1")).all()
    assert stored == [("user:1", 0, "", {})]


def test_insert_once_flushes_what_the_row_refers_to_first(ctx):
    db.session.add(_rate("ISK"))  # pending, unflushed
    from bookings.models import Notification

    insert_once(Notification(key="k:1", recipient="coordinators", kind="x"), unique="key")
    assert db.session.scalar(select(ExchangeRate.id).where(ExchangeRate.quote == "ISK"))
    assert not db.session.new


@contextmanager
def _statements():
    """The SQL statements the block sends (the test's savepoint opened before)."""
    db.session.execute(select(1))
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_new_rows_are_written_at_once_and_are_the_sessions_own(ctx):
    """insert_new: one statement for the rows, their ids in order, defaults set on the
    objects as a flush sets them, and the objects persistent in the session with no
    change pending (nothing is written again, reading them loads nothing)."""
    from sqlalchemy import inspect

    from bookings.models import Notification

    rows = [Notification(key=f"n:{n}", recipient="coordinators", kind="x")
            for n in range(3)]
    with _statements() as statements:
        insert_new(rows)
        assert [row.attempts for row in rows] == [0, 0, 0]
        assert all(row.payload == {} and row.created_at is not None for row in rows)
        db.session.flush()
    # one statement on PostgreSQL; SQLite's driver returns ids in order one row at a time
    expected = 1 if db.engine.dialect.name == "postgresql" else len(rows)
    assert len(statements) == expected  # inserts only: neither a flush nor a load after
    assert all(s.lstrip().upper().startswith("INSERT") for s in statements)
    assert all(inspect(row).persistent and not inspect(row).modified for row in rows)
    stored = db.session.execute(select(Notification.id, Notification.key)
                                .where(Notification.key.like("n:%"))
                                .order_by(Notification.id)).all()
    assert stored == [(row.id, row.key) for row in rows]
    assert db.session.get(Notification, rows[1].id) is rows[1]


class _ProbeBase(DeclarativeBase):
    pass


class _Probe(_ProbeBase):  # never created: insert_new refuses it before any SQL
    __tablename__ = "probe"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=func.now())
    kept: Mapped[int] = mapped_column(server_default="0")


def test_a_default_only_the_database_knows_is_refused(ctx):
    """The object would not hold what was written: refused, naming the column."""
    with pytest.raises(TypeError, match="probe.at .*SQL expression"):
        insert_new([_Probe(kept=1)])
    with pytest.raises(TypeError, match="probe.kept .*server default"):
        insert_new([_Probe(at=datetime(2026, 11, 20, tzinfo=UTC))])


def test_a_page_of_a_query_and_the_total(ctx):
    db.session.add_all([_rate(code) for code in ("AUD", "CAD", "CHF", "DKK", "GBP")])
    db.session.flush()
    query = select(ExchangeRate.quote).order_by(ExchangeRate.quote.desc())
    assert page_of(query, page=1, per_page=2) == (["GBP", "DKK"], 5)
    assert page_of(query, page=3, per_page=2) == (["AUD"], 5)
    assert page_of(query, page=4, per_page=2) == ([], 5)


@pytest.mark.commits  # the database's own transactions, not a test's savepoint
def test_a_flush_in_a_savepoint_is_undone_with_the_request(app):
    """The first write of a request in a savepoint (flush_or_conflict) stays part of the
    request's transaction: rolled back with it, on SQLite too (where a savepoint opened
    outside a transaction would be committed by its own RELEASE)."""
    with app.app_context():
        db.session.scalar(select(ExchangeRate.id).limit(1))  # a read opens no write
        db.session.add(_rate("NOK"))
        flush_or_conflict()
        db.session.rollback()
        db.session.remove()
    with app.app_context():
        assert db.session.scalar(select(ExchangeRate).where(ExchangeRate.quote == "NOK")) is None


def test_insert_new_is_one_statement_text_whatever_the_rows_and_keeps_their_json(ctx):
    """On PostgreSQL the rows as one JSON parameter: the same text for 2 rows and for 5 (psycopg
    caches its parsing and prepares it), the ids in the rows' order, JSON values
    (lists, objects, nested) stored as a flush would store them."""
    from bookings.models import Notification

    payloads = [{"lines": [1, [2, 3]], "note": "ø"}, {}, {"a": None}, {"b": [{}]}, {"c": 1}]
    two = [Notification(key=f"j:{n}", recipient="r", kind="x", payload=payloads[n])
           for n in range(2)]
    five = [Notification(key=f"k:{n}", recipient="r", kind="x", payload=payloads[n])
            for n in range(5)]
    with _statements() as statements:
        insert_new(two)
        insert_new(five)
    if db.engine.dialect.name == "postgresql":
        assert len(statements) == 2 and statements[0] == statements[1]
    rows = two + five
    assert [row.id for row in rows] == sorted(row.id for row in rows)
    db.session.expire_all()
    stored = db.session.execute(select(Notification.key, Notification.payload)
                                .where(Notification.recipient == "r")
                                .order_by(Notification.id)).all()
    assert stored == [(f"j:{n}", payloads[n]) for n in range(2)] + \
        [(f"k:{n}", payloads[n]) for n in range(5)]
    # a JSON column's None is written as a flush writes it (JSON null, not SQL NULL)
    flushed = Notification(key="f:none", recipient="none", kind="x", payload=None)
    db.session.add(flushed)
    db.session.flush()
    inserted = Notification(key="i:none", recipient="none", kind="x", payload=None)
    insert_new([inserted])
    is_null = dict(db.session.execute(select(Notification.key, Notification.payload.is_(None))
                                      .where(Notification.recipient == "none")).all())
    assert is_null["i:none"] == is_null["f:none"], is_null


def test_a_parent_and_its_children_are_written_together(ctx):
    """insert_new_with_children: on PostgreSQL one statement writes the parent and its
    children (a data-modifying WITH), elsewhere one per table; the children refer to
    the parent's new id, every id is set in the rows' order, and all are the session's
    persistent objects with nothing left to write."""
    from sqlalchemy import inspect

    from journey.builder.models import PackageTemplate, TemplateText
    from journey.core.persistence import insert_new_with_children

    template = PackageTemplate(discount_percent=5)
    texts = [TemplateText(language=language, name=f"Package {language}")
             for language in ("en", "nb", "ar")]
    with _statements() as statements:
        insert_new_with_children(template, texts, key="template_id")
        db.session.flush()
    postgresql = db.engine.dialect.name == "postgresql"
    assert len(statements) == (1 if postgresql else 1 + len(texts))
    assert all(s.lstrip().upper().startswith(("INSERT", "WITH")) for s in statements)
    assert template.id is not None and template.status is not None
    assert [text.template_id for text in texts] == [template.id] * 3
    assert [text.id for text in texts] == sorted(text.id for text in texts)
    assert all(inspect(row).persistent and not inspect(row).modified
               for row in [template, *texts])
    db.session.expire_all()
    stored = db.session.execute(select(TemplateText.id, TemplateText.template_id,
                                       TemplateText.language, TemplateText.description)
                                .where(TemplateText.template_id == template.id)
                                .order_by(TemplateText.id)).all()
    assert stored == [(text.id, template.id, text.language, "") for text in texts]
    assert db.session.get(PackageTemplate, template.id).discount_percent == 5


def test_a_parent_without_children_is_written_alone(ctx):
    from journey.builder.models import PackageTemplate
    from journey.core.persistence import insert_new_with_children

    template = PackageTemplate(discount_percent=7)
    with _statements() as statements:
        insert_new_with_children(template, [], key="template_id")
    assert len(statements) == 1 and template.id is not None
    db.session.expire_all()
    assert db.session.get(PackageTemplate, template.id).discount_percent == 7


def test_other_new_rows_and_a_change_are_written_with_the_parent(ctx):
    """insert_new_with_children's ``also`` (new rows of another class) and ``update`` (a
    persistent object's columns): in the same one statement on PostgreSQL; the new rows
    the session's with ids in order, JSON kept; the changed object holding what was
    written with nothing left to flush."""
    from sqlalchemy import inspect

    from bookings.models import Notification
    from journey.builder.models import PackageTemplate, TemplateText
    from journey.core.persistence import insert_new_with_children

    earlier = PackageTemplate(discount_percent=3)
    db.session.add(earlier)
    db.session.flush()
    template = PackageTemplate(discount_percent=5)
    texts = [TemplateText(language="en", name="Knee package")]
    notes = [Notification(key=f"a:{n}", recipient="r", kind="x", payload={"n": [n, "ø"]})
             for n in range(3)]
    with _statements() as statements:
        insert_new_with_children(template, texts, key="template_id", also=notes,
                                 update=(earlier, {"discount_percent": 9}))
        db.session.flush()
    postgresql = db.engine.dialect.name == "postgresql"
    assert len(statements) == (1 if postgresql else 1 + 1 + len(notes) + 1)
    assert [note.id for note in notes] == sorted(note.id for note in notes)
    assert all(inspect(row).persistent and not inspect(row).modified
               for row in [template, *texts, *notes, earlier])
    assert earlier.discount_percent == 9 and texts[0].template_id == template.id
    db.session.expire_all()
    assert db.session.get(PackageTemplate, earlier.id).discount_percent == 9
    assert db.session.execute(select(Notification.id, Notification.payload)
                              .where(Notification.key.like("a:%"))
                              .order_by(Notification.id)).all() == \
        [(note.id, {"n": [n, "ø"]}) for n, note in enumerate(notes)]


def test_a_family_is_written_through_the_driver_and_refused_as_sqlalchemy_refuses(ctx):
    """Unwatched (no statement listener), the one statement of insert_new_with_children
    runs on the driver's cursor: the same rows and ids as through SQLAlchemy, and a row
    the database refuses (two texts of one language) is SQLAlchemy's IntegrityError,
    nothing written once rolled back."""
    from sqlalchemy.exc import IntegrityError

    from journey.builder.models import PackageTemplate, TemplateText
    from journey.core.persistence import _DRIVER_READS, DriverRead, insert_new_with_children

    assert not db.engine.dispatch.before_cursor_execute  # nobody listens here
    template = PackageTemplate(discount_percent=4)
    names = {"nb": "Hofte på Ålesund", "ar": "ورك في عمّان"}  # UTF-8 in the JSON parameter
    texts = [TemplateText(language=language, name=name) for language, name in names.items()]
    insert_new_with_children(template, texts, key="template_id")
    if db.engine.dialect.name == "postgresql":  # the WITH statement, on the driver's cursor
        assert any(isinstance(read, DriverRead) and read.sql.lstrip().startswith("WITH")
                   for _statement, read in _DRIVER_READS.values())
    assert [text.template_id for text in texts] == [template.id] * 2
    assert [text.id for text in texts] == sorted(text.id for text in texts)
    db.session.commit()
    assert db.session.execute(select(TemplateText.id, TemplateText.language,
                                     TemplateText.name).where(
        TemplateText.template_id == template.id).order_by(TemplateText.id)).all() == \
        [(text.id, text.language, names[text.language]) for text in texts]

    twice = [TemplateText(language="en", name="Hip"), TemplateText(language="en", name="Hip")]
    with pytest.raises(IntegrityError):
        insert_new_with_children(PackageTemplate(discount_percent=6), twice,
                                 key="template_id")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PackageTemplate).where(
        PackageTemplate.discount_percent == 6)) == 0


def test_psycopg_keeps_the_parsing_of_a_long_statement(ctx):
    """The hot statements are longer than the 4,096 characters whose parsing psycopg
    keeps by default; the app raises that for the process, and a long statement run
    twice is parsed once (if psycopg renames or drops the setting, this says so)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's parsing of statements (PostgreSQL)")
    from psycopg import _queries

    from journey.core.persistence import PARSED_STATEMENT_LENGTH

    assert _queries.MAX_CACHED_STATEMENT_LENGTH >= PARSED_STATEMENT_LENGTH
    long_text = "SELECT " + " + ".join(["%(one)s"] * 1200) + " AS many"
    assert 4096 < len(long_text) < PARSED_STATEMENT_LENGTH
    connection = db.session.connection().connection.driver_connection
    before = _queries._query2pg.cache_info()
    for _ in range(3):
        assert connection.execute(long_text, {"one": 1}).fetchone()[0] == 1200
    after = _queries._query2pg.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 2


@pytest.mark.parametrize("watched", [False, True],
                         ids=["on the driver's cursor", "watched: through SQLAlchemy"])
def test_a_read_through_the_driver_gives_what_sqlalchemy_gives(ctx, make, monkeypatch,
                                                               watched):
    """``driver_read``: the same rows as SQLAlchemy's execution, value for value and type
    for type (enums, aware datetimes, decimals, dates, JSON), its parameters converted
    by their types (an enum, an aware datetime), and ``row.name`` and ``row._mapping``;
    on the driver's own cursor, or through SQLAlchemy while someone listens to the
    statements (and then they hear of it)."""
    from sqlalchemy import Connection, bindparam, literal

    from journey.core.persistence import driver_read
    from journey.core.types import UTCDateTime
    from providers.models import Offer, OfferStatus, PriceRule

    offers = [make.offer(), make.offer()]
    db.session.add(PriceRule(offer_id=offers[0].id, starts_on=DAY, ends_on=DAY,
                             price_minor=12345))
    db.session.flush()
    statement = (select(Offer.id, Offer.status, Offer.chain_link, Offer.vat_percent,
                        Offer.created_at, PriceRule.starts_on, PriceRule.price_minor,
                        literal({"a": [1, "b"]}, db.JSON).label("blob"))
                 .outerjoin(PriceRule, PriceRule.offer_id == Offer.id)
                 .where(Offer.status == bindparam("status", type_=Offer.status.type),
                        Offer.created_at <= bindparam("before", type_=UTCDateTime()))
                 .order_by(Offer.id))
    parameters = {"status": OfferStatus.PUBLISHED, "before": datetime(2999, 1, 1, tzinfo=UTC)}
    expected = db.session.connection().execute(statement, parameters).all()
    assert len(expected) == 2
    heard = []
    if watched:
        event.listen(db.session.connection(), "before_cursor_execute",
                     lambda *args: heard.append(args[2]))
    else:  # SQLAlchemy's execution is not used
        monkeypatch.setattr(Connection, "exec_driver_sql", None)
    for _attempt in range(2):  # compiled at the first, reused at the second
        rows = driver_read(statement, parameters)
        assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
        assert [[type(value) for value in row] for row in rows] == \
            [[type(value) for value in row] for row in expected]
    assert rows[0].status is OfferStatus.PUBLISHED and rows[0].created_at.tzinfo is not None
    assert rows[0]._mapping["price_minor"] == 12345 and rows[1].starts_on is None
    assert len(heard) == (2 if watched else 0)


def test_a_driver_s_error_in_a_read_is_sqlalchemy_s(ctx):
    """On the driver's cursor, an error is still SQLAlchemy's (the request edge turns
    its lock timeout into a 503), and the session can go on after a rollback."""
    from sqlalchemy import bindparam
    from sqlalchemy.exc import DBAPIError

    from journey.core.persistence import driver_read

    big = bindparam("big", type_=db.BigInteger())
    statement = select((func.abs(big) + big).label("x"))  # out of range at the minimum
    assert driver_read(statement, {"big": 2})[0].x == 4
    with pytest.raises(DBAPIError) as refused:
        driver_read(statement, {"big": -(2 ** 63)})
    assert "out of range" in str(refused.value).lower() or \
        "overflow" in str(refused.value).lower()
    db.session.rollback()
    assert db.session.scalar(select(func.abs(-3))) == 3


def test_a_read_with_a_list_parameter_goes_through_sqlalchemy(ctx, make):
    from sqlalchemy import bindparam

    from journey.core.persistence import driver_read
    from providers.models import Offer

    ids = [make.offer().id, make.offer().id]
    statement = select(Offer.id).where(Offer.id.in_(bindparam("ids", expanding=True)))
    assert sorted(row.id for row in driver_read(statement, {"ids": ids})) == sorted(ids)
